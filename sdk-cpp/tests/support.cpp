#include "support.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdlib>
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
