// Test support for sdk-cpp and its example bot: a scrubbed environment and a state directory per
// test, captured streams, child processes, and a minimal HTTP/1.1 client over TCP (127.0.0.1)
// and Unix sockets.

#ifndef THE0_TESTS_SUPPORT_H
#define THE0_TESTS_SUPPORT_H

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <condition_variable>
#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <streambuf>
#include <string>
#include <vector>

namespace the0_test {

using json = nlohmann::json;

/// A fresh directory, removed with everything in it at the end.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::string& path() const { return path_; }
    std::string operator/(const std::string& name) const { return path_ + "/" + name; }

private:
    std::string path_;
};

/// Sets (or, with std::nullopt, unsets) a variable of the process environment until destroyed.
class ScopedEnv {
public:
    ScopedEnv(std::string name, const std::optional<std::string>& value);
    ~ScopedEnv();
    ScopedEnv(const ScopedEnv&) = delete;
    ScopedEnv& operator=(const ScopedEnv&) = delete;

private:
    std::string name_;
    std::optional<std::string> saved_;
};

/// Every test starts with no the0 variable set and STATE_DIR in a temporary directory.
class SdkTest : public ::testing::Test {
protected:
    SdkTest();
    void set_env(const std::string& name, const std::optional<std::string>& value);
    /// The file of `key` in the state directory, or std::nullopt.
    std::optional<std::string> state_file(const std::string& key) const;

    TempDir dir;
    std::string state_dir;

private:
    std::vector<std::unique_ptr<ScopedEnv>> env_;
};

/// Replaces the buffer of `stream` (std::cout, std::cerr) until destroyed, and collects what is
/// written, from any thread.
class Capture : public std::streambuf {
public:
    explicit Capture(std::ostream& stream);
    ~Capture() override;
    std::string text() const;
    std::vector<std::string> lines() const;
    /// Waits until a complete line containing `needle` was written; returns it.
    std::string wait_for_line(const std::string& needle);

protected:
    int_type overflow(int_type c) override;
    std::streamsize xsputn(const char* s, std::streamsize n) override;

private:
    std::ostream& stream_;
    std::streambuf* saved_;
    mutable std::mutex lock_;
    std::condition_variable written_;
    std::string text_;
};

std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& content);

/// An HTTP answer: status code and the body parsed as JSON.
struct Answer {
    int status = 0;
    json body;
    std::string content_type;
};

/// Where a server listens: a TCP port on 127.0.0.1, or a Unix socket path.
struct Target {
    int port = 0;
    std::string socket;
};

/// One request (`Connection: close`); throws std::runtime_error when it cannot be made.
Answer http(const Target& target, const std::string& method, const std::string& path, const std::string& body = "");

/// What a failing call threw: the0::Error's status and message.
struct Failure {
    std::string status;
    std::string message;
    bool operator==(const Failure& other) const { return status == other.status && message == other.message; }
    bool starts_with(const std::string& prefix) const { return message.rfind(prefix, 0) == 0; }
};
std::ostream& operator<<(std::ostream& out, const Failure& failure);

/// Runs `call` and returns the the0::Error it throws; a test failure when it throws none.
Failure failure_of(const std::function<void()>& call);

/// A process environment: names to values.
using Env = std::map<std::string, std::string>;

/// This process's environment without the the0 variables, plus `extra`.
Env clean_env(const Env& extra);

/// How a finished process ended and what it printed.
struct Output {
    int exit_code = -1;  // 128 + N when killed by signal N
    std::string out;
    std::string err;
};

/// Runs `argv` (argv[0] a path) with exactly `env`, waits, and collects both streams.
Output run_process(const std::vector<std::string>& argv, const Env& env);

/// A running process with its stdout discarded and its stderr readable line by line (or
/// discarded); killed at the end if still running.
class Child {
public:
    Child(const std::vector<std::string>& argv, const Env& env, bool read_stderr = true);
    ~Child();
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;
    /// Reads stderr until a complete line contains `needle`; returns it.
    std::string wait_for_stderr_line(const std::string& needle);
    bool running();
    /// SIGTERM, then waits; the exit code (128 + N when killed by signal N).
    int stop();

private:
    int wait();
    int pid_ = -1;
    int err_fd_ = -1;
    std::string pending_;
};

/// The listening address in the core's start line ("Query server started on 127.0.0.1:PORT").
Target target_of_start_line(const std::string& line);

}  // namespace the0_test

#endif  // THE0_TESTS_SUPPORT_H
