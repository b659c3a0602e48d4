// A moving-average crossover strategy, shared by the bot (main.cpp) and its queries (query.cpp).
//
// Each tick the bot takes one price, keeps the last `long_period` prices, and compares the short
// and long simple moving averages. When the short average crosses above the long one it records
// a BUY signal, when it crosses below a SELL signal.
//
// State lives in two keys. `strategy` is one consistent snapshot (prices, averages, trend, signal
// count), written in one atomic write per tick so a reader never sees averages from one tick and
// a count from another. `signals` is the bounded history of signals. The values are those of the
// Rust and Python twins (examples/rust-sma-crossover, examples/python-sma-crossover).

#ifndef SMA_STRATEGY_H
#define SMA_STRATEGY_H

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sma {

using json = nlohmann::json;

inline const std::string strategy_key = "strategy";
inline const std::string signals_key = "signals";
constexpr std::size_t max_signals = 50;

/// The bot's configuration (BOT_CONFIG); see bot-schema.json.
struct Config {
    std::string symbol = "BTC/USD";
    std::int64_t short_period = 5;
    std::int64_t long_period = 20;
    std::int64_t ticks = 50;
    std::int64_t tick_interval_ms = 0;
    std::vector<double> prices;
    std::uint64_t seed = 42;
    double start_price = 100.0;

    /// The configuration from JSON; throws std::invalid_argument naming what is wrong.
    static Config from_json(const json& raw);
};

/// The snapshot stored under `strategy`.
struct Strategy {
    std::uint64_t tick = 0;
    std::vector<double> prices;
    std::optional<double> short_sma;
    std::optional<double> long_sma;
    std::optional<std::string> trend;  // "above" | "below"
    std::uint64_t signal_count = 0;

    /// The stored snapshot, or a fresh one.
    static Strategy load();
    void save() const;
    json to_json() const;
    std::optional<double> last_price() const;

    /// Takes one price; returns the signal it produces, if any.
    std::optional<json> step(const Config& config, double price);
};

/// The signal history, newest last.
json load_signals();

/// The price at `tick` (0-based): the configured prices replayed in order, or a seeded random
/// walk keyed by the tick number (so a restarted bot continues the same series).
double price_at(const Config& config, std::uint64_t tick, std::optional<double> previous);

}  // namespace sma

#endif  // SMA_STRATEGY_H
