using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;

namespace The0.Tests
{
    /// <summary>
    /// The environment rule: the core reads variables through .NET's view of the environment. On
    /// .NET 8, Environment.SetEnvironmentVariable does not reach the C library's getenv (on Mono it
    /// does); a variable set in-process must be honoured on both.
    /// </summary>
    public class EnvironmentTests : Scratch
    {
        [DllImport("libc", EntryPoint = "getenv")]
        private static extern IntPtr NativeGetenv(string name);

        [Test]
        public void TheNativeEnvironmentIsWhatTheRuntimeSaysItIs()
        {
            SetEnv("THE0_TEST_PROBE", "set-in-process");
            var native = Marshal.PtrToStringAnsi(NativeGetenv("THE0_TEST_PROBE"));
            // Proves the tests below mean something on .NET 8: getenv cannot see the value there.
            Assert.Equal(Runtime.IsMono ? "set-in-process" : null, native, "getenv on " + Runtime.Name);
        }

        [Test]
        public void StateDirSetInProcessIsWhereStateGoes()
        {
            var other = Path.Combine(Dir, "elsewhere");
            SetEnv("STATE_DIR", other);
            State.Set("where", "elsewhere");
            Assert.True(File.Exists(Path.Combine(other, "where.json")), "written under the STATE_DIR set in-process");
            Assert.Equal("where", string.Join(",", State.List()));
        }

        [Test]
        public void QueryPathSetInProcessMakesStateReadOnly()
        {
            SetEnv("QUERY_PATH", "/status");
            Assert.Equal("READ_ONLY", Assert.Throws<ReadOnlyStateError>(() => State.Set("k", 1)).Status);
            SetEnv("QUERY_PATH", null);
            State.Set("k", 1);
        }

        [Test]
        public void BotConfigSetInProcessIsParsed()
        {
            SetEnv("BOT_ID", "in-process");
            SetEnv("BOT_CONFIG", "{\"symbol\":\"in-process\"}");
            var (id, config) = Input.Parse();
            Assert.Equal("in-process", id);
            Assert.Equal("in-process", config["symbol"].GetValue<string>());
        }

        [Test]
        public void QueryPathSetInProcessSelectsEphemeralMode()
        {
            var result = Path.Combine(Dir, "result.json");
            using (var child = Runtime.Probe("RunWithQueryPathSetInProcess", new Dictionary<string, string>
                   { { "QUERY_PATH", null }, { "BOT_TYPE", null }, { "STATE_DIR", StateDir } }, result))
            {
                Assert.Equal(0, child.Wait(), "exit code (" + child.Stderr + ")");
            }
            Assert.Json("{\"status\":\"ok\",\"data\":{\"mode\":\"ephemeral\"}}", JsonNode.Parse(File.ReadAllText(result)));
        }

        [Probe]
        public static void RunWithQueryPathSetInProcess(string[] args)
        {
            Environment.SetEnvironmentVariable("QUERY_PATH", "/mode");
            Environment.SetEnvironmentVariable("THE0_QUERY_RESULT_FILE", args[0]);
            Query.Handler("/mode", req => new { mode = "ephemeral" });
            Query.Run();
        }
    }
}
