// A moving-average crossover strategy, shared by the bot (Bot.cs) and its queries (Queries.cs).
//
// Each tick the bot takes one price, keeps the last long_period prices, and compares the short and
// long simple moving averages. When the short average crosses above the long one it records a BUY
// signal, when it crosses below a SELL signal.
//
// State lives in two keys. "strategy" is one consistent snapshot (prices, averages, trend, signal
// count), written in one atomic write per tick so a reader never sees averages from one tick and a
// count from another. "signals" is the bounded history of signals. The shapes (and so the bytes on
// disk) are those of the Rust and Python examples: the snapshot is built as a JsonObject, in their
// member order and with their snake_case names.
using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json.Nodes;
using The0;

namespace SmaCrossover
{
    /// <summary>The bot's configuration (BOT_CONFIG); see bot-schema.json.</summary>
    public sealed class Config
    {
        public string Symbol = "BTC/USD";
        public int ShortPeriod = 5;
        public int LongPeriod = 20;
        public int Ticks = 50;
        public int TickIntervalMs = 0;
        public List<double> Prices = new List<double>();
        public ulong Seed = 42;
        public double StartPrice = 100.0;

        /// <summary>The configuration in <paramref name="raw"/>.</summary>
        /// <exception cref="ArgumentException">An unknown field or an invalid value.</exception>
        public static Config FromJson(JsonNode raw)
        {
            var config = new Config();
            foreach (var field in (raw ?? new JsonObject()).AsObject())
            {
                var value = field.Value;
                switch (field.Key)
                {
                    case "symbol": config.Symbol = value.GetValue<string>(); break;
                    case "short_period": config.ShortPeriod = value.GetValue<int>(); break;
                    case "long_period": config.LongPeriod = value.GetValue<int>(); break;
                    case "ticks": config.Ticks = value.GetValue<int>(); break;
                    case "tick_interval_ms": config.TickIntervalMs = value.GetValue<int>(); break;
                    case "prices": config.Prices = value.AsArray().Select(p => p.GetValue<double>()).ToList(); break;
                    case "seed": config.Seed = value.GetValue<ulong>(); break;
                    case "start_price": config.StartPrice = value.GetValue<double>(); break;
                    default: throw new ArgumentException("unknown field '" + field.Key + "'");
                }
            }
            if (config.ShortPeriod < 1)
            {
                throw new ArgumentException("short_period must be at least 1");
            }
            if (config.ShortPeriod >= config.LongPeriod)
            {
                throw new ArgumentException("short_period (" + config.ShortPeriod + ") must be less than long_period (" +
                                            config.LongPeriod + ")");
            }
            if (config.Prices.Any(p => p <= 0))
            {
                throw new ArgumentException("prices must be positive numbers");
            }
            return config;
        }
    }

    /// <summary>The snapshot stored under "strategy".</summary>
    public sealed class Strategy
    {
        public const string Key = "strategy";
        public const string SignalsKey = "signals";
        public const int MaxSignals = 50;

        public long Tick;
        public List<double> Prices = new List<double>();
        public double? ShortSma;
        public double? LongSma;
        public string Trend; // "above" | "below"
        public long SignalCount;

        public static Strategy Load()
        {
            var raw = State.Get<JsonNode>(Key);
            if (raw == null)
            {
                return new Strategy();
            }
            return new Strategy
            {
                Tick = raw["tick"].GetValue<long>(),
                Prices = raw["prices"].AsArray().Select(p => p.GetValue<double>()).ToList(),
                ShortSma = (double?)raw["short_sma"],
                LongSma = (double?)raw["long_sma"],
                Trend = (string)raw["trend"],
                SignalCount = raw["signal_count"].GetValue<long>(),
            };
        }

        public void Save()
        {
            State.Set(Key, new JsonObject
            {
                ["tick"] = Tick,
                ["prices"] = new JsonArray(Prices.Select(p => (JsonNode)p).ToArray()),
                ["short_sma"] = ShortSma,
                ["long_sma"] = LongSma,
                ["trend"] = Trend,
                ["signal_count"] = SignalCount,
            });
        }

        public double? LastPrice => Prices.Count > 0 ? Prices[Prices.Count - 1] : (double?)null;

        /// <summary>Takes one price and returns the signal it produces, if any.</summary>
        public JsonObject Step(Config config, double price)
        {
            Tick++;
            Prices.Add(price);
            if (Prices.Count > config.LongPeriod)
            {
                Prices.RemoveRange(0, Prices.Count - config.LongPeriod);
            }
            if (Prices.Count < config.LongPeriod)
            {
                return null;
            }
            var shortSma = Prices.Skip(Prices.Count - config.ShortPeriod).Sum() / config.ShortPeriod;
            var longSma = Prices.Sum() / Prices.Count;
            ShortSma = shortSma;
            LongSma = longSma;
            string trend;
            if (shortSma > longSma) trend = "above";
            else if (shortSma < longSma) trend = "below";
            else return null; // equal averages: no crossing, keep the trend
            var previous = Trend;
            Trend = trend;
            if (previous == null || previous == trend)
            {
                return null;
            }
            SignalCount++;
            return new JsonObject
            {
                ["tick"] = Tick,
                ["side"] = trend == "above" ? "BUY" : "SELL",
                ["price"] = price,
                ["short_sma"] = shortSma,
                ["long_sma"] = longSma,
            };
        }

        /// <summary>The signal history, newest last.</summary>
        public static JsonArray LoadSignals()
        {
            return State.Get<JsonArray>(SignalsKey) ?? new JsonArray();
        }

        /// <summary>The price at <paramref name="tick"/> (0-based): the configured list replayed in
        /// order, or a seeded random walk keyed by the tick number (so a restarted bot continues the
        /// same series), exactly as the Rust and Python examples compute it.</summary>
        public static double PriceAt(Config config, long tick, double? previous)
        {
            if (config.Prices.Count > 0)
            {
                return config.Prices[(int)(tick % config.Prices.Count)];
            }
            var last = previous ?? config.StartPrice;
            unchecked
            {
                // A step of at most +-1% from a splitmix64 hash of (seed, tick).
                var z = config.Seed ^ ((ulong)tick * 0x9E3779B97F4A7C15UL);
                z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
                z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
                z ^= z >> 31;
                var unit = (z >> 11) / (double)(1UL << 53);
                var price = last * (1.0 + (unit * 2.0 - 1.0) * 0.01);
                return Math.Round(price * 100.0) / 100.0;
            }
        }
    }
}
