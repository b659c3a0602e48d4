// query.h: handlers on threads this SDK owns, polling the core's queue (the poll model). Mode
// detection, the HTTP server, envelopes, timeouts and the result file are the core's.

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "bridge.h"
#include "the0/query.h"
#include "the0/state.h"
#include "the0/the0.h"

namespace the0 {
namespace query {

using detail::bytes;
using detail::check;

namespace {

/// How long a worker waits in the core before polling again; `Done` wakes it at once.
constexpr std::uint64_t poll_timeout_ms = 1000;

/// Handler threads in server mode when THE0_QUERY_WORKERS is not set: a handler that waits on
/// I/O should not hold up the others, so at least four, and one per CPU on bigger machines.
std::size_t default_workers() { return std::max(4u, std::thread::hardware_concurrency()); }

/// The handlers, by the path the core stored them under. Written before run(), read by workers.
std::unordered_map<std::string, HandlerFunc>& handlers() {
    static std::unordered_map<std::string, HandlerFunc> registered;
    return registered;
}

std::shared_mutex& handlers_lock() {
    static std::shared_mutex lock;
    return lock;
}

/// The request the calling worker thread is handling (for get_params()).
thread_local const Request* current_request = nullptr;

std::map<std::string, std::string> to_map(const rust::Vec<bridge::Param>& params) {
    std::map<std::string, std::string> map;
    for (const auto& param : params) map.emplace(std::string(param.key), std::string(param.value));
    return map;
}

HandlerFunc find_handler(const std::string& path) {
    std::shared_lock<std::shared_mutex> guard(handlers_lock());
    auto found = handlers().find(path);
    return found == handlers().end() ? HandlerFunc() : found->second;
}

/// Reports a failure of the poll loop itself on std::cerr, as a log line made by the core.
void complain(const std::string& what, const bridge::Fault& fault) {
    try {
        the0::log(what + ": " + std::string(fault.message), json::object(), LogLevel::Error);
    } catch (const std::exception&) {
        // Nothing left to report with.
    }
}

}  // namespace

/// Runs handlers for the requests the core queues (one instance per worker thread).
struct Dispatch {
    static void serve() {
        for (;;) {
            bridge::Fault fault;
            bridge::Incoming incoming = bridge::query_next(poll_timeout_ms, fault);
            if (fault.code != 0) {
                // INVALID_STATE: run() has finished the service (an ephemeral answer is written
                // as soon as it is given): there is nothing more to take.
                if (std::string(fault.status) != "INVALID_STATE") complain("cannot take a query request", fault);
                return;
            }
            if (incoming.poll == bridge::Poll::Done) return;
            if (incoming.poll == bridge::Poll::Request) answer(incoming);
        }
    }

private:
    static void answer(const bridge::Incoming& incoming) {
        Request request(std::string(incoming.path), to_map(incoming.strings), std::string(incoming.values_json));
        HandlerFunc handler_fn = find_handler(request.path);
        bridge::Fault fault;
        if (!handler_fn) {
            // The core routes only registered paths here; a handler registered in the core by
            // another part of the process is answered as a failure, not left waiting.
            bridge::query_respond_error(incoming.id, bytes("no C++ handler for " + request.path), fault);
            settle(fault);
            return;
        }
        current_request = &request;
        try {
            json data = handler_fn(request);
            current_request = nullptr;
            std::string text;
            try {
                text = data.dump();
            } catch (const json::type_error& e) {
                bridge::query_respond_unserializable(incoming.id, bytes(e.what()), fault);
                settle(fault);
                return;
            }
            bridge::query_respond_json(incoming.id, bytes(text), fault);
        } catch (const std::exception& e) {
            current_request = nullptr;
            bridge::query_respond_error(incoming.id, bytes(e.what()), fault);
        } catch (...) {
            current_request = nullptr;
            bridge::query_respond_error(incoming.id, bytes("the handler threw a non-standard exception"), fault);
        }
        settle(fault);
    }

    /// A late answer has nobody waiting: the request timed out or its client left
    /// (UNKNOWN_REQUEST), or the service has finished since (INVALID_STATE). Ignore it.
    static void settle(const bridge::Fault& fault) {
        if (fault.code == 0) return;
        std::string status(fault.status);
        if (status != "UNKNOWN_REQUEST" && status != "INVALID_STATE") complain("cannot answer a query", fault);
    }
};

Request::Request(const std::string& p, const std::map<std::string, std::string>& prms) : path(p), params(prms) {}

Request::Request(std::string p, std::map<std::string, std::string> prms, std::string values_json)
    : path(std::move(p)), params(std::move(prms)), values_json_(std::move(values_json)) {}

Request Request::from_values(const std::string& path, const json& values) {
    std::string text = detail::dump(values, bridge::Payload::Result);
    bridge::Fault fault;
    auto strings = bridge::param_strings(bytes(text), fault);
    check(fault);
    return Request(path, to_map(strings), text);
}

std::string Request::get(const std::string& key) const { return get(key, ""); }

std::string Request::get(const std::string& key, const std::string& default_value) const {
    auto found = params.find(key);
    return found == params.end() ? default_value : found->second;
}

bool Request::has(const std::string& key) const { return params.count(key) != 0; }

const json& Request::values() const {
    if (!values_) {
        if (!values_json_.empty()) {
            values_ = json::parse(values_json_);
        } else {
            // Built from strings only (the upstream constructor): every value is a string.
            json strings = json::object();
            for (const auto& [key, value] : params) strings[key] = value;
            values_ = std::move(strings);
        }
    }
    return *values_;
}

void handler(const std::string& path, HandlerFunc handler_fn) {
    bridge::Fault fault;
    std::string stored(bridge::query_register(bytes(path), fault));
    check(fault);
    std::unique_lock<std::shared_mutex> guard(handlers_lock());
    handlers()[stored] = std::move(handler_fn);
}

void run() {
    bridge::Started started = bridge::query_start(default_workers());
    detail::write_lines(std::cerr, started.stderr);
    if (!started.ok) {
        std::cout.flush();
        std::exit(1);
    }
    std::vector<std::thread> workers;
    workers.reserve(started.workers);
    for (std::size_t i = 0; i < started.workers; ++i) workers.emplace_back(Dispatch::serve);

    bridge::Fault fault;
    bridge::Finished finished = bridge::query_finish(fault);
    detail::write_lines(std::cerr, finished.stderr);
    if (fault.code != 0 || finished.abandoned) {
        // A handler hangs past its timeout (its 504 is written): its thread cannot be joined, and
        // static destructors must not run under it, so end the process at once.
        if (fault.code != 0) complain("cannot finish the query service", fault);
        std::cout.flush();
        std::cerr.flush();
        std::_Exit(1);
    }
    for (auto& worker : workers) worker.join();
    if (finished.exit_code != 0) {
        std::cout.flush();
        std::exit(finished.exit_code);
    }
}

void stop() {
    bridge::Fault fault;
    bridge::query_stop(fault);
    check(fault);
}

std::map<std::string, std::string> get_params() {
    if (current_request != nullptr) return current_request->params;
    bridge::Fault fault;
    auto params = bridge::query_params(fault);
    check(fault);
    return to_map(params);
}

json get_config() {
    bridge::Fault fault;
    std::string config(bridge::query_config(fault));
    check(fault);
    return json::parse(config);
}

bool is_query_mode() { return state::is_query_mode(); }

}  // namespace query
}  // namespace the0
