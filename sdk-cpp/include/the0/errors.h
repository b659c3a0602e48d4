// the0 C++ SDK: the exceptions every call may throw.
//
// Each failure carries the core's status name ("INVALID_KEY", "READ_ONLY", "CORRUPT_STATE", ...)
// and its message, word for word the same as in every other the0 SDK.

#ifndef THE0_ERRORS_H
#define THE0_ERRORS_H

#include <stdexcept>
#include <string>
#include <utility>

namespace the0 {

/// A failure reported by the the0 core: `status()` is its stable name, `what()` its message.
class Error : public std::runtime_error {
public:
    Error(std::string status, const std::string& message)
        : std::runtime_error(message), status_(std::move(status)) {}

    /// The status name, identical in every SDK (e.g. "CORRUPT_STATE", "MISSING_ENV").
    const std::string& status() const noexcept { return status_; }

private:
    std::string status_;
};

/// A state key that breaks a key rule (status "INVALID_KEY").
class InvalidKeyError : public Error {
public:
    explicit InvalidKeyError(const std::string& message) : Error("INVALID_KEY", message) {}
};

/// A state write while this process answers queries (status "READ_ONLY"): queries are read-only.
class ReadOnlyStateError : public Error {
public:
    explicit ReadOnlyStateError(const std::string& message) : Error("READ_ONLY", message) {}
};

}  // namespace the0

#endif  // THE0_ERRORS_H
