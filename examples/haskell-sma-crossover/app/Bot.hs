{-# LANGUAGE OverloadedStrings #-}

-- | @sma-bot@: the bot entrypoint. A scheduled bot processes @ticks@ prices per run; a realtime
-- bot (@BOT_TYPE=realtime@) ticks until it is stopped.
module Main (main) where

import Control.Concurrent (threadDelay)
import Control.Monad (when)
import Data.Aeson (fromJSON, object, (.=))
import qualified Data.Aeson as Aeson
import System.Environment (lookupEnv)

import The0.Input
import Strategy

main :: IO ()
main = do
    (botId, raw) <- parse
    config <- case fromJSON raw of
        Aeson.Success config -> pure config
        Aeson.Error why -> The0.Input.error ("invalid configuration: " ++ why)
    realtime <- (== Just "realtime") <$> lookupEnv "BOT_TYPE"
    strategy <- loadStrategy
    signals <- loadSignals
    logInfo ("bot " ++ botId ++ " starting at tick " ++ show (tick strategy))
        (Just (object ["symbol" .= symbol config, "realtime" .= realtime]))
    final <- loop config realtime (0 :: Int) strategy signals
    success ("processed " ++ show (tick final) ++ " ticks, " ++ show (signalCount final) ++ " signals so far")

loop :: Config -> Bool -> Int -> Strategy -> [Signal] -> IO Strategy
loop config realtime done strategy signals
    | not realtime && done >= ticks config = pure strategy
    | otherwise = do
        let price = priceAt config (tick strategy) (lastPrice strategy)
        metric "price" (object ["symbol" .= symbol config, "price" .= price])
        let (next, signal) = step config price strategy
        signals' <- case signal of
            Nothing -> pure signals
            Just s -> do
                metric "signal" (object ["symbol" .= symbol config, "side" .= side s, "price" .= price])
                let kept = let all' = signals ++ [s] in drop (length all' - maxSignals) all'
                saveSignals kept
                pure kept
        saveStrategy next
        when (tickIntervalMs config > 0) $ threadDelay (tickIntervalMs config * 1000)
        loop config realtime (done + 1) next signals'
