// sma-query: the query entrypoint, answering /status and /signals from the bot's state.
//
// Run as an ephemeral query (QUERY_PATH=/status), as a server for a realtime bot
// (BOT_TYPE=realtime), or with neither to list the available queries.

#include <stdexcept>
#include <string>

#include <the0/query.h>

#include "strategy.h"

using json = nlohmann::json;

int main() {
    the0::query::handler("/status", [](const the0::query::Request&) {
        json config = the0::query::get_config();
        sma::Strategy strategy = sma::Strategy::load();
        auto last = strategy.last_price();
        json snapshot = strategy.to_json();
        return json{{"symbol", config.value("symbol", "BTC/USD")},
                    {"tick", strategy.tick},
                    {"price", last ? json(*last) : json(nullptr)},
                    {"short_sma", snapshot["short_sma"]},
                    {"long_sma", snapshot["long_sma"]},
                    {"trend", snapshot["trend"]},
                    {"signal_count", strategy.signal_count}};
    });
    the0::query::handler("/signals", [](const the0::query::Request& req) {
        std::string text = req.get("limit", "10");
        if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos || std::stoul(text) == 0)
            throw std::invalid_argument("limit must be a positive integer, got \"" + text + "\"");
        std::size_t limit = std::stoul(text);
        json history = sma::load_signals();
        json newest_first = json::array();
        for (auto it = history.rbegin(); it != history.rend() && newest_first.size() < limit; ++it)
            newest_first.push_back(*it);
        return json{{"signals", newest_first}, {"count", history.size()}};
    });
    the0::query::run();
    return 0;
}
