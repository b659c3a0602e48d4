{-# LANGUAGE OverloadedStrings #-}

-- | State shared with the Rust SDK byte for byte: values written here are read back identically
-- by the Rust SDK's conformance driver (a real process on the same files, path in
-- THE0_RUST_DRIVER), and the other way round. (Integers beyond 64 bits are left out: the Rust
-- driver prints values through doubles; StateSpec covers them.)
module CrossSpec (spec) where

import Control.Exception (try)
import Control.Monad (forM_)
import Data.Aeson (Value (..), object, (.=))
import qualified Data.Aeson as Aeson
import qualified Data.ByteString as BS
import qualified Data.ByteString.Lazy as BL
import System.Environment (getEnvironment, lookupEnv)
import System.Exit (ExitCode (..))
import System.FilePath ((</>))
import System.Process (CreateProcess (..), proc)
import Test.Hspec

import The0.Error (The0Error (..))
import qualified The0.State as State
import Support

values :: [Value]
values =
    [ object ["b" .= [Number 1, Number 2.5, Null, Bool True], "prix_€" .= ("café" :: String)]
    , Aeson.toJSON [Number 1, String "two", Number 3.5, Bool False, Number (-0.5), Number 1e-7, Number 12345678901234]
    , String "line\nbreak \"quoted\" tab\t \1 é € 😀"
    , Null
    , object ["empty" .= object [], "list" .= ([] :: [Int])]
    ]

-- | Runs the Rust driver's @state@ command on @dir@: its JSON answer.
rust :: FilePath -> FilePath -> [String] -> IO Value
rust driver dir args = do
    inherited <- filter ((/= "STATE_DIR") . fst) <$> getEnvironment
    (code, out, err) <- runProgram (proc driver ("state" : args)) {env = Just (("STATE_DIR", dir) : inherited)}
    code `shouldBe` ExitSuccess
    maybe (fail ("not JSON: " ++ show out ++ show err)) pure (Aeson.decodeStrict' out)

-- | JSON text as a driver argument.
jsonArgument :: Value -> String
jsonArgument = argumentBytes . BL.toStrict . Aeson.encode

spec :: Spec
spec = describe "state shared with the Rust SDK" $ do
    driver <- runIO (lookupEnv "THE0_RUST_DRIVER")
    let withDriver act = case driver of
            Nothing -> pendingWith "THE0_RUST_DRIVER is not set"
            Just path -> withTempDir $ \dir ->
                withEnv [("STATE_DIR", Just dir), ("QUERY_PATH", Nothing)] (act path dir)
    it "Haskell writes, Rust reads, and both write the same bytes" $ withDriver $ \path dir ->
        forM_ values $ \value -> do
            State.set "from_haskell" value
            rust path dir ["get", "from_haskell"] `shouldReturn` object ["ok" .= object ["found" .= True, "value" .= value]]
            _ <- rust path dir ["set", "from_rust", jsonArgument value]
            mine <- BS.readFile (dir </> "from_haskell.json")
            BS.readFile (dir </> "from_rust.json") `shouldReturn` mine
            rust path dir ["list"] `shouldReturn` object ["ok" .= ["from_haskell", "from_rust" :: String]]

    it "Rust writes, Haskell reads, and a Haskell round trip keeps the bytes" $ withDriver $ \path dir ->
        forM_ values $ \value -> do
            _ <- rust path dir ["set", "k", jsonArgument value]
            written <- BS.readFile (dir </> "k.json")
            State.get "k" `shouldReturn` Just value
            State.get "k" >>= maybe (pure ()) (State.set "k" :: Value -> IO ())
            BS.readFile (dir </> "k.json") `shouldReturn` written

    it "agrees with Rust on errors, deletes and clears" $ withDriver $ \path dir -> do
        Left e <- try (State.get "a/b" :: IO (Maybe Value))
        rust path dir ["get", "a/b"] `shouldReturn`
            object ["error" .= object ["status" .= errorStatus e, "message" .= errorMessage e]]
        State.set "a" (1 :: Int) >> State.set "b" (2 :: Int)
        rust path dir ["delete", "a"] `shouldReturn` object ["ok" .= True]
        State.list `shouldReturn` ["b"]
        State.clear
        rust path dir ["list"] `shouldReturn` object ["ok" .= ([] :: [String])]
