{-# LANGUAGE OverloadedStrings #-}

-- | "The0.Input": parse (non-ASCII configuration kept whole), the result file, and metric and
-- log lines on the right streams in a child process without a UTF-8 locale.
module InputSpec (spec) where

import Data.Aeson (Value (..), object, (.=))
import qualified Data.Aeson as Aeson
import qualified Data.Aeson.KeyMap as KeyMap
import qualified Data.ByteString.Char8 as BC
import qualified Data.Map.Strict as Map
import Data.Maybe (mapMaybe)
import System.Exit (ExitCode (..))
import System.FilePath ((</>))
import Test.Hspec

import qualified The0.Input as Input
import Support

config :: String
config = "{\"symbol\":\"€UR/USD\",\"note\":\"café ☕ 😀 日本\",\"size\":0.5,\"n\":12345678901234567890}"

spec :: Spec
spec = describe "The0.Input" $ do
    it "parses BOT_ID and a non-ASCII BOT_CONFIG without losing a character" $
        withEnv [("BOT_ID", Just "bot-€"), ("BOT_CONFIG", Just config)] $ do
            (botId, value) <- Input.parse
            botId `shouldBe` "bot-€"
            value `shouldBe` object
                [ "symbol" .= ("€UR/USD" :: String), "note" .= ("café ☕ 😀 日本" :: String)
                , "size" .= Number 0.5, "n" .= Number 12345678901234567890 ]
            (_, asMap) <- Input.parseAsMap
            Map.lookup "note" asMap `shouldBe` Just (String "café ☕ 😀 日本")

    it "fails with MISSING_ENV or INVALID_JSON, naming the variable" $ do
        withEnv [("BOT_ID", Nothing), ("BOT_CONFIG", Just "{}")] $
            status Input.parse `shouldReturn` Just "MISSING_ENV"
        withEnv [("BOT_ID", Just "b"), ("BOT_CONFIG", Just "{oops")] $
            status Input.parse `shouldReturn` Just "INVALID_JSON"
        withEnv [("BOT_ID", Just "b"), ("BOT_CONFIG", Just "[1]")] $
            status Input.parseAsMap `shouldReturn` Just "INVALID_JSON"

    it "writes success, success with data and result to /<CODE_MOUNT_DIR>/result.json" $ withTempDir $ \dir ->
        withEnv [("CODE_MOUNT_DIR", Just (drop 1 dir))] $ do
            let resultFile = dir </> "result.json"
            Input.success "done ✓"
            readJsonFile resultFile `shouldReturn` Just (object ["status" .= ("success" :: String), "message" .= ("done ✓" :: String)])
            Input.successWith "done" (object ["runs" .= (3 :: Int)])
            readJsonFile resultFile `shouldReturn`
                Just (object ["status" .= ("success" :: String), "message" .= ("done" :: String), "data" .= object ["runs" .= (3 :: Int)]])
            Input.result (object ["custom" .= True])
            readJsonFile resultFile `shouldReturn` Just (object ["custom" .= True])

    it "error writes the result file and exits with code 1" $ withTempDir $ \dir -> do
        (code, _, _) <- runBot ["error", "broke"] [("CODE_MOUNT_DIR", drop 1 dir)]
        code `shouldBe` ExitFailure 1
        readJsonFile (dir </> "result.json") `shouldReturn`
            Just (object ["status" .= ("error" :: String), "message" .= ("broke" :: String), "data" .= object ["code" .= (7 :: Int)]])

    it "prints metric lines on stdout and log lines on stderr, UTF-8 whatever the locale" $ do
        (code, out, err) <- runBot ["output"] []
        code `shouldBe` ExitSuccess
        let jsonLines = mapMaybe (Aeson.decodeStrict' . BC.pack) . lines . BC.unpack
        case jsonLines out of
            [Object metric] -> do
                KeyMap.lookup "_metric" metric `shouldBe` Just (String "price")
                KeyMap.lookup "symbol" metric `shouldBe` Just (String "€UR/USD")
                KeyMap.member "timestamp" metric `shouldBe` True
            other -> expectationFailure ("one metric line expected on stdout, got " ++ show other ++ " from " ++ show out)
        BC.lines out !! 1 `shouldBe` "plain stdout line"
        let logs = [(KeyMap.lookup "level" l, KeyMap.lookup "message" l) | Object l <- jsonLines err]
        logs `shouldBe`
            [ (Just "info", Just "démarré ☕"), (Just "warn", Just "slow"), (Just "warn", Just "loud")
            , (Just "error", Just "failed") ]
        [KeyMap.lookup "ms" l | Object l <- jsonLines err, KeyMap.lookup "message" l == Just "slow"]
            `shouldBe` [Just (Number 250)]

    it "refuses an unknown level name with INVALID_ARGUMENT" $
        status (Input.logNamed "m" Nothing "loud") `shouldReturn` Just "INVALID_ARGUMENT"
