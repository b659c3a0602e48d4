{-# LANGUAGE OverloadedStrings #-}

-- | A bot written against upstream's Haskell SDK (the0-sdk 0.1.5), the way its README and module
-- docs use it: unchanged, it must compile and run against this SDK. scripts/sdist-check.sh builds
-- it against the installed sdist and runs it as a bot and as its query entrypoint.
module Main where

import Control.Exception (try)
import Data.Aeson
import qualified Data.Map.Strict as Map
import System.Environment (getArgs)
import System.IO (hPutStrLn, stderr)
import The0.Input
import The0.Query as Query
import The0.State as State

main :: IO ()
main = do
    args <- getArgs
    case args of
        ["query"] -> queries
        _ -> bot

bot :: IO ()
bot = do
    (botId, config) <- parse
    (_, configMap) <- parseAsMap
    hPutStrLn stderr $ "Bot " ++ botId ++ " starting"
    State.set "portfolio" (object ["AAPL" .= (100 :: Int), "GOOGL" .= (50 :: Int)])
    State.set "trade_count" (42 :: Int)
    portfolio <- State.get "portfolio" :: IO (Maybe Value)
    keys <- State.list
    hasPortfolio <- State.exists "portfolio"
    deleted <- State.delete "portfolio"
    State.clear
    State.set "positions" (object ["BTC" .= (1.5 :: Double)])
    State.set "runs" (length keys)
    metric "trade" (object ["symbol" .= ("BTC/USD" :: String), "ok" .= hasPortfolio, "deleted" .= deleted])
    The0.Input.log "Order placed" (Just $ object ["order_id" .= ("12345" :: String), "portfolio" .= portfolio]) Nothing
    The0.Input.log "Connection lost" Nothing (Just Warn)
    logInfo "config" (Just config)
    logWarn "slow" Nothing
    logError "not really" Nothing
    case Map.lookup "symbol" configMap of
        Just (String s) -> do
            hPutStrLn stderr $ "Trading symbol: " ++ show s
            success "Trade executed"
        _ -> The0.Input.error "Missing symbol configuration"

queries :: IO ()
queries = do
    Query.handler "/portfolio" $ \_req -> do
        positions <- State.get "positions" :: IO (Maybe Value)
        return $ object ["positions" .= positions, "count" .= (5 :: Int)]
    Query.handler "/status" $ \req -> do
        let symbol = Query.getParam req "symbol" "BTC/USD"
        params <- Query.getParams
        config <- Query.getConfig
        querying <- Query.isQueryMode
        written <- try (State.set "nope" True)
        let refused = case written of
                Left (ReadOnlyStateError _) -> True
                Right () -> False
        return $ object
            [ "symbol" .= symbol, "active" .= True, "path" .= reqPath req, "params" .= params
            , "config" .= config, "query_mode" .= querying, "write_refused" .= refused
            , "same_params" .= (reqParams req == params) ]
    Query.run
