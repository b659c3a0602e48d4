//! A moving-average crossover strategy, shared by the bot (`sma-bot`) and its query program
//! (`query`).
//!
//! Each tick the bot takes one price, keeps the last `long_period` prices, and compares the short
//! and long simple moving averages. When the short average crosses above the long one it records a
//! BUY signal, when it crosses below a SELL signal.
//!
//! State lives in two keys. `strategy` is one consistent snapshot (prices, averages, trend, signal
//! count), written in one atomic write per tick so a reader never sees averages from one tick and a
//! count from another. `signals` is the bounded history of signals.

use serde::{Deserialize, Serialize};
use the0_sdk::state;

/// State key of the strategy snapshot.
pub const STRATEGY_KEY: &str = "strategy";
/// State key of the signal history.
pub const SIGNALS_KEY: &str = "signals";
/// Signals kept in the history.
pub const MAX_SIGNALS: usize = 50;

/// The bot's configuration (`BOT_CONFIG`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Instrument name, reported in metrics and queries.
    pub symbol: String,
    /// Ticks in the short average.
    pub short_period: usize,
    /// Ticks in the long average.
    pub long_period: usize,
    /// Ticks per run of a scheduled bot (ignored by a realtime bot, which runs until stopped).
    pub ticks: u64,
    /// Pause between ticks, in milliseconds.
    pub tick_interval_ms: u64,
    /// Prices to replay in order; when empty, a seeded random walk from `start_price`.
    pub prices: Vec<f64>,
    /// Seed of the random walk.
    pub seed: u64,
    /// First price of the random walk.
    pub start_price: f64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            symbol: "BTC/USD".to_owned(),
            short_period: 5,
            long_period: 20,
            ticks: 50,
            tick_interval_ms: 0,
            prices: Vec::new(),
            seed: 42,
            start_price: 100.0,
        }
    }
}

impl Config {
    /// Checks the periods; the message says what to fix.
    pub fn validate(&self) -> Result<(), String> {
        if self.short_period == 0 {
            return Err("short_period must be at least 1".to_owned());
        }
        if self.short_period >= self.long_period {
            return Err(format!(
                "short_period ({}) must be less than long_period ({})",
                self.short_period, self.long_period
            ));
        }
        if self.prices.iter().any(|p| !p.is_finite() || *p <= 0.0) {
            return Err("prices must be positive numbers".to_owned());
        }
        Ok(())
    }
}

/// Which average is on top.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Trend {
    /// Short average above the long one.
    Above,
    /// Short average below the long one.
    Below,
}

/// A crossover.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Signal {
    /// Tick at which it happened.
    pub tick: u64,
    /// `BUY` or `SELL`.
    pub side: String,
    /// Price at that tick.
    pub price: f64,
    pub short_sma: f64,
    pub long_sma: f64,
}

/// The strategy snapshot stored under [`STRATEGY_KEY`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Strategy {
    /// Ticks processed over the bot's whole life.
    pub tick: u64,
    /// The last `long_period` prices, oldest first.
    pub prices: Vec<f64>,
    pub short_sma: Option<f64>,
    pub long_sma: Option<f64>,
    pub trend: Option<Trend>,
    pub signal_count: u64,
}

impl Strategy {
    /// Loads the snapshot, or a fresh one on the first run.
    pub fn load() -> the0_sdk::Result<Strategy> {
        Ok(state::get_opt(STRATEGY_KEY)?.unwrap_or_default())
    }

    /// The last price seen.
    pub fn last_price(&self) -> Option<f64> {
        self.prices.last().copied()
    }

    /// Takes one price and returns the signal it produces, if any.
    pub fn step(&mut self, config: &Config, price: f64) -> Option<Signal> {
        self.tick += 1;
        self.prices.push(price);
        let excess = self.prices.len().saturating_sub(config.long_period);
        self.prices.drain(..excess);
        if self.prices.len() < config.long_period {
            return None;
        }
        let short = mean(&self.prices[self.prices.len() - config.short_period..]);
        let long = mean(&self.prices);
        self.short_sma = Some(short);
        self.long_sma = Some(long);
        let trend = if short > long {
            Trend::Above
        } else if short < long {
            Trend::Below
        } else {
            return None; // equal averages: no crossing, keep the trend
        };
        let previous = self.trend.replace(trend);
        if previous.is_none() || previous == Some(trend) {
            return None;
        }
        self.signal_count += 1;
        Some(Signal {
            tick: self.tick,
            side: if trend == Trend::Above { "BUY" } else { "SELL" }.to_owned(),
            price,
            short_sma: short,
            long_sma: long,
        })
    }
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

/// The signal history, newest last.
pub fn load_signals() -> the0_sdk::Result<Vec<Signal>> {
    Ok(state::get_opt(SIGNALS_KEY)?.unwrap_or_default())
}

/// Prices for the bot: the configured list replayed in order, or a seeded random walk. The walk is
/// keyed by the tick number, so a restarted bot continues the same series.
#[derive(Debug, Clone)]
pub struct PriceFeed<'a> {
    config: &'a Config,
}

impl<'a> PriceFeed<'a> {
    pub fn new(config: &'a Config) -> Self {
        PriceFeed { config }
    }

    /// The price at `tick` (0-based), given the previous price.
    pub fn price_at(&self, tick: u64, previous: Option<f64>) -> f64 {
        if !self.config.prices.is_empty() {
            return self.config.prices[(tick % self.config.prices.len() as u64) as usize];
        }
        let last = previous.unwrap_or(self.config.start_price);
        // A step of at most ±1% from a splitmix64 hash of (seed, tick).
        let mut z = self.config.seed ^ tick.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        let unit = (z >> 11) as f64 / (1u64 << 53) as f64; // [0, 1)
        let price = last * (1.0 + (unit * 2.0 - 1.0) * 0.01);
        (price * 100.0).round() / 100.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(prices: &[f64]) -> Config {
        Config {
            short_period: 2,
            long_period: 3,
            prices: prices.to_vec(),
            ..Config::default()
        }
    }

    #[test]
    fn signals_on_crossings_only() {
        let prices = [10.0, 10.0, 10.0, 5.0, 5.0, 5.0, 20.0, 20.0, 20.0, 5.0];
        let config = config(&prices);
        let mut strategy = Strategy::default();
        let signals: Vec<_> = prices.iter().filter_map(|p| strategy.step(&config, *p)).collect();
        let sides: Vec<_> = signals
            .iter()
            .map(|s| (s.tick, s.side.as_str(), s.price))
            .collect();
        assert_eq!(sides, [(7, "BUY", 20.0), (10, "SELL", 5.0)]);
        assert_eq!(strategy.signal_count, 2);
        assert_eq!(strategy.prices, [20.0, 20.0, 5.0]);
        assert_eq!(strategy.short_sma, Some(12.5));
        assert_eq!(strategy.long_sma, Some(15.0));
    }

    #[test]
    fn config_validation() {
        assert!(config(&[]).validate().is_ok());
        let bad = Config {
            short_period: 3,
            long_period: 3,
            ..Config::default()
        };
        assert_eq!(
            bad.validate().unwrap_err(),
            "short_period (3) must be less than long_period (3)"
        );
        assert!(config(&[1.0, -1.0]).validate().is_err());
    }

    #[test]
    fn random_walk_is_deterministic_and_bounded() {
        let config = Config::default();
        let feed = PriceFeed::new(&config);
        let a = feed.price_at(7, Some(100.0));
        assert_eq!(a, feed.price_at(7, Some(100.0)));
        assert!((99.0..=101.0).contains(&a), "{a}");
    }
}
