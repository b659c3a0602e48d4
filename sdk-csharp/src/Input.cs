using System;
using System.Collections.Generic;
using System.Text.Json.Nodes;

namespace The0
{
    /// <summary>Levels of <see cref="Input.Log(string, object, LogLevel)"/>.</summary>
    public enum LogLevel
    {
        Info,
        Warn,
        Error,
    }

    /// <summary>
    /// The bot's input and outputs: its id and configuration, the result file, metric lines on
    /// stdout and log lines on stderr. Every line and file is formatted by the core (one JSON
    /// format and one timestamp format in every the0 SDK) and written through .NET's Console.
    /// </summary>
    public static class Input
    {
        /// <summary>Which value could not be serialized (THE0_PAYLOAD_* of the0.h).</summary>
        private enum Payload
        {
            MetricData = 1,
            LogData = 2,
            ResultData = 3,
            Result = 4,
        }

        /// <summary>The bot id (BOT_ID) and configuration (BOT_CONFIG; set but empty means <c>{}</c>).</summary>
        /// <exception cref="InvalidOperationException">BOT_ID or BOT_CONFIG is not set, or BOT_CONFIG
        /// is not JSON (<see cref="The0ConfigurationException"/>).</exception>
        public static (string BotId, JsonNode Config) Parse()
        {
            IntPtr botId, config;
            var status = NativeMethods.the0_input_parse(HostEnvironment.Snapshot(Scope.Input), out botId, out config);
            if (status != (int)Status.Ok)
            {
                var failure = Native.Failure(status);
                var error = failure as IThe0Error;
                throw new The0ConfigurationException(error != null ? error.Status : "PANIC", failure.Message);
            }
            return (Native.Take(botId), JsonNode.Parse(Native.Take(config)));
        }

        /// <summary>As <see cref="Parse"/>, with the configuration's members in a dictionary.</summary>
        /// <exception cref="InvalidOperationException">As for Parse, or a configuration that is not
        /// a JSON object.</exception>
        public static (string BotId, Dictionary<string, JsonNode> Config) ParseAsDict()
        {
            var parsed = Parse();
            var obj = parsed.Config as JsonObject;
            if (obj == null)
            {
                throw new The0ConfigurationException("INVALID_JSON",
                    "BOT_CONFIG is not a JSON object, so it has no members for a dictionary");
            }
            var members = new Dictionary<string, JsonNode>();
            foreach (var member in obj)
            {
                members[member.Key] = member.Value;
            }
            // Each member keeps no parent, as a dictionary of its own.
            obj.Clear();
            return (parsed.BotId, members);
        }

        /// <summary>Writes <c>{"status":"success","message":...}</c> to the result file
        /// <c>/&lt;CODE_MOUNT_DIR&gt;/result.json</c>.</summary>
        public static void Success(string message)
        {
            Report(true, message, null, false);
        }

        /// <summary>As <see cref="Success(string)"/>, with <paramref name="data"/> under <c>"data"</c>.</summary>
        public static void Success(string message, object data)
        {
            Report(true, message, data, true);
        }

        /// <summary>Writes <c>{"status":"error","message":...}</c> to the result file and ends the
        /// process with exit code 1.</summary>
        public static void Error(string message)
        {
            Report(false, message, null, false);
        }

        /// <summary>As <see cref="Error(string)"/>, with <paramref name="data"/> under <c>"data"</c>.</summary>
        public static void Error(string message, object data)
        {
            Report(false, message, data, true);
        }

        /// <summary>Writes <paramref name="data"/> as it is to the result file.</summary>
        public static void Result(object data)
        {
            var json = Serialize(data, Payload.Result);
            IntPtr stderr;
            var status = NativeMethods.the0_input_result(HostEnvironment.Snapshot(Scope.Input),
                Native.Utf8(json, "the result"), out stderr);
            Streams.Stderr(stderr);
            Native.Check(status);
        }

        /// <summary>Prints one metric line on stdout: <c>{"_metric":type, fields of data, "timestamp":...}</c>
        /// (data that is not an object goes under <c>"data"</c>).</summary>
        public static void Metric(string metricType, object data)
        {
            var json = Serialize(data, Payload.MetricData);
            IntPtr line;
            Native.Check(NativeMethods.the0_input_metric(Native.Utf8(metricType, "the metric type"),
                Native.Utf8(json, "the metric data"), out line));
            Streams.Stdout(line);
        }

        /// <summary>Prints one log line on stderr: <c>{"level":..., "message":..., fields of data, "timestamp":...}</c>.</summary>
        public static void Log(string message, object data = null, LogLevel level = LogLevel.Info)
        {
            Log(message, data, LevelName(level));
        }

        /// <summary>A log line without data.</summary>
        public static void Log(string message, LogLevel level)
        {
            Log(message, null, LevelName(level));
        }

        /// <summary>A log line with the level as text: <c>info</c>, <c>warn</c>, <c>warning</c> or
        /// <c>error</c>, in any case (null: info).</summary>
        /// <exception cref="ArgumentException">Another level (INVALID_ARGUMENT).</exception>
        public static void Log(string message, object data, string level)
        {
            var json = data == null ? null : Serialize(data, Payload.LogData);
            IntPtr line;
            Native.Check(NativeMethods.the0_input_log(Native.Utf8(message, "the log message"),
                Native.Utf8(json, "the log data"), Native.Utf8(level, "the log level"), out line));
            Streams.Stderr(line);
        }

        private static string LevelName(LogLevel level)
        {
            switch (level)
            {
                case LogLevel.Warn: return "warn";
                case LogLevel.Error: return "error";
                default: return "info";
            }
        }

        private static void Report(bool success, string message, object data, bool hasData)
        {
            var json = hasData ? Serialize(data, Payload.ResultData) : null;
            var env = HostEnvironment.Snapshot(Scope.Input);
            var text = Native.Utf8(message, "the message");
            var dataJson = Native.Utf8(json, "the data");
            IntPtr stderr;
            var status = success
                ? NativeMethods.the0_input_success(env, text, dataJson, out stderr)
                : NativeMethods.the0_input_error(env, text, dataJson, out stderr);
            var failure = status == (int)Status.Ok ? null : Native.Failure(status);
            Streams.Stderr(stderr);
            if (failure != null)
            {
                throw failure;
            }
            if (!success)
            {
                Environment.Exit(1);
            }
        }

        /// <summary>The JSON of <paramref name="value"/>, or the core's error for a value that
        /// cannot be serialized.</summary>
        private static string Serialize(object value, Payload payload)
        {
            try
            {
                return JsonCodec.Serialize(value);
            }
            catch (Exception e)
            {
                throw Native.Failure(NativeMethods.the0_input_unserializable((int)payload,
                    Native.Utf8(JsonCodec.Reason(e), "the reason")));
            }
        }
    }
}
