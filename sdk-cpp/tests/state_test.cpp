// the0::state over the core: key rules, the read-only guard, canonical files, unicode, numbers.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>

#include <the0/state.h>

#include "support.h"

namespace {

using json = nlohmann::json;
using the0_test::Failure;
using the0_test::failure_of;
using the0_test::SdkTest;
using the0_test::write_file;

class State : public SdkTest {};

TEST_F(State, SetGetRoundTripAndTheFileIsCanonical) {
    EXPECT_EQ(the0::state::get("portfolio"), std::nullopt);
    the0::state::set("portfolio", {{"AAPL", 100}, {"GOOGL", 50.5}, {"tags", {"a", nullptr, true}}});
    EXPECT_EQ(*the0::state::get("portfolio"), (json{{"AAPL", 100}, {"GOOGL", 50.5}, {"tags", {"a", nullptr, true}}}));
    EXPECT_EQ(state_file("portfolio"), R"({"AAPL":100,"GOOGL":50.5,"tags":["a",null,true]})");
    EXPECT_TRUE(the0::state::exists("portfolio"));
    EXPECT_EQ(the0::state::get_or("missing", json::array()), json::array());
    EXPECT_EQ(the0::state::get_or("portfolio", 0)["AAPL"], 100);
}

TEST_F(State, StoredNullIsAValue) {
    the0::state::set("n", nullptr);
    auto value = the0::state::get("n");
    ASSERT_TRUE(value.has_value());
    EXPECT_TRUE(value->is_null());
    EXPECT_TRUE(the0::state::exists("n"));
}

TEST_F(State, ListIsSortedRemoveAndClear) {
    for (const char* key : {"b", "a", "c"}) the0::state::set(key, 1);
    write_file(state_dir + "/notes.txt", "not a key");
    EXPECT_EQ(the0::state::list(), (std::vector<std::string>{"a", "b", "c"}));
    EXPECT_TRUE(the0::state::remove("b"));
    EXPECT_FALSE(the0::state::remove("b"));
    EXPECT_EQ(the0::state::list(), (std::vector<std::string>{"a", "c"}));
    the0::state::clear();
    EXPECT_TRUE(the0::state::list().empty());
    EXPECT_TRUE(std::filesystem::exists(state_dir + "/notes.txt")) << "clear removes keys only";
}

TEST_F(State, AMissingDirectoryIsEmpty) {
    set_env("STATE_DIR", dir / "nowhere");
    EXPECT_TRUE(the0::state::list().empty());
    EXPECT_FALSE(the0::state::exists("k"));
    EXPECT_EQ(the0::state::get("k"), std::nullopt);
}

struct KeyCase {
    std::string key;
    std::string rule;
};

TEST_F(State, EveryKeyRuleForEveryOperation) {
    const std::vector<KeyCase> cases = {
        {"", "must not be empty"},
        {std::string(201, 'k'), "must be at most 200 bytes"},
        {"tab\there", "must not contain control characters"},
        {std::string("nul\0x", 5), "must not contain control characters"},
        {"a/b", "must not contain a path separator ('/' or '\\')"},
        {"a\\b", "must not contain a path separator ('/' or '\\')"},
        {"a..b", "must not contain '..' (path traversal)"},
        {".hidden", "must not start with '.'"},
    };
    const std::vector<std::pair<std::string, std::function<void(const std::string&)>>> operations = {
        {"get", [](const std::string& k) { the0::state::get(k); }},
        {"set", [](const std::string& k) { the0::state::set(k, 1); }},
        {"exists", [](const std::string& k) { the0::state::exists(k); }},
        {"remove", [](const std::string& k) { the0::state::remove(k); }},
        {"set_json", [](const std::string& k) { the0::state::set_json(k, "1"); }},
    };
    for (const auto& [name, operation] : operations) {
        for (const auto& c : cases) {
            try {
                operation(c.key);
                ADD_FAILURE() << name << " accepted the key " << json(c.key).dump();
            } catch (const the0::InvalidKeyError& e) {
                std::string message = e.what();
                EXPECT_EQ(message.rfind("invalid state key ", 0), 0u) << message;
                EXPECT_EQ(message.substr(message.size() - c.rule.size()), c.rule) << name << ": " << message;
                EXPECT_EQ(e.status(), "INVALID_KEY");
            }
        }
    }
    EXPECT_TRUE(the0::state::list().empty());
    the0::state::set(std::string(200, 'k'), "longest");
    EXPECT_EQ(the0::state::get(std::string(200, 'k')), json("longest"));
}

TEST_F(State, WritesAreRefusedInQueryModeAndReadsAllowed) {
    the0::state::set("k", 1);
    set_env("QUERY_PATH", "/status");
    EXPECT_TRUE(the0::state::is_query_mode());
    EXPECT_THROW(the0::state::set("k", 2), the0::ReadOnlyStateError);
    EXPECT_THROW(the0::state::set_json("k", "2"), the0::ReadOnlyStateError);
    EXPECT_THROW(the0::state::remove("k"), the0::ReadOnlyStateError);
    EXPECT_THROW(the0::state::clear(), the0::ReadOnlyStateError);
    try {
        the0::state::set("k", 3);
    } catch (const the0::state::ReadOnlyStateError& e) {
        EXPECT_EQ(e.status(), "READ_ONLY");
        EXPECT_NE(std::string(e.what()).find("read-only"), std::string::npos) << e.what();
    }
    EXPECT_EQ(the0::state::get("k"), json(1));
    EXPECT_EQ(the0::state::list(), std::vector<std::string>{"k"});
    set_env("QUERY_PATH", "");
    EXPECT_FALSE(the0::state::is_query_mode()) << "an empty QUERY_PATH is no query";
    the0::state::set("k", 4);
    EXPECT_EQ(the0::state::get("k"), json(4));
}

TEST_F(State, UnicodeKeysAndValues) {
    const std::string key = "prix_€_日本";
    const json value = {{"café", "☕ 😀"}, {"text", "line\nbreak \"quoted\" tab\t \x01"}};
    the0::state::set(key, value);
    EXPECT_EQ(the0::state::list(), std::vector<std::string>{key});
    EXPECT_EQ(*the0::state::get(key), value);
    EXPECT_EQ(state_file(key), R"({"café":"☕ 😀","text":"line\nbreak \"quoted\" tab\t \u0001"})");
}

TEST_F(State, SixtyFourBitIntegersAreExact) {
    const json limits = {std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max(),
                         std::numeric_limits<std::uint64_t>::max()};
    the0::state::set("limits", limits);
    EXPECT_EQ(state_file("limits"), "[-9223372036854775808,9223372036854775807,18446744073709551615]");
    json back = *the0::state::get("limits");
    EXPECT_EQ(back[0].get<std::int64_t>(), std::numeric_limits<std::int64_t>::min());
    EXPECT_EQ(back[2].get<std::uint64_t>(), std::numeric_limits<std::uint64_t>::max());
}

TEST_F(State, BiggerIntegersAreKeptAsWrittenThroughTheTextForm) {
    const std::string big = "123456789012345678901234567890";
    the0::state::set_json("big", "{\"n\": " + big + ", \"d\": 0.1000000000000000055511151231257827}");
    EXPECT_EQ(the0::state::get_json("big"), "{\"n\":" + big + ",\"d\":0.1000000000000000055511151231257827}");
    // nlohmann::json holds at most 64-bit integers: the value reads back as the nearest double.
    json value = *the0::state::get("big");
    EXPECT_TRUE(value["n"].is_number_float());
    EXPECT_EQ(value["n"].get<double>(), 1.2345678901234568e29);
}

TEST_F(State, InvalidJsonTextIsRefusedAndTheOldValueKept) {
    the0::state::set("k", 1);
    Failure failure = failure_of([] { the0::state::set_json("k", "{oops"); });
    EXPECT_EQ(failure.status, "INVALID_JSON");
    EXPECT_NE(failure.message.find("\"k\""), std::string::npos) << failure;
    EXPECT_EQ(the0::state::get("k"), json(1));
}

TEST_F(State, AValueThatIsNotUtf8CannotBeSerialized) {
    Failure failure = failure_of([] { the0::state::set("k", json("bad \xff")); });
    EXPECT_EQ(failure.status, "INVALID_JSON");
    EXPECT_TRUE(failure.starts_with(R"(value for state key "k" cannot be serialized: )")) << failure;
    set_env("QUERY_PATH", "/q");
    EXPECT_THROW(the0::state::set("k", json("bad \xff")), the0::ReadOnlyStateError) << "read-only comes first";
}

TEST_F(State, ACorruptFileIsAnErrorNamingTheKey) {
    write_file(state_dir + "/broken.json", "{\"torn\": ");
    Failure failure = failure_of([] { the0::state::get("broken"); });
    EXPECT_EQ(failure.status, "CORRUPT_STATE");
    EXPECT_NE(failure.message.find("\"broken\""), std::string::npos) << failure;
    EXPECT_TRUE(the0::state::exists("broken"));
}

}  // namespace
