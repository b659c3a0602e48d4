// The exceptions: one type per kind of failure the core reports, under upstream's names too.

#include <type_traits>

#include <the0/query.h>
#include <the0/state.h>
#include <the0/the0.h>

#include "support.h"

namespace {

using the0_test::SdkTest;

TEST(Errors, UpstreamNamesAreTheSameTypes) {
    static_assert(std::is_same_v<the0::state::InvalidKeyError, the0::InvalidKeyError>);
    static_assert(std::is_same_v<the0::state::ReadOnlyStateError, the0::ReadOnlyStateError>);
    static_assert(std::is_same_v<the0::query::ReadOnlyStateError, the0::ReadOnlyStateError>);
    static_assert(std::is_base_of_v<std::runtime_error, the0::Error>);
    static_assert(std::is_base_of_v<the0::Error, the0::InvalidKeyError>);
    static_assert(std::is_base_of_v<the0::Error, the0::ReadOnlyStateError>);
    static_assert(std::is_same_v<the0::QueryRequest, the0::query::Request>);
    the0::InvalidKeyError thrown_by_a_bot("mine");
    EXPECT_EQ(thrown_by_a_bot.status(), "INVALID_KEY");
    EXPECT_STREQ(thrown_by_a_bot.what(), "mine");
}

class ErrorStatus : public SdkTest {};

TEST_F(ErrorStatus, EachFailureCarriesTheCoresStatusAndMessage) {
    try {
        the0::state::get("a/b");
        FAIL() << "no exception";
    } catch (const the0::InvalidKeyError& e) {
        EXPECT_EQ(e.status(), "INVALID_KEY");
        EXPECT_STREQ(e.what(), R"(invalid state key "a/b": must not contain '/' or '\')");
    }
    set_env("BOT_CONFIG", "{}");
    try {
        the0::parse();
        FAIL() << "no exception";
    } catch (const the0::Error& e) {
        EXPECT_EQ(e.status(), "MISSING_ENV");
        EXPECT_STREQ(e.what(), "environment variable BOT_ID is not set");
    }
}

TEST_F(ErrorStatus, TextThatIsNotUtf8IsAnInvalidArgumentNamingIt) {
    try {
        the0::state::exists("bad\xff");
        FAIL() << "no exception";
    } catch (const the0::Error& e) {
        EXPECT_EQ(e.status(), "INVALID_ARGUMENT");
        EXPECT_EQ(std::string(e.what()).rfind("key is not valid UTF-8", 0), 0u) << e.what();
    }
}

}  // namespace
