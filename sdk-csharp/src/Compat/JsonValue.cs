// Mono build only (see JsonNode.cs).
using System.Globalization;
using System.Text;
using System.Text.Json;
using The0;
using The0.Compat;

namespace System.Text.Json.Nodes
{
    /// <summary>A JSON string, number, true or false.</summary>
    public abstract class JsonValue : JsonNode
    {
        internal JsonValue()
        {
        }

        public static JsonValue Create(bool value) { return new JsonPrimitive(value, value ? JsonValueKind.True : JsonValueKind.False); }
        public static JsonValue Create(byte value) { return new JsonPrimitive(value, JsonValueKind.Number); }
        public static JsonValue Create(char value) { return new JsonPrimitive(value, JsonValueKind.String); }
        public static JsonValue Create(DateTime value) { return new JsonPrimitive(value, JsonValueKind.String); }
        public static JsonValue Create(DateTimeOffset value) { return new JsonPrimitive(value, JsonValueKind.String); }
        public static JsonValue Create(decimal value) { return new JsonPrimitive(value, JsonValueKind.Number); }
        public static JsonValue Create(double value) { return new JsonPrimitive(value, JsonValueKind.Number); }
        public static JsonValue Create(Guid value) { return new JsonPrimitive(value, JsonValueKind.String); }
        public static JsonValue Create(short value) { return new JsonPrimitive(value, JsonValueKind.Number); }
        public static JsonValue Create(int value) { return new JsonPrimitive(value, JsonValueKind.Number); }
        public static JsonValue Create(long value) { return new JsonPrimitive(value, JsonValueKind.Number); }
        public static JsonValue Create(sbyte value) { return new JsonPrimitive(value, JsonValueKind.Number); }
        public static JsonValue Create(float value) { return new JsonPrimitive(value, JsonValueKind.Number); }
        public static JsonValue Create(ushort value) { return new JsonPrimitive(value, JsonValueKind.Number); }
        public static JsonValue Create(uint value) { return new JsonPrimitive(value, JsonValueKind.Number); }
        public static JsonValue Create(ulong value) { return new JsonPrimitive(value, JsonValueKind.Number); }

        /// <summary>A string value; null for a null string.</summary>
        public static JsonValue Create(string value)
        {
            return value == null ? null : new JsonPrimitive(value, JsonValueKind.String);
        }

        /// <summary>A value of any type: primitives as they are, anything else through
        /// JsonSerializer (which must give a string, number or boolean).</summary>
        public static JsonValue Create<T>(T value)
        {
            if (value == null)
            {
                return null;
            }
            var kind = JsonPrimitive.KindOf(value);
            if (kind != JsonValueKind.Undefined)
            {
                return new JsonPrimitive(value, kind);
            }
            var node = JsonNode.Parse(JsonSerializer.Serialize(value, value.GetType()));
            var primitive = node as JsonValue;
            if (primitive == null)
            {
                throw new InvalidOperationException("A value of type '" + typeof(T) + "' is not a JSON string, number or boolean.");
            }
            return primitive;
        }

        /// <summary>This value as <typeparamref name="T"/> when it can be; false otherwise.</summary>
        public abstract bool TryGetValue<T>(out T value);
    }

    /// <summary>A JSON primitive: a CLR value, or a number as the text it was read with.</summary>
    internal sealed class JsonPrimitive : JsonValue
    {
        private readonly object value;
        private readonly JsonValueKind kind;

        /// <summary><paramref name="value"/> is a CLR primitive, or for numbers read from JSON
        /// their text (a string with kind Number).</summary>
        internal JsonPrimitive(object value, JsonValueKind kind)
        {
            this.value = value;
            this.kind = kind;
        }

        /// <summary>The JSON kind of a CLR primitive, Undefined for other types.</summary>
        internal static JsonValueKind KindOf(object value)
        {
            if (value is bool) return (bool)value ? JsonValueKind.True : JsonValueKind.False;
            if (value is string || value is char || value is DateTime || value is DateTimeOffset || value is Guid)
                return JsonValueKind.String;
            if (value is int || value is long || value is double || value is decimal || value is float ||
                value is short || value is byte || value is sbyte || value is ushort || value is uint || value is ulong)
                return JsonValueKind.Number;
            return JsonValueKind.Undefined;
        }

        public override JsonValueKind GetValueKind()
        {
            return kind;
        }

        public override JsonNode DeepClone()
        {
            return new JsonPrimitive(value, kind);
        }

        public override T GetValue<T>()
        {
            T result;
            bool outOfRange;
            if (TryConvert(out result, out outOfRange))
            {
                return result;
            }
            if (outOfRange)
            {
                throw new FormatException("The JSON value is not in a supported '" + typeof(T) + "' format.");
            }
            return base.GetValue<T>();
        }

        public override bool TryGetValue<T>(out T result)
        {
            bool outOfRange;
            return TryConvert(out result, out outOfRange);
        }

        private bool TryConvert<T>(out T result, out bool outOfRange)
        {
            result = default(T);
            outOfRange = false;
            var target = Nullable.GetUnderlyingType(typeof(T)) ?? typeof(T);
            object converted = null;
            if (kind == JsonValueKind.Number && !(value is string) && target.IsInstanceOfType(value))
            {
                converted = value;
            }
            else if (kind == JsonValueKind.Number)
            {
                if (target == typeof(object))
                {
                    converted = value is string ? (object)decimal.Parse((string)value, NumberStyles.Float, CultureInfo.InvariantCulture) : value;
                }
                else if (!TryParseNumber(NumberText(), target, out converted, out outOfRange))
                {
                    return false;
                }
            }
            else if (kind == JsonValueKind.True || kind == JsonValueKind.False)
            {
                if (target != typeof(bool) && target != typeof(object)) return false;
                converted = value;
            }
            else if (target.IsInstanceOfType(value))
            {
                converted = value;
            }
            else if (value is string)
            {
                if (!TryParseString((string)value, target, out converted)) return false;
            }
            else if (target == typeof(string))
            {
                converted = StringOf(value);
            }
            else
            {
                return false;
            }
            result = (T)converted;
            return true;
        }

        private string NumberText()
        {
            if (value is string) return (string)value;
            if (value is double) return NumberText((double)value);
            if (value is float) return NumberText((float)value);
            return Convert.ToString(value, CultureInfo.InvariantCulture);
        }

        /// <summary>
        /// The shortest text that reads back as <paramref name="number"/> (Mono's "R" format gives
        /// 17 digits where fewer suffice: 99.722000000000008 for 99.72200000000001), with a
        /// fraction kept (<c>10.0</c>, as Newtonsoft.Json and Python write it) so a double stays a
        /// double for every reader. .NET 8 and the Rust core write doubles the same way.
        /// </summary>
        internal static string NumberText(double number)
        {
            var invariant = CultureInfo.InvariantCulture;
            string text = null;
            for (var digits = 15; digits <= 17; digits++)
            {
                text = number.ToString("G" + digits, invariant);
                if (double.Parse(text, NumberStyles.Float, invariant) == number)
                {
                    break;
                }
            }
            return text.IndexOfAny(new[] { '.', 'E', 'N', 'I' }) >= 0 ? text : text + ".0";
        }

        /// <summary>As <see cref="NumberText(double)"/>, for single precision.</summary>
        internal static string NumberText(float number)
        {
            var invariant = CultureInfo.InvariantCulture;
            string text = null;
            for (var digits = 6; digits <= 9; digits++)
            {
                text = number.ToString("G" + digits, invariant);
                if (float.Parse(text, NumberStyles.Float, invariant) == number)
                {
                    break;
                }
            }
            return text.IndexOfAny(new[] { '.', 'E', 'N', 'I' }) >= 0 ? text : text + ".0";
        }

        private static bool TryParseNumber(string text, Type target, out object converted, out bool outOfRange)
        {
            converted = null;
            outOfRange = false;
            var invariant = CultureInfo.InvariantCulture;
            if (target == typeof(double))
            {
                double d;
                outOfRange = !double.TryParse(text, NumberStyles.Float, invariant, out d);
                converted = d;
                return !outOfRange;
            }
            if (target == typeof(float))
            {
                float f;
                outOfRange = !float.TryParse(text, NumberStyles.Float, invariant, out f);
                converted = f;
                return !outOfRange;
            }
            decimal number;
            if (!decimal.TryParse(text, NumberStyles.Float, invariant, out number))
            {
                outOfRange = target == typeof(decimal) || IsInteger(target);
                return false;
            }
            if (target == typeof(decimal))
            {
                converted = number;
                return true;
            }
            if (!IsInteger(target))
            {
                return false;
            }
            if (decimal.Truncate(number) != number)
            {
                outOfRange = true;
                return false;
            }
            try
            {
                converted = Convert.ChangeType(number, target, invariant);
                return true;
            }
            catch (OverflowException)
            {
                outOfRange = true;
                return false;
            }
        }

        private static bool IsInteger(Type type)
        {
            return type == typeof(int) || type == typeof(long) || type == typeof(short) || type == typeof(byte) ||
                   type == typeof(sbyte) || type == typeof(uint) || type == typeof(ulong) || type == typeof(ushort);
        }

        private static bool TryParseString(string text, Type target, out object converted)
        {
            converted = null;
            var invariant = CultureInfo.InvariantCulture;
            if (target == typeof(DateTime))
            {
                DateTime time;
                var ok = DateTime.TryParse(text, invariant, DateTimeStyles.RoundtripKind, out time);
                converted = time;
                return ok;
            }
            if (target == typeof(DateTimeOffset))
            {
                DateTimeOffset time;
                var ok = DateTimeOffset.TryParse(text, invariant, DateTimeStyles.RoundtripKind, out time);
                converted = time;
                return ok;
            }
            if (target == typeof(Guid))
            {
                Guid guid;
                var ok = Guid.TryParse(text, out guid);
                converted = guid;
                return ok;
            }
            if (target == typeof(char) && text.Length == 1)
            {
                converted = text[0];
                return true;
            }
            if (target == typeof(object))
            {
                converted = text;
                return true;
            }
            return false;
        }

        private static string StringOf(object clr)
        {
            if (clr is DateTime) return ((DateTime)clr).ToString("O", CultureInfo.InvariantCulture);
            if (clr is DateTimeOffset) return ((DateTimeOffset)clr).ToString("O", CultureInfo.InvariantCulture);
            return Convert.ToString(clr, CultureInfo.InvariantCulture);
        }

        /// <summary>Appends this value as JSON.</summary>
        /// <exception cref="ArgumentException">A NaN or infinite number, which JSON cannot hold.</exception>
        internal void WriteTo(StringBuilder builder)
        {
            switch (kind)
            {
                case JsonValueKind.True:
                    builder.Append("true");
                    return;
                case JsonValueKind.False:
                    builder.Append("false");
                    return;
                case JsonValueKind.String:
                    JsonQuote.Append(builder, value is string ? (string)value : StringOf(value));
                    return;
            }
            if ((value is double && !IsFinite((double)value)) || (value is float && !IsFinite((float)value)))
            {
                throw new ArgumentException(".NET number values such as positive and negative infinity cannot be written as valid JSON.");
            }
            builder.Append(NumberText());
        }

        private static bool IsFinite(double d)
        {
            return !double.IsNaN(d) && !double.IsInfinity(d);
        }

        /// <summary>A string value as it is (as on .NET 8); anything else as JSON.</summary>
        public override string ToString()
        {
            return kind == JsonValueKind.String ? (value is string ? (string)value : StringOf(value)) : base.ToString();
        }

        internal override bool DeepEqualsNode(JsonNode other)
        {
            var primitive = other as JsonPrimitive;
            if (primitive == null || primitive.kind != kind)
            {
                return false;
            }
            if (kind != JsonValueKind.Number)
            {
                return kind != JsonValueKind.String || ToString() == primitive.ToString();
            }
            decimal mine, theirs;
            var invariant = CultureInfo.InvariantCulture;
            if (decimal.TryParse(NumberText(), NumberStyles.Float, invariant, out mine) &&
                decimal.TryParse(primitive.NumberText(), NumberStyles.Float, invariant, out theirs))
            {
                return mine == theirs;
            }
            return double.Parse(NumberText(), NumberStyles.Float, invariant) ==
                   double.Parse(primitive.NumberText(), NumberStyles.Float, invariant);
        }
    }
}
