// The example bot end to end: real processes, real state files, queries over the result file,
// TCP on 127.0.0.1 and a Unix socket.

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>

#include "strategy.h"
#include "support.h"

namespace {

using json = nlohmann::json;
using the0_test::Child;
using the0_test::Env;
using the0_test::http;
using the0_test::read_file;
using the0_test::run_process;
using the0_test::Target;
using the0_test::TempDir;

const json crossing = {{"symbol", "TEST"},
                       {"short_period", 2},
                       {"long_period", 3},
                       {"ticks", 10},
                       {"prices", {10.0, 10.0, 10.0, 5.0, 5.0, 5.0, 20.0, 20.0, 20.0, 5.0}}};

/// One bot's world: its state, code mount (result file) and query result file.
struct Sandbox {
    TempDir root;
    std::string state_dir = root / "state";

    Env env(const json& config, const Env& extra = {}) const {
        Env vars = {{"BOT_ID", "sma-1"},
                    {"BOT_CONFIG", config.dump()},
                    {"STATE_DIR", state_dir},
                    {"CODE_MOUNT_DIR", (root / "bot").substr(1)},
                    {"THE0_QUERY_RESULT_FILE", root / "query/result.json"}};
        for (const auto& [name, value] : extra) vars[name] = value;
        ::mkdir((root / "bot").c_str(), 0755);
        return the0_test::clean_env(vars);
    }
    the0_test::Output bot(const json& config, const Env& extra = {}) const { return run_process({SMA_BOT}, env(config, extra)); }
    json result() const { return json::parse(read_file(root / "bot/result.json")); }
    json state(const std::string& key) const { return json::parse(read_file(state_dir + "/" + key + ".json")); }
    /// An ephemeral query: (exit code, result file).
    std::pair<int, json> query_once(const json& config, const std::string& path, const json& params) const {
        auto done = run_process({SMA_QUERY}, env(config, {{"QUERY_PATH", path}, {"QUERY_PARAMS", params.dump()}}));
        EXPECT_EQ(done.out, "") << "nothing on stdout";
        return {done.exit_code, json::parse(read_file(root / "query/result.json"))};
    }
};

std::vector<json> json_lines(const std::string& text) {
    std::vector<json> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(json::parse(line));
    return lines;
}

TEST(Bot, AScheduledRunWritesStateMetricsAndAResultThenTheNextRunContinues) {
    Sandbox box;
    auto done = box.bot(crossing);
    ASSERT_EQ(done.exit_code, 0) << done.err;
    EXPECT_EQ(box.result(), (json{{"status", "success"}, {"message", "processed 10 ticks, 2 signals so far"}}));
    json strategy = box.state("strategy");
    EXPECT_EQ(strategy["signal_count"], 2);
    EXPECT_EQ(strategy["short_sma"], 12.5);
    EXPECT_EQ(strategy["long_sma"], 15.0);
    EXPECT_EQ(strategy["trend"], "below");
    json signals = box.state("signals");
    ASSERT_EQ(signals.size(), 2u);
    EXPECT_EQ(signals[0]["side"], "BUY");
    EXPECT_EQ(signals[1]["side"], "SELL");
    int prices = 0;
    std::vector<std::string> sides;
    for (const auto& metric : json_lines(done.out)) {
        if (metric["_metric"] == "price") ++prices;
        if (metric["_metric"] == "signal") sides.push_back(metric["side"]);
    }
    EXPECT_EQ(prices, 10);
    EXPECT_EQ(sides, (std::vector<std::string>{"BUY", "SELL"}));
    EXPECT_EQ(json_lines(done.err).at(0)["message"], "bot sma-1 starting at tick 0");

    // The second run restores the state and continues the series (the figures of the twins).
    ASSERT_EQ(box.bot(crossing).exit_code, 0);
    strategy = box.state("strategy");
    EXPECT_EQ(strategy["tick"], 20);
    EXPECT_EQ(strategy["signal_count"], 6);
    std::vector<int> ticks;
    for (const auto& signal : box.state("signals")) ticks.push_back(signal["tick"]);
    EXPECT_EQ(ticks, (std::vector<int>{7, 10, 12, 14, 17, 20}));
}

TEST(Bot, ABadConfigurationIsAnErrorResult) {
    Sandbox box;
    auto done = box.bot({{"short_period", 20}, {"long_period", 5}});
    EXPECT_EQ(done.exit_code, 1);
    EXPECT_EQ(box.result(), (json{{"status", "error"},
                                  {"message", "invalid configuration: short_period (20) must be less than long_period (5)"}}));
    EXPECT_FALSE(std::filesystem::exists(box.state_dir)) << "nothing written";
    EXPECT_EQ(box.bot({{"shortperiod", 2}}).exit_code, 1);
    EXPECT_EQ(box.result()["message"], "invalid configuration: unknown field 'shortperiod'");
}

TEST(Bot, TheRandomWalkIsDeterministicAndBounded) {
    sma::Config config;
    double a = sma::price_at(config, 7, 100.0);
    EXPECT_EQ(a, sma::price_at(config, 7, 100.0));
    EXPECT_GE(a, 99.0);
    EXPECT_LE(a, 101.0);
}

TEST(Bot, TheCppAndRustBotsStoreTheSameState) {
    const char* rust_bot = std::getenv("THE0_RUST_SMA_BOT");
    if (rust_bot == nullptr) GTEST_SKIP() << "THE0_RUST_SMA_BOT (the Rust example's sma-bot) not given";
    json config = {{"symbol", "BTC/USD"}, {"short_period", 5}, {"long_period", 20}, {"ticks", 200}, {"seed", 7}};
    Sandbox cpp, rust;
    ASSERT_EQ(cpp.bot(config).exit_code, 0);
    auto done = run_process({rust_bot}, rust.env(config));
    ASSERT_EQ(done.exit_code, 0) << done.err;
    for (const char* key : {"strategy", "signals"}) EXPECT_EQ(cpp.state(key), rust.state(key)) << key;
    EXPECT_EQ(cpp.result(), rust.result());
}

TEST(Bot, EphemeralAndInfoQueriesReadTheState) {
    Sandbox box;
    ASSERT_EQ(box.bot(crossing).exit_code, 0);
    EXPECT_EQ(box.query_once(crossing, "/status", json::object()),
              (std::pair<int, json>{0,
                                    {{"status", "ok"},
                                     {"data",
                                      {{"symbol", "TEST"},
                                       {"tick", 10},
                                       {"price", 5.0},
                                       {"short_sma", 12.5},
                                       {"long_sma", 15.0},
                                       {"trend", "below"},
                                       {"signal_count", 2}}}}}));
    auto [code, signals] = box.query_once(crossing, "/signals", {{"limit", 1}});
    EXPECT_EQ(code, 0);
    EXPECT_EQ(signals["data"]["count"], 2);
    EXPECT_EQ(signals["data"]["signals"],
              (json::array({{{"tick", 10}, {"side", "SELL"}, {"price", 5.0}, {"short_sma", 12.5}, {"long_sma", 15.0}}})));
    EXPECT_EQ(box.query_once(crossing, "/signals", {{"limit", "many"}}),
              (std::pair<int, json>{1, {{"status", "error"}, {"error", R"(limit must be a positive integer, got "many")"}}}));
    auto [missing_code, missing] = box.query_once(crossing, "/trades", json::object());
    EXPECT_EQ(missing_code, 1);
    EXPECT_EQ(missing["error"], "No handler for path: /trades");

    auto info = run_process({SMA_QUERY}, box.env(crossing));
    EXPECT_EQ(info.exit_code, 0) << info.err;
    EXPECT_EQ(json::parse(read_file(box.root / "query/result.json")),
              (json{{"status", "ok"}, {"data", {{"available_queries", {"/health", "/info", "/signals", "/status"}}}}}));
}

void check_server(const Target& target) {
    auto status = http(target, "GET", "/status");
    EXPECT_EQ(status.status, 200);
    EXPECT_EQ(status.body["data"]["signal_count"], 2);
    auto by_query_string = http(target, "GET", "/signals?limit=1");
    auto by_body = http(target, "POST", "/signals", R"({"limit": 1})");
    EXPECT_EQ(by_query_string.body, by_body.body);
    EXPECT_EQ(by_body.body["data"]["signals"][0]["side"], "SELL");
    auto zero = http(target, "GET", "/signals?limit=0");
    EXPECT_EQ(zero.status, 500);
    EXPECT_EQ(zero.body, (json{{"status", "error"}, {"error", R"(limit must be a positive integer, got "0")"}}));
}

TEST(Bot, TheQueryServerAnswersOverTcpAndOverAUnixSocket) {
    Sandbox box;
    ASSERT_EQ(box.bot(crossing).exit_code, 0);
    Child tcp({SMA_QUERY}, box.env(crossing, {{"BOT_TYPE", "realtime"}, {"THE0_QUERY_HOST", "127.0.0.1"}, {"THE0_QUERY_PORT", "0"}}));
    Child socket({SMA_QUERY}, box.env(crossing, {{"BOT_TYPE", "realtime"}, {"THE0_QUERY_SOCKET", box.root / "query.sock"}}));
    for (Child* server : {&tcp, &socket}) {
        Target target = the0_test::target_of_start_line(server->wait_for_stderr_line("Query server started on"));
        check_server(target);
    }
    EXPECT_EQ(tcp.stop(), 0);
    EXPECT_EQ(socket.stop(), 0);
}

TEST(Bot, ARealtimeBotAndItsQueryServerRunSideBySide) {
    Sandbox box;
    json config = {{"symbol", "LIVE"}, {"short_period", 2}, {"long_period", 4}, {"tick_interval_ms", 5}};
    Child bot({SMA_BOT}, box.env(config, {{"BOT_TYPE", "realtime"}}), false);
    Child server({SMA_QUERY}, box.env(config, {{"BOT_TYPE", "realtime"}, {"THE0_QUERY_HOST", "127.0.0.1"}, {"THE0_QUERY_PORT", "0"}}));
    Target target = the0_test::target_of_start_line(server.wait_for_stderr_line("Query server started on"));
    auto tick_now = [&] {
        auto answer = http(target, "GET", "/status");
        EXPECT_EQ(answer.status, 200) << answer.body;
        return answer.body["data"]["tick"].get<int>();
    };
    int first = tick_now();
    int later = first;
    for (int polls = 0; later <= first && polls < 100000; ++polls) later = tick_now();
    EXPECT_GT(later, first) << "the bot's ticks never reached the query server";
    EXPECT_TRUE(bot.running()) << "the realtime bot stopped on its own";
    EXPECT_EQ(bot.stop(), 128 + 15) << "SIGTERM ends the bot";
    EXPECT_EQ(server.stop(), 0);
}

}  // namespace
