{-# LANGUAGE OverloadedStrings #-}

-- |
-- Module      : The0.Input
-- Description : The bot's input (BOT_ID, BOT_CONFIG), its result file, metric and log lines
--
-- Upstream's API ("The0.Input" of the0-sdk 0.1.5), over the shared core: the result file, the
-- metric and log line formats and their timestamps are the core's, identical in every the0 SDK.
--
-- @
-- import The0.Input
--
-- main :: IO ()
-- main = do
--     (botId, config) <- parse
--     metric \"price\" (object [\"symbol\" .= (\"BTC\/USD\" :: String), \"value\" .= (45000.5 :: Double)])
--     logInfo (\"bot \" ++ botId ++ \" ran\") (Just config)
--     success \"done\"
-- @
module The0.Input
    ( -- * Input
      parse
    , parseAsMap
      -- * The result file
    , success
    , successWith
    , The0.Input.error
    , errorWith
    , result
      -- * Metric and log lines
    , metric
    , The0.Input.log
    , logInfo
    , logWarn
    , logError
    , logNamed
    , LogLevel (..)
    ) where

import qualified Data.Aeson as Aeson
import Data.Aeson (Value)
import qualified Data.ByteString as BS
import qualified Data.ByteString.Lazy as BL
import qualified Data.Map.Strict as Map
import Data.Maybe (fromMaybe)
import Data.Int (Int32)
import Foreign.C.String (CString)
import Foreign.Ptr (Ptr, nullPtr)
import System.Exit (ExitCode (ExitFailure), exitWith)
import System.IO (stderr, stdout)

import The0.Internal.Call
import The0.Internal.Native

-- | The bot id (@BOT_ID@) and its configuration (@BOT_CONFIG@, JSON).
--
-- Throws 'The0.Error.The0Error' @MISSING_ENV@ when either is unset, @INVALID_JSON@ when the
-- configuration is not JSON.
parse :: IO (String, Value)
parse = do
    (botId, config) <- parseRaw
    (,) botId <$> decodeJson "BOT_CONFIG" config

-- | 'parse', with a configuration that must be a JSON object, as a map.
parseAsMap :: IO (String, Map.Map String Value)
parseAsMap = do
    (botId, config) <- parseRaw
    (,) botId <$> decodeJson "BOT_CONFIG (a JSON object)" config

parseRaw :: IO (String, BS.ByteString)
parseRaw = onBoundThread $ do
    ((status, config), botId) <-
        takeBytes $ \outId -> takeBytes $ \outConfig -> c_input_parse nullPtr outId outConfig
    check status
    pure (maybe "" decodeText botId, fromMaybe "{}" config)

-- | Writes @{"status":"success","message":...}@ to the result file
-- (@\/\<CODE_MOUNT_DIR\>\/result.json@).
success :: String -> IO ()
success message = report c_input_success message Nothing

-- | 'success' with data: @{"status":"success","message":...,"data":...}@.
successWith :: String -> Value -> IO ()
successWith message value = report c_input_success message (Just value)

-- | Writes @{"status":"error","message":...}@ to the result file, then exits with code 1.
error :: String -> IO a
error message = report c_input_error message Nothing >> exitWith (ExitFailure 1)

-- | 'The0.Input.error' with data, then exits with code 1.
errorWith :: String -> Value -> IO a
errorWith message value = report c_input_error message (Just value) >> exitWith (ExitFailure 1)

report :: (CString -> CString -> CString -> Ptr CString -> IO Int32) -> String -> Maybe Value -> IO ()
report call message value = onBoundThread $
    withText "message" message $ \cMessage -> withMaybeJson value $ \cData -> do
        (status, lines') <- takeBytes (call nullPtr cMessage cData)
        putLines stderr lines'
        check status

-- | Writes a JSON value as it is to the result file.
result :: Value -> IO ()
result value = onBoundThread $ withJson value $ \cJson -> do
    (status, lines') <- takeBytes (c_input_result nullPtr cJson)
    putLines stderr lines'
    check status

-- | Prints one metric line on stdout: @{"_metric":<type>,<fields of data>,"timestamp":...}@.
metric :: String -> Value -> IO ()
metric metricType value = onBoundThread $
    withText "metric type" metricType $ \cType -> withJson value $ \cData ->
        takeText (c_input_metric cType cData) >>= putLine stdout

-- | Log levels of 'The0.Input.log'.
data LogLevel = Info | Warn | Error
    deriving (Show, Eq, Ord, Enum, Bounded)

-- | Prints one log line on stderr: @{"level":...,"message":...,<fields of data>,"timestamp":...}@
-- (level @info@ when 'Nothing').
log :: String -> Maybe Value -> Maybe LogLevel -> IO ()
log message value level = logLine message value (levelName <$> level)
  where
    levelName Info = "info"
    levelName Warn = "warn"
    levelName Error = "error"

-- | 'The0.Input.log' with the level given by name, as it may come from a configuration:
-- @info@, @warn@, @warning@ or @error@, in any case. Throws 'The0.Error.The0Error'
-- @INVALID_ARGUMENT@ for any other name.
logNamed :: String -> Maybe Value -> String -> IO ()
logNamed message value level = logLine message value (Just level)

logLine :: String -> Maybe Value -> Maybe String -> IO ()
logLine message value level = onBoundThread $
    withText "message" message $ \cMessage -> withMaybeJson value $ \cData ->
        withMaybeText "level" level $ \cLevel ->
            takeText (c_input_log cMessage cData cLevel) >>= putLine stderr

-- | 'The0.Input.log' at level info.
logInfo :: String -> Maybe Value -> IO ()
logInfo message value = The0.Input.log message value (Just Info)

-- | 'The0.Input.log' at level warn.
logWarn :: String -> Maybe Value -> IO ()
logWarn message value = The0.Input.log message value (Just Warn)

-- | 'The0.Input.log' at level error.
logError :: String -> Maybe Value -> IO ()
logError message value = The0.Input.log message value (Just Error)

withJson :: Value -> (CString -> IO a) -> IO a
withJson value = withBytes (BL.toStrict (Aeson.encode value))

withMaybeJson :: Maybe Value -> (CString -> IO a) -> IO a
withMaybeJson Nothing act = act nullPtr
withMaybeJson (Just value) act = withJson value act
