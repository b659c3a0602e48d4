{-# LANGUAGE OverloadedStrings #-}

-- | The bot the tests run as a child process: @bot query@ registers the handlers below and calls
-- 'Query.run'; @bot output@ prints metric and log lines; @bot error MESSAGE@ reports an error.
module Bot (main) where

import Control.Concurrent (threadDelay)
import Control.Exception (ErrorCall (..), throwIO, try)
import Data.Aeson (Value (..), object, (.=))
import qualified Data.Aeson as Aeson
import Text.Read (readMaybe)

import qualified The0.Input as Input
import qualified The0.Query as Query
import qualified The0.State as State

main :: [String] -> IO ()
main ["query"] = do
    Query.handler "/portfolio" $ \req -> do
        positions <- State.get "positions" :: IO (Maybe Value)
        pure $ object ["positions" .= positions, "symbol" .= Query.getParam req "symbol" "BTC/USD"]
    Query.handler "echo" $ \req ->
        pure $ object ["path" .= Query.reqPath req, "strings" .= Query.reqParams req, "values" .= Query.reqValues req]
    Query.handler "/params" $ \_ -> Aeson.toJSON <$> Query.getParams
    Query.handler "/config" $ \_ -> Query.getConfig
    Query.handler "/fail" $ \_ -> throwIO (ErrorCall "deliberate failure")
    Query.handler "/sleep" $ \req -> do
        let ms = maybe 0 id (readMaybe (Query.getParam req "ms" "0")) :: Int
        threadDelay (ms * 1000)
        pure $ object ["slept_ms" .= ms]
    -- Waits until state key "release" exists (another process writes it).
    Query.handler "/wait" $ \_ -> do
        let wait = State.exists "release" >>= \released -> if released then pure () else threadDelay 10000 >> wait
        wait
        pure (object ["released" .= True])
    Query.handler "/write" $ \_ -> do
        outcome <- try (State.set "written" True)
        pure $ case outcome of
            Right () -> object ["written" .= True]
            Left (Query.ReadOnlyStateError message) -> object ["written" .= False, "error" .= message]
    Query.run
main ["output"] = do
    Input.metric "price" (object ["symbol" .= ("€UR/USD" :: String), "value" .= (1.25 :: Double)])
    Input.log "démarré ☕" Nothing Nothing
    Input.logWarn "slow" (Just (object ["ms" .= (250 :: Int)]))
    Input.logNamed "loud" Nothing "WARNING"
    Input.logError "failed" Nothing
    putStrLn "plain stdout line"
main ["error", message] = Input.errorWith message (object ["code" .= (7 :: Int)])
main args = ioError (userError ("unknown bot command " ++ show args))
