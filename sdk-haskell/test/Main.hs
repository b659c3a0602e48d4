-- | The SDK's hspec suite. The same binary is also the bot the query and output tests run as a
-- child process (@the0-sdk-test bot ...@, see "Bot"), so every mode is exercised in a real
-- process with its own environment, exit code and streams.
module Main (main) where

import System.Environment (getArgs)
import Test.Hspec (hspec)

import qualified Bot
import qualified CrossSpec
import qualified InputSpec
import qualified QuerySpec
import qualified StateSpec

main :: IO ()
main = do
    args <- getArgs
    case args of
        ("bot" : rest) -> Bot.main rest
        _ -> hspec $ StateSpec.spec >> CrossSpec.spec >> InputSpec.spec >> QuerySpec.spec
