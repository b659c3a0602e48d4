{-# LANGUAGE OverloadedStrings #-}
{-# LANGUAGE ScopedTypeVariables #-}

-- | "The0.State" in this process: values, key rules, the read-only guard, files on disk, and the
-- environment rule (STATE_DIR and QUERY_PATH set with "System.Environment" reach the core).
module StateSpec (spec) where

import Control.Exception (try)
import Data.Aeson (Value (..), object, (.=))
import qualified Data.ByteString.Char8 as BC
import qualified Data.Map.Strict as Map
import System.FilePath ((</>))
import Test.Hspec

import The0.Error (SomeThe0Error, The0Error (..))
import qualified The0.Query as Query
import qualified The0.State as State
import Support

-- | Runs @act@ with a fresh state directory (STATE_DIR) and no query mode.
withState :: (FilePath -> IO a) -> IO a
withState act = withTempDir $ \dir ->
    withEnv [("STATE_DIR", Just dir), ("QUERY_PATH", Nothing), ("BOT_TYPE", Nothing)] (act dir)

spec :: Spec
spec = describe "The0.State" $ do
    it "stores and reads back values of every JSON shape, unicode and big integers included" $ withState $ \_ -> do
        let values =
                [ object ["AAPL" .= (100 :: Int), "name" .= ("café ☕ 😀 \"q\" \\ \n\t" :: String)]
                , Array mempty
                , Number 123456789012345678901234567890
                , Number 0.1
                , Bool False
                , Null
                , String "€"
                ]
        mapM_ (\(i, v) -> State.set ("k" ++ show (i :: Int)) v) (zip [0 ..] values)
        mapM (\i -> State.get ("k" ++ show i)) [0 .. length values - 1] `shouldReturn` map Just values
        State.set "big" (2 ^ (100 :: Int) :: Integer)
        State.get "big" `shouldReturn` Just (2 ^ (100 :: Int) :: Integer)
        State.set "map" (Map.fromList [("prix_€" :: String, 1.5 :: Double)])
        State.get "map" `shouldReturn` Just (Map.fromList [("prix_€" :: String, 1.5 :: Double)])

    it "writes canonical compact JSON files named <key>.json" $ withState $ \dir -> do
        State.setJson "prix_€" "{ \"z\" : 1, \"a\" : [true, null] }"
        BC.readFile (dir </> "prix_€.json") `shouldReturn` "{\"z\":1,\"a\":[true,null]}"
        State.getJson "prix_€" `shouldReturn` Just "{\"z\":1,\"a\":[true,null]}"

    it "answers Nothing, False and [] for what is not there" $ withState $ \_ -> do
        (State.get "missing" :: IO (Maybe Value)) `shouldReturn` Nothing
        State.exists "missing" `shouldReturn` False
        State.delete "missing" `shouldReturn` False
        State.list `shouldReturn` []

    it "lists sorted keys, deletes one, clears all" $ withState $ \_ -> do
        mapM_ (\k -> State.set k True) ["b", "a", "c"]
        State.list `shouldReturn` ["a", "b", "c"]
        State.exists "b" `shouldReturn` True
        State.delete "b" `shouldReturn` True
        State.list `shouldReturn` ["a", "c"]
        State.clear
        State.list `shouldReturn` []

    it "refuses every key that breaks a key rule with INVALID_KEY and the core's message" $ withState $ \_ -> do
        let bad = ["", "a/b", "a\\b", "..", "x..y", ".hidden", "tab\there", replicate 201 'k']
        mapM_ (\key -> status (State.set key True) `shouldReturn` Just "INVALID_KEY") bad
        mapM_ (\key -> status (State.get key :: IO (Maybe Value)) `shouldReturn` Just "INVALID_KEY") bad
        Left e <- try (State.exists "a/b")
        errorMessage e `shouldBe` "invalid state key \"a/b\": must not contain a path separator ('/' or '\\')"
        status (State.set (replicate 200 'k') True) `shouldReturn` Nothing

    it "refuses text C cannot carry (a NUL) instead of cutting it short" $ withState $ \_ ->
        status (State.set "a\0b" True) `shouldReturn` Just "INVALID_ARGUMENT"

    it "refuses JSON text that is not JSON, and keeps the stored value" $ withState $ \_ -> do
        State.set "k" (1 :: Int)
        status (State.setJson "k" "{not json") `shouldReturn` Just "INVALID_JSON"
        State.get "k" `shouldReturn` Just (1 :: Int)

    it "reports a corrupt file as CORRUPT_STATE and a value of another type as INVALID_JSON" $ withState $ \dir -> do
        writeFile (dir </> "torn.json") "{\"a\":"
        status (State.get "torn" :: IO (Maybe Value)) `shouldReturn` Just "CORRUPT_STATE"
        State.set "text" ("abc" :: String)
        status (State.get "text" :: IO (Maybe Int)) `shouldReturn` Just "INVALID_JSON"

    it "is read-only while QUERY_PATH is set: writes throw ReadOnlyStateError, reads work" $ withState $ \_ -> do
        State.set "k" (1 :: Int)
        withEnv [("QUERY_PATH", Just "/portfolio")] $ do
            Left (State.ReadOnlyStateError message) <- try (State.set "k" (2 :: Int))
            message `shouldContain` "read-only"
            Left (Query.ReadOnlyStateError _) <- try (State.delete "k")
            Left (_ :: SomeThe0Error) <- try State.clear
            status (State.setJson "k" "3") `shouldReturn` Just "READ_ONLY"
            State.get "k" `shouldReturn` Just (1 :: Int)
            State.list `shouldReturn` ["k"]
        State.set "k" (2 :: Int)
        State.get "k" `shouldReturn` Just (2 :: Int)

    it "follows STATE_DIR as System.Environment.setEnv changes it (read at every call)" $ withState $ \_ ->
        withTempDir $ \other -> do
            State.set "here" True
            withEnv [("STATE_DIR", Just other)] $ do
                State.list `shouldReturn` []
                State.set "there" True
            State.list `shouldReturn` ["here"]
            withEnv [("STATE_DIR", Just other)] $ State.list `shouldReturn` ["there"]
