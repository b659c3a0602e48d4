// sma-bot: the bot entrypoint. A scheduled bot processes `ticks` prices per run; a realtime bot
// (BOT_TYPE=realtime) ticks until it is stopped.

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

#include <the0/state.h>
#include <the0/the0.h>

#include "strategy.h"

namespace {

bool is_realtime() {
    const char* type = std::getenv("BOT_TYPE");
    return type != nullptr && std::string(type) == "realtime";
}

sma::Strategy run(const std::string& bot_id, const sma::Config& config) {
    sma::Strategy strategy = sma::Strategy::load();
    nlohmann::json signals = sma::load_signals();
    bool realtime = is_realtime();
    the0::log("bot " + bot_id + " starting at tick " + std::to_string(strategy.tick),
              {{"symbol", config.symbol}, {"realtime", realtime}});
    for (std::int64_t ticks_this_run = 0; realtime || ticks_this_run < config.ticks; ++ticks_this_run) {
        double price = sma::price_at(config, strategy.tick, strategy.last_price());
        the0::metric("price", {{"symbol", config.symbol}, {"price", price}});
        if (auto signal = strategy.step(config, price)) {
            the0::metric("signal", {{"symbol", config.symbol}, {"side", (*signal)["side"]}, {"price", price}});
            signals.push_back(*signal);
            if (signals.size() > sma::max_signals)
                signals.erase(signals.begin(), signals.end() - static_cast<std::ptrdiff_t>(sma::max_signals));
            the0::state::set(sma::signals_key, signals);
        }
        strategy.save();
        if (config.tick_interval_ms > 0)
            std::this_thread::sleep_for(std::chrono::milliseconds(config.tick_interval_ms));
    }
    return strategy;
}

}  // namespace

int main() {
    try {
        auto [bot_id, raw_config] = the0::parse();
        sma::Config config;
        try {
            config = sma::Config::from_json(raw_config);
        } catch (const std::invalid_argument& e) {
            the0::error(std::string("invalid configuration: ") + e.what());
        }
        sma::Strategy strategy = run(bot_id, config);
        the0::success("processed " + std::to_string(strategy.tick) + " ticks, " +
                      std::to_string(strategy.signal_count) + " signals so far");
    } catch (const std::exception& e) {
        the0::error(e.what());
    }
    return 0;
}
