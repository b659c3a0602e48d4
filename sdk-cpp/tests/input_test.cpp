// the0.h over the core: parse, the result file, metric lines on std::cout, log lines on std::cerr.

#include <sys/stat.h>

#include <regex>

#include <the0/the0.h>

#include "support.h"

namespace {

using json = nlohmann::json;
using the0_test::Capture;
using the0_test::read_file;
using the0_test::Failure;
using the0_test::failure_of;
using the0_test::SdkTest;

const std::regex timestamp(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)");

class Input : public SdkTest {
protected:
    Input() {
        set_env("CODE_MOUNT_DIR", (dir / "bot").substr(1));
        ::mkdir((dir / "bot").c_str(), 0755);
    }
    json result_file() const { return json::parse(read_file(dir / "bot/result.json")); }
};

TEST_F(Input, ParseReadsBotIdAndConfig) {
    set_env("BOT_ID", "bot-1");
    set_env("BOT_CONFIG", R"({"symbol": "BTC/USD", "n": 3, "name": "café ☕"})");
    auto [bot_id, config] = the0::parse();
    EXPECT_EQ(bot_id, "bot-1");
    EXPECT_EQ(config, (json{{"symbol", "BTC/USD"}, {"n", 3}, {"name", "café ☕"}}));
    EXPECT_EQ(config.value("symbol", "x"), "BTC/USD");
    auto [same_id, raw] = the0::parse_raw();
    EXPECT_EQ(same_id, "bot-1");
    EXPECT_EQ(raw, R"({"symbol":"BTC/USD","n":3,"name":"café ☕"})");
}

TEST_F(Input, AnEmptyConfigIsAnEmptyObject) {
    set_env("BOT_ID", "b");
    set_env("BOT_CONFIG", "  ");
    EXPECT_EQ(the0::parse().second, json::object());
}

TEST_F(Input, ParseErrorsNameTheVariable) {
    set_env("BOT_ID", "b");
    EXPECT_EQ(failure_of([] { the0::parse(); }), (Failure{"MISSING_ENV", "environment variable BOT_CONFIG is not set"}));
    set_env("BOT_CONFIG", "symbol=BTC");
    EXPECT_EQ(failure_of([] { the0::parse_raw(); }),
              (Failure{"INVALID_JSON", "BOT_CONFIG is not valid JSON: expected value at line 1 column 1"}));
}

TEST_F(Input, SuccessAndResultWriteTheResultFile) {
    Capture out(std::cout);
    the0::success("all \"good\"\n");
    EXPECT_EQ(result_file(), (json{{"status", "success"}, {"message", "all \"good\"\n"}}));
    the0::success("done", {{"trades", 2}});
    EXPECT_EQ(result_file(), (json{{"status", "success"}, {"message", "done"}, {"data", {{"trades", 2}}}}));
    the0::result({{"status", "success"}, {"pnl", 1.5}});
    EXPECT_EQ(read_file(dir / "bot/result.json"), R"({"pnl":1.5,"status":"success"})");
    EXPECT_EQ(out.text(), "") << "nothing is printed";
}

TEST_F(Input, ResultWithStatusMessageAndDataMergesTheFields) {
    the0::result("success", "Trade executed", {{"trade_id", "abc123"}, {"price", 45000.5}});
    EXPECT_EQ(result_file(), (json{{"status", "success"},
                                   {"message", "Trade executed"},
                                   {"trade_id", "abc123"},
                                   {"price", 45000.5}}));
    the0::result("error", "no fills");
    EXPECT_EQ(result_file(), (json{{"status", "error"}, {"message", "no fills"}}));
    the0::result("success", "list", json::array({1, 2}));
    EXPECT_EQ(result_file(), (json{{"status", "success"}, {"message", "list"}, {"data", {1, 2}}}));
}

TEST_F(Input, ErrorWritesTheResultFileAndExitsOne) {
    EXPECT_EXIT(the0::error("no data"), ::testing::ExitedWithCode(1), "");
    EXPECT_EQ(result_file(), (json{{"status", "error"}, {"message", "no data"}}));
    EXPECT_EXIT(the0::error("échec", {{"code", 7}}), ::testing::ExitedWithCode(1), "");
    EXPECT_EQ(result_file(), (json{{"status", "error"}, {"message", "échec"}, {"data", {{"code", 7}}}}));
}

TEST_F(Input, AResultFileThatCannotBeWrittenIsReportedOnStderr) {
    the0_test::write_file(dir / "a-file", "");
    set_env("CODE_MOUNT_DIR", (dir / "a-file/bot").substr(1));
    Capture err(std::cerr);
    the0::success("lost");
    auto lines = err.lines();
    ASSERT_EQ(lines.size(), 1u) << err.text();
    json line = json::parse(lines[0]);
    EXPECT_EQ(line["level"], "error");
    EXPECT_NE(line["message"].get<std::string>().find("cannot write result file"), std::string::npos) << lines[0];
}

TEST_F(Input, MetricLinesGoToStdCout) {
    Capture out(std::cout);
    the0::metric("price", {{"symbol", "BTC"}, {"value", 1.5}, {"_metric", "x"}, {"sym", "€ 😀"}});
    the0::metric("count", 7);
    auto lines = out.lines();
    ASSERT_EQ(lines.size(), 2u) << out.text();
    json first = json::parse(lines[0]);
    EXPECT_EQ(first["_metric"], "price");
    EXPECT_EQ(first["symbol"], "BTC");
    EXPECT_EQ(first["value"], 1.5);
    EXPECT_EQ(first["sym"], "€ 😀");
    EXPECT_TRUE(std::regex_match(first["timestamp"].get<std::string>(), timestamp)) << lines[0];
    EXPECT_EQ(lines[0].rfind(R"({"_metric":"price",)", 0), 0u) << lines[0];
    json second = json::parse(lines[1]);
    EXPECT_EQ(second["data"], 7);
}

TEST_F(Input, LogLinesGoToStdCerr) {
    Capture err(std::cerr);
    the0::log("hello");
    the0::log("order \"filled\"", {{"id", 7}, {"level", "bogus"}}, the0::LogLevel::Warn);
    the0::log("Connection lost", {}, the0::LogLevel::Error);
    the0::log("by name", {{"n", 1}}, "WARNING");
    auto lines = err.lines();
    ASSERT_EQ(lines.size(), 4u) << err.text();
    json hello = json::parse(lines[0]);
    EXPECT_EQ(hello["level"], "info");
    EXPECT_EQ(hello["message"], "hello");
    EXPECT_TRUE(std::regex_match(hello["timestamp"].get<std::string>(), timestamp)) << lines[0];
    json order = json::parse(lines[1]);
    EXPECT_EQ(order["level"], "warn") << "the level wins over a data field";
    EXPECT_EQ(order["message"], "order \"filled\"");
    EXPECT_EQ(order["id"], 7);
    EXPECT_EQ(json::parse(lines[2])["level"], "error");
    EXPECT_EQ(json::parse(lines[3])["level"], "warn");
    EXPECT_EQ(the0::log_level_str(the0::LogLevel::Warn), "warn");
}

TEST_F(Input, AnUnknownLogLevelIsAnInvalidArgument) {
    Capture err(std::cerr);
    EXPECT_EQ(failure_of([] { the0::log("m", {}, "loud"); }),
              (Failure{"INVALID_ARGUMENT", R"(unknown log level "loud": expected info, warn or error)"}));
    EXPECT_EQ(err.text(), "");
}

TEST_F(Input, DataThatIsNotUtf8CannotBeSerialized) {
    Capture out(std::cout);
    Failure failure = failure_of([] { the0::metric("m", {{"bad", "\xff"}}); });
    EXPECT_EQ(failure.status, "INVALID_JSON");
    EXPECT_TRUE(failure.starts_with("metric data cannot be serialized: ")) << failure;
    EXPECT_EQ(out.text(), "");
}

}  // namespace

