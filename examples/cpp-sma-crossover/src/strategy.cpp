#include "strategy.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <the0/state.h>

namespace sma {

namespace {

double mean(std::vector<double>::const_iterator begin, std::vector<double>::const_iterator end) {
    double sum = 0.0;
    for (auto it = begin; it != end; ++it) sum += *it;
    return sum / static_cast<double>(end - begin);
}

json optional_number(const std::optional<double>& value) { return value ? json(*value) : json(nullptr); }

template <class T>
T field(const json& raw, const char* name, T fallback) {
    return raw.contains(name) ? raw.at(name).get<T>() : fallback;
}

}  // namespace

Config Config::from_json(const json& raw) {
    if (!raw.is_object()) throw std::invalid_argument("the configuration must be a JSON object");
    static const char* const known[] = {"symbol", "ticks", "tick_interval_ms", "short_period",
                                        "long_period", "prices", "seed", "start_price"};
    for (const auto& [name, value] : raw.items()) {
        if (std::find(std::begin(known), std::end(known), name) == std::end(known))
            throw std::invalid_argument("unknown field '" + name + "'");
    }
    Config config;
    try {
        config.symbol = field(raw, "symbol", config.symbol);
        config.short_period = field(raw, "short_period", config.short_period);
        config.long_period = field(raw, "long_period", config.long_period);
        config.ticks = field(raw, "ticks", config.ticks);
        config.tick_interval_ms = field(raw, "tick_interval_ms", config.tick_interval_ms);
        config.prices = field(raw, "prices", config.prices);
        config.seed = field(raw, "seed", config.seed);
        config.start_price = field(raw, "start_price", config.start_price);
    } catch (const json::exception& e) {
        throw std::invalid_argument(e.what());
    }
    if (config.short_period < 1) throw std::invalid_argument("short_period must be at least 1");
    if (config.short_period >= config.long_period)
        throw std::invalid_argument("short_period (" + std::to_string(config.short_period) +
                                    ") must be less than long_period (" + std::to_string(config.long_period) + ")");
    for (double price : config.prices) {
        if (!std::isfinite(price) || price <= 0.0) throw std::invalid_argument("prices must be positive numbers");
    }
    return config;
}

Strategy Strategy::load() {
    Strategy strategy;
    auto stored = the0::state::get(strategy_key);
    if (!stored) return strategy;
    const json& raw = *stored;
    strategy.tick = raw.value("tick", std::uint64_t{0});
    strategy.prices = raw.value("prices", std::vector<double>{});
    if (raw.contains("short_sma") && !raw["short_sma"].is_null()) strategy.short_sma = raw["short_sma"].get<double>();
    if (raw.contains("long_sma") && !raw["long_sma"].is_null()) strategy.long_sma = raw["long_sma"].get<double>();
    if (raw.contains("trend") && !raw["trend"].is_null()) strategy.trend = raw["trend"].get<std::string>();
    strategy.signal_count = raw.value("signal_count", std::uint64_t{0});
    return strategy;
}

json Strategy::to_json() const {
    return {{"tick", tick},
            {"prices", prices},
            {"short_sma", optional_number(short_sma)},
            {"long_sma", optional_number(long_sma)},
            {"trend", trend ? json(*trend) : json(nullptr)},
            {"signal_count", signal_count}};
}

void Strategy::save() const { the0::state::set(strategy_key, to_json()); }

std::optional<double> Strategy::last_price() const {
    if (prices.empty()) return std::nullopt;
    return prices.back();
}

std::optional<json> Strategy::step(const Config& config, double price) {
    ++tick;
    prices.push_back(price);
    auto window = static_cast<std::size_t>(config.long_period);
    if (prices.size() > window) prices.erase(prices.begin(), prices.end() - static_cast<std::ptrdiff_t>(window));
    if (prices.size() < window) return std::nullopt;
    double short_average = mean(prices.end() - config.short_period, prices.end());
    double long_average = mean(prices.begin(), prices.end());
    short_sma = short_average;
    long_sma = long_average;
    std::string now;
    if (short_average > long_average) {
        now = "above";
    } else if (short_average < long_average) {
        now = "below";
    } else {
        return std::nullopt;  // equal averages: no crossing, keep the trend
    }
    std::optional<std::string> previous = trend;
    trend = now;
    if (!previous || *previous == now) return std::nullopt;
    ++signal_count;
    return json{{"tick", tick},
                {"side", now == "above" ? "BUY" : "SELL"},
                {"price", price},
                {"short_sma", short_average},
                {"long_sma", long_average}};
}

json load_signals() { return the0::state::get_or(signals_key, json::array()); }

double price_at(const Config& config, std::uint64_t tick, std::optional<double> previous) {
    if (!config.prices.empty()) return config.prices[tick % config.prices.size()];
    double last = previous.value_or(config.start_price);
    // A step of at most +-1% from a splitmix64 hash of (seed, tick), as the Rust twin.
    std::uint64_t z = config.seed ^ (tick * 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    double unit = static_cast<double>(z >> 11) / static_cast<double>(1ULL << 53);
    double price = last * (1.0 + (unit * 2.0 - 1.0) * 0.01);
    return std::round(price * 100.0) / 100.0;
}

}  // namespace sma
