// Bot entrypoint (SmaBot.dll): a scheduled bot processes `ticks` prices per run; a realtime bot
// (BOT_TYPE=realtime) ticks until it is stopped.
using System;
using System.Threading;
using The0;

namespace SmaCrossover
{
    public static class Bot
    {
        public static int Main()
        {
            var (botId, raw) = Input.Parse();
            Config config;
            try
            {
                config = Config.FromJson(raw);
            }
            catch (Exception e) when (e is ArgumentException || e is InvalidOperationException || e is FormatException)
            {
                Input.Error("invalid configuration: " + e.Message);
                return 1;
            }
            var strategy = Strategy.Load();
            var signals = Strategy.LoadSignals();
            var realtime = Environment.GetEnvironmentVariable("BOT_TYPE") == "realtime";
            Input.Log("bot " + botId + " starting at tick " + strategy.Tick, new { symbol = config.Symbol, realtime });
            var ticksThisRun = 0;
            while (realtime || ticksThisRun < config.Ticks)
            {
                var price = Strategy.PriceAt(config, strategy.Tick, strategy.LastPrice);
                Input.Metric("price", new { symbol = config.Symbol, price });
                var signal = strategy.Step(config, price);
                if (signal != null)
                {
                    Input.Metric("signal", new { symbol = config.Symbol, side = (string)signal["side"], price });
                    signals.Add(signal);
                    while (signals.Count > Strategy.MaxSignals)
                    {
                        signals.RemoveAt(0);
                    }
                    State.Set(Strategy.SignalsKey, signals);
                }
                strategy.Save();
                ticksThisRun++;
                if (config.TickIntervalMs > 0)
                {
                    Thread.Sleep(config.TickIntervalMs);
                }
            }
            Input.Success("processed " + strategy.Tick + " ticks, " + strategy.SignalCount + " signals so far");
            return 0;
        }
    }
}
