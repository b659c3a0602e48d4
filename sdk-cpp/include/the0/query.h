// the0 C++ SDK: query handlers.
//
//   #include <the0/query.h>
//   #include <the0/state.h>
//
//   int main() {
//       the0::query::handler("/status", [](const the0::query::Request& req) {
//           return nlohmann::json{{"symbol", req.get("symbol", "BTC/USD")},
//                                 {"runs", the0::state::get_or("runs", 0)}};
//       });
//       the0::query::run();
//   }
//
// run() detects the mode, as every the0 SDK does (the rules are the core's):
//   - QUERY_PATH set: answer that one query, write the envelope to /query/result.json, and exit
//     with code 1 when it failed (return normally when it succeeded);
//   - BOT_TYPE=realtime: serve HTTP (THE0_QUERY_SOCKET, or TCP on THE0_QUERY_PORT, default 9476)
//     until SIGTERM / SIGINT or stop(), then return;
//   - otherwise: write the /info answer to the result file and return.
// Handlers run on threads the SDK owns (THE0_QUERY_WORKERS of them, several by default), so they
// may be called concurrently. A handler that throws is answered 500 with what() as the error;
// state is read-only inside handlers (writes throw the0::ReadOnlyStateError).

#ifndef THE0_QUERY_H
#define THE0_QUERY_H

#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <optional>
#include <string>

#include "errors.h"

namespace the0 {
namespace query {

using json = nlohmann::json;
using the0::ReadOnlyStateError;

/// The request a handler receives.
class Request {
public:
    /// The requested path ("/status").
    std::string path;
    /// Parameters in string form: strings as they are, other JSON values as JSON text
    /// ({"limit": 5} gives "5"). From the URL query string and a JSON object body.
    std::map<std::string, std::string> params;

    Request(const std::string& p, const std::map<std::string, std::string>& prms);

    /// A request whose parameters keep the JSON types of `values` (a JSON object); their string
    /// form is the core's. For tests of handlers.
    static Request from_values(const std::string& path, const json& values);

    /// The parameter `key` in string form, or "" when it is absent.
    std::string get(const std::string& key) const;

    /// The parameter `key` in string form, or `default_value` when it is absent.
    std::string get(const std::string& key, const std::string& default_value) const;

    /// Whether the parameter `key` is present.
    bool has(const std::string& key) const;

    /// The parameters with their JSON types, as a JSON object ({"limit": 5} stays a number).
    const json& values() const;

private:
    Request(std::string path, std::map<std::string, std::string> params, std::string values_json);
    friend struct Dispatch;

    std::string values_json_;
    mutable std::optional<json> values_;
};

/// A handler: the request in, a JSON value out (answered {"status":"ok","data":...}).
using HandlerFunc = std::function<json(const Request&)>;

/// Registers `handler_fn` for `path` (a missing leading "/" is added). Register before run().
void handler(const std::string& path, HandlerFunc handler_fn);

/// Runs the query system in the mode the environment selects (see the top of this header).
void run();

/// Asks a running server to stop: no new connections; requests in flight get their answer, then
/// run() returns. Safe from any thread, and a no-op in the other modes.
void stop();

/// The parameters of the request being handled on this thread; outside a handler, QUERY_PARAMS
/// of an ephemeral query (empty otherwise). String form, as Request::params.
std::map<std::string, std::string> get_params();

/// The bot configuration (BOT_CONFIG), `{}` when unset or not JSON.
json get_config();

/// Whether this process answers queries (QUERY_PATH is set, or run() is serving), so that
/// state is read-only.
bool is_query_mode();

}  // namespace query

/// The request type under the name upstream's documentation uses.
using QueryRequest = query::Request;

}  // namespace the0

#endif  // THE0_QUERY_H
