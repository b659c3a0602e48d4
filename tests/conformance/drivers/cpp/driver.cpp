// The C++ SDK's conformance driver: the command line of the0-driver-rust
// (tests/conformance/src/bin/the0-driver-rust.rs) over the public API of sdk-cpp.
//
//   driver query [--custom-info]          register the standard handlers, then the0::query::run()
//   driver state set KEY JSON | get KEY | exists KEY | delete KEY | list | clear
//   driver read-loop KEY COUNT            read KEY COUNT times, report torn or missing reads
//   driver input parse | success MSG [DATA] | error MSG | result JSON | metric TYPE JSON
//                | log MSG [DATA|-] [LEVEL]
//
// `state` and `input` print one JSON line: {"ok": <result>} or
// {"error": {"status": "<STATUS>", "message": "<text>"}}. `state set` and `/write` store the
// JSON text as given (the0::state::set_json), as the Rust driver does, so that text that is not
// JSON reaches the core and numbers beyond 64 bits are kept.

#include <chrono>
#include <functional>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <the0/query.h>
#include <the0/state.h>
#include <the0/the0.h>

namespace {

using json = nlohmann::json;
using Args = std::vector<std::string>;

json error_json(const the0::Error& e) { return {{"status", e.status()}, {"message", e.what()}}; }

/// The outcome of a state write attempted by a query handler.
json write_probe(const std::function<void()>& write) {
    try {
        write();
    } catch (const the0::Error& e) {
        return {{"written", false}, {"error", error_json(e)}};
    }
    return {{"written", true}};
}

void run_query(bool custom_info) {
    using the0::query::Request;
    the0::query::handler("/echo", [](const Request& req) {
        return json{{"path", req.path}, {"params", req.values()}, {"strings", req.params}};
    });
    the0::query::handler("/fail", [](const Request&) -> json { throw std::runtime_error("deliberate failure"); });
    the0::query::handler("/sleep", [](const Request& req) {
        long ms = 0;
        try {
            ms = std::stol(req.get("ms", "0"));
        } catch (const std::exception&) {
            ms = 0;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(ms));
        return json{{"slept_ms", ms}};
    });
    the0::query::handler("/state", [](const Request& req) {
        std::string key = req.get("key", "");
        try {
            auto value = the0::state::get(key);
            return json{{"key", key}, {"exists", value.has_value()}, {"value", value.value_or(nullptr)}};
        } catch (const the0::Error& e) {
            return json{{"key", key}, {"error", error_json(e)}};
        }
    });
    the0::query::handler("/write", [](const Request& req) {
        std::string key = req.get("key", "");
        std::string text = req.get("value", "null");
        return write_probe([&] { the0::state::set_json(key, text); });
    });
    the0::query::handler("/config", [](const Request&) { return the0::query::get_config(); });
    the0::query::handler("/params", [](const Request&) { return json(the0::query::get_params()); });
    if (custom_info) {
        the0::query::handler("/info", [](const Request&) {
            return write_probe([] { the0::state::set("info-probe", true); });
        });
    }
    the0::query::run();
}

the0::Error unknown(const std::string& kind, const Args& op) {
    return the0::Error("INVALID_ARGUMENT", "unknown " + kind + " operation " + json(op).dump());
}

/// An argument that must be JSON, as the other drivers report it.
json json_arg(const std::string& text) {
    try {
        return json::parse(text);
    } catch (const json::parse_error& e) {
        throw the0::Error("INVALID_JSON", std::string("argument is not valid JSON: ") + e.what());
    }
}

json state_op(const Args& op) {
    if (op.size() == 3 && op[0] == "set") {
        the0::state::set_json(op[1], op[2]);
        return nullptr;
    }
    if (op.size() == 2 && op[0] == "get") {
        auto value = the0::state::get(op[1]);
        return value ? json{{"found", true}, {"value", *value}} : json{{"found", false}};
    }
    if (op.size() == 2 && op[0] == "exists") return the0::state::exists(op[1]);
    if (op.size() == 2 && op[0] == "delete") return the0::state::remove(op[1]);
    if (op == Args{"list"}) return the0::state::list();
    if (op == Args{"clear"}) {
        the0::state::clear();
        return nullptr;
    }
    throw unknown("state", op);
}

json input_op(const Args& op) {
    if (op == Args{"parse"}) {
        auto [bot_id, config] = the0::parse();
        return {{"bot_id", bot_id}, {"config", config}};
    }
    if (op.size() == 2 && op[0] == "success") {
        the0::success(op[1]);
        return nullptr;
    }
    if (op.size() == 3 && op[0] == "success") {
        the0::success(op[1], json_arg(op[2]));
        return nullptr;
    }
    if (op.size() == 2 && op[0] == "error") the0::error(op[1]);
    if (op.size() == 2 && op[0] == "result") {
        the0::result(json_arg(op[1]));
        return nullptr;
    }
    if (op.size() == 3 && op[0] == "metric") {
        the0::metric(op[1], json_arg(op[2]));
        return nullptr;
    }
    if (op.size() >= 2 && op.size() <= 4 && op[0] == "log") {
        json data = op.size() < 3 || op[2] == "-" ? json::object() : json_arg(op[2]);
        if (op.size() == 4) {
            the0::log(op[1], data, op[3]);
        } else {
            the0::log(op[1], data);
        }
        return nullptr;
    }
    throw unknown("input", op);
}

int print_outcome(const std::function<json()>& outcome) {
    json line;
    try {
        line = {{"ok", outcome()}};
    } catch (const the0::Error& e) {
        line = {{"error", error_json(e)}};
    }
    std::cout << line.dump() << std::endl;
    return 0;
}

int read_loop(const std::string& key, long count) {
    long missing = 0, torn = 0, failed = 0;
    for (long i = 0; i < count; ++i) {
        try {
            if (!the0::state::get_json(key)) ++missing;
        } catch (const the0::Error& e) {
            ++(e.status() == "CORRUPT_STATE" ? torn : failed);
        }
    }
    std::cout << json{{"reads", count}, {"missing", missing}, {"torn", torn}, {"failed", failed}}.dump() << std::endl;
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    Args args(argv + 1, argv + argc);
    Args rest = args.empty() ? Args{} : Args(args.begin() + 1, args.end());
    if (!args.empty() && args[0] == "query") {
        run_query(std::find(rest.begin(), rest.end(), "--custom-info") != rest.end());
        return 0;
    }
    if (!args.empty() && args[0] == "state") return print_outcome([&] { return state_op(rest); });
    if (args.size() == 3 && args[0] == "read-loop") return read_loop(args[1], std::stol(args[2]));
    if (!args.empty() && args[0] == "input") return print_outcome([&] { return input_op(rest); });
    std::cerr << "usage: driver query|state|read-loop|input ... (see the source header)" << std::endl;
    return 2;
}
