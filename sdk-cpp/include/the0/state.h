// the0 C++ SDK: persistent key-value state.
//
//   #include <the0/state.h>
//
//   the0::state::set("portfolio", {{"AAPL", 100}, {"GOOGL", 50}});
//   auto portfolio = the0::state::get("portfolio");        // std::optional<json>
//   int runs = the0::state::get_or("runs", 0).get<int>();
//   the0::state::remove("portfolio");                       // `delete` is a C++ keyword
//
// Each key is one JSON document, $STATE_DIR/<key>.json (default /state/.the0-state), written
// atomically by the the0 core with the same key rules and canonical JSON as every other SDK.
// Writes throw the0::ReadOnlyStateError while the process answers queries; a key that breaks a
// rule throws the0::InvalidKeyError; other failures throw the0::Error.

#ifndef THE0_STATE_H
#define THE0_STATE_H

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "errors.h"

namespace the0 {
namespace state {

using json = nlohmann::json;
using the0::InvalidKeyError;
using the0::ReadOnlyStateError;

/// The value stored under `key`, or std::nullopt. A stored file that is not JSON throws
/// the0::Error CORRUPT_STATE naming the key.
std::optional<json> get(const std::string& key);

/// The value stored under `key`, or `default_value`.
json get_or(const std::string& key, const json& default_value);

/// Stores `value` under `key` (atomically; readers never see a torn file).
void set(const std::string& key, const json& value);

/// Removes `key`; whether it had a value.
bool remove(const std::string& key);

/// Every key with a value, sorted.
std::vector<std::string> list();

/// Removes every key.
void clear();

/// Whether `key` has a value.
bool exists(const std::string& key);

/// Whether this process answers queries, so that state is read-only.
bool is_query_mode();

/// Stores the JSON text `json_text` under `key` as it is written (integers beyond 64 bits and
/// long decimals included), after the core has checked it is JSON (INVALID_JSON otherwise).
void set_json(const std::string& key, const std::string& json_text);

/// The JSON text stored under `key` (the core's canonical form), or std::nullopt.
std::optional<std::string> get_json(const std::string& key);

}  // namespace state
}  // namespace the0

#endif  // THE0_STATE_H
