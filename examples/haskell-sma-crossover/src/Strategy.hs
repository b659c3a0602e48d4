{-# LANGUAGE OverloadedStrings #-}

-- | A moving-average crossover strategy, shared by the bot (@sma-bot@) and its queries
-- (@query@): the Haskell twin of examples/rust-sma-crossover and examples/python-sma-crossover.
--
-- Each tick the bot takes one price, keeps the last @long_period@ prices, and compares the short
-- and long simple moving averages: the short one crossing above the long one is a BUY signal,
-- crossing below a SELL signal. State lives in two keys: @strategy@, one consistent snapshot
-- written once per tick, and @signals@, the bounded history. Their fields are encoded in the
-- twins' order, so all three bots write the same bytes.
module Strategy
    ( Config (..)
    , Strategy (..)
    , Signal (..)
    , loadStrategy
    , saveStrategy
    , loadSignals
    , saveSignals
    , lastPrice
    , step
    , priceAt
    , maxSignals
    ) where

import Data.Aeson
import qualified Data.Aeson.Key as Key
import qualified Data.Aeson.KeyMap as KeyMap
import Data.Bits (shiftR, xor)
import Data.Maybe (fromMaybe)
import Data.Word (Word64)

import qualified The0.State as State

-- | The bot's configuration (@BOT_CONFIG@); see bot-schema.json.
data Config = Config
    { symbol :: String
    , shortPeriod :: Int
    , longPeriod :: Int
    , ticks :: Int
    , tickIntervalMs :: Int
    , prices :: [Double]
    , seed :: Word64
    , startPrice :: Double
    }
    deriving (Show, Eq)

instance FromJSON Config where
    parseJSON = withObject "configuration" $ \o -> do
        case filter (`notElem` known) (map Key.toString (KeyMap.keys o)) of
            (field : _) -> fail ("unknown field " ++ show field)
            [] -> pure ()
        config <- Config
            <$> o .:? "symbol" .!= "BTC/USD"
            <*> o .:? "short_period" .!= 5
            <*> o .:? "long_period" .!= 20
            <*> o .:? "ticks" .!= 50
            <*> o .:? "tick_interval_ms" .!= 0
            <*> o .:? "prices" .!= []
            <*> o .:? "seed" .!= 42
            <*> o .:? "start_price" .!= 100
        either fail pure (validate config)
      where
        known = ["symbol", "short_period", "long_period", "ticks", "tick_interval_ms", "prices", "seed", "start_price"]

validate :: Config -> Either String Config
validate config
    | shortPeriod config < 1 = Left "short_period must be at least 1"
    | shortPeriod config >= longPeriod config =
        Left ("short_period (" ++ show (shortPeriod config) ++ ") must be less than long_period ("
            ++ show (longPeriod config) ++ ")")
    | any (<= 0) (prices config) = Left "prices must be positive numbers"
    | otherwise = Right config

-- | The snapshot stored under @strategy@.
data Strategy = Strategy
    { tick :: Int
    , window :: [Double]
    , shortSma :: Maybe Double
    , longSma :: Maybe Double
    , trend :: Maybe String -- ^ @above@ or @below@
    , signalCount :: Int
    }
    deriving (Show, Eq)

instance ToJSON Strategy where
    toJSON s = object (strategyPairs s)
    toEncoding s = pairs (mconcat (strategyPairs s))

strategyPairs :: KeyValue kv => Strategy -> [kv]
strategyPairs s =
    [ "tick" .= tick s, "prices" .= window s, "short_sma" .= shortSma s, "long_sma" .= longSma s
    , "trend" .= trend s, "signal_count" .= signalCount s ]

instance FromJSON Strategy where
    parseJSON = withObject "strategy" $ \o ->
        Strategy <$> o .: "tick" <*> o .: "prices" <*> o .: "short_sma" <*> o .: "long_sma"
            <*> o .: "trend" <*> o .: "signal_count"

-- | One crossing.
data Signal = Signal
    { signalTick :: Int
    , side :: String
    , signalPrice :: Double
    , signalShort :: Double
    , signalLong :: Double
    }
    deriving (Show, Eq)

instance ToJSON Signal where
    toJSON s = object (signalPairs s)
    toEncoding s = pairs (mconcat (signalPairs s))

signalPairs :: KeyValue kv => Signal -> [kv]
signalPairs s =
    [ "tick" .= signalTick s, "side" .= side s, "price" .= signalPrice s
    , "short_sma" .= signalShort s, "long_sma" .= signalLong s ]

instance FromJSON Signal where
    parseJSON = withObject "signal" $ \o ->
        Signal <$> o .: "tick" <*> o .: "side" <*> o .: "price" <*> o .: "short_sma" <*> o .: "long_sma"

-- | Signals kept in the history.
maxSignals :: Int
maxSignals = 50

loadStrategy :: IO Strategy
loadStrategy = fromMaybe (Strategy 0 [] Nothing Nothing Nothing 0) <$> State.get "strategy"

saveStrategy :: Strategy -> IO ()
saveStrategy = State.set "strategy"

-- | The signal history, newest last.
loadSignals :: IO [Signal]
loadSignals = fromMaybe [] <$> State.get "signals"

saveSignals :: [Signal] -> IO ()
saveSignals = State.set "signals"

lastPrice :: Strategy -> Maybe Double
lastPrice s = if null (window s) then Nothing else Just (last (window s))

-- | Takes one price: the new snapshot, and the signal it produced, if any.
step :: Config -> Double -> Strategy -> (Strategy, Maybe Signal)
step config price s0
    | length kept < longPeriod config = (s1, Nothing)
    | short > long = cross "above"
    | short < long = cross "below"
    | otherwise = (withAverages, Nothing) -- equal averages: no crossing, keep the trend
  where
    kept = let all' = window s0 ++ [price] in drop (length all' - longPeriod config) all'
    s1 = s0 {tick = tick s0 + 1, window = kept}
    short = mean (drop (length kept - shortPeriod config) kept)
    long = mean kept
    withAverages = s1 {shortSma = Just short, longSma = Just long}
    cross direction
        | trend s0 == Nothing || trend s0 == Just direction = (withAverages {trend = Just direction}, Nothing)
        | otherwise =
            ( withAverages {trend = Just direction, signalCount = signalCount s0 + 1}
            , Just (Signal (tick s1) (if direction == "above" then "BUY" else "SELL") price short long) )
    mean values = sum values / fromIntegral (length values)

-- | The price at @n@ (0-based): the configured prices replayed, or a seeded random walk of at
-- most ±1% a step from a splitmix64 hash of (seed, tick), so a restarted bot continues the same
-- series.
priceAt :: Config -> Int -> Maybe Double -> Double
priceAt config n previous
    | not (null (prices config)) = prices config !! (n `mod` length (prices config))
    | otherwise = roundCents (lastOne * (1 + (unit * 2 - 1) * 0.01))
  where
    lastOne = fromMaybe (startPrice config) previous
    z0 = seed config `xor` (fromIntegral n * 0x9E3779B97F4A7C15)
    z1 = (z0 `xor` (z0 `shiftR` 30)) * 0xBF58476D1CE4E5B9
    z2 = (z1 `xor` (z1 `shiftR` 27)) * 0x94D049BB133111EB
    z3 = z2 `xor` (z2 `shiftR` 31)
    unit = fromIntegral (z3 `shiftR` 11) / 9007199254740992 :: Double
    -- Rounds half away from zero, as Rust's f64::round.
    roundCents x =
        let scaled = x * 100
            whole = truncate scaled :: Integer
            rounded = if abs (scaled - fromIntegral whole) >= 0.5 then whole + signum whole else whole
         in fromIntegral rounded / 100
