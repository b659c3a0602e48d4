// An upstream-style bot: every public call of upstream's The0.Sdk, used the way upstream's README
// and examples use them (namespace The0; JsonNode configuration; State.Get<T>(key, default);
// Query.Handler with Func<QueryRequest, object>). It must compile unchanged against this SDK; the
// test script runs it as a bot, as an ephemeral query and as a server, on Mono and on .NET 8.
// (Kept in the C# 7.2 that Mono's compiler reads: no records or top-level statements.)
using System;
using System.Collections.Generic;
using System.Text.Json.Nodes;
using The0;

class Portfolio
{
    public string Symbol { get; set; }
    public int Quantity { get; set; }
}

class UpstreamBot
{
    static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "query" || Query.IsQueryMode())
        {
            Query.Handler("/portfolio", req =>
            {
                var symbol = req.Get("symbol", "BTC/USD");
                var portfolio = State.Get<Portfolio>("portfolio");
                var botConfig = Query.GetConfig();
                return new
                {
                    symbol,
                    quantity = portfolio != null ? portfolio.Quantity : 0,
                    runs = State.Get("runs", 0),
                    limit = req.Get("limit"),
                    @params = Query.GetParams(),
                    configured = botConfig?["symbol"]?.GetValue<string>(),
                };
            });
            Query.Run();
            return 0;
        }

        var (botId, config) = Input.Parse();
        var dict = Input.ParseAsDict().Config;
        var symbolName = config?["symbol"]?.ToString() ?? "BTC/USDT";
        var amount = config?["amount"]?.GetValue<decimal>() ?? 100m;
        Input.Log($"Bot {botId} starting with {symbolName} x {amount}, {dict.Count} settings");
        Input.Log("warming up", null, LogLevel.Warn);
        Input.Log("order placed", new { order_id = "12345", symbol = symbolName }, LogLevel.Info);

        var runs = State.Get("runs", 0) + 1;
        State.Set("runs", runs);
        State.Set("portfolio", new Portfolio { Symbol = symbolName, Quantity = 100 });
        State.Set("last_prices", new[] { 45000.5, 45100.0, 45050.25 });
        if (State.Exists("scratch"))
        {
            State.Delete("scratch");
        }
        State.Set("scratch", new Dictionary<string, int> { { "a", 1 } });
        Input.Log("state keys: " + string.Join(",", State.List()));
        State.Delete("scratch");

        try
        {
            State.Set("../escape", "evil");
        }
        catch (ArgumentException e)
        {
            Input.Log("refused: " + e.Message, null, LogLevel.Error);
        }

        Input.Metric("price", new { symbol = symbolName, value = 45000.5, change_pct = 0.25 });
        if (args.Length > 0 && args[0] == "fail")
        {
            Input.Error("Failed to connect to exchange");
        }
        if (args.Length > 0 && args[0] == "result")
        {
            Input.Result(new { status = "success", trade_id = "12345", filled_amount = 0.5m });
            return 0;
        }
        Input.Success("Trade executed for " + symbolName + ", run " + runs);
        return 0;
    }
}
