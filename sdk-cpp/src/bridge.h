// Internal: the cxx bridge into the the0 core (bindings/cpp) and the conversions every source
// file of the skin shares. Not installed: the public headers never expose Rust types.

#ifndef THE0_SRC_BRIDGE_H
#define THE0_SRC_BRIDGE_H

#include <nlohmann/json.hpp>

#include <cstdint>
#include <ostream>
#include <string>

#include "the0-cpp/src/lib.rs.h"
#include "the0/errors.h"

namespace the0 {
namespace detail {

/// `text` as the byte slice the bridge takes (no UTF-8 check here: the core reports bad text).
inline rust::Slice<const std::uint8_t> bytes(const std::string& text) {
    return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

/// Throws the exception for the core's failure: InvalidKeyError, ReadOnlyStateError, or Error.
[[noreturn]] void raise(const bridge::Fault& fault);

/// Throws when the call failed.
inline void check(const bridge::Fault& fault) {
    if (fault.code != 0) raise(fault);
}

/// `value` as JSON text; a value nlohmann cannot serialize (a string that is not UTF-8) throws the
/// core's error for `payload`.
std::string dump(const nlohmann::json& value, bridge::Payload payload);

/// Writes `line` and a newline with one write, then flushes, so lines of concurrent threads stay
/// whole.
void write_line(std::ostream& out, const std::string& line);

/// Writes the core's lines, in order.
void write_lines(std::ostream& out, const rust::Vec<rust::String>& lines);

}  // namespace detail
}  // namespace the0

#endif  // THE0_SRC_BRIDGE_H
