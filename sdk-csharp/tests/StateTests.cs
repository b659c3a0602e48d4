using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json.Nodes;

namespace The0.Tests
{
    public class Holding
    {
        public string Symbol { get; set; } = "";
        public int Quantity { get; set; }
        public double Price { get; set; }
    }

    /// <summary>State through the core: values, files on disk, key rules, the read-only guard.</summary>
    public class StateTests : Scratch
    {
        [Test]
        public void ValuesRoundTripAndLandAsCanonicalFiles()
        {
            State.Set("portfolio", new Dictionary<string, int> { { "AAPL", 100 }, { "GOOGL", 50 } });
            State.Set("prices", new[] { 45000.5, 45100.0, 45050.25 });
            State.Set("count", 42);
            State.Set("symbol", "BTC/USD");
            State.Set("active", true);
            Assert.Equal(100, State.Get<Dictionary<string, int>>("portfolio")["AAPL"]);
            Assert.Equal(45050.25, State.Get<double[]>("prices")[2]);
            Assert.Equal(42, State.Get<int>("count"));
            Assert.Equal("BTC/USD", State.Get<string>("symbol"));
            Assert.True(State.Get<bool>("active"), "active is true");
            Assert.Equal("{\"AAPL\":100,\"GOOGL\":50}", StateFile("portfolio"));
            Assert.Equal("[45000.5,45100.0,45050.25]", StateFile("prices"));
            Assert.Equal("\"BTC/USD\"", StateFile("symbol"));
        }

        [Test]
        public void ObjectsKeepTheirPropertyNamesAndReadBackCaseInsensitively()
        {
            State.Set("holding", new Holding { Symbol = "AAPL", Quantity = 3, Price = 1.5 });
            var text = StateFile("holding");
            Assert.Contains("\"Symbol\":\"AAPL\"", text);
            Assert.Contains("\"Quantity\":3", text);
            // State written by upstream's SDK (camelCase) still reads into the same class.
            State.SetJson("upstream", "{\"symbol\":\"MSFT\",\"quantity\":7,\"price\":2.25}");
            var holding = State.Get<Holding>("upstream");
            Assert.Equal("MSFT", holding.Symbol);
            Assert.Equal(7, holding.Quantity);
            var anonymous = new { symbol = "ETH", qty = 2 };
            State.Set("anon", anonymous);
            Assert.Equal("{\"symbol\":\"ETH\",\"qty\":2}", StateFile("anon"));
        }

        [Test]
        public void MissingKeysGiveTheDefault()
        {
            Assert.Equal(null, State.Get<string>("nonexistent"));
            Assert.Equal(0, State.Get<int>("nonexistent"));
            Assert.Equal("default", State.Get("nonexistent", "default"));
            Assert.Equal(true, State.Get("nonexistent", new Dictionary<string, bool> { { "default", true } })["default"]);
            Assert.Equal(null, State.GetJson("nonexistent"));
            State.Set("key", "actual");
            Assert.Equal("actual", State.Get("key", "default"));
        }

        [Test]
        public void ExistsDeleteListClear()
        {
            Assert.Equal(0, State.List().Count);
            State.Set("b", 1);
            State.Set("a", 2);
            State.Set("c", 3);
            Assert.True(State.Exists("a"), "a exists");
            Assert.Equal("a,b,c", string.Join(",", State.List()));
            Assert.True(State.Delete("b"), "b existed");
            Assert.True(!State.Delete("b"), "b is gone");
            Assert.True(!State.Exists("b"), "b does not exist");
            File.WriteAllText(Path.Combine(StateDir, ".tmp-partial.json"), "{");
            Assert.Equal("a,c", string.Join(",", State.List()));
            State.Clear();
            Assert.Equal(0, State.List().Count);
            State.Clear();
        }

        [Test]
        public void KeyRulesAreTheCoresWithItsMessages()
        {
            Assert.Failure<ArgumentException>(() => State.Get<string>(""), "INVALID_KEY", "invalid state key \"\": must not be empty");
            Assert.Failure<ArgumentException>(() => State.Set("../escape", "evil"), "INVALID_KEY",
                "invalid state key \"../escape\": must not contain a path separator ('/' or '\\')");
            Assert.Failure<ArgumentException>(() => State.Set("..\\escape", "evil"), "INVALID_KEY",
                "invalid state key \"..\\\\escape\": must not contain a path separator ('/' or '\\')");
            Assert.Failure<ArgumentException>(() => State.Set("..", "evil"), "INVALID_KEY", "invalid state key \"..\": must not contain '..' (path traversal)");
            Assert.Failure<ArgumentException>(() => State.Exists(".hidden"), "INVALID_KEY",
                "invalid state key \".hidden\": must not start with '.'");
            var e = Assert.Throws<The0ArgumentException>(() => State.Delete(new string('k', 201)));
            Assert.Equal("INVALID_KEY", e.Status);
            Assert.Contains("at most 200 bytes", e.Message);
            Assert.Equal("INVALID_KEY", Assert.Throws<The0ArgumentException>(() => State.Set("tab\tkey", 1)).Status);
            Assert.Failure<ArgumentException>(() => State.Set("nul\0key", 1), "INVALID_ARGUMENT",
                "the key contains a NUL character, which cannot be passed to the the0 core");
            Assert.Equal("INVALID_ARGUMENT", Assert.Throws<The0ArgumentException>(() => State.Get<int>(null)).Status);
            Assert.Equal(0, State.List().Count);
        }

        [Test]
        public void UnicodeKeysAndValuesAreUtf8OnDisk()
        {
            State.Set("prix_€", "café ☕ 😀 \"q\" \\ \n\t \u0001");
            Assert.Equal("café ☕ 😀 \"q\" \\ \n\t \u0001", State.Get<string>("prix_€"));
            Assert.Equal("\"café ☕ 😀 \\\"q\\\" \\\\ \\n\\t \\u0001\"", StateFile("prix_€"));
            Assert.Equal("prix_€", State.List().Single());
        }

        [Test]
        public void BigIntegersAndLongDecimalsAreStoredAsWritten()
        {
            State.Set("big", JsonNode.Parse("123456789012345678901234567890"));
            Assert.Equal("123456789012345678901234567890", StateFile("big"));
            Assert.Equal("123456789012345678901234567890", State.Get<JsonNode>("big").ToJsonString());
            State.Set("d", JsonNode.Parse("{\"px\": 0.10000000000000000001}"));
            Assert.Equal("{\"px\":0.10000000000000000001}", StateFile("d"));
            State.Set("long", long.MaxValue);
            Assert.Equal(long.MaxValue, State.Get<long>("long"));
            State.SetJson("n", "[1E+2, 2.50, -0.0, 1e-3]");
            Assert.Equal("[100.0,2.5,-0.0,0.001]", StateFile("n"));
        }

        [Test]
        public void ReadOnlyGuardWhileServingQueries()
        {
            State.Set("key", "value");
            SetEnv("QUERY_PATH", "/status");
            Assert.Failure<ReadOnlyStateError>(() => State.Set("key", "other"), "READ_ONLY",
                "state is read-only while this process serves queries: set(\"key\") refused");
            Assert.Equal("READ_ONLY", Assert.Throws<ReadOnlyStateError>(() => State.Delete("key")).Status);
            Assert.Equal("READ_ONLY", Assert.Throws<ReadOnlyStateError>(() => State.Clear()).Status);
            // Read-only comes before the key rules, as in every SDK.
            Assert.Equal("READ_ONLY", Assert.Throws<ReadOnlyStateError>(() => State.Set("../x", 1)).Status);
            Assert.Equal("value", State.Get<string>("key"));
            Assert.True(State.Exists("key"), "reads are allowed");
            Assert.Equal(1, State.List().Count);
            Assert.Equal("\"value\"", StateFile("key"));
        }

        [Test]
        public void CorruptFilesAndValuesThatDoNotFitAreErrors()
        {
            Directory.CreateDirectory(StateDir);
            File.WriteAllText(Path.Combine(StateDir, "bad.json"), "{not json");
            var e = Assert.Throws<The0Exception>(() => State.Get<int>("bad"));
            Assert.Equal("CORRUPT_STATE", e.Status);
            Assert.Contains("\"bad\"", e.Message);
            State.Set("text", "hello");
            var wrong = Assert.Throws<The0Exception>(() => State.Get<int>("text"));
            Assert.Equal("INVALID_JSON", wrong.Status);
            Assert.Contains("state key \"text\"", wrong.Message);
        }

        [Test]
        public void UnserializableValuesAreReportedByTheCore()
        {
            Assert.Failure<The0Exception>(() => State.Set("x", double.NaN), "INVALID_JSON",
                "value for state key \"x\" cannot be serialized: .NET number values such as positive and negative infinity cannot be written as valid JSON.");
            Assert.Failure<The0Exception>(() => State.SetJson("x", "{nope"), "INVALID_JSON",
                "value for state key \"x\" is not valid JSON: key must be a string at line 1 column 2");
            var e = Assert.Throws<ArgumentException>(() => State.Set("bad/key", double.PositiveInfinity));
            Assert.Equal("INVALID_KEY", ((IThe0Error)e).Status);
            Assert.True(!State.Exists("x"), "nothing written");
        }
    }
}
