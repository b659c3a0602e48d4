{-# LANGUAGE OverloadedStrings #-}
{-# LANGUAGE ScopedTypeVariables #-}

-- | The Haskell SDK's conformance driver: the command line of the0-driver-rust, over the0-sdk.
--
-- > driver query [--custom-info]          register the standard handlers, then Query.run
-- > driver state set KEY JSON | get KEY | exists KEY | delete KEY | list | clear
-- > driver read-loop KEY COUNT            read KEY COUNT times, report torn or missing reads
-- > driver input parse | success MSG [DATA] | error MSG | result JSON | metric TYPE JSON
-- >              | log MSG [DATA|-] [LEVEL]
--
-- @state@ and @input@ print one JSON line: @{"ok": <result>}@ or
-- @{"error": {"status": "<STATUS>", "message": "<text>"}}@. Built by build.sh.
module Main (main) where

import Control.Concurrent (threadDelay)
import Control.Exception (ErrorCall (..), SomeException, throwIO, toException, try)
import Control.Monad (foldM)
import Data.Aeson (Value (..), object, (.=))
import qualified Data.Aeson as Aeson
import qualified Data.ByteString as BS
import qualified Data.ByteString.Char8 as BC
import qualified Data.Text as T
import qualified Data.Text.Encoding as TE
import qualified Data.Text.Encoding.Error as TE
import qualified GHC.Foreign as GHC
import GHC.IO.Encoding (getFileSystemEncoding)
import qualified Data.ByteString.Lazy as BL
import System.Environment (getArgs)
import System.Exit (exitWith, ExitCode (ExitFailure))
import System.IO (hPutStrLn, stderr, stdout)
import Text.Read (readMaybe)

import The0.Error (SomeThe0Error, The0Error (..), errorStatusOf)
import qualified The0.Input as Input
import qualified The0.Query as Query
import qualified The0.State as State

main :: IO ()
main = do
    args <- getArgs >>= mapM utf8Argument
    case args of
        ("query" : rest) -> runQuery ("--custom-info" `elem` rest)
        ("state" : op) -> printOutcome (stateOp op)
        ["read-loop", key, count] -> readLoop key (read count)
        ("input" : op) -> printOutcome (inputOp op)
        _ -> do
            hPutStrLn stderr "usage: driver query|state|read-loop|input ... (see the source header)"
            exitWith (ExitFailure 2)

-- | An argument as the UTF-8 text it was: the harness runs drivers without a locale, where GHC
-- decodes arguments byte by byte (round-trip escapes), so they are re-encoded and decoded.
utf8Argument :: String -> IO String
utf8Argument arg = do
    encoding <- getFileSystemEncoding
    bytes <- GHC.withCStringLen encoding arg BS.packCStringLen
    pure (T.unpack (TE.decodeUtf8With TE.lenientDecode bytes))

runQuery :: Bool -> IO ()
runQuery customInfo = do
    Query.handler "/echo" $ \req ->
        pure $ object ["path" .= Query.reqPath req, "params" .= Query.reqValues req, "strings" .= Query.reqParams req]
    Query.handler "/fail" $ \_ -> throwIO (ErrorCall "deliberate failure")
    Query.handler "/sleep" $ \req -> do
        let ms = maybe 0 id (readMaybe (Query.getParam req "ms" "0")) :: Int
        threadDelay (ms * 1000)
        pure $ object ["slept_ms" .= ms]
    Query.handler "/state" $ \req -> do
        let key = Query.getParam req "key" ""
        outcome <- try (State.get key :: IO (Maybe Value))
        pure $ case outcome of
            Right value -> object ["key" .= key, "exists" .= (value /= Nothing), "value" .= value]
            Left e -> object ["key" .= key, "error" .= errorJson e]
    Query.handler "/write" $ \req ->
        writeProbe (State.setJson (Query.getParam req "key" "") (Query.getParam req "value" "null"))
    Query.handler "/config" $ \_ -> Query.getConfig
    Query.handler "/params" $ \_ -> Aeson.toJSON <$> Query.getParams
    if customInfo
        then Query.handler "/info" $ \_ -> writeProbe (State.set "info-probe" True)
        else pure ()
    Query.run

-- | The outcome of a state write attempted by a query handler.
writeProbe :: IO () -> IO Value
writeProbe write = do
    outcome <- try write
    pure $ case outcome of
        Right () -> object ["written" .= True]
        Left e -> object ["written" .= False, "error" .= errorJson e]

errorJson :: SomeException -> Value
errorJson e = case errorStatusOf e of
    Just (status, message) -> object ["status" .= status, "message" .= message]
    Nothing -> object ["status" .= ("HOST_EXCEPTION" :: String), "message" .= show e]

-- | Prints the outcome of a state or input operation; anything but a the0 error (such as the exit
-- of @error@) goes on.
printOutcome :: IO Value -> IO ()
printOutcome outcome = do
    result <- try outcome
    printJson $ case result of
        Right value -> object ["ok" .= value]
        Left e -> object ["error" .= errorJson (toException (e :: SomeThe0Error))]

printJson :: Value -> IO ()
printJson value = BL.hPut stdout (Aeson.encode value) >> BC.hPutStrLn stdout ""

stateOp :: [String] -> IO Value
stateOp op = case op of
    ["set", key, json] -> Null <$ State.setJson key json
    ["get", key] -> do
        value <- State.get key :: IO (Maybe Value)
        pure $ maybe (object ["found" .= False]) (\v -> object ["found" .= True, "value" .= v]) value
    ["exists", key] -> Bool <$> State.exists key
    ["delete", key] -> Bool <$> State.delete key
    ["list"] -> Aeson.toJSON <$> State.list
    ["clear"] -> Null <$ State.clear
    _ -> invalid "state" op

-- | Reads @key@ @count@ times with the raw read ('State.getJson'): a torn file is CORRUPT_STATE.
readLoop :: String -> Int -> IO ()
readLoop key count = do
    (missing, torn, failed) <- foldM readOnce (0 :: Int, 0 :: Int, 0 :: Int) [1 .. count]
    printJson $ object ["reads" .= count, "missing" .= missing, "torn" .= torn, "failed" .= failed]
  where
    readOnce (missing, torn, failed) _ = do
        outcome <- try (State.getJson key)
        pure $ case outcome of
            Right (Just _) -> (missing, torn, failed)
            Right Nothing -> (missing + 1, torn, failed)
            Left e | errorStatus e == "CORRUPT_STATE" -> (missing, torn + 1, failed)
                   | otherwise -> (missing, torn, failed + 1)

jsonArg :: String -> IO Value
jsonArg text = case Aeson.eitherDecodeStrict' (TE.encodeUtf8 (T.pack text)) of
    Right value -> pure value
    Left why -> throwIO $ The0Error "INVALID_JSON" ("argument is not valid JSON: " ++ why)

inputOp :: [String] -> IO Value
inputOp op = case op of
    ["parse"] -> do
        (botId, config) <- Input.parse
        pure $ object ["bot_id" .= botId, "config" .= config]
    ["success", message] -> Null <$ Input.success message
    ["success", message, json] -> jsonArg json >>= fmap (const Null) . Input.successWith message
    ["error", message] -> Input.error message
    ["result", json] -> jsonArg json >>= fmap (const Null) . Input.result
    ["metric", kind, json] -> jsonArg json >>= fmap (const Null) . Input.metric kind
    ("log" : message : rest) -> do
        value <- case rest of
            (d : _) | d /= "-" -> Just <$> jsonArg d
            _ -> pure Nothing
        Null <$ case drop 1 rest of
            [] -> Input.log message value Nothing
            (level : _) -> Input.logNamed message value level
    _ -> invalid "input" op

invalid :: String -> [String] -> IO a
invalid kind op = throwIO $ The0Error "INVALID_ARGUMENT" ("unknown " ++ kind ++ " operation " ++ show op)
