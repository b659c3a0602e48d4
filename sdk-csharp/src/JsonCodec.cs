using System;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace The0
{
    /// <summary>
    /// .NET values to JSON text and back, with System.Text.Json's JsonSerializer (on Mono, the SDK's
    /// subset of it over Newtonsoft.Json). Properties keep their declared names (upstream wrote
    /// camelCase); reading matches names case-insensitively, so state written by upstream's SDK
    /// still reads into the same classes. The core validates and canonicalizes whatever this writes.
    /// </summary>
    internal static class JsonCodec
    {
        private static readonly JsonSerializerOptions Options = new JsonSerializerOptions
        {
            PropertyNameCaseInsensitive = true,
            IncludeFields = true,
        };

        /// <summary>The JSON text of <paramref name="value"/> (<c>null</c> for null).</summary>
        /// <exception cref="Exception">Whatever the serializer throws for a value it cannot write
        /// (a cycle, NaN...): callers hand its message to the core, which reports it.</exception>
        internal static string Serialize(object value)
        {
            if (value == null)
            {
                return "null";
            }
            var node = value as JsonNode;
            return node != null ? node.ToJsonString() : JsonSerializer.Serialize(value, value.GetType(), Options);
        }

        /// <summary><paramref name="json"/> as <typeparamref name="T"/>.</summary>
        /// <exception cref="JsonException">The JSON does not fit <typeparamref name="T"/>.</exception>
        internal static T Deserialize<T>(string json)
        {
            return JsonSerializer.Deserialize<T>(json, Options);
        }

        /// <summary>Runs the serializer and the JSON reader once, so the first query request does
        /// not pay for their start-up (reflection, JIT) inside its handler timeout.</summary>
        internal static void WarmUp()
        {
            Serialize(new { warm = new[] { 1.5 }, up = new System.Collections.Generic.Dictionary<string, string> { { "a", "b" } } });
            Serialize(JsonNode.Parse("{\"a\":[1,\"b\",null,true]}"));
            Deserialize<System.Collections.Generic.Dictionary<string, int>>("{\"a\":1}");
        }

        /// <summary>The reason a value could not be serialized, for the core's message.</summary>
        internal static string Reason(Exception e)
        {
            return e.Message;
        }
    }
}
