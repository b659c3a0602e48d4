using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json.Nodes;
using System.Threading;

namespace The0.Tests
{
    /// <summary>Query modes through the core: ephemeral result file and exit codes, info mode,
    /// the server over TCP and over a Unix socket, body parameters, 404/500/504, signals.</summary>
    public class QueryTests : Scratch
    {
        private string ResultPath => Path.Combine(Dir, "query", "result.json");

        private Dictionary<string, string> Env(params string[] pairs)
        {
            var env = new Dictionary<string, string>
            {
                { "STATE_DIR", StateDir },
                { "THE0_QUERY_RESULT_FILE", ResultPath },
                { "QUERY_PATH", null },
                { "QUERY_PARAMS", null },
                { "BOT_TYPE", null },
                { "BOT_CONFIG", "{\"symbol\":\"ETH/USD\"}" },
                { "THE0_QUERY_SOCKET", null },
            };
            for (var i = 0; i < pairs.Length; i += 2)
            {
                env[pairs[i]] = pairs[i + 1];
            }
            return env;
        }

        private JsonNode Ephemeral(int exitCode, params string[] env)
        {
            using (var child = Runtime.Probe("Serve", Env(env)))
            {
                Assert.Equal(exitCode, child.Wait(), "exit code (stderr: " + child.Stderr + ")");
                Assert.Equal("", child.Stdout, "stdout");
                return JsonNode.Parse(File.ReadAllText(ResultPath));
            }
        }

        [Test]
        public void EphemeralAnswersWithTypedAndStringParams()
        {
            State.Set("position", new { qty = 1.5 });
            var result = Ephemeral(0, "QUERY_PATH", "/echo", "QUERY_PARAMS", "{\"n\":5,\"s\":\"x\",\"deep\":{\"a\":[1]}}");
            Assert.Json("{\"status\":\"ok\",\"data\":{\"path\":\"/echo\",\"typed\":{\"n\":5,\"s\":\"x\",\"deep\":{\"a\":[1]}}," +
                        "\"strings\":{\"deep\":\"{\\\"a\\\":[1]}\",\"n\":\"5\",\"s\":\"x\"},\"n\":5,\"params\":{\"deep\":\"{\\\"a\\\":[1]}\",\"n\":\"5\",\"s\":\"x\"}}}", result);
            result = Ephemeral(0, "QUERY_PATH", "/state", "QUERY_PARAMS", "{\"key\":\"position\"}");
            Assert.Json("{\"status\":\"ok\",\"data\":{\"key\":\"position\",\"exists\":true,\"value\":{\"qty\":1.5}}}", result);
        }

        [Test]
        public void EphemeralFailuresExit1()
        {
            Assert.Json("{\"status\":\"error\",\"error\":\"deliberate failure\"}", Ephemeral(1, "QUERY_PATH", "/fail"));
            var missing = Ephemeral(1, "QUERY_PATH", "/nope");
            Assert.Equal("No handler for path: /nope", missing["error"].GetValue<string>());
            Assert.True(missing["available"].AsArray().Any(p => p.GetValue<string>() == "/echo"), "available lists /echo");
        }

        [Test]
        public void EphemeralWritesAreRefused()
        {
            var result = Ephemeral(0, "QUERY_PATH", "/write", "QUERY_PARAMS", "{\"key\":\"k\",\"value\":\"1\"}");
            Assert.Equal(false, result["data"]["written"].GetValue<bool>());
            Assert.Equal("READ_ONLY", result["data"]["error"]["status"].GetValue<string>());
            Assert.True(!State.Exists("k"), "nothing written");
        }

        [Test]
        public void EphemeralTimeoutAnswers504AndExits()
        {
            var result = Ephemeral(1, "QUERY_PATH", "/sleep", "QUERY_PARAMS", "{\"ms\":\"60000\"}", "THE0_QUERY_TIMEOUT_MS", "300");
            Assert.Equal("error", result["status"].GetValue<string>());
            Assert.Contains("timed out", result["error"].GetValue<string>());
        }

        [Test]
        public void InfoModeListsTheQueries()
        {
            var result = Ephemeral(0);
            Assert.Equal("ok", result["status"].GetValue<string>());
            var paths = result["data"]["available_queries"].AsArray().Select(p => p.GetValue<string>()).ToList();
            Assert.True(paths.Contains("/echo") && paths.Contains("/health"), "paths: " + string.Join(",", paths));
        }

        [Test]
        public void ServerOverTcp()
        {
            using (var child = Runtime.Probe("Serve", Env("BOT_TYPE", "realtime", "THE0_QUERY_HOST", "127.0.0.1",
                       "THE0_QUERY_PORT", "0", "THE0_QUERY_TIMEOUT_MS", "2000", "THE0_QUERY_WORKERS", "4")))
            {
                var target = Address(child);
                // Handlers run on several threads: four requests that each wait for all four meet.
                // (First: CheckServer leaves a worker busy with a handler given up on.)
                var met = new Response[4];
                var clients = Enumerable.Range(0, 4).Select(i => new Thread(() => met[i] = Http.Request(target, "GET", "/barrier"))).ToList();
                clients.ForEach(t => t.Start());
                clients.ForEach(t => t.Join());
                Assert.True(met.All(r => r.Status == 200 && r.Body["data"]["met"].GetValue<bool>()),
                    "four handlers ran at once: " + string.Join(" ", met.Select(r => r.Text)));
                CheckServer(target);
                child.Signal("TERM");
                Assert.Equal(0, child.Wait(), "exit code after SIGTERM");
            }
        }

        [Test]
        public void ServerOverUnixSocket()
        {
            var socket = Path.Combine(Dir, "run", "query.sock");
            using (var child = Runtime.Probe("Serve", Env("BOT_TYPE", "realtime", "THE0_QUERY_SOCKET", socket,
                       "THE0_QUERY_TIMEOUT_MS", "500")))
            {
                var target = Address(child);
                Assert.Equal("unix:" + socket, target);
                CheckServer(target);
                child.Signal("INT");
                Assert.Equal(0, child.Wait(), "exit code after SIGINT");
                Assert.True(!File.Exists(socket), "socket removed");
            }
        }

        private static string Address(Child child)
        {
            var line = JsonNode.Parse(child.WaitForStderr("Query server started on "));
            return line["message"].GetValue<string>().Substring("Query server started on ".Length);
        }

        private void CheckServer(string target)
        {
            var echo = Http.Request(target, "GET", "/echo?symbol=BTC%2FUSD&n=5");
            Assert.Equal(200, echo.Status);
            Assert.Json("{\"symbol\":\"BTC/USD\",\"n\":\"5\"}", echo.Body["data"]["typed"]);
            var body = Http.Request(target, "POST", "/echo", "{\"n\":5,\"b\":true,\"s\":\"x\"}");
            Assert.Equal(200, body.Status);
            Assert.Json("{\"n\":5,\"b\":true,\"s\":\"x\"}", body.Body["data"]["typed"]);
            Assert.Json("{\"b\":\"true\",\"n\":\"5\",\"s\":\"x\"}", body.Body["data"]["strings"]);
            Assert.Equal(5, body.Body["data"]["n"].GetValue<int>());
            var missing = Http.Request(target, "GET", "/nope");
            Assert.Equal(404, missing.Status);
            Assert.Equal("No handler for path: /nope", missing.Body["error"].GetValue<string>());
            var failed = Http.Request(target, "GET", "/fail");
            Assert.Equal(500, failed.Status);
            Assert.Json("{\"status\":\"error\",\"error\":\"deliberate failure\"}", failed.Body);
            var unserializable = Http.Request(target, "GET", "/nan");
            Assert.Equal(500, unserializable.Status);
            Assert.Contains("handler result cannot be serialized", unserializable.Body["error"].GetValue<string>());
            var slow = Http.Request(target, "GET", "/sleep?ms=5000");
            Assert.Equal(504, slow.Status);
            Assert.Equal("error", slow.Body["status"].GetValue<string>());
            var write = Http.Request(target, "GET", "/write?key=k&value=1");
            Assert.Equal("READ_ONLY", write.Body["data"]["error"]["status"].GetValue<string>());
            Assert.Json("{\"symbol\":\"ETH/USD\"}", Http.Request(target, "GET", "/config").Body["data"]);
            Assert.Json("{\"status\":\"ok\",\"data\":{\"status\":\"ok\"}}", Http.Request(target, "GET", "/health").Body);
        }

        [Test]
        public void RequestAccessors()
        {
            var request = new Query.QueryRequest("/test", new Dictionary<string, string> { { "symbol", "BTC/USD" }, { "n", "5" } });
            Assert.Equal("BTC/USD", request.Get("symbol"));
            Assert.Equal(null, request.Get("missing"));
            Assert.Equal("default", request.Get("missing", "default"));
            Assert.Equal("5", request.GetValue<string>("n"));
            Assert.Equal(7, request.GetValue("missing", 7));
            Assert.Equal("Test", new Query.ReadOnlyStateError("Test").Message);
            Assert.True(new Query.ReadOnlyStateError("Test") is ReadOnlyStateError, "a The0.ReadOnlyStateError");
        }

        [Test]
        public void ParamsConfigAndModeOutsideAHandlerFollowTheEnvironment()
        {
            Assert.Equal(0, Query.GetParams().Count);
            Assert.True(!Query.IsQueryMode(), "not in query mode");
            Assert.Json("{}", Query.GetConfig());
            SetEnv("BOT_CONFIG", "{\"symbol\":\"SOL\"}");
            Assert.Json("{\"symbol\":\"SOL\"}", Query.GetConfig());
            SetEnv("QUERY_PATH", "/status");
            SetEnv("QUERY_PARAMS", "{\"limit\":3,\"side\":\"buy\"}");
            Assert.True(Query.IsQueryMode(), "QUERY_PATH set in-process");
            var parameters = Query.GetParams();
            Assert.Equal("3", parameters["limit"]);
            Assert.Equal("buy", parameters["side"]);
            SetEnv("QUERY_PATH", "");
            Assert.True(!Query.IsQueryMode(), "an empty QUERY_PATH is not query mode");
        }

        [Test]
        public void HandlerPathsAreCheckedByTheCore()
        {
            Assert.Equal("INVALID_ARGUMENT", Assert.Throws<The0ArgumentException>(() => Query.Handler("", r => null)).Status);
            Assert.Throws<ArgumentNullException>(() => Query.Handler("/x", null));
        }

        /// <summary>A query process with the handlers the tests call.</summary>
        [Probe]
        public static void Serve(string[] args)
        {
            Query.Handler("/echo", req => new
            {
                path = req.Path,
                typed = req.TypedParams,
                strings = new SortedDictionary<string, string>(req.Params),
                n = req.GetValue("n", 0),
                @params = new SortedDictionary<string, string>(Query.GetParams()),
            });
            var barrier = new CountdownEvent(4);
            Query.Handler("/barrier", req =>
            {
                barrier.Signal();
                return new { met = barrier.Wait(10000) };
            });
            Query.Handler("/fail", req => { throw new InvalidOperationException("deliberate failure"); });
            Query.Handler("/nan", req => new { x = double.NaN });
            Query.Handler("/sleep", req =>
            {
                var ms = int.Parse(req.Get("ms", "0"));
                Thread.Sleep(ms);
                return new { slept_ms = ms };
            });
            Query.Handler("state", req =>
            {
                var key = req.Get("key", "");
                var json = State.GetJson(key);
                return new { key, exists = json != null, value = json == null ? null : JsonNode.Parse(json) };
            });
            Query.Handler("/write", req =>
            {
                try
                {
                    State.SetJson(req.Get("key", ""), req.Get("value", "null"));
                    return (object)new { written = true };
                }
                catch (Exception e)
                {
                    return new { written = false, error = new { status = ((IThe0Error)e).Status, message = e.Message } };
                }
            });
            Query.Handler("/config", req => Query.GetConfig());
            Query.Run();
        }
    }
}
