// The exceptions: one type per kind of failure the core reports, under upstream's names too.

#include <type_traits>

#include <the0/query.h>
#include <the0/state.h>
#include <the0/the0.h>

#include "support.h"

namespace {

using the0_test::Failure;
using the0_test::failure_of;
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
    EXPECT_THROW(the0::state::get("a/b"), the0::InvalidKeyError);
    EXPECT_EQ(failure_of([] { the0::state::get("a/b"); }),
              (Failure{"INVALID_KEY", R"x(invalid state key "a/b": must not contain a path separator ('/' or '\'))x"}));
    set_env("BOT_CONFIG", "{}");
    EXPECT_EQ(failure_of([] { the0::parse(); }), (Failure{"MISSING_ENV", "environment variable BOT_ID is not set"}));
}

TEST_F(ErrorStatus, TextThatIsNotUtf8IsAnInvalidArgumentNamingIt) {
    Failure failure = failure_of([] { the0::state::exists("bad\xff"); });
    EXPECT_EQ(failure.status, "INVALID_ARGUMENT");
    EXPECT_TRUE(failure.starts_with("key is not valid UTF-8")) << failure;
}

}  // namespace
