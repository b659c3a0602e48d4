// An upstream-style query entrypoint: every public function of upstream's query.h, called the
// way upstream's example bot (example-bots/cpp-sma-crossover/query.cpp) calls them.

#include <the0/query.h>
#include <the0/state.h>

using json = nlohmann::json;

int main() {
    the0::query::handler("/status", [](const the0::query::Request& req) {
        auto state = the0::state::get("bot_state");
        auto config = the0::query::get_config();
        json result;
        result["runs"] = state.has_value() ? state.value().value("runs", 0) : 0;
        result["symbol"] = config.value("symbol", "AAPL");
        result["path"] = req.path;
        result["query_mode"] = the0::query::is_query_mode();
        return result;
    });
    the0::query::handler("/signals", [](const the0::query::Request& req) {
        int limit = 10;
        try {
            limit = std::stoi(req.get("limit", "10"));
        } catch (...) {
            limit = 10;
        }
        std::map<std::string, std::string> params = the0::query::get_params();
        return json{{"limit_applied", limit}, {"has_limit", req.has("limit")}, {"note", req.get("note")},
                    {"params", params}, {"count", req.params.size()}};
    });
    the0::query::handler("/write", [](const the0::query::Request&) {
        try {
            the0::state::set("bot_state", {{"runs", 0}});
            return json{{"written", true}};
        } catch (const the0::query::ReadOnlyStateError& e) {
            return json{{"written", false}, {"error", e.what()}};
        }
    });
    the0::query::run();
    return 0;
}
