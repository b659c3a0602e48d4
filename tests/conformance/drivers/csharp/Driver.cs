// The C# SDK's conformance driver: the command line of `the0-driver-rust`
// (tests/conformance/src/bin/the0-driver-rust.rs), through the public API of The0.Sdk.
//
//   driver query [--custom-info]          register the standard handlers, then Query.Run()
//   driver state set KEY JSON | get KEY | exists KEY | delete KEY | list | clear
//   driver read-loop KEY COUNT            read KEY COUNT times, report torn or missing reads
//   driver input parse | success MSG [DATA] | error MSG | result JSON | metric TYPE JSON
//                | log MSG [DATA|-] [LEVEL]
//
// `state` and `input` print one JSON line: {"ok": <result>} or
// {"error": {"status": "<STATUS>", "message": "<text>"}}. Built by build.sh; runs on Mono and on .NET 8.
using System;
using System.Linq;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading;
using The0;

public static class Driver
{
    public static int Main(string[] args)
    {
        var command = args.Length > 0 ? args[0] : "";
        var rest = args.Skip(1).ToArray();
        switch (command)
        {
            case "query":
                RunQuery(rest.Contains("--custom-info"));
                return 0;
            case "state":
                PrintOutcome(() => StateOp(rest));
                return 0;
            case "read-loop":
                if (rest.Length == 2)
                {
                    ReadLoop(rest[0], int.Parse(rest[1]));
                    return 0;
                }
                break;
            case "input":
                PrintOutcome(() => InputOp(rest));
                return 0;
        }
        Console.Error.WriteLine("usage: driver query|state|read-loop|input ... (see the source header)");
        return 2;
    }

    private static JsonObject ErrorJson(Exception e)
    {
        var error = e as IThe0Error;
        if (error == null)
        {
            throw e;
        }
        return new JsonObject { ["status"] = error.Status, ["message"] = e.Message };
    }

    private static JsonObject WriteProbe(Action write)
    {
        try
        {
            write();
            return new JsonObject { ["written"] = true };
        }
        catch (Exception e)
        {
            return new JsonObject { ["written"] = false, ["error"] = ErrorJson(e) };
        }
    }

    private static void RunQuery(bool customInfo)
    {
        Query.Handler("/echo", req => new JsonObject
        {
            ["path"] = req.Path,
            ["params"] = req.TypedParams.DeepClone(),
            ["strings"] = JsonNode.Parse(JsonSerializer.Serialize(req.Params)),
        });
        Query.Handler("/fail", req => { throw new InvalidOperationException("deliberate failure"); });
        Query.Handler("/sleep", req =>
        {
            int ms;
            if (!int.TryParse(req.Get("ms", "0"), out ms)) ms = 0;
            Thread.Sleep(ms);
            return new JsonObject { ["slept_ms"] = ms };
        });
        Query.Handler("/state", req =>
        {
            var key = req.Get("key", "");
            try
            {
                var found = State.Exists(key);
                return new JsonObject { ["key"] = key, ["exists"] = found, ["value"] = found ? State.Get<JsonNode>(key) : null };
            }
            catch (Exception e)
            {
                return new JsonObject { ["key"] = key, ["error"] = ErrorJson(e) };
            }
        });
        Query.Handler("/write", req => WriteProbe(() => State.SetJson(req.Get("key", ""), req.Get("value", "null"))));
        Query.Handler("/config", req => Query.GetConfig());
        Query.Handler("/params", req => Query.GetParams());
        if (customInfo)
        {
            Query.Handler("/info", req => WriteProbe(() => State.Set("info-probe", true)));
        }
        Query.Run();
    }

    private static void PrintOutcome(Func<JsonNode> operation)
    {
        JsonObject line;
        try
        {
            line = new JsonObject { ["ok"] = operation() };
        }
        catch (Exception e)
        {
            line = new JsonObject { ["error"] = ErrorJson(e) };
        }
        Console.Out.WriteLine(line.ToJsonString());
    }

    private static Exception Unknown(string what, string[] op)
    {
        return new The0ArgumentException("INVALID_ARGUMENT", "unknown " + what + " operation [" + string.Join(", ", op) + "]");
    }

    private static JsonNode StateOp(string[] op)
    {
        var name = op.Length > 0 ? op[0] : "";
        if (name == "set" && op.Length == 3)
        {
            State.SetJson(op[1], op[2]);
            return null;
        }
        if (name == "get" && op.Length == 2)
        {
            // GetJson tells a stored null from no value; the value itself goes through Get<T>.
            if (State.GetJson(op[1]) == null)
            {
                return new JsonObject { ["found"] = false };
            }
            return new JsonObject { ["found"] = true, ["value"] = State.Get<JsonNode>(op[1]) };
        }
        if (name == "exists" && op.Length == 2) return State.Exists(op[1]);
        if (name == "delete" && op.Length == 2) return State.Delete(op[1]);
        if (name == "list" && op.Length == 1) return new JsonArray(State.List().Select(k => (JsonNode)k).ToArray());
        if (name == "clear" && op.Length == 1)
        {
            State.Clear();
            return null;
        }
        throw Unknown("state", op);
    }

    private static void ReadLoop(string key, int count)
    {
        int missing = 0, torn = 0, failed = 0;
        for (var i = 0; i < count; i++)
        {
            try
            {
                if (State.GetJson(key) == null) missing++;
            }
            catch (The0Exception e) when (e.Status == "CORRUPT_STATE")
            {
                torn++;
            }
            catch (Exception)
            {
                failed++;
            }
        }
        Console.Out.WriteLine(new JsonObject { ["reads"] = count, ["missing"] = missing, ["torn"] = torn, ["failed"] = failed }.ToJsonString());
    }

    /// <summary>JSON text given on the command line, parsed.</summary>
    private static JsonNode JsonArg(string text)
    {
        try
        {
            return JsonNode.Parse(text);
        }
        catch (JsonException e)
        {
            throw new The0Exception("INVALID_JSON", "argument is not valid JSON: " + e.Message);
        }
    }

    private static JsonNode InputOp(string[] op)
    {
        var name = op.Length > 0 ? op[0] : "";
        if (name == "parse" && op.Length == 1)
        {
            var (botId, config) = Input.Parse();
            return new JsonObject { ["bot_id"] = botId, ["config"] = config };
        }
        if (name == "success" && op.Length == 2) Input.Success(op[1]);
        else if (name == "success" && op.Length == 3) Input.Success(op[1], JsonArg(op[2]));
        else if (name == "error" && op.Length == 2) Input.Error(op[1]);
        else if (name == "result" && op.Length == 2) Input.Result(JsonArg(op[1]));
        else if (name == "metric" && op.Length == 3) Input.Metric(op[1], JsonArg(op[2]));
        else if (name == "log" && op.Length >= 2 && op.Length <= 4)
        {
            var data = op.Length < 3 || op[2] == "-" ? null : JsonArg(op[2]);
            Input.Log(op[1], data, op.Length == 4 ? op[3] : null);
        }
        else throw Unknown("input", op);
        return null;
    }
}
