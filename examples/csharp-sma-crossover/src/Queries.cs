// Query entrypoint (SmaQuery.dll): answers /status and /signals from the bot's state. Run as an
// ephemeral query (QUERY_PATH=/status), as a server for a realtime bot (BOT_TYPE=realtime), or with
// neither to list the available queries.
using System;
using System.Linq;
using System.Text.Json.Nodes;
using The0;

namespace SmaCrossover
{
    public static class Queries
    {
        public static void Main()
        {
            Query.Handler("/status", req =>
            {
                var config = Query.GetConfig();
                var strategy = Strategy.Load();
                return new JsonObject
                {
                    ["symbol"] = (string)config["symbol"] ?? "BTC/USD",
                    ["tick"] = strategy.Tick,
                    ["price"] = strategy.LastPrice,
                    ["short_sma"] = strategy.ShortSma,
                    ["long_sma"] = strategy.LongSma,
                    ["trend"] = strategy.Trend,
                    ["signal_count"] = strategy.SignalCount,
                };
            });
            Query.Handler("/signals", req =>
            {
                var text = req.Get("limit", "10");
                int limit;
                if (!text.All(char.IsDigit) || !int.TryParse(text, out limit) || limit <= 0)
                {
                    throw new ArgumentException("limit must be a positive integer, got \"" + text + "\"");
                }
                var history = Strategy.LoadSignals();
                var newest = history.Reverse().Take(limit).Select(s => s.DeepClone()).ToArray();
                return new JsonObject { ["signals"] = new JsonArray(newest), ["count"] = history.Count };
            });
            Query.Run();
        }
    }
}
