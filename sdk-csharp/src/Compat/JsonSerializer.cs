// Mono build only: the part of System.Text.Json's JsonSerializer the SDK and typical bots use,
// over Debian's Newtonsoft.Json. JsonNode values are written and read by the Nodes subset itself,
// so their numbers keep their text; NaN and infinities are refused, as System.Text.Json does.
using System.IO;
using System.Text.Json.Nodes;
using The0.Compat;

namespace System.Text.Json
{
    /// <summary>Options of <see cref="JsonSerializer"/>. Reading is always case-insensitive and
    /// public fields are always included (Newtonsoft.Json's behaviour); only
    /// <see cref="WriteIndented"/> changes the output.</summary>
    public sealed class JsonSerializerOptions
    {
        public bool WriteIndented { get; set; }

        public bool PropertyNameCaseInsensitive { get; set; }

        public bool IncludeFields { get; set; }
    }

    /// <summary>Objects to JSON text and back.</summary>
    public static class JsonSerializer
    {
        public static string Serialize<TValue>(TValue value, JsonSerializerOptions options = null)
        {
            return Serialize(value, typeof(TValue), options);
        }

        /// <exception cref="JsonException">A cycle, or a value Newtonsoft.Json cannot write.</exception>
        /// <exception cref="ArgumentException">A NaN or infinite number.</exception>
        public static string Serialize(object value, Type inputType, JsonSerializerOptions options = null)
        {
            var indented = options != null && options.WriteIndented;
            var node = value as JsonNode;
            if (node != null)
            {
                return JsonTextWriter.Write(node, indented);
            }
            var writer = new StringWriter(System.Globalization.CultureInfo.InvariantCulture);
            try
            {
                var serializer = NewtonsoftSerializer.Create(indented);
                serializer.Serialize(writer, value, inputType);
            }
            catch (Newtonsoft.Json.JsonException e)
            {
                throw new JsonException(e.Message, e);
            }
            return writer.ToString();
        }

        public static TValue Deserialize<TValue>(string json, JsonSerializerOptions options = null)
        {
            return (TValue)Deserialize(json, typeof(TValue), options);
        }

        /// <exception cref="JsonException">Text that is not JSON, or JSON that does not fit the type.</exception>
        public static object Deserialize(string json, Type returnType, JsonSerializerOptions options = null)
        {
            if (json == null)
            {
                throw new ArgumentNullException(nameof(json));
            }
            if (typeof(JsonNode).IsAssignableFrom(returnType))
            {
                var node = JsonNode.Parse(json);
                if (node != null && !returnType.IsInstanceOfType(node))
                {
                    throw new JsonException("The JSON value could not be converted to " + returnType + ".");
                }
                return node;
            }
            try
            {
                using (var reader = new Newtonsoft.Json.JsonTextReader(new StringReader(json)))
                {
                    var serializer = NewtonsoftSerializer.Create(false);
                    var result = serializer.Deserialize(reader, returnType);
                    if (reader.Read() && reader.TokenType != Newtonsoft.Json.JsonToken.Comment)
                    {
                        throw new JsonException("'" + reader.Value + "' is invalid after a single JSON value.");
                    }
                    if (result == null && returnType.IsValueType && Nullable.GetUnderlyingType(returnType) == null)
                    {
                        throw new JsonException("The JSON value could not be converted to " + returnType + ".");
                    }
                    return result;
                }
            }
            catch (Newtonsoft.Json.JsonException e)
            {
                throw new JsonException(e.Message, e);
            }
            catch (FormatException e)
            {
                throw new JsonException(e.Message, e);
            }
        }
    }

    /// <summary>The Newtonsoft.Json settings behind <see cref="JsonSerializer"/>.</summary>
    internal static class NewtonsoftSerializer
    {
        internal static Newtonsoft.Json.JsonSerializer Create(bool indented)
        {
            var settings = new Newtonsoft.Json.JsonSerializerSettings
            {
                DateParseHandling = Newtonsoft.Json.DateParseHandling.None,
                Formatting = indented ? Newtonsoft.Json.Formatting.Indented : Newtonsoft.Json.Formatting.None,
            };
            settings.Converters.Add(new JsonNodeConverter());
            settings.Converters.Add(new FiniteNumberConverter());
            return Newtonsoft.Json.JsonSerializer.Create(settings);
        }

        /// <summary>JsonNode members of objects: written as their own JSON, read through the Nodes subset.</summary>
        private sealed class JsonNodeConverter : Newtonsoft.Json.JsonConverter
        {
            public override bool CanConvert(Type objectType)
            {
                return typeof(JsonNode).IsAssignableFrom(objectType);
            }

            public override void WriteJson(Newtonsoft.Json.JsonWriter writer, object value, Newtonsoft.Json.JsonSerializer serializer)
            {
                writer.WriteRawValue(((JsonNode)value).ToJsonString());
            }

            public override object ReadJson(Newtonsoft.Json.JsonReader reader, Type objectType, object existingValue,
                Newtonsoft.Json.JsonSerializer serializer)
            {
                var token = Newtonsoft.Json.Linq.JToken.ReadFrom(reader);
                return JsonSerializer.Deserialize(token.ToString(Newtonsoft.Json.Formatting.None), objectType);
            }
        }

        /// <summary>Writes doubles in their shortest round-trip form and refuses NaN and
        /// infinities, which JSON cannot hold (Newtonsoft.Json would write them as bare words).</summary>
        private sealed class FiniteNumberConverter : Newtonsoft.Json.JsonConverter
        {
            public override bool CanRead
            {
                get { return false; }
            }

            public override bool CanConvert(Type objectType)
            {
                return objectType == typeof(double) || objectType == typeof(float) ||
                       objectType == typeof(double?) || objectType == typeof(float?);
            }

            public override void WriteJson(Newtonsoft.Json.JsonWriter writer, object value, Newtonsoft.Json.JsonSerializer serializer)
            {
                var number = Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture);
                if (double.IsNaN(number) || double.IsInfinity(number))
                {
                    throw new ArgumentException(
                        ".NET number values such as positive and negative infinity cannot be written as valid JSON.");
                }
                // The shortest round-trip text, as the Nodes subset writes numbers.
                writer.WriteRawValue(value is float ? JsonPrimitive.NumberText((float)value) : JsonPrimitive.NumberText(number));
            }

            public override object ReadJson(Newtonsoft.Json.JsonReader reader, Type objectType, object existingValue,
                Newtonsoft.Json.JsonSerializer serializer)
            {
                throw new NotSupportedException();
            }
        }
    }
}
