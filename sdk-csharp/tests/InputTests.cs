using System;
using System.Collections.Generic;
using System.IO;
using System.Text.Json.Nodes;

namespace The0.Tests
{
    /// <summary>Parse, the result file, metric and log lines (written through .NET's Console).</summary>
    public class InputTests : Scratch
    {
        private readonly TextWriter originalOut = Console.Out;
        private readonly TextWriter originalError = Console.Error;
        private readonly StringWriter stdout = new StringWriter();
        private readonly StringWriter stderr = new StringWriter();

        public InputTests()
        {
            Console.SetOut(stdout);
            Console.SetError(stderr);
        }

        public override void Dispose()
        {
            Console.SetOut(originalOut);
            Console.SetError(originalError);
            base.Dispose();
        }

        private static JsonNode Line(StringWriter writer)
        {
            var text = writer.ToString();
            Assert.True(text.EndsWith("\n"), "one line: " + text);
            Assert.Equal(1, text.Split('\n').Length - 1, "lines in " + text);
            return JsonNode.Parse(text);
        }

        private string ResultFile()
        {
            return File.ReadAllText(Path.Combine(Dir, "bot", "result.json"));
        }

        [Test]
        public void ParseReturnsTheIdAndConfig()
        {
            SetEnv("BOT_ID", "test-bot-123");
            SetEnv("BOT_CONFIG", "{\"symbol\":\"BTC/USD\",\"n\":3}");
            var (botId, config) = Input.Parse();
            Assert.Equal("test-bot-123", botId);
            Assert.Equal("BTC/USD", config["symbol"].GetValue<string>());
            Assert.Equal(3, config["n"].GetValue<int>());
            var dict = Input.ParseAsDict();
            Assert.Equal(3, dict.Config["n"].GetValue<int>());
            Assert.Equal(null, dict.Config["n"].Parent);
        }

        [Test]
        public void ParseFailuresAreInvalidOperationExceptions()
        {
            SetEnv("BOT_CONFIG", "{}");
            Assert.Failure<InvalidOperationException>(() => Input.Parse(), "MISSING_ENV", "environment variable BOT_ID is not set");
            SetEnv("BOT_ID", "b");
            SetEnv("BOT_CONFIG", null);
            Assert.Failure<InvalidOperationException>(() => Input.Parse(), "MISSING_ENV", "environment variable BOT_CONFIG is not set");
            SetEnv("BOT_CONFIG", "symbol=BTC");
            Assert.Failure<InvalidOperationException>(() => Input.Parse(), "INVALID_JSON",
                "BOT_CONFIG is not valid JSON: expected value at line 1 column 1");
            SetEnv("BOT_CONFIG", "[1, 2]");
            Assert.Equal("INVALID_JSON", Assert.Throws<The0ConfigurationException>(() => Input.ParseAsDict()).Status);
        }

        [Test]
        public void MetricLinesGoToStdout()
        {
            Input.Metric("trade", new { symbol = "ETH", amount = 1.5, _metric = "x" });
            var line = Line(stdout);
            Assert.Equal("trade", line["_metric"].GetValue<string>());
            Assert.Equal("ETH", line["symbol"].GetValue<string>());
            Assert.Equal(1.5, line["amount"].GetValue<double>());
            Assert.True(System.Text.RegularExpressions.Regex.IsMatch(line["timestamp"].GetValue<string>(),
                @"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"), "RFC 3339 UTC with milliseconds");
            Assert.Equal("", stderr.ToString());
        }

        [Test]
        public void MetricDataThatIsNotAnObjectGoesUnderData()
        {
            Input.Metric("count", 7);
            Assert.Equal(7, Line(stdout)["data"].GetValue<int>());
        }

        [Test]
        public void LogLinesGoToStderrWithLevels()
        {
            Input.Log("Test \"quotes\" C:\\Users");
            var line = Line(stderr);
            Assert.Equal("info", line["level"].GetValue<string>());
            Assert.Equal("Test \"quotes\" C:\\Users", line["message"].GetValue<string>());
            Assert.Equal("", stdout.ToString());
            stderr.GetStringBuilder().Clear();
            Input.Log("Order failed", new { order_id = "12345", level = "bogus" }, LogLevel.Error);
            line = Line(stderr);
            Assert.Equal("error", line["level"].GetValue<string>());
            Assert.Equal("12345", line["order_id"].GetValue<string>());
            stderr.GetStringBuilder().Clear();
            Input.Log("Warning", LogLevel.Warn);
            Assert.Equal("warn", Line(stderr)["level"].GetValue<string>());
            stderr.GetStringBuilder().Clear();
            Input.Log("w", null, "Warning");
            Assert.Equal("warn", Line(stderr)["level"].GetValue<string>());
            Assert.Failure<ArgumentException>(() => Input.Log("m", null, "loud"), "INVALID_ARGUMENT",
                "unknown log level \"loud\": expected info, warn or error");
        }

        [Test]
        public void SuccessAndResultWriteTheResultFile()
        {
            SetEnv("CODE_MOUNT_DIR", Path.Combine(Dir, "bot"));
            Input.Success("all \"good\"\n");
            Assert.Json("{\"status\":\"success\",\"message\":\"all \\\"good\\\"\\n\"}", JsonNode.Parse(ResultFile()));
            Input.Success("done", new { trades = 2 });
            Assert.Json("{\"status\":\"success\",\"message\":\"done\",\"data\":{\"trades\":2}}", JsonNode.Parse(ResultFile()));
            Input.Result(new { status = "success", pnl = 1.5, items = new[] { "a", "b" } });
            Assert.Json("{\"status\":\"success\",\"pnl\":1.5,\"items\":[\"a\",\"b\"]}", JsonNode.Parse(ResultFile()));
            Assert.Equal("", stdout.ToString());
        }

        [Test]
        public void UnserializableDataIsReportedByTheCore()
        {
            Assert.Failure<The0Exception>(() => Input.Metric("m", new { x = double.NaN }), "INVALID_JSON",
                "metric data cannot be serialized: .NET number values such as positive and negative infinity cannot be written as valid JSON.");
            Assert.Equal("", stdout.ToString());
        }

        [Test]
        public void ErrorWritesTheResultFileAndExits1()
        {
            var child = Runtime.Probe("ReportError", new Dictionary<string, string> { { "CODE_MOUNT_DIR", Path.Combine(Dir, "bot") } });
            Assert.Equal(1, child.Wait(), "exit code");
            Assert.Json("{\"status\":\"error\",\"message\":\"échec: no data\"}", JsonNode.Parse(ResultFile()));
            Assert.Equal("", child.Stdout);
        }

        [Probe]
        public static void ReportError(string[] args)
        {
            Input.Error("échec: no data");
            Console.WriteLine("not reached");
        }
    }
}
