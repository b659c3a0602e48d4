{-# LANGUAGE OverloadedStrings #-}
{-# LANGUAGE PatternSynonyms #-}

-- |
-- Module      : The0.Query
-- Description : Query handlers, answered through the core's query service
--
-- Upstream's API ("The0.Query" of the0-sdk 0.1.5), over the shared core. 'run' detects the mode
-- (the core decides, as in every the0 SDK):
--
-- * @QUERY_PATH@ set: /ephemeral/ — that one query is answered into @\/query\/result.json@
--   (@THE0_QUERY_RESULT_FILE@), and the process exits 0, or 1 when the query failed;
-- * @BOT_TYPE=realtime@: /server/ — HTTP on @THE0_QUERY_SOCKET@ (a Unix socket) or on
--   @0.0.0.0:${THE0_QUERY_PORT:-9476}@, until SIGTERM or Ctrl-C; 'run' then returns;
-- * otherwise: /info/ — the @\/info@ answer (the registered paths) goes to the result file.
--
-- The HTTP server, its limits, timeouts (504), envelopes and status codes are the core's.
-- Handlers run on Haskell threads this SDK starts (bound threads, @THE0_QUERY_WORKERS@ of them,
-- default 4, with the threaded RTS), each waiting for requests in a safe foreign call, so a slow
-- handler never holds up the others. Build bots with @-threaded@: without it the process has
-- one OS thread, so the workers are 'forkIO' threads polling without waiting (a millisecond's
-- sleep between empty polls), and a handler blocked in a foreign call holds up every other.
--
-- @
-- import qualified The0.Query as Query
-- import qualified The0.State as State
--
-- main = do
--     Query.handler \"\/portfolio\" $ \\req -> do
--         positions <- State.get \"positions\" :: IO (Maybe Value)
--         pure $ object [\"positions\" .= positions, \"symbol\" .= Query.getParam req \"symbol\" \"BTC\/USD\"]
--     Query.run
-- @
module The0.Query
    ( -- * Handlers
      handler
    , run
      -- * Requests
    , Request (Request, reqPath, reqParams)
    , getParam
    , getParamValue
    , reqValues
      -- * Outside a handler
    , getParams
    , getConfig
    , isQueryMode
    , ReadOnlyStateError (..)
    ) where

import Control.Concurrent
    (ThreadId, forkIO, forkOS, myThreadId, newEmptyMVar, putMVar, rtsSupportsBoundThreads, takeMVar, threadDelay)
import Control.Exception (ErrorCall (..), SomeException, displayException, evaluate, finally, fromException, try)
import Control.Monad (replicateM, replicateM_, unless, void, when)
import Data.Aeson (Value (..))
import qualified Data.Aeson as Aeson
import qualified Data.Aeson.Key as Key
import qualified Data.Aeson.KeyMap as KeyMap
import qualified Data.ByteString as BS
import qualified Data.ByteString.Lazy as BL
import Data.IORef (IORef, atomicModifyIORef', newIORef, readIORef, writeIORef)
import Data.Int (Int32)
import qualified Data.Map.Strict as Map
import Data.Maybe (fromMaybe)
import qualified Data.Text as T
import Data.Word (Word32, Word64)
import Foreign.Marshal.Alloc (alloca)
import Foreign.Ptr (nullPtr)
import Foreign.Storable (peek)
import System.Exit (ExitCode (ExitFailure), exitWith)
import System.IO (stderr)
import System.IO.Error (ioeGetErrorString, isUserError)
import System.IO.Unsafe (unsafePerformIO)
import qualified System.Posix.Signals as Signals

import The0.Error (ReadOnlyStateError (..), errorStatusOf)
import The0.Internal.Call
import The0.Internal.Native

-- | A query request, as upstream: its path and its parameters in string form (a string as it
-- is, any other JSON value as its JSON text — the same strings in every the0 SDK). The typed
-- values travel with it: 'getParamValue', 'reqValues'.
data Request = MkRequest String (Map.Map String String) Value

-- | Upstream's constructor and fields: @Request path params@, 'reqPath', 'reqParams'. A request
-- built this way has string values only.
pattern Request :: String -> Map.Map String String -> Request
pattern Request {reqPath, reqParams} <- MkRequest reqPath reqParams _
  where
    Request path params = MkRequest path params (stringValues params)

{-# COMPLETE Request #-}

instance Show Request where
    showsPrec p (MkRequest path params _) = showParen (p > 10) $
        showString "Request {reqPath = " . shows path . showString ", reqParams = " . shows params
            . showString "}"

instance Eq Request where
    MkRequest a b c == MkRequest x y z = a == x && b == y && c == z

stringValues :: Map.Map String String -> Value
stringValues params =
    Object $ KeyMap.fromList [(Key.fromString k, String (T.pack v)) | (k, v) <- Map.toList params]

-- | The string form of parameter @key@, or @def@ when the request has none (upstream's).
getParam :: Request -> String -> String -> String
getParam req key def = Map.findWithDefault def key (reqParams req)

-- | Parameter @key@ with its JSON type (a JSON body @{\"limit\": 5}@ gives @Number 5@; URL
-- query-string values are strings).
getParamValue :: Request -> String -> Maybe Value
getParamValue (MkRequest _ _ (Object values)) key = KeyMap.lookup (Key.fromString key) values
getParamValue _ _ = Nothing

-- | Every parameter with its JSON type, as a JSON object.
reqValues :: Request -> Value
reqValues (MkRequest _ _ values) = values

-- | A query handler: its answer is the @data@ of a 200 envelope; an exception answers 500 with
-- its message.
type QueryHandler = Request -> IO Value

-- | The handlers registered so far, by the path the core stored (with its leading @\/@).
registry :: IORef (Map.Map String QueryHandler)
registry = unsafePerformIO (newIORef Map.empty)
{-# NOINLINE registry #-}

-- | The string-form parameters of the request each worker thread is answering, for 'getParams'.
currentParams :: IORef (Map.Map ThreadId (Map.Map String String))
currentParams = unsafePerformIO (newIORef Map.empty)
{-# NOINLINE currentParams #-}

-- | Set when SIGTERM or SIGINT arrived, so a signal before the service started still stops it.
stopRequested :: IORef Bool
stopRequested = unsafePerformIO (newIORef False)
{-# NOINLINE stopRequested #-}

-- | Registers @fn@ for @path@ (a missing leading @\/@ is added). Register before 'run'.
--
-- Throws 'The0.Error.The0Error' @INVALID_ARGUMENT@ for an empty path or one with control
-- characters.
handler :: String -> (Request -> IO Value) -> IO ()
handler path fn = do
    stored <- onBoundThread $ withText "query path" path $ \cPath -> takeText (c_query_register cPath)
    atomicModifyIORef' registry (\handlers -> (Map.insert (decodeText stored) fn handlers, ()))

-- | Runs the query service in the mode the environment selects (module header) and answers
-- requests with the registered handlers. Returns when the service has finished with exit code
-- 0; ends the process with code 1 when it cannot start, or when the query failed.
run :: IO ()
run = onBoundThread $ do
    handlers <- readIORef registry
    void $ Signals.installHandler Signals.sigTERM (Signals.Catch requestStop) Nothing
    void $ Signals.installHandler Signals.sigINT (Signals.Catch requestStop) Nothing
    (status, workers) <- start
    unless (status == statusOk) $ exitWith (ExitFailure 1)
    stopNow <- readIORef stopRequested
    when stopNow (void c_query_stop)
    if rtsSupportsBoundThreads
        then replicateM_ (fromIntegral workers) (forkOS (poll 500 handlers))
        else do
            -- One OS thread: a blocking poll would stop every Haskell thread, so the workers
            -- poll without waiting and sleep between empty polls, and finish comes after them.
            stopped <- replicateM (fromIntegral workers) $ do
                done <- newEmptyMVar
                _ <- forkIO (poll 0 handlers `finally` putMVar done ())
                pure done
            mapM_ takeMVar stopped
    finish

-- | Starts the service; prints its lines. Without the threaded RTS the thread that runs the
-- handler is the only one, so the core ends the process itself after a hung ephemeral handler.
start :: IO (Int32, Word32)
start = do
    let flags = if rtsSupportsBoundThreads then 0 else startExitOnTimeout
    ((status, workers), lines') <- takeBytes $ \outLines -> alloca $ \outMode -> alloca $ \outWorkers -> do
        s <- c_query_start nullPtr flags defaultWorkers outMode outWorkers outLines
        w <- peek outWorkers
        pure (s, w)
    putLines stderr lines'
    pure (status, workers)

-- | Handler threads in server mode unless @THE0_QUERY_WORKERS@ says otherwise: enough that a
-- few slow handlers do not hold up fast ones.
defaultWorkers :: Word32
defaultWorkers = 4

requestStop :: IO ()
requestStop = writeIORef stopRequested True >> void c_query_stop

-- | Waits for the service to finish; prints its lines; exits unless it finished with code 0.
finish :: IO ()
finish = do
    ((status, code), lines') <- takeBytes $ \outLines -> alloca $ \outCode -> do
        s <- c_query_finish outCode outLines
        c <- peek outCode
        pure (s, c)
    putLines stderr lines'
    -- TIMEOUT: a handler hangs past the timeout and its 504 is written; exit without it.
    when (status == statusTimeout) $ exitWith (ExitFailure 1)
    check status
    when (code /= 0) $ exitWith (ExitFailure (fromIntegral code))

-- | What a poll of the core brought.
data Polled
    = Incoming Word64 String (Maybe BS.ByteString) (Maybe BS.ByteString)
    -- ^ a request: its id, path, string-form and typed parameters (JSON text)
    | Waiting -- ^ nothing yet: poll again
    | Finished -- ^ the service is done (or not running): stop

-- | One handler thread: takes requests until the service is done, waiting up to @waitMs@ in
-- each poll (0: a millisecond's sleep between empty polls instead).
poll :: Word32 -> Map.Map String QueryHandler -> IO ()
poll waitMs handlers = loop
  where
    loop = do
        polled <- next waitMs
        case polled of
            Incoming requestId path strings params -> answer handlers requestId path strings params >> loop
            Waiting -> when (waitMs == 0) (threadDelay 1000) >> loop
            Finished -> pure ()

-- | Waits up to @waitMs@ milliseconds for a request.
next :: Word32 -> IO Polled
next waitMs = do
    ((((status, requestId), strings), params), path) <- takeBytes $ \outPath -> takeBytes $ \outParams ->
        takeBytes $ \outStrings -> alloca $ \outId -> do
            s <- c_query_next waitMs outId outPath outParams outStrings
            i <- peek outId
            pure (s, i)
    pure $ if status == statusOk
        then Incoming requestId (maybe "" decodeText path) strings params
        else if status == statusTimeout then Waiting else Finished

answer :: Map.Map String QueryHandler -> Word64 -> String -> Maybe BS.ByteString -> Maybe BS.ByteString -> IO ()
answer handlers requestId path strings params = do
    outcome <- try $ do
        stringParams <- decodeJson "query parameters" (fromMaybe "{}" strings)
        let values = fromMaybe (Object KeyMap.empty) (params >>= Aeson.decodeStrict')
            fn = Map.findWithDefault (const (ioError (userError ("no handler for " ++ path)))) path handlers
        withCurrentParams stringParams $ fn (MkRequest path stringParams values) >>= evaluate . encodeStrict
    case outcome of
        Right body -> respond replyOk body
        Left failure -> respond replyError (utf8 (filter (/= '\0') (failureMessage failure)))
  where
    -- UNKNOWN_REQUEST means the request timed out (its client got 504): nothing to do.
    respond kind body = void $ withBytes body $ c_query_respond requestId kind
    encodeStrict = BL.toStrict . Aeson.encode

-- | The message of a handler's exception: an 'error' call's text without its call stack, the
-- text of a 'fail' or 'userError', a the0 error's message, else 'displayException'.
failureMessage :: SomeException -> String
failureMessage failure
    | Just (ErrorCallWithLocation message _) <- fromException failure = message
    | Just io <- fromException failure, isUserError io = ioeGetErrorString io
    | Just (_, message) <- errorStatusOf failure = message
    | otherwise = displayException failure

withCurrentParams :: Map.Map String String -> IO a -> IO a
withCurrentParams params act = do
    me <- myThreadId
    atomicModifyIORef' currentParams (\current -> (Map.insert me params current, ()))
    act `finally` atomicModifyIORef' currentParams (\current -> (Map.delete me current, ()))

-- | The string-form parameters of the request this thread's handler is answering; outside a
-- handler those of @QUERY_PARAMS@ when @QUERY_PATH@ is set, else none.
getParams :: IO (Map.Map String String)
getParams = do
    me <- myThreadId
    current <- Map.lookup me <$> readIORef currentParams
    case current of
        Just params -> pure params
        Nothing -> do
            ((status, _typed), strings) <- onBoundThread $ takeBytes $ \outStrings ->
                takeBytes $ \outTyped -> c_query_params nullPtr outTyped outStrings
            check status
            decodeJson "QUERY_PARAMS" (fromMaybe "{}" strings)

-- | The bot configuration (@BOT_CONFIG@); an empty object when it is unset or not JSON.
getConfig :: IO Value
getConfig = onBoundThread (takeText (c_query_config nullPtr)) >>= decodeJson "BOT_CONFIG"

-- | Whether this process answers queries (@QUERY_PATH@ set, or the service running): state is
-- then read-only.
isQueryMode :: IO Bool
isQueryMode = onBoundThread $ takeFlag (c_query_is_query_mode nullPtr)
