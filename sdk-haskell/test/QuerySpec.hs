{-# LANGUAGE OverloadedStrings #-}

-- | "The0.Query": the request API, and the bot ("Bot") in each mode as a child process —
-- ephemeral (result file, exit codes), info, and the server over TCP and over a Unix socket
-- (query-string and body parameters, 404, 500, 504, several handlers at once, SIGTERM).
module QuerySpec (spec) where

import Control.Concurrent (forkIO, newEmptyMVar, putMVar, takeMVar, tryReadMVar)
import Control.Monad (void)
import Data.Aeson (Value (..), object, (.=))
import qualified Data.Map.Strict as Map
import System.Directory (doesPathExist)
import System.Exit (ExitCode (..))
import System.FilePath ((</>))
import Test.Hspec

import qualified The0.Query as Query
import qualified The0.State as State
import Http
import Support

ok :: Value -> Maybe Value
ok value = Just (object ["status" .= ("ok" :: String), "data" .= value])

failure :: String -> Maybe Value
failure message = Just (object ["status" .= ("error" :: String), "error" .= message])

-- | Runs @bot query@ once with QUERY_PATH (and more): its exit code and result file.
ephemeral :: FilePath -> [(String, String)] -> IO (ExitCode, Maybe Value)
ephemeral dir vars = do
    let resultFile = dir </> "query" </> "result.json"
    (code, _, _) <- runBot ["query"] (("STATE_DIR", dir </> "state") : ("THE0_QUERY_RESULT_FILE", resultFile) : vars)
    present <- doesPathExist resultFile
    (,) code <$> (if present then readJsonFile resultFile else pure Nothing)

seedPositions :: FilePath -> IO ()
seedPositions dir = withEnv [("STATE_DIR", Just (dir </> "state")), ("QUERY_PATH", Nothing)] $
    State.set "positions" (object ["BTC" .= (1.5 :: Double)])

spec :: Spec
spec = describe "The0.Query" $ do
    describe "requests" $ do
        it "keeps upstream's constructor, fields and getParam" $ do
            let req = Query.Request "/status" (Map.fromList [("symbol", "ETH")])
            Query.reqPath req `shouldBe` "/status"
            Query.reqParams req `shouldBe` Map.fromList [("symbol", "ETH")]
            Query.getParam req "symbol" "BTC" `shouldBe` "ETH"
            Query.getParam req "missing" "BTC" `shouldBe` "BTC"
            Query.getParamValue req "symbol" `shouldBe` Just (String "ETH")
            show req `shouldBe` "Request {reqPath = \"/status\", reqParams = fromList [(\"symbol\",\"ETH\")]}"

        it "answers isQueryMode, getParams and getConfig from the environment outside a handler" $
            withEnv [("QUERY_PATH", Nothing), ("BOT_CONFIG", Just "{\"note\":\"café ☕\"}")] $ do
                Query.isQueryMode `shouldReturn` False
                Query.getConfig `shouldReturn` object ["note" .= ("café ☕" :: String)]
                withEnv [("QUERY_PATH", Just "/x"), ("QUERY_PARAMS", Just "{\"n\":5,\"s\":\"é\"}")] $ do
                    Query.isQueryMode `shouldReturn` True
                    Query.getParams `shouldReturn` Map.fromList [("n", "5"), ("s", "é")]
                Query.getParams `shouldReturn` Map.empty

        it "refuses an empty handler path" $
            status (Query.handler "" (\_ -> pure Null)) `shouldReturn` Just "INVALID_ARGUMENT"

    describe "ephemeral mode (QUERY_PATH)" $ do
        it "answers into the result file with typed and string parameters, exit 0" $ withTempDir $ \dir -> do
            seedPositions dir
            (code, result) <- ephemeral dir [("QUERY_PATH", "/portfolio"), ("QUERY_PARAMS", "{\"symbol\":\"ETH\"}")]
            code `shouldBe` ExitSuccess
            result `shouldBe` ok (object ["positions" .= object ["BTC" .= (1.5 :: Double)], "symbol" .= ("ETH" :: String)])
            (_, echoed) <- ephemeral dir [("QUERY_PATH", "/echo"), ("QUERY_PARAMS", "{\"n\":5,\"flag\":true,\"s\":\"€\"}")]
            echoed `shouldBe` ok (object
                [ "path" .= ("/echo" :: String)
                , "strings" .= object ["n" .= ("5" :: String), "flag" .= ("true" :: String), "s" .= ("€" :: String)]
                , "values" .= object ["n" .= (5 :: Int), "flag" .= True, "s" .= ("€" :: String)] ])
            (_, params) <- ephemeral dir [("QUERY_PATH", "/params"), ("QUERY_PARAMS", "{\"n\":5}")]
            params `shouldBe` ok (object ["n" .= ("5" :: String)])

        it "keeps a non-ASCII BOT_CONFIG whole in getConfig" $ withTempDir $ \dir -> do
            (_, result) <- ephemeral dir [("QUERY_PATH", "/config"), ("BOT_CONFIG", "{\"note\":\"café ☕ 😀\"}")]
            result `shouldBe` ok (object ["note" .= ("café ☕ 😀" :: String)])

        it "is read-only: a handler's state write gets ReadOnlyStateError" $ withTempDir $ \dir -> do
            (code, Just (Object result)) <- ephemeral dir [("QUERY_PATH", "/write")]
            code `shouldBe` ExitSuccess
            show result `shouldContain` "\"written\",Bool False"

        it "fails with exit 1: handler error (500), unknown path (404), handler timeout (504)" $ withTempDir $ \dir -> do
            ephemeral dir [("QUERY_PATH", "/fail")] `shouldReturn` (ExitFailure 1, failure "deliberate failure")
            (code404, Just (Object notFound)) <- ephemeral dir [("QUERY_PATH", "/nope")]
            code404 `shouldBe` ExitFailure 1
            show notFound `shouldContain` "/portfolio"
            (code504, Just (Object timedOut)) <-
                ephemeral dir [("QUERY_PATH", "/sleep"), ("QUERY_PARAMS", "{\"ms\":\"60000\"}"), ("THE0_QUERY_TIMEOUT_MS", "300")]
            code504 `shouldBe` ExitFailure 1
            show timedOut `shouldContain` "String \"error\""

        it "writes the /info answer when neither QUERY_PATH nor BOT_TYPE is set" $ withTempDir $ \dir -> do
            (code, Just result) <- ephemeral dir []
            code `shouldBe` ExitSuccess
            show result `shouldContain` "/portfolio"
            show result `shouldContain` "/echo"

    describe "server mode (BOT_TYPE=realtime)" $ do
        it "serves over TCP: query string, JSON body, 404, 500, 504, concurrent handlers; stops on SIGTERM" $
            withTempDir $ \dir -> do
                seedPositions dir
                withBot
                    [ ("STATE_DIR", dir </> "state"), ("THE0_QUERY_HOST", "127.0.0.1"), ("THE0_QUERY_PORT", "0")
                    , ("THE0_QUERY_TIMEOUT_MS", "5000"), ("BOT_CONFIG", "{\"note\":\"é\"}") ] $ \child -> do
                    serves (dir </> "state") (targetOf (childAddress child))
                    stopBot child `shouldReturn` ExitSuccess

        it "serves over a Unix socket and removes it on SIGTERM" $ withTempDir $ \dir -> do
            seedPositions dir
            let socket = dir </> "run" </> "query.sock"
            withBot
                [ ("STATE_DIR", dir </> "state"), ("THE0_QUERY_SOCKET", socket)
                , ("THE0_QUERY_TIMEOUT_MS", "5000"), ("BOT_CONFIG", "{\"note\":\"é\"}") ] $ \child -> do
                childAddress child `shouldBe` ("unix:" ++ socket)
                serves (dir </> "state") (Unix socket)
                stopBot child `shouldReturn` ExitSuccess
            doesPathExist socket `shouldReturn` False

-- | The server-mode expectations, over any target.
serves :: FilePath -> Target -> IO ()
serves stateDir target = do
    let get path = request target "GET" path Nothing
    portfolio <- get "/portfolio?symbol=SOL%2FUSD"
    responseStatus portfolio `shouldBe` 200
    responseType portfolio `shouldBe` Just "application/json"
    responseBody portfolio `shouldBe` ok (object ["positions" .= object ["BTC" .= (1.5 :: Double)], "symbol" .= ("SOL/USD" :: String)])
    echoed <- request target "POST" "/echo?q=1" (Just "{\"n\":5,\"list\":[1,\"é\"]}")
    responseBody echoed `shouldBe` ok (object
        [ "path" .= ("/echo" :: String)
        , "strings" .= object ["n" .= ("5" :: String), "list" .= ("[1,\"é\"]" :: String), "q" .= ("1" :: String)]
        , "values" .= object ["n" .= (5 :: Int), "list" .= [Number 1, String "é"], "q" .= ("1" :: String)] ])
    params <- request target "POST" "/params" (Just "{\"n\":5}")
    responseBody params `shouldBe` ok (object ["n" .= ("5" :: String)])
    configured <- get "/config"
    responseBody configured `shouldBe` ok (object ["note" .= ("é" :: String)])
    written <- get "/write"
    show (responseBody written) `shouldContain` "\"written\",Bool False"
    missing <- get "/nope"
    responseStatus missing `shouldBe` 404
    failed <- get "/fail"
    (responseStatus failed, responseBody failed) `shouldBe` (500, failure "deliberate failure")
    -- A handler waiting does not hold up the others (several worker threads): /wait answers
    -- only once "release" is stored, which happens after another request was answered.
    waiting <- newEmptyMVar
    void $ forkIO (get "/wait" >>= putMVar waiting)
    fast <- get "/portfolio"
    responseStatus fast `shouldBe` 200
    (responseStatus <$>) <$> tryReadMVar waiting `shouldReturn` Nothing
    withEnv [("STATE_DIR", Just stateDir), ("QUERY_PATH", Nothing)] $ State.set "release" True
    (responseBody <$> takeMVar waiting) `shouldReturn` ok (object ["released" .= True])
    timedOut <- get "/sleep?ms=60000"
    responseStatus timedOut `shouldBe` 504
    health <- get "/health"
    responseStatus health `shouldBe` 200
