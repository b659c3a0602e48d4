// An upstream-style bot: every public function of upstream's C++ SDK (the0.h, state.h), called
// the way upstream's README and examples call them. It must compile unchanged against this SDK;
// scripts/check-upstream-bot.sh builds it in a scratch project (add_subdirectory and find_package)
// and checks what it wrote.

#include <the0/the0.h>
#include <the0/state.h>
#include <iostream>
#include <string>

using json = the0::json;

int main() {
    auto [bot_id, config] = the0::parse();
    std::string symbol = config.value("symbol", "BTC/USDT");
    double amount = config.value("amount", 100.0);
    std::pair<std::string, std::string> raw = the0::parse_raw();
    std::cerr << "Bot " << bot_id << " trading " << symbol << " with " << amount << std::endl;

    auto persisted = the0::state::get("bot_state");
    long runs = persisted.has_value() ? persisted->value("runs", 0L) : 0L;
    the0::state::set("bot_state", {{"runs", runs + 1}, {"symbol", symbol}, {"raw_config", raw.second}});
    the0::state::set("scratch", 42);
    if (the0::state::exists("scratch") && the0::state::remove("scratch")) {
        std::cerr << "scratch removed" << std::endl;
    }
    auto keys = the0::state::list();
    json fallback = the0::state::get_or("missing", json::array());
    try {
        the0::state::set("bad/key", 1);
    } catch (const the0::state::InvalidKeyError& e) {
        the0::log("invalid key refused", {{"error", e.what()}}, the0::LogLevel::Warn);
    }
    try {
        the0::state::get("..");
    } catch (const std::runtime_error& e) {
        the0::log(std::string("Error: ") + e.what());
    }
    if (the0::state::is_query_mode()) the0::error("a bot is not a query");

    the0::metric("price", {{"symbol", symbol}, {"value", 45000.5}, {"change_pct", 0.25}});
    the0::log("Starting trade execution");
    the0::log("Order placed", {{"order_id", "12345"}, {"symbol", symbol}});
    the0::log("Connection lost", {}, the0::LogLevel::Warn);
    the0::log("Order failed", {{"order_id", "12345"}}, the0::LogLevel::Error);
    std::cerr << the0::log_level_str(the0::LogLevel::Info) << std::endl;

    the0::result({{"status", "success"}, {"trade_id", "abc123"}, {"filled_amount", 0.5}});
    the0::result("success", "Trade executed", {{"trade_id", "abc123"}, {"price", 45000.50}, {"keys", keys.size()},
                                               {"fallback", fallback}, {"runs", runs + 1}});
    if (bot_id.empty()) {
        the0::error("Bot ID not provided");
    }
    if (config.contains("fail")) {
        the0::error("Failed to connect");
    }
    if (config.contains("plain")) {
        the0::success("Bot executed successfully");
    }
    return 0;
}
