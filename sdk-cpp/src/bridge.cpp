// The conversions shared by the skin's source files (see bridge.h).

#include "bridge.h"

namespace the0 {
namespace detail {

void raise(const bridge::Fault& fault) {
    std::string status(fault.status);
    std::string message(fault.message);
    if (status == "INVALID_KEY") throw InvalidKeyError(message);
    if (status == "READ_ONLY") throw ReadOnlyStateError(message);
    throw Error(std::move(status), message);
}

std::string dump(const nlohmann::json& value, bridge::Payload payload) {
    try {
        return value.dump();
    } catch (const nlohmann::json::type_error& e) {
        raise(bridge::unserializable(payload, bytes(e.what())));
    }
}

void write_line(std::ostream& out, const std::string& line) {
    std::string whole;
    whole.reserve(line.size() + 1);
    whole.append(line).push_back('\n');
    out.write(whole.data(), static_cast<std::streamsize>(whole.size()));
    out.flush();
}

void write_lines(std::ostream& out, const rust::Vec<rust::String>& lines) {
    for (const auto& line : lines) write_line(out, std::string(line));
}

}  // namespace detail
}  // namespace the0
