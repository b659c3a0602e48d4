// The environment rule: C++ reads and writes the C environment (getenv / setenv), and the core
// reads that same environment at every call — nothing is cached when the library loads.

#include <cstdlib>
#include <filesystem>

#include <the0/state.h>
#include <the0/the0.h>

#include "support.h"

namespace {

using json = nlohmann::json;
using the0_test::SdkTest;

class Environment : public SdkTest {};

TEST_F(Environment, SetenvIsSeenByTheNextCall) {
    the0::state::set("k", 1);
    std::string elsewhere = dir / "elsewhere";
    ::setenv("STATE_DIR", elsewhere.c_str(), 1);
    EXPECT_EQ(the0::state::get("k"), std::nullopt);
    the0::state::set("k", 2);
    EXPECT_TRUE(std::filesystem::exists(elsewhere + "/k.json"));
    ::setenv("STATE_DIR", state_dir.c_str(), 1);
    EXPECT_EQ(the0::state::get("k"), json(1));
}

TEST_F(Environment, TheReadOnlyGuardFollowsQueryPath) {
    ::setenv("QUERY_PATH", "/status", 1);
    EXPECT_THROW(the0::state::set("k", 1), the0::ReadOnlyStateError);
    ::unsetenv("QUERY_PATH");
    the0::state::set("k", 1);
    EXPECT_EQ(the0::state::get("k"), json(1));
}

TEST_F(Environment, ParseAndTheResultFileReadTheCurrentValues) {
    ::setenv("BOT_CONFIG", "{}", 1);
    ::setenv("BOT_ID", "first", 1);
    EXPECT_EQ(the0::parse().first, "first");
    ::setenv("BOT_ID", "second", 1);
    EXPECT_EQ(the0::parse().first, "second");
    std::filesystem::create_directories(dir / "mount");
    ::setenv("CODE_MOUNT_DIR", (dir / "mount").c_str() + 1, 1);
    the0::success("here");
    EXPECT_TRUE(std::filesystem::exists(dir / "mount/result.json"));
}

}  // namespace
