// state.h: every call goes to the core's state store (the key rules, canonical JSON, atomic
// writes and the read-only guard are the core's).

#include "bridge.h"
#include "the0/state.h"

namespace the0 {
namespace state {

using detail::bytes;
using detail::check;

std::optional<std::string> get_json(const std::string& key) {
    rust::String stored;
    bridge::Fault fault;
    bool found = bridge::state_get(bytes(key), stored, fault);
    check(fault);
    if (!found) return std::nullopt;
    return std::string(stored);
}

std::optional<json> get(const std::string& key) {
    auto text = get_json(key);
    if (!text) return std::nullopt;
    return json::parse(*text);
}

json get_or(const std::string& key, const json& default_value) { return get(key).value_or(default_value); }

void set_json(const std::string& key, const std::string& json_text) {
    bridge::Fault fault;
    bridge::state_set(bytes(key), bytes(json_text), fault);
    check(fault);
}

void set(const std::string& key, const json& value) {
    std::string text;
    try {
        text = value.dump();
    } catch (const json::type_error& e) {
        // The core reports a read-only process or a bad key first, as for any set.
        detail::raise(bridge::state_set_unserializable(bytes(key), bytes(e.what())));
    }
    set_json(key, text);
}

bool remove(const std::string& key) {
    bridge::Fault fault;
    bool removed = bridge::state_delete(bytes(key), fault);
    check(fault);
    return removed;
}

std::vector<std::string> list() {
    bridge::Fault fault;
    auto keys = bridge::state_list(fault);
    check(fault);
    return {keys.begin(), keys.end()};
}

void clear() {
    bridge::Fault fault;
    bridge::state_clear(fault);
    check(fault);
}

bool exists(const std::string& key) {
    bridge::Fault fault;
    bool found = bridge::state_exists(bytes(key), fault);
    check(fault);
    return found;
}

bool is_query_mode() {
    bridge::Fault fault;
    bool serving = bridge::is_query_mode(fault);
    check(fault);
    return serving;
}

}  // namespace state
}  // namespace the0
