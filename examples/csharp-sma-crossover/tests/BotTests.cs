// The example bot end to end: real processes, real state files, queries over the result file, TCP
// on 127.0.0.1 and a Unix socket. Run by the SDK's test runner (sdk-csharp/tests/Runner.cs) with
// THE0_SMA_BUILD set to the folder build.sh made (and THE0_RUST_SMA_BOT to the Rust example's
// sma-bot for the byte-for-byte comparison).
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json.Nodes;

namespace The0.Tests
{
    public class BotTests : Scratch
    {
        private const string Crossing =
            "{\"symbol\":\"TEST\",\"short_period\":2,\"long_period\":3,\"ticks\":10,\"prices\":[10.0,10.0,10.0,5.0,5.0,5.0,20.0,20.0,20.0,5.0]}";

        private static string Build => Environment.GetEnvironmentVariable("THE0_SMA_BUILD");

        private string CodeDir => Path.Combine(Dir, "bot");

        private string ResultPath => Path.Combine(Dir, "query", "result.json");

        private Dictionary<string, string> Env(string config, params string[] pairs)
        {
            var env = new Dictionary<string, string>
            {
                { "BOT_ID", "sma-1" }, { "BOT_CONFIG", config }, { "STATE_DIR", StateDir },
                { "CODE_MOUNT_DIR", CodeDir.TrimStart('/') }, { "THE0_QUERY_RESULT_FILE", ResultPath },
                { "BOT_TYPE", null }, { "QUERY_PATH", null }, { "QUERY_PARAMS", null }, { "THE0_QUERY_SOCKET", null },
            };
            for (var i = 0; i < pairs.Length; i += 2) env[pairs[i]] = pairs[i + 1];
            return env;
        }

        private Child Bot(string config, params string[] env)
        {
            var child = Runtime.Start(Path.Combine(Build, "SmaBot.dll"), Env(config, env));
            child.Wait();
            return child;
        }

        private JsonNode Read(string path)
        {
            return JsonNode.Parse(File.ReadAllText(path));
        }

        [Test]
        public void AScheduledRunWritesStateMetricsAndAResultThenTheNextRunContinues()
        {
            var run = Bot(Crossing);
            Assert.Equal(0, run.Wait(), "exit code: " + run.Stderr);
            Assert.Json("{\"status\":\"success\",\"message\":\"processed 10 ticks, 2 signals so far\"}", Read(Path.Combine(CodeDir, "result.json")));
            var strategy = Read(Path.Combine(StateDir, "strategy.json"));
            Assert.Json("[2, 12.5, 15.0, \"below\"]", new JsonArray(strategy["signal_count"].DeepClone(),
                strategy["short_sma"].DeepClone(), strategy["long_sma"].DeepClone(), strategy["trend"].DeepClone()));
            Assert.Equal("BUY,SELL", string.Join(",", Read(Path.Combine(StateDir, "signals.json")).AsArray().Select(s => (string)s["side"])));
            var metrics = run.Stdout.Split('\n').Select(l => JsonNode.Parse(l)).ToList();
            Assert.Equal(10, metrics.Count(m => (string)m["_metric"] == "price"));
            Assert.Equal("BUY,SELL", string.Join(",", metrics.Where(m => (string)m["_metric"] == "signal").Select(m => (string)m["side"])));
            Assert.Equal("bot sma-1 starting at tick 0", (string)JsonNode.Parse(run.Stderr.Split('\n')[0])["message"]);

            Assert.Equal(0, Bot(Crossing).Wait(), "second run");
            strategy = Read(Path.Combine(StateDir, "strategy.json"));
            Assert.Equal(20L, strategy["tick"].GetValue<long>());
            Assert.Equal(6L, strategy["signal_count"].GetValue<long>());
            Assert.Equal("7,10,12,14,17,20", string.Join(",", Read(Path.Combine(StateDir, "signals.json")).AsArray().Select(s => (long)s["tick"])));
        }

        [Test]
        public void TheCSharpAndRustBotsWriteIdenticalState()
        {
            var rust = Environment.GetEnvironmentVariable("THE0_RUST_SMA_BOT");
            Assert.True(!string.IsNullOrEmpty(rust), "THE0_RUST_SMA_BOT names the Rust example's sma-bot");
            const string config = "{\"symbol\":\"BTC/USD\",\"short_period\":5,\"long_period\":20,\"ticks\":200,\"seed\":7}";
            Assert.Equal(0, Bot(config).Wait(), "C# bot");
            var rustDir = Path.Combine(Dir, "rust");
            var info = new System.Diagnostics.ProcessStartInfo(rust) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var pair in Env(config, "STATE_DIR", Path.Combine(rustDir, "state"), "CODE_MOUNT_DIR", Path.Combine(rustDir, "bot").TrimStart('/')))
            {
                if (pair.Value == null) info.EnvironmentVariables.Remove(pair.Key); else info.EnvironmentVariables[pair.Key] = pair.Value;
            }
            var child = new Child(System.Diagnostics.Process.Start(info));
            Assert.Equal(0, child.Wait(), "Rust bot: " + child.Stderr);
            foreach (var key in new[] { "strategy.json", "signals.json" })
            {
                Assert.Equal(File.ReadAllText(Path.Combine(rustDir, "state", key)), File.ReadAllText(Path.Combine(StateDir, key)), key);
            }
            Assert.Json(File.ReadAllText(Path.Combine(rustDir, "bot", "result.json")), Read(Path.Combine(CodeDir, "result.json")));
        }

        [Test]
        public void ABadConfigurationIsAnErrorResult()
        {
            Assert.Equal(1, Bot("{\"short_period\":20,\"long_period\":5}").Wait());
            Assert.Json("{\"status\":\"error\",\"message\":\"invalid configuration: short_period (20) must be less than long_period (5)\"}",
                Read(Path.Combine(CodeDir, "result.json")));
            Assert.True(!Directory.Exists(StateDir), "nothing written");
        }

        private (int, JsonNode) QueryOnce(string path, string queryParams)
        {
            using (var child = Runtime.Start(Path.Combine(Build, "SmaQuery.dll"), Env(Crossing, "QUERY_PATH", path, "QUERY_PARAMS", queryParams)))
            {
                var code = child.Wait();
                Assert.Equal("", child.Stdout);
                return (code, Read(ResultPath));
            }
        }

        [Test]
        public void EphemeralAndInfoQueriesReadTheState()
        {
            Assert.Equal(0, Bot(Crossing).Wait());
            var (code, status) = QueryOnce("/status", "{}");
            Assert.Equal(0, code);
            Assert.Json("{\"status\":\"ok\",\"data\":{\"symbol\":\"TEST\",\"tick\":10,\"price\":5.0,\"short_sma\":12.5,\"long_sma\":15.0,\"trend\":\"below\",\"signal_count\":2}}", status);
            var signals = QueryOnce("/signals", "{\"limit\":1}").Item2;
            Assert.Json("{\"signals\":[{\"tick\":10,\"side\":\"SELL\",\"price\":5.0,\"short_sma\":12.5,\"long_sma\":15.0}],\"count\":2}", signals["data"]);
            var (bad, error) = QueryOnce("/signals", "{\"limit\":\"many\"}");
            Assert.Equal(1, bad);
            Assert.Json("{\"status\":\"error\",\"error\":\"limit must be a positive integer, got \\\"many\\\"\"}", error);
            using (var info = Runtime.Start(Path.Combine(Build, "SmaQuery.dll"), Env(Crossing)))
            {
                Assert.Equal(0, info.Wait());
            }
            Assert.Json("{\"status\":\"ok\",\"data\":{\"available_queries\":[\"/health\",\"/info\",\"/signals\",\"/status\"]}}", Read(ResultPath));
        }

        [Test]
        public void TheQueryServerAnswersOverTcpAndAUnixSocket()
        {
            Assert.Equal(0, Bot(Crossing).Wait());
            var socket = Path.Combine(Dir, "run", "q.sock");
            foreach (var listen in new[] { new[] { "THE0_QUERY_HOST", "127.0.0.1", "THE0_QUERY_PORT", "0" }, new[] { "THE0_QUERY_SOCKET", socket } })
            {
                using (var server = Runtime.Start(Path.Combine(Build, "SmaQuery.dll"), Env(Crossing, new[] { "BOT_TYPE", "realtime" }.Concat(listen).ToArray())))
                {
                    var message = (string)JsonNode.Parse(server.WaitForStderr("Query server started on "))["message"];
                    var target = message.Substring("Query server started on ".Length);
                    var answer = Http.Request(target, "GET", "/status");
                    Assert.Equal(200, answer.Status);
                    Assert.Equal(10L, answer.Body["data"]["tick"].GetValue<long>());
                    var limited = Http.Request(target, "POST", "/signals", "{\"limit\": 1}");
                    Assert.Equal(1, limited.Body["data"]["signals"].AsArray().Count);
                    server.Signal("TERM");
                    Assert.Equal(0, server.Wait(), "exit code after SIGTERM");
                }
            }
        }
    }
}
