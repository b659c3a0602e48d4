-- |
-- Module      : The0.Internal.Native
-- Description : The C ABI of libthe0 (sdk-ffi/include/the0.h, ABI version 2), imported as is
--
-- Calls are @safe@: the RTS keeps running other Haskell threads while they run, which matters for
-- those that touch the disk or wait (@the0_query_next@ blocks for up to its timeout). The two
-- @unsafe@ ones return at once and are on the hot path: @the0_bytes_free@ (three per query
-- request; @unsafe@ measured about 20% more requests per second with wrk) and
-- @the0_abi_version@ (once). @the0_query_respond@ was measured both ways: @unsafe@ brought
-- nothing. No Haskell function is ever handed to the library: handlers run on threads this SDK
-- owns, which poll @the0_query_next@.
--
-- Every 'CString' written through a @Ptr CString@ belongs to the caller and is freed with
-- 'c_bytes_free'; @env_json@ is always 'nullPtr' (the process environment), because
-- "System.Environment"'s 'System.Environment.setEnv' writes the C environment the core reads.
module The0.Internal.Native where

import Data.Int (Int32)
import Data.Word (Word32, Word64)
import Foreign.C.String (CString)
import Foreign.Ptr (Ptr)

-- | The ABI version this binding was written for (@THE0_ABI_VERSION@).
abiVersion :: Word32
abiVersion = 2

-- Status codes the skin acts on (@THE0_STATUS_*@); every other one is an error.
statusOk, statusNotFound, statusReadOnly, statusTimeout :: Int32
statusOk = 0
statusNotFound = 1
statusReadOnly = 4
statusTimeout = 6

-- A flag of @the0_query_start@, and the reply kinds of @the0_query_respond@.
startExitOnTimeout :: Word32
startExitOnTimeout = 2

replyOk, replyError :: Int32
replyOk = 0
replyError = 1

foreign import ccall unsafe "the0_abi_version" c_abi_version :: IO Word32
foreign import ccall unsafe "the0_bytes_free" c_bytes_free :: CString -> IO ()
foreign import ccall safe "the0_last_error" c_last_error :: Ptr CString -> IO Int32
foreign import ccall safe "the0_status_name" c_status_name :: Int32 -> Ptr CString -> IO Int32

foreign import ccall safe "the0_input_parse"
    c_input_parse :: CString -> Ptr CString -> Ptr CString -> IO Int32
foreign import ccall safe "the0_input_success"
    c_input_success :: CString -> CString -> CString -> Ptr CString -> IO Int32
foreign import ccall safe "the0_input_error"
    c_input_error :: CString -> CString -> CString -> Ptr CString -> IO Int32
foreign import ccall safe "the0_input_result"
    c_input_result :: CString -> CString -> Ptr CString -> IO Int32
foreign import ccall safe "the0_input_metric"
    c_input_metric :: CString -> CString -> Ptr CString -> IO Int32
foreign import ccall safe "the0_input_log"
    c_input_log :: CString -> CString -> CString -> Ptr CString -> IO Int32

foreign import ccall safe "the0_state_set" c_state_set :: CString -> CString -> CString -> IO Int32
foreign import ccall safe "the0_state_get" c_state_get :: CString -> CString -> Ptr CString -> IO Int32
foreign import ccall safe "the0_state_exists"
    c_state_exists :: CString -> CString -> Ptr Int32 -> IO Int32
foreign import ccall safe "the0_state_delete"
    c_state_delete :: CString -> CString -> Ptr Int32 -> IO Int32
foreign import ccall safe "the0_state_list" c_state_list :: CString -> Ptr CString -> IO Int32
foreign import ccall safe "the0_state_clear" c_state_clear :: CString -> IO Int32

foreign import ccall safe "the0_query_register" c_query_register :: CString -> Ptr CString -> IO Int32
foreign import ccall safe "the0_query_start"
    c_query_start :: CString -> Word32 -> Word32 -> Ptr Int32 -> Ptr Word32 -> Ptr CString -> IO Int32
foreign import ccall safe "the0_query_next"
    c_query_next :: Word32 -> Ptr Word64 -> Ptr CString -> Ptr CString -> Ptr CString -> IO Int32
foreign import ccall safe "the0_query_respond" c_query_respond :: Word64 -> Int32 -> CString -> IO Int32
foreign import ccall safe "the0_query_stop" c_query_stop :: IO Int32
foreign import ccall safe "the0_query_finish" c_query_finish :: Ptr Int32 -> Ptr CString -> IO Int32
foreign import ccall safe "the0_query_config" c_query_config :: CString -> Ptr CString -> IO Int32
foreign import ccall safe "the0_query_params"
    c_query_params :: CString -> Ptr CString -> Ptr CString -> IO Int32
foreign import ccall safe "the0_query_is_query_mode"
    c_query_is_query_mode :: CString -> Ptr Int32 -> IO Int32
