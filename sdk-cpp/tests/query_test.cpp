// the0::query over the core: ephemeral runs and their exit codes, info mode, the server over TCP
// and a Unix socket, body params, 404/500/504, the read-only guard, and several handler threads.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include <the0/query.h>
#include <the0/state.h>

#include "support.h"

namespace {

using json = nlohmann::json;
using the0::query::Request;
using the0_test::Answer;
using the0_test::Capture;
using the0_test::http;
using the0_test::read_file;
using the0_test::SdkTest;
using the0_test::Target;

/// Requests inside /together at once; it answers when two are in (two handler threads at work).
std::mutex together_lock;
std::condition_variable together_changed;
int together_inside = 0;

void register_handlers() {
    the0::query::handler("/echo", [](const Request& req) {
        return json{{"path", req.path},
                    {"params", req.values()},
                    {"strings", req.params},
                    {"symbol", req.get("symbol", "none")},
                    {"has_limit", req.has("limit")},
                    {"seen_by_get_params", the0::query::get_params()}};
    });
    the0::query::handler("/fail", [](const Request&) -> json { throw std::runtime_error("deliberate failure"); });
    the0::query::handler("/sleep", [](const Request& req) {
        auto ms = std::stoi(req.get("ms", "0"));
        std::this_thread::sleep_for(std::chrono::milliseconds(ms));
        return json{{"slept_ms", ms}};
    });
    the0::query::handler("write", [](const Request& req) {
        try {
            the0::state::set(req.get("key", "k"), 1);
            return json{{"written", true}};
        } catch (const the0::ReadOnlyStateError& e) {
            return json{{"written", false}, {"status", e.status()}, {"message", e.what()}};
        }
    });
    the0::query::handler("/state", [](const Request& req) { return the0::state::get_or(req.get("key"), nullptr); });
    the0::query::handler("/config", [](const Request&) { return the0::query::get_config(); });
    the0::query::handler("/bad-utf8", [](const Request&) { return json("\xff"); });
    the0::query::handler("/together", [](const Request&) {
        std::unique_lock<std::mutex> guard(together_lock);
        ++together_inside;
        together_changed.notify_all();
        bool met = together_changed.wait_for(guard, std::chrono::seconds(60), [] { return together_inside >= 2; });
        return json{{"met", met}};
    });
}

class Query : public SdkTest {
protected:
    Query() {
        result_file = dir / "query/result.json";
        set_env("THE0_QUERY_RESULT_FILE", result_file);
        register_handlers();
    }
    json result() const { return json::parse(read_file(result_file)); }

    std::string result_file;
};

/// run() in server mode on its own thread; stops it and waits at the end.
class Server {
public:
    explicit Server(Capture& err) : thread_([] { the0::query::run(); }) {
        target = the0_test::target_of_start_line(err.wait_for_line("Query server started on"));
    }
    ~Server() { stop(); }
    void stop() {
        if (!thread_.joinable()) return;
        the0::query::stop();
        thread_.join();
    }
    Target target;

private:
    std::thread thread_;
};

TEST_F(Query, EphemeralAnswerWithTypedAndStringParams) {
    set_env("QUERY_PATH", "/echo");
    set_env("QUERY_PARAMS", R"({"symbol": "ETH", "limit": 5, "deep": {"a": [1]}})");
    Capture out(std::cout);
    the0::query::run();
    json strings = {{"deep", R"({"a":[1]})"}, {"limit", "5"}, {"symbol", "ETH"}};
    EXPECT_EQ(result(), (json{{"status", "ok"},
                              {"data",
                               {{"path", "/echo"},
                                {"params", {{"symbol", "ETH"}, {"limit", 5}, {"deep", {{"a", {1}}}}}},
                                {"strings", strings},
                                {"symbol", "ETH"},
                                {"has_limit", true},
                                {"seen_by_get_params", strings}}}}));
    EXPECT_EQ(out.text(), "") << "nothing on stdout";
    set_env("QUERY_PATH", std::nullopt);
    the0::state::set("writable", true);  // the run is over: state is writable again
}

TEST_F(Query, EphemeralFailuresExitOne) {
    set_env("QUERY_PATH", "/fail");
    EXPECT_EXIT(the0::query::run(), ::testing::ExitedWithCode(1), "");
    EXPECT_EQ(result(), (json{{"status", "error"}, {"error", "deliberate failure"}}));

    set_env("QUERY_PATH", "/trades");
    EXPECT_EXIT(the0::query::run(), ::testing::ExitedWithCode(1), "");
    EXPECT_EQ(result()["error"], "No handler for path: /trades");
    EXPECT_TRUE(result()["available"].is_array());

    set_env("QUERY_PATH", "/bad-utf8");
    EXPECT_EXIT(the0::query::run(), ::testing::ExitedWithCode(1), "");
    EXPECT_EQ(result()["error"].get<std::string>().rfind("handler result cannot be serialized: ", 0), 0u) << result();

    set_env("QUERY_PATH", "/echo");
    set_env("QUERY_PARAMS", "[1]");
    EXPECT_EXIT(the0::query::run(), ::testing::ExitedWithCode(1), "");
    EXPECT_EQ(result()["status"], "error");
}

TEST_F(Query, AnEphemeralHandlerOverTheTimeoutIsA504AndTheProcessEnds) {
    set_env("QUERY_PATH", "/sleep");
    set_env("QUERY_PARAMS", R"({"ms": 60000})");
    set_env("THE0_QUERY_TIMEOUT_MS", "200");
    EXPECT_EXIT(the0::query::run(), ::testing::ExitedWithCode(1), "timed out");
    json answer = result();
    EXPECT_EQ(answer["status"], "error");
    EXPECT_NE(answer["error"].get<std::string>().find("timed out"), std::string::npos) << answer;
}

TEST_F(Query, StateIsReadOnlyInEphemeralMode) {
    set_env("QUERY_PATH", "/write");
    EXPECT_TRUE(the0::query::is_query_mode());
    the0::query::run();
    EXPECT_EQ(result()["data"]["written"], false);
    EXPECT_EQ(result()["data"]["status"], "READ_ONLY");
}

TEST_F(Query, InfoModeListsThePaths) {
    set_env("BOT_TYPE", "scheduled");
    the0::query::run();
    auto paths = result()["data"]["available_queries"];
    EXPECT_EQ(paths.front(), "/bad-utf8");
    EXPECT_NE(std::find(paths.begin(), paths.end(), "/write"), paths.end()) << "registered without its slash";
    EXPECT_NE(std::find(paths.begin(), paths.end(), "/health"), paths.end());
}

TEST_F(Query, ParamsAndConfigOutsideAHandler) {
    EXPECT_TRUE(the0::query::get_params().empty());
    EXPECT_EQ(the0::query::get_config(), json::object());
    set_env("BOT_CONFIG", R"({"symbol": "AAPL"})");
    EXPECT_EQ(the0::query::get_config(), (json{{"symbol", "AAPL"}}));
    set_env("BOT_CONFIG", "not json");
    EXPECT_EQ(the0::query::get_config(), json::object());
    set_env("QUERY_PATH", "/x");
    set_env("QUERY_PARAMS", R"({"limit": 5, "s": "a"})");
    EXPECT_EQ(the0::query::get_params(), (std::map<std::string, std::string>{{"limit", "5"}, {"s", "a"}}));
}

TEST(Request, UpstreamShapeAndTypedValues) {
    Request req("/status", {{"symbol", "BTC"}});
    EXPECT_EQ(req.get("symbol"), "BTC");
    EXPECT_EQ(req.get("missing"), "");
    EXPECT_EQ(req.get("missing", "d"), "d");
    EXPECT_TRUE(req.has("symbol"));
    EXPECT_FALSE(req.has("missing"));
    EXPECT_EQ(req.values(), (json{{"symbol", "BTC"}}));

    Request typed = Request::from_values("/x", {{"n", 5}, {"s", "x"}, {"o", {{"a", true}}}, {"z", nullptr}});
    EXPECT_EQ(typed.params,
              (std::map<std::string, std::string>{{"n", "5"}, {"o", R"({"a":true})"}, {"s", "x"}, {"z", "null"}}));
    EXPECT_EQ(typed.values()["n"], 5);
}

void check_server(const Target& target, const std::string& state_dir) {
    Answer health = http(target, "GET", "/health");
    EXPECT_EQ(health.status, 200);
    EXPECT_EQ(health.body, (json{{"status", "ok"}, {"data", {{"status", "ok"}}}}));
    EXPECT_EQ(health.content_type, "application/json");

    Answer echo = http(target, "GET", "/echo?symbol=BTC%2FUSD&note=a+b&limit=5");
    EXPECT_EQ(echo.status, 200);
    EXPECT_EQ(echo.body["data"]["strings"], (json{{"limit", "5"}, {"note", "a b"}, {"symbol", "BTC/USD"}}));
    EXPECT_EQ(echo.body["data"]["seen_by_get_params"], echo.body["data"]["strings"]);

    Answer body = http(target, "POST", "/echo", R"({"limit": 5, "flag": true, "symbol": "ETH"})");
    EXPECT_EQ(body.status, 200);
    EXPECT_EQ(body.body["data"]["params"], (json{{"limit", 5}, {"flag", true}, {"symbol", "ETH"}}));
    EXPECT_EQ(body.body["data"]["strings"]["flag"], "true");
    EXPECT_EQ(body.body["data"]["symbol"], "ETH");

    Answer missing = http(target, "GET", "/missing");
    EXPECT_EQ(missing.status, 404);
    EXPECT_EQ(missing.body["error"], "No handler for path: /missing");

    Answer failed = http(target, "GET", "/fail");
    EXPECT_EQ(failed.status, 500);
    EXPECT_EQ(failed.body, (json{{"status", "error"}, {"error", "deliberate failure"}}));

    Answer not_an_object = http(target, "POST", "/echo", "[1]");
    EXPECT_EQ(not_an_object.status, 400);

    Answer late = http(target, "GET", "/sleep?ms=3000");
    EXPECT_EQ(late.status, 504);
    EXPECT_EQ(late.body["status"], "error");
    EXPECT_EQ(http(target, "GET", "/sleep?ms=0").status, 200) << "still serving after a timeout";

    Answer write = http(target, "GET", "/write?key=k");
    EXPECT_EQ(write.body["data"]["written"], false);
    EXPECT_EQ(write.body["data"]["status"], "READ_ONLY");
    EXPECT_FALSE(std::filesystem::exists(state_dir + "/k.json"));
    EXPECT_EQ(http(target, "GET", "/state?key=seeded").body["data"], (json{{"n", 1}}));
    EXPECT_EQ(http(target, "GET", "/config").body["data"], (json{{"symbol", "BTC"}}));
}

TEST_F(Query, ServerOverTcp) {
    the0::state::set("seeded", {{"n", 1}});
    set_env("BOT_TYPE", "realtime");
    set_env("BOT_CONFIG", R"({"symbol": "BTC"})");
    set_env("THE0_QUERY_HOST", "127.0.0.1");
    set_env("THE0_QUERY_PORT", "0");
    set_env("THE0_QUERY_TIMEOUT_MS", "500");
    Capture err(std::cerr);
    Server server(err);
    ASSERT_GT(server.target.port, 0);
    EXPECT_TRUE(the0::query::is_query_mode()) << "serving: read-only";
    check_server(server.target, state_dir);
    server.stop();
    the0::state::set("k", 2);  // the server has stopped: writable again
    EXPECT_EQ(the0::state::get("k"), json(2));
}

TEST_F(Query, ServerOverAUnixSocket) {
    the0::state::set("seeded", {{"n", 1}});
    std::string socket = dir / "run/query.sock";
    set_env("BOT_TYPE", "realtime");
    set_env("BOT_CONFIG", R"({"symbol": "BTC"})");
    set_env("THE0_QUERY_SOCKET", socket);
    set_env("THE0_QUERY_TIMEOUT_MS", "500");
    Capture err(std::cerr);
    Server server(err);
    EXPECT_EQ(server.target.socket, socket);
    check_server(server.target, state_dir);
    server.stop();
    EXPECT_FALSE(std::filesystem::exists(socket)) << "the socket file is removed";
}

TEST_F(Query, SeveralHandlerThreadsByDefault) {
    set_env("BOT_TYPE", "realtime");
    set_env("THE0_QUERY_HOST", "127.0.0.1");
    set_env("THE0_QUERY_PORT", "0");
    Capture err(std::cerr);
    Server server(err);
    Answer first, second;
    std::thread a([&] { first = http(server.target, "GET", "/together"); });
    std::thread b([&] { second = http(server.target, "GET", "/together"); });
    a.join();
    b.join();
    EXPECT_EQ(first.body["data"]["met"], true);
    EXPECT_EQ(second.body["data"]["met"], true);
}

TEST_F(Query, AServerThatCannotStartExitsOne) {
    set_env("BOT_TYPE", "realtime");
    set_env("THE0_QUERY_PORT", "not-a-port");
    EXPECT_EXIT(the0::query::run(), ::testing::ExitedWithCode(1), "query service cannot start");
}

}  // namespace
