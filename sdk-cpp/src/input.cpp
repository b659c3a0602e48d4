// the0.h: parse, the result file, metric and log lines, through the core.

#include <cstdlib>
#include <iostream>

#include "bridge.h"
#include "the0/the0.h"

namespace the0 {

using detail::bytes;
using detail::check;
using detail::dump;

namespace {

const std::string no_text;

/// Prints the core's stderr lines of a result-file call (a file that could not be written).
void report(const rust::Vec<rust::String>& lines) { detail::write_lines(std::cerr, lines); }

rust::Vec<rust::String> status_result(bool success, const std::string& message, const json* data) {
    std::string data_json = data ? dump(*data, bridge::Payload::ResultData) : no_text;
    bridge::Fault fault;
    auto lines = bridge::input_report(success, bytes(message), bytes(data_json), data != nullptr, fault);
    check(fault);
    return lines;
}

[[noreturn]] void exit_with_error(const std::string& message, const json* data) {
    report(status_result(false, message, data));
    std::cout.flush();
    std::exit(1);
}

void print_log(const std::string& message, const json& data, const std::string* level) {
    std::string data_json = dump(data, bridge::Payload::LogData);
    bridge::Fault fault;
    auto line = bridge::log_line(bytes(message), bytes(data_json), true, bytes(level ? *level : no_text),
                                 level != nullptr, fault);
    check(fault);
    detail::write_line(std::cerr, std::string(line));
}

}  // namespace

std::pair<std::string, std::string> parse_raw() {
    bridge::Fault fault;
    auto parsed = bridge::input_parse(fault);
    check(fault);
    return {std::string(parsed.bot_id), std::string(parsed.config_json)};
}

std::pair<std::string, json> parse() {
    auto [bot_id, config] = parse_raw();
    return {std::move(bot_id), json::parse(config)};
}

void success(const std::string& message) { report(status_result(true, message, nullptr)); }

void success(const std::string& message, const json& data) { report(status_result(true, message, &data)); }

void error(const std::string& message) { exit_with_error(message, nullptr); }

void error(const std::string& message, const json& data) { exit_with_error(message, &data); }

void result(const json& data) {
    std::string text = dump(data, bridge::Payload::Result);
    bridge::Fault fault;
    auto lines = bridge::input_result(bytes(text), fault);
    check(fault);
    report(lines);
}

void result(const std::string& status, const std::string& message, const json& data) {
    json output = {{"status", status}, {"message", message}};
    if (data.is_object()) {
        for (const auto& [key, value] : data.items()) output[key] = value;
    } else if (!data.is_null()) {
        output["data"] = data;
    }
    result(output);
}

void metric(const std::string& metric_type, json data) {
    std::string data_json = dump(data, bridge::Payload::MetricData);
    bridge::Fault fault;
    auto line = bridge::metric_line(bytes(metric_type), bytes(data_json), fault);
    check(fault);
    detail::write_line(std::cout, std::string(line));
}

std::string log_level_str(LogLevel level) {
    switch (level) {
        case LogLevel::Warn:
            return "warn";
        case LogLevel::Error:
            return "error";
        case LogLevel::Info:
            break;
    }
    return "info";
}

void log(const std::string& message, const json& data, LogLevel level) {
    std::string name = log_level_str(level);
    print_log(message, data, &name);
}

void log(const std::string& message, const json& data, const std::string& level) {
    print_log(message, data, &level);
}

}  // namespace the0
