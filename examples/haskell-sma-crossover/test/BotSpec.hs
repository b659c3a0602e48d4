{-# LANGUAGE OverloadedStrings #-}

-- | The example bot end to end, as the agent runs it: the built @sma-bot@ and @query@ (paths in
-- THE0_SMA_BOT and THE0_SMA_QUERY) as real processes on real state files. With THE0_RUST_SMA_BOT
-- set to the Rust twin's @sma-bot@, both bots must write byte-identical state.
module Main (main) where

import Control.Exception (bracket)
import Control.Monad (forM_)
import Data.Aeson (Value (..), decodeStrict', object, (.=))
import qualified Data.ByteString as BS
import System.Directory (getTemporaryDirectory, removeDirectoryRecursive)
import System.Environment (getEnv, lookupEnv)
import System.Exit (ExitCode (..))
import System.FilePath ((</>))
import System.Posix.Temp (mkdtemp)
import System.Process (proc, readCreateProcessWithExitCode, CreateProcess (..))
import Test.Hspec

withDir :: (FilePath -> IO a) -> IO a
withDir = bracket (getTemporaryDirectory >>= \base -> mkdtemp (base </> "sma-hs-")) removeDirectoryRecursive

-- | Runs a program with exactly these variables (and PATH): its exit code.
runWith :: FilePath -> [(String, String)] -> IO ExitCode
runWith program vars = do
    path <- getEnv "PATH"
    (code, _, _) <- readCreateProcessWithExitCode (proc program []) {env = Just (("PATH", path) : vars)} ""
    pure code

crossing :: String
crossing = "{\"symbol\":\"ETH/USD\",\"short_period\":2,\"long_period\":4,\"ticks\":12,\"prices\":[10,10,10,10,20,20,5,5,5,30,30,30]}"

readJson :: FilePath -> IO (Maybe Value)
readJson file = decodeStrict' <$> BS.readFile file

main :: IO ()
main = do
    bot <- getEnv "THE0_SMA_BOT"
    query <- getEnv "THE0_SMA_QUERY"
    rust <- lookupEnv "THE0_RUST_SMA_BOT"
    let botRun dir config = runWith bot
            [("BOT_ID", "sma-hs"), ("BOT_CONFIG", config), ("STATE_DIR", dir </> "state"), ("CODE_MOUNT_DIR", drop 1 dir)]
        ask dir vars = do
            let resultFile = dir </> "result-query.json"
            code <- runWith query (("STATE_DIR", dir </> "state") : ("THE0_QUERY_RESULT_FILE", resultFile) : vars)
            (,) code <$> readJson resultFile
    hspec $ do
        it "runs its ticks, records crossings, and reports success" $ withDir $ \dir -> do
            botRun dir crossing `shouldReturn` ExitSuccess
            readJson (dir </> "result.json") `shouldReturn`
                Just (object ["status" .= ("success" :: String), "message" .= ("processed 12 ticks, 2 signals so far" :: String)])
            Just (Object _) <- readJson (dir </> "state" </> "strategy.json")
            -- A second run continues from the stored window (the Rust twin says the same).
            botRun dir crossing `shouldReturn` ExitSuccess
            readJson (dir </> "result.json") `shouldReturn`
                Just (object ["status" .= ("success" :: String), "message" .= ("processed 24 ticks, 6 signals so far" :: String)])

        it "answers /status and /signals as ephemeral queries, and refuses a bad limit" $ withDir $ \dir -> do
            botRun dir crossing `shouldReturn` ExitSuccess
            (code, Just (Object status)) <- ask dir [("QUERY_PATH", "/status"), ("BOT_CONFIG", crossing)]
            code `shouldBe` ExitSuccess
            show status `shouldContain` "\"tick\",Number 12.0"
            show status `shouldContain` "ETH/USD"
            (_, Just (Object signals)) <- ask dir [("QUERY_PATH", "/signals"), ("QUERY_PARAMS", "{\"limit\":\"1\"}")]
            show signals `shouldContain` "\"count\",Number 2.0"
            show signals `shouldContain` "\"side\",String \"BUY\""
            ask dir [("QUERY_PATH", "/signals"), ("QUERY_PARAMS", "{\"limit\":\"0\"}")] `shouldReturn`
                (ExitFailure 1, Just (object ["status" .= ("error" :: String), "error" .= ("limit must be a positive integer, got \"0\"" :: String)]))

        it "writes state byte-identical to the Rust twin's" $ case rust of
            Nothing -> pendingWith "THE0_RUST_SMA_BOT is not set"
            Just rustBot -> withDir $ \dir -> do
                let config = "{\"short_period\":3,\"long_period\":8,\"ticks\":80,\"seed\":7}"
                    run program sub = runWith program
                        [("BOT_ID", "twin"), ("BOT_CONFIG", config), ("STATE_DIR", dir </> sub), ("CODE_MOUNT_DIR", drop 1 (dir </> sub))]
                run bot "hs" `shouldReturn` ExitSuccess
                run rustBot "rust" `shouldReturn` ExitSuccess
                forM_ ["strategy.json", "signals.json"] $ \file -> do
                    mine <- BS.readFile (dir </> "hs" </> file)
                    theirs <- BS.readFile (dir </> "rust" </> file)
                    mine `shouldBe` theirs
