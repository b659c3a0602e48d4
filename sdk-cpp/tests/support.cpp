#include "support.h"

#include <the0/errors.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdlib>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>

namespace the0_test {

namespace fs = std::filesystem;

TempDir::TempDir() {
    std::string pattern = (fs::temp_directory_path() / "the0-cpp-test.XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
}

TempDir::~TempDir() {
    std::error_code ignored;
    fs::permissions(path_, fs::perms::owner_all, fs::perm_options::add, ignored);
    fs::remove_all(path_, ignored);
}

ScopedEnv::ScopedEnv(std::string name, const std::optional<std::string>& value) : name_(std::move(name)) {
    if (const char* old = std::getenv(name_.c_str())) saved_ = old;
    if (value) {
        ::setenv(name_.c_str(), value->c_str(), 1);
    } else {
        ::unsetenv(name_.c_str());
    }
}

ScopedEnv::~ScopedEnv() {
    if (saved_) {
        ::setenv(name_.c_str(), saved_->c_str(), 1);
    } else {
        ::unsetenv(name_.c_str());
    }
}

namespace {
const char* const the0_variables[] = {
    "BOT_ID", "BOT_CONFIG", "BOT_TYPE", "CODE_MOUNT_DIR", "STATE_DIR", "QUERY_PATH", "QUERY_PARAMS",
    "THE0_QUERY_SOCKET", "THE0_QUERY_HOST", "THE0_QUERY_PORT", "THE0_QUERY_RESULT_FILE",
    "THE0_QUERY_TIMEOUT_MS", "THE0_QUERY_MAX_BODY_BYTES", "THE0_QUERY_MAX_IN_FLIGHT", "THE0_QUERY_WORKERS",
};
}  // namespace

SdkTest::SdkTest() {
    for (const char* name : the0_variables) set_env(name, std::nullopt);
    state_dir = dir / "state";
    set_env("STATE_DIR", state_dir);
}

void SdkTest::set_env(const std::string& name, const std::optional<std::string>& value) {
    env_.push_back(std::make_unique<ScopedEnv>(name, value));
}

std::optional<std::string> SdkTest::state_file(const std::string& key) const {
    std::string path = state_dir + "/" + key + ".json";
    if (!fs::exists(path)) return std::nullopt;
    return read_file(path);
}

Capture::Capture(std::ostream& stream) : stream_(stream), saved_(stream.rdbuf(this)) {}

Capture::~Capture() { stream_.rdbuf(saved_); }

std::string Capture::text() const {
    std::lock_guard<std::mutex> guard(lock_);
    return text_;
}

std::vector<std::string> Capture::lines() const {
    std::vector<std::string> lines;
    std::istringstream in(text());
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

std::string Capture::wait_for_line(const std::string& needle) {
    std::unique_lock<std::mutex> guard(lock_);
    std::string found;
    bool seen = written_.wait_for(guard, std::chrono::seconds(60), [&] {
        std::istringstream in(text_);
        for (std::string line; std::getline(in, line);) {
            if (line.find(needle) != std::string::npos && !in.eof()) {
                found = line;
                return true;
            }
        }
        return false;
    });
    if (!seen) throw std::runtime_error("no line containing \"" + needle + "\" in: " + text_);
    return found;
}

Capture::int_type Capture::overflow(int_type c) {
    if (c == traits_type::eof()) return traits_type::not_eof(c);
    char ch = traits_type::to_char_type(c);
    xsputn(&ch, 1);
    return c;
}

std::streamsize Capture::xsputn(const char* s, std::streamsize n) {
    {
        std::lock_guard<std::mutex> guard(lock_);
        text_.append(s, static_cast<std::size_t>(n));
    }
    written_.notify_all();
    return n;
}

Env clean_env(const Env& extra) {
    Env env;
    for (char** entry = environ; *entry != nullptr; ++entry) {
        std::string text(*entry);
        auto eq = text.find('=');
        if (eq == std::string::npos) continue;
        env[text.substr(0, eq)] = text.substr(eq + 1);
    }
    for (const char* name : the0_variables) env.erase(name);
    for (const auto& [name, value] : extra) env[name] = value;
    return env;
}

namespace {

/// posix_spawn of `argv` with `env` and the given file actions; throws when it cannot start.
int spawn(const std::vector<std::string>& argv, const Env& env, posix_spawn_file_actions_t* actions) {
    std::vector<char*> args;
    for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    std::vector<std::string> pairs;
    for (const auto& [name, value] : env) pairs.push_back(name + "=" + value);
    std::vector<char*> envp;
    for (auto& pair : pairs) envp.push_back(pair.data());
    envp.push_back(nullptr);
    pid_t pid = -1;
    int failed = posix_spawn(&pid, argv.at(0).c_str(), actions, nullptr, args.data(), envp.data());
    if (failed != 0) throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(failed));
    return pid;
}

int exit_code_of(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return -1;
}

}  // namespace

Output run_process(const std::vector<std::string>& argv, const Env& env) {
    TempDir streams;
    std::string out = streams / "out", err = streams / "err";
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int pid = spawn(argv, env, &actions);
    posix_spawn_file_actions_destroy(&actions);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return {exit_code_of(status), read_file(out), read_file(err)};
}

Child::Child(const std::vector<std::string>& argv, const Env& env, bool read_stderr) {
    int pipe_fds[2] = {-1, -1};
    if (read_stderr && ::pipe2(pipe_fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    if (read_stderr) {
        posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 2);
    } else {
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    }
    pid_ = spawn(argv, env, &actions);
    posix_spawn_file_actions_destroy(&actions);
    if (read_stderr) {
        ::close(pipe_fds[1]);
        err_fd_ = pipe_fds[0];
    }
}

Child::~Child() {
    if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
        wait();
    }
    if (err_fd_ >= 0) ::close(err_fd_);
}

std::string Child::wait_for_stderr_line(const std::string& needle) {
    for (;;) {
        for (std::size_t end; (end = pending_.find('\n')) != std::string::npos;) {
            std::string line = pending_.substr(0, end);
            pending_.erase(0, end + 1);
            if (line.find(needle) != std::string::npos) return line;
        }
        char buffer[4096];
        ssize_t n = ::read(err_fd_, buffer, sizeof(buffer));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) throw std::runtime_error("stderr closed before a line containing \"" + needle + "\"");
        pending_.append(buffer, static_cast<std::size_t>(n));
    }
}

bool Child::running() {
    if (pid_ <= 0) return false;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == 0) return true;
    pid_ = -1;
    return false;
}

int Child::stop() {
    ::kill(pid_, SIGTERM);
    return wait();
}

int Child::wait() {
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    return exit_code_of(status);
}

std::ostream& operator<<(std::ostream& out, const Failure& failure) {
    return out << failure.status << ": " << failure.message;
}

Failure failure_of(const std::function<void()>& call) {
    try {
        call();
    } catch (const the0::Error& e) {
        return {e.status(), e.what()};
    }
    ADD_FAILURE() << "no the0::Error thrown";
    return {};
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

void write_file(const std::string& path, const std::string& content) {
    fs::create_directories(fs::path(path).parent_path());
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << content;
    if (!out) throw std::runtime_error("cannot write " + path);
}

namespace {

/// A connected socket, closed at the end.
struct Socket {
    int fd = -1;
    ~Socket() {
        if (fd >= 0) ::close(fd);
    }
};

void connect_to(Socket& s, const Target& target) {
    if (!target.socket.empty()) {
        s.fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        std::strncpy(address.sun_path, target.socket.c_str(), sizeof(address.sun_path) - 1);
        if (::connect(s.fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0)
            throw std::runtime_error("cannot connect to " + target.socket);
        return;
    }
    s.fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(target.port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(s.fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0)
        throw std::runtime_error("cannot connect to 127.0.0.1:" + std::to_string(target.port));
}

std::string lower(std::string text) {
    for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
}

}  // namespace

Answer http(const Target& target, const std::string& method, const std::string& path, const std::string& body) {
    Socket s;
    connect_to(s, target);
    std::string request = method + " " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n";
    if (!body.empty()) request += "Content-Type: application/json\r\n";
    request += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    for (std::size_t sent = 0; sent < request.size();) {
        ssize_t n = ::send(s.fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) throw std::runtime_error("send failed");
        sent += static_cast<std::size_t>(n);
    }
    std::string response;
    char buffer[8192];
    for (ssize_t n; (n = ::recv(s.fd, buffer, sizeof(buffer), 0)) > 0;) response.append(buffer, static_cast<std::size_t>(n));
    std::size_t head_end = response.find("\r\n\r\n");
    if (head_end == std::string::npos) throw std::runtime_error("no HTTP answer: " + response);
    Answer answer;
    answer.status = std::stoi(response.substr(response.find(' ') + 1, 3));
    std::istringstream head(response.substr(0, head_end));
    for (std::string line; std::getline(head, line);) {
        if (lower(line).rfind("content-type:", 0) == 0) {
            std::string value = line.substr(line.find(':') + 1);
            value.erase(0, value.find_first_not_of(' '));
            if (!value.empty() && value.back() == '\r') value.pop_back();
            answer.content_type = value;
        }
    }
    answer.body = json::parse(response.substr(head_end + 4));
    return answer;
}

Target target_of_start_line(const std::string& line) {
    std::string message = json::parse(line).at("message").get<std::string>();
    std::string at = message.substr(message.rfind(' ') + 1);
    Target target;
    if (at.rfind("unix:", 0) == 0) {
        target.socket = at.substr(5);
    } else {
        target.port = std::stoi(at.substr(at.rfind(':') + 1));
    }
    return target;
}

}  // namespace the0_test

namespace {
// Death tests (ephemeral runs end the process) re-run the test binary, since the SDK starts
// threads.
const bool threadsafe_death_tests = [] {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    return true;
}();
}  // namespace
