-- | Helpers for the specs: temporary directories, the process environment, and the test binary
-- run as a child process.
module Support
    ( withTempDir
    , withEnv
    , Child (..)
    , runBot
    , runProgram
    , argumentBytes
    , withBot
    , stopBot
    , readJsonFile
    , status
    ) where

import Control.Concurrent (forkIO, newEmptyMVar, putMVar, takeMVar)
import Control.Exception (SomeException, bracket, bracket_, try)
import Control.Monad (forM, void)
import Data.Aeson (Value)
import qualified Data.Aeson as Aeson
import qualified Data.ByteString as BS
import Data.List (isPrefixOf)
import System.Directory (getTemporaryDirectory, removeDirectoryRecursive)
import System.Environment (getEnvironment, getExecutablePath, lookupEnv, setEnv, unsetEnv)
import System.Exit (ExitCode)
import System.FilePath ((</>))
import System.IO (Handle, hGetLine, hSetBinaryMode)
import System.Posix.Temp (mkdtemp)
import System.Process

import The0.Error (errorStatusOf)

-- | A fresh directory, removed afterwards.
withTempDir :: (FilePath -> IO a) -> IO a
withTempDir = bracket create removeDirectoryRecursive
  where
    create = getTemporaryDirectory >>= \base -> mkdtemp (base </> "the0-hs-")

-- | Runs @act@ with these variables set ('Just') or unset ('Nothing') through
-- "System.Environment", as a bot would, then restores them.
withEnv :: [(String, Maybe String)] -> IO a -> IO a
withEnv vars act = do
    saved <- forM vars $ \(name, _) -> (,) name <$> lookupEnv name
    bracket_ (apply vars) (apply saved) act
  where
    apply = mapM_ $ \(name, value) -> maybe (unsetEnv name) (setEnv name) value

-- | The test binary as a child bot: its environment is this process's, without the0's
-- variables and the locale (so non-ASCII output must not depend on it), plus @vars@.
botProcess :: [String] -> [(String, String)] -> IO CreateProcess
botProcess args vars = do
    self <- getExecutablePath
    inherited <- filter (keep . fst) <$> getEnvironment
    pure (proc self ("bot" : args)) {env = Just (inherited ++ vars)}
  where
    keep name = name `notElem` the0Vars && not ("LC_" `isPrefixOf` name) && name /= "LANG"
    the0Vars =
        [ "STATE_DIR", "QUERY_PATH", "QUERY_PARAMS", "BOT_TYPE", "BOT_ID", "BOT_CONFIG"
        , "CODE_MOUNT_DIR", "THE0_QUERY_RESULT_FILE", "THE0_QUERY_SOCKET", "THE0_QUERY_PORT"
        , "THE0_QUERY_HOST", "THE0_QUERY_TIMEOUT_MS", "THE0_QUERY_WORKERS" ]

-- | Runs the bot to its end: exit code, stdout and stderr (as UTF-8 bytes).
runBot :: [String] -> [(String, String)] -> IO (ExitCode, BS.ByteString, BS.ByteString)
runBot args vars = botProcess args vars >>= runProgram

-- | Runs a process to its end: exit code, stdout and stderr as bytes.
runProgram :: CreateProcess -> IO (ExitCode, BS.ByteString, BS.ByteString)
runProgram process = do
    (_, Just out, Just err, ph) <- createProcess process {std_in = NoStream, std_out = CreatePipe, std_err = CreatePipe}
    mapM_ (`hSetBinaryMode` True) [out, err]
    errText <- newSink err
    outText <- BS.hGetContents out
    code <- waitForProcess ph
    (,,) code outText <$> errText

newSink :: Handle -> IO (IO BS.ByteString)
newSink handle = do
    done <- newEmptyMVar
    void $ forkIO (BS.hGetContents handle >>= putMVar done)
    pure (takeMVar done)

-- | A command-line argument made of exactly these bytes (GHC encodes arguments with the
-- locale's round-trip encoding, which maps U+DC80..U+DCFF back to single bytes).
argumentBytes :: BS.ByteString -> String
argumentBytes = map escape . BS.unpack
  where
    escape b = if b < 0x80 then toEnum (fromIntegral b) else toEnum (0xDC00 + fromIntegral b)

-- | A bot serving queries: its process and where it listens.
data Child = Child {childHandle :: ProcessHandle, childAddress :: String, childStderr :: IO BS.ByteString}

-- | Runs @act@ with @bot query@ serving in server mode, once it printed its "Query server
-- started on ..." line; the bot is killed afterwards if @act@ did not stop it.
withBot :: [(String, String)] -> (Child -> IO a) -> IO a
withBot vars = bracket start (\child -> terminateProcess (childHandle child) >> waitForProcess (childHandle child))
  where
    start = do
        process <- botProcess ["query"] (("BOT_TYPE", "realtime") : vars)
        (_, _, Just err, ph) <- createProcess process {std_out = NoStream, std_err = CreatePipe}
        hSetBinaryMode err True
        address <- waitForStart err
        rest <- newSink err
        pure (Child ph address rest)
    marker = "Query server started on "
    waitForStart err = do
        line <- hGetLine err
        case breakOn marker line of
            Just after -> pure (takeWhile (/= '"') after)
            Nothing -> waitForStart err
    breakOn needle haystack
        | needle `isPrefixOf` haystack = Just (drop (length needle) haystack)
        | null haystack = Nothing
        | otherwise = breakOn needle (tail haystack)

-- | SIGTERM, then the exit code.
stopBot :: Child -> IO ExitCode
stopBot child = do
    terminateProcess (childHandle child)
    waitForProcess (childHandle child)

readJsonFile :: FilePath -> IO (Maybe Value)
readJsonFile path = Aeson.decodeStrict' <$> BS.readFile path

-- | The status name of a the0 exception thrown by @act@ (@Nothing@ when it succeeded).
status :: IO a -> IO (Maybe String)
status act = do
    outcome <- try act
    pure $ case outcome of
        Right _ -> Nothing
        Left e -> fst <$> errorStatusOf (e :: SomeException)
