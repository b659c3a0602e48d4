-- |
-- Module      : The0.State
-- Description : Persistent state: JSON documents by key, shared by every the0 SDK
--
-- Upstream's API ("The0.State" of the0-sdk 0.1.5), over the shared core: each key is the file
-- @$STATE_DIR\/\<key\>.json@ (default @\/state\/.the0-state@), written atomically in the canonical
-- compact form every the0 SDK reads and writes byte for byte. Key rules and messages are the
-- core's. While the process serves queries, 'set', 'delete' and 'clear' throw
-- 'ReadOnlyStateError'.
--
-- @
-- import qualified The0.State as State
--
-- main = do
--     State.set \"portfolio\" (object [\"AAPL\" .= (100 :: Int)])
--     portfolio <- State.get \"portfolio\" :: IO (Maybe Value)
--     keys <- State.list
--     deleted <- State.delete \"portfolio\"
--     State.clear
-- @
module The0.State
    ( get
    , set
    , The0.State.delete
    , list
    , clear
    , exists
    , getJson
    , setJson
    , ReadOnlyStateError (..)
    ) where

import Data.Aeson (FromJSON, ToJSON)
import qualified Data.Aeson as Aeson
import qualified Data.ByteString as BS
import qualified Data.ByteString.Lazy as BL
import Foreign.Ptr (nullPtr)

import The0.Error (ReadOnlyStateError (..))
import The0.Internal.Call
import The0.Internal.Native

-- | The value stored under @key@, or 'Nothing' when the key has none.
--
-- Throws 'The0.Error.The0Error': @INVALID_KEY@ for a key that breaks a key rule,
-- @CORRUPT_STATE@ for a stored file that is not JSON, and @INVALID_JSON@ when the stored JSON
-- does not decode as the requested type (upstream returned 'Nothing', which let a bot overwrite
-- what it could not read).
get :: FromJSON a => String -> IO (Maybe a)
get key = storedJson key >>= traverse (decodeJson ("the value of state key " ++ show key))

-- | The JSON text stored under @key@ (canonical, compact), or 'Nothing' when the key has none.
getJson :: String -> IO (Maybe String)
getJson key = fmap decodeText <$> storedJson key

storedJson :: String -> IO (Maybe BS.ByteString)
storedJson key = onBoundThread $ withText "state key" key $ \cKey -> do
    (status, json) <- takeBytes (c_state_get nullPtr cKey)
    if status == statusNotFound then pure Nothing else check status >> pure json

-- | Stores @value@ under @key@ (any 'ToJSON' value).
set :: ToJSON a => String -> a -> IO ()
set key value = onBoundThread $ withText "state key" key $ \cKey ->
    withBytes (BL.toStrict (Aeson.encode value)) $ \cJson -> c_state_set nullPtr cKey cJson >>= check

-- | Stores JSON text under @key@ as written: the core checks it and stores its canonical form
-- (numbers no Haskell type holds exactly, such as long decimals, stay as written). Throws
-- 'The0.Error.The0Error' @INVALID_JSON@ when the text is not JSON.
setJson :: String -> String -> IO ()
setJson key json = onBoundThread $ withText "state key" key $ \cKey ->
    withText "JSON text" json $ \cJson -> c_state_set nullPtr cKey cJson >>= check

-- | Removes @key@; 'True' when it had a value.
delete :: String -> IO Bool
delete key = onBoundThread $ withText "state key" key $ \cKey -> takeFlag (c_state_delete nullPtr cKey)

-- | Every key that has a value, sorted.
list :: IO [String]
list = onBoundThread (takeText (c_state_list nullPtr)) >>= decodeJson "the list of state keys"

-- | Removes every key.
clear :: IO ()
clear = onBoundThread (c_state_clear nullPtr >>= check)

-- | Whether @key@ has a value.
exists :: String -> IO Bool
exists key = onBoundThread $ withText "state key" key $ \cKey -> takeFlag (c_state_exists nullPtr cKey)
