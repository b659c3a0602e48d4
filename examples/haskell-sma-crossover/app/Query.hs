{-# LANGUAGE OverloadedStrings #-}

-- | @query@: the query entrypoint, answering @/status@ and @/signals@ from the bot's state. Run
-- as an ephemeral query (@QUERY_PATH=/status@), as a server for a realtime bot
-- (@BOT_TYPE=realtime@), or with neither to list the available queries.
module Main (main) where

import Data.Aeson (Value (..), object, (.=))
import qualified Data.Aeson.KeyMap as KeyMap
import Data.Char (isDigit)

import qualified The0.Query as Query
import Strategy

main :: IO ()
main = do
    Query.handler "/status" $ \_ -> do
        config <- Query.getConfig
        strategy <- loadStrategy
        let configured = case config of
                Object o -> KeyMap.lookup "symbol" o
                _ -> Nothing
        pure $ object
            [ "symbol" .= maybe (String "BTC/USD") id configured
            , "tick" .= tick strategy
            , "price" .= lastPrice strategy
            , "short_sma" .= shortSma strategy
            , "long_sma" .= longSma strategy
            , "trend" .= trend strategy
            , "signal_count" .= signalCount strategy
            ]
    Query.handler "/signals" $ \req -> do
        let text = Query.getParam req "limit" "10"
        limit <- if not (null text) && all isDigit text && read text > (0 :: Integer)
            then pure (fromInteger (min (read text) 1000000) :: Int)
            else fail ("limit must be a positive integer, got " ++ show text)
        history <- loadSignals
        pure $ object ["signals" .= take limit (reverse history), "count" .= length history]
    Query.run
