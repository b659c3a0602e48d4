// the0 C++ SDK: bot input and output.
//
//   #include <the0/the0.h>
//
//   int main() {
//       auto [bot_id, config] = the0::parse();
//       std::string symbol = config.value("symbol", "BTC/USD");
//       the0::metric("price", {{"symbol", symbol}, {"value", 42.5}});
//       the0::log("tick done", {{"symbol", symbol}});
//       the0::success("done");
//   }
//
// Every line and file is made by the the0 core (the Rust library linked into this SDK), so it is
// the same in every the0 SDK: metric lines go to std::cout, log lines to std::cerr, results to
// /<CODE_MOUNT_DIR>/result.json. Failures throw the0::Error (see errors.h).

#ifndef THE0_H
#define THE0_H

#include <nlohmann/json.hpp>

#include <string>
#include <utility>

#include "errors.h"
#include "state.h"

namespace the0 {

using json = nlohmann::json;

/// The bot id (BOT_ID) and configuration (BOT_CONFIG, parsed; `{}` when empty). Throws
/// the0::Error: MISSING_ENV when either is not set, INVALID_JSON when BOT_CONFIG is not JSON.
std::pair<std::string, json> parse();

/// As parse(), with the configuration as JSON text (the core's canonical form), for bots that
/// parse it with another library.
std::pair<std::string, std::string> parse_raw();

/// Writes {"status":"success","message":message} to the result file.
void success(const std::string& message);

/// Writes {"status":"success","message":message,"data":data} to the result file.
void success(const std::string& message, const json& data);

/// Writes {"status":"error","message":message} to the result file and exits with code 1.
[[noreturn]] void error(const std::string& message);

/// Writes {"status":"error","message":message,"data":data} to the result file and exits with
/// code 1.
[[noreturn]] void error(const std::string& message, const json& data);

/// Writes `data` as it is to the result file.
void result(const json& data);

/// Writes {"status":status,"message":message} with the fields of the object `data` beside them
/// (a field of `data` named status or message replaces it, as upstream); `data` that is not an
/// object goes under "data".
void result(const std::string& status, const std::string& message, const json& data = json::object());

/// Prints a metric line on std::cout: {"_metric":metric_type, <fields of data>, "timestamp":...}.
void metric(const std::string& metric_type, json data);

/// Log levels.
enum class LogLevel { Info, Warn, Error };

/// The level's name in log lines: "info", "warn", "error".
std::string log_level_str(LogLevel level);

/// Prints a log line on std::cerr: {"level":..., "message":..., <fields of data>, "timestamp":...}.
void log(const std::string& message, const json& data = json::object(), LogLevel level = LogLevel::Info);

/// As log(), with the level by name: "info", "warn" (or "warning"), "error", in any case; another
/// name throws the0::Error INVALID_ARGUMENT.
void log(const std::string& message, const json& data, const std::string& level);

}  // namespace the0

#endif  // THE0_H
