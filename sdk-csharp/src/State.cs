using System;
using System.Collections.Generic;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace The0
{
    /// <summary>
    /// Persistent key-value state: <c>$STATE_DIR/&lt;key&gt;.json</c> (default
    /// <c>/state/.the0-state</c>), synced to the object store by the agent between runs.
    /// </summary>
    /// <remarks>
    /// Key rules, canonical JSON, atomic writes and the read-only guard are the core's, identical
    /// in every the0 SDK: a value written here is byte for byte the file the Rust, Python or Node
    /// SDK writes for the same JSON. Writes fail with <see cref="ReadOnlyStateError"/> while this
    /// process serves queries. STATE_DIR and QUERY_PATH are read at every call, .NET's way.
    /// </remarks>
    /// <example>
    /// <code>
    /// State.Set("portfolio", new Dictionary&lt;string, int&gt; { ["AAPL"] = 100 });
    /// var portfolio = State.Get&lt;Dictionary&lt;string, int&gt;&gt;("portfolio");
    /// var trades = State.Get("trade_count", 0);
    /// </code>
    /// </example>
    public static class State
    {
        /// <summary>The value stored under <paramref name="key"/>, or <paramref name="defaultValue"/>
        /// when the key has no value.</summary>
        /// <exception cref="ArgumentException">The key breaks a key rule (<see cref="The0ArgumentException"/>).</exception>
        /// <exception cref="The0Exception">CORRUPT_STATE: the stored file is not JSON; INVALID_JSON:
        /// the stored JSON does not fit <typeparamref name="T"/>.</exception>
        public static T Get<T>(string key, T defaultValue = default(T))
        {
            var json = GetJson(key);
            if (json == null)
            {
                return defaultValue;
            }
            try
            {
                return JsonCodec.Deserialize<T>(json);
            }
            catch (JsonException e)
            {
                throw new The0Exception("INVALID_JSON",
                    "value of state key \"" + key + "\" cannot be read as " + typeof(T) + ": " + e.Message);
            }
        }

        /// <summary>The JSON text stored under <paramref name="key"/> (canonical form), or null when
        /// it has no value — to pass a stored value on without converting it.</summary>
        public static string GetJson(string key)
        {
            IntPtr json;
            var status = NativeMethods.the0_state_get(HostEnvironment.Snapshot(Scope.State), Native.Utf8(key, "the key"), out json);
            if (status == (int)Status.NotFound)
            {
                return null;
            }
            Native.Check(status);
            return Native.Take(json);
        }

        /// <summary>Stores <paramref name="value"/> as JSON (through System.Text.Json's
        /// JsonSerializer; a JsonNode as it is; null as <c>null</c>).</summary>
        /// <exception cref="ReadOnlyStateError">This process serves queries.</exception>
        /// <exception cref="ArgumentException">The key breaks a key rule.</exception>
        /// <exception cref="The0Exception">INVALID_JSON: the value cannot be serialized.</exception>
        public static void Set<T>(string key, T value)
        {
            string json;
            try
            {
                json = JsonCodec.Serialize(value);
            }
            catch (Exception e)
            {
                // The core decides what to report, in its order: read-only, the key, then this value.
                throw Native.Failure(NativeMethods.the0_state_set_unserializable(
                    HostEnvironment.Snapshot(Scope.State), Native.Utf8(key, "the key"),
                    Native.Utf8(JsonCodec.Reason(e), "the reason")));
            }
            SetJson(key, json);
        }

        /// <summary>Stores JSON text as it is (the core checks it is JSON and stores it in
        /// canonical form).</summary>
        /// <exception cref="The0Exception">INVALID_JSON: <paramref name="json"/> is not JSON.</exception>
        public static void SetJson(string key, string json)
        {
            Native.Check(NativeMethods.the0_state_set(HostEnvironment.Snapshot(Scope.State),
                Native.Utf8(key, "the key"), Native.Utf8(json, "the value")));
        }

        /// <summary>Removes <paramref name="key"/>; whether it had a value.</summary>
        /// <exception cref="ReadOnlyStateError">This process serves queries.</exception>
        public static bool Delete(string key)
        {
            int existed;
            Native.Check(NativeMethods.the0_state_delete(HostEnvironment.Snapshot(Scope.State),
                Native.Utf8(key, "the key"), out existed));
            return existed != 0;
        }

        /// <summary>Every key with a value, sorted.</summary>
        public static List<string> List()
        {
            IntPtr json;
            Native.Check(NativeMethods.the0_state_list(HostEnvironment.Snapshot(Scope.State), out json));
            var keys = new List<string>();
            foreach (var key in JsonNode.Parse(Native.Take(json)).AsArray())
            {
                keys.Add(key.GetValue<string>());
            }
            return keys;
        }

        /// <summary>Removes every key.</summary>
        /// <exception cref="ReadOnlyStateError">This process serves queries.</exception>
        public static void Clear()
        {
            Native.Check(NativeMethods.the0_state_clear(HostEnvironment.Snapshot(Scope.State)));
        }

        /// <summary>Whether <paramref name="key"/> has a value.</summary>
        public static bool Exists(string key)
        {
            int exists;
            Native.Check(NativeMethods.the0_state_exists(HostEnvironment.Snapshot(Scope.State),
                Native.Utf8(key, "the key"), out exists));
            return exists != 0;
        }
    }
}
