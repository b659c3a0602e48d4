-- |
-- Module      : The0.Internal.Call
-- Description : Marshalling between Haskell values and the C ABI, and the core's errors
--
-- Text goes to the core as NUL-terminated UTF-8 and comes back as UTF-8 'ByteString's, freed at
-- once. A failing call's message is per OS thread ('The0.Internal.Native.c_last_error'), so every
-- public function runs its calls through 'onBoundThread': the call and the message read happen
-- on the same OS thread.
module The0.Internal.Call
    ( onBoundThread
    , withText
    , withMaybeText
    , withBytes
    , takeBytes
    , takeText
    , takeFlag
    , decodeText
    , check
    , throwStatus
    , putLines
    , putLine
    , decodeJson
    , utf8
    ) where

import Control.Concurrent (isCurrentThreadBound, rtsSupportsBoundThreads, runInBoundThread)
import Control.Exception (throwIO)
import Control.Monad (unless)
import Data.Aeson (FromJSON, eitherDecodeStrict')
import qualified Data.ByteString as BS
import qualified Data.ByteString.Char8 as BC
import Data.Int (Int32)
import qualified Data.Text as T
import qualified Data.Text.Encoding as TE
import qualified Data.Text.Encoding.Error as TE
import Foreign.C.String (CString)
import Foreign.Marshal.Alloc (alloca)
import Foreign.Ptr (Ptr, nullPtr)
import Foreign.Storable (peek)
import System.IO (Handle, hFlush)
import System.IO.Unsafe (unsafePerformIO)

import The0.Error (ReadOnlyStateError (..), The0Error (..))
import The0.Internal.Native

-- | Runs @act@ on a bound thread (at once when the current thread is one: the main thread and
-- the SDK's query workers are), after checking once that the loaded library speaks our ABI.
onBoundThread :: IO a -> IO a
onBoundThread act = abiChecked `seq` do
    bound <- if rtsSupportsBoundThreads then isCurrentThreadBound else pure True
    if bound then act else runInBoundThread act

-- | The library's ABI version, checked once when the first call is made.
abiChecked :: ()
abiChecked = unsafePerformIO $ do
    loaded <- c_abi_version
    unless (loaded == abiVersion) $
        throwIO $ The0Error "ABI_MISMATCH" $
            "libthe0 speaks ABI " ++ show loaded ++ ", the0-sdk was built for ABI " ++ show abiVersion
{-# NOINLINE abiChecked #-}

-- | UTF-8 bytes of a Haskell string.
utf8 :: String -> BS.ByteString
utf8 = TE.encodeUtf8 . T.pack

-- | Passes @text@ as a C string. C text cannot hold NUL, so text with one is refused rather
-- than cut short; @what@ names the argument in the error.
withText :: String -> String -> (CString -> IO a) -> IO a
withText what text act
    | '\0' `elem` text =
        throwIO $ The0Error "INVALID_ARGUMENT" $
            what ++ " contains a NUL character, which C text cannot hold: " ++ show text
    | otherwise = BS.useAsCString (utf8 text) act

-- | 'withText', or NULL for 'Nothing'.
withMaybeText :: String -> Maybe String -> (CString -> IO a) -> IO a
withMaybeText _ Nothing act = act nullPtr
withMaybeText what (Just text) act = withText what text act

-- | Passes bytes (JSON text from aeson, which never holds a raw NUL) as a C string.
withBytes :: BS.ByteString -> (CString -> IO a) -> IO a
withBytes = BS.useAsCString

-- | Allocates an out-pointer for a C string, runs @call@ with it, and takes what it received
-- (nest it for calls with several).
takeBytes :: (Ptr CString -> IO a) -> IO (a, Maybe BS.ByteString)
takeBytes call = alloca $ \out -> do
    outcome <- call out
    text <- peek out >>= collect
    pure (outcome, text)

-- | 'takeBytes' for calls whose text is there on success; throws the core's error otherwise.
takeText :: (Ptr CString -> IO Int32) -> IO BS.ByteString
takeText call = do
    (status, text) <- takeBytes call
    check status
    maybe (throwIO $ The0Error "PANIC" "libthe0 returned OK without its result") pure text

-- | Runs a call with an @int32_t@ flag out-pointer; throws the core's error on failure.
takeFlag :: (Ptr Int32 -> IO Int32) -> IO Bool
takeFlag call = alloca $ \out -> do
    call out >>= check
    (/= 0) <$> peek out

-- | Copies a string the library returned into Haskell memory, and frees it.
collect :: CString -> IO (Maybe BS.ByteString)
collect ptr
    | ptr == nullPtr = pure Nothing
    | otherwise = do
        bytes <- BS.packCString ptr
        c_bytes_free ptr
        pure (Just bytes)

-- | Throws the core's error unless @status@ is OK.
check :: Int32 -> IO ()
check status = unless (status == statusOk) (throwStatus status)

-- | The exception for a failed call: 'ReadOnlyStateError' for READ_ONLY, else 'The0Error' with
-- the status name and the message the core recorded for this thread.
throwStatus :: Int32 -> IO a
throwStatus status = do
    message <- maybe "" decodeText . snd <$> takeBytes c_last_error
    if status == statusReadOnly
        then throwIO (ReadOnlyStateError message)
        else do
            (_, name) <- takeBytes (c_status_name status)
            throwIO $ The0Error (maybe ("STATUS_" ++ show status) decodeText name) message

-- | A Haskell string from UTF-8 bytes the core returned.
decodeText :: BS.ByteString -> String
decodeText = T.unpack . TE.decodeUtf8With TE.lenientDecode

-- | Writes the lines the core handed back (joined by newlines) on @handle@.
putLines :: Handle -> Maybe BS.ByteString -> IO ()
putLines handle = maybe (pure ()) (putLine handle)

-- | Writes one line (UTF-8 bytes, whatever the locale's encoding) and a newline, then flushes,
-- so lines stay in order with the program's own output and survive a signal.
putLine :: Handle -> BS.ByteString -> IO ()
putLine handle line = BS.hPut handle (line <> BC.singleton '\n') >> hFlush handle

-- | Decodes JSON text the core returned (always valid JSON) into a Haskell value; a value that
-- does not fit the requested type is an INVALID_JSON error naming @what@.
decodeJson :: FromJSON a => String -> BS.ByteString -> IO a
decodeJson what bytes = case eitherDecodeStrict' bytes of
    Right value -> pure value
    Left why -> throwIO $ The0Error "INVALID_JSON" $ what ++ " does not fit the requested type: " ++ why

