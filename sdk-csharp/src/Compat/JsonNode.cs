// Mono build only: the part of System.Text.Json.Nodes that the SDK's signatures and typical bot
// code use, with the same names and behaviour as .NET 8's, so one bot source builds on both.
using System.Text.Json;
using The0.Compat;

namespace System.Text.Json.Nodes
{
    /// <summary>A mutable JSON value: a <see cref="JsonObject"/>, a <see cref="JsonArray"/> or a
    /// <see cref="JsonValue"/>. The JSON <c>null</c> is a C# <c>null</c>, as on .NET 8.</summary>
    public abstract class JsonNode
    {
        internal JsonNode()
        {
        }

        /// <summary>The object or array holding this node, or null.</summary>
        public JsonNode Parent { get; internal set; }

        /// <summary>The outermost node of the tree holding this node.</summary>
        public JsonNode Root
        {
            get
            {
                var node = this;
                while (node.Parent != null)
                {
                    node = node.Parent;
                }
                return node;
            }
        }

        /// <summary>The node of <paramref name="json"/> (null for <c>null</c>).</summary>
        /// <exception cref="JsonException">The text is not JSON.</exception>
        public static JsonNode Parse(string json)
        {
            return JsonTextParser.Parse(json);
        }

        /// <summary>The member named <paramref name="propertyName"/> of this object (null when absent).</summary>
        public JsonNode this[string propertyName]
        {
            get { return AsObject()[propertyName]; }
            set { AsObject()[propertyName] = value; }
        }

        /// <summary>The element at <paramref name="index"/> of this array.</summary>
        public JsonNode this[int index]
        {
            get { return AsArray()[index]; }
            set { AsArray()[index] = value; }
        }

        public JsonObject AsObject()
        {
            var obj = this as JsonObject;
            if (obj == null)
            {
                throw new InvalidOperationException("The node must be of type 'JsonObject'.");
            }
            return obj;
        }

        public JsonArray AsArray()
        {
            var array = this as JsonArray;
            if (array == null)
            {
                throw new InvalidOperationException("The node must be of type 'JsonArray'.");
            }
            return array;
        }

        public JsonValue AsValue()
        {
            var value = this as JsonValue;
            if (value == null)
            {
                throw new InvalidOperationException("The node must be of type 'JsonValue'.");
            }
            return value;
        }

        /// <summary>This value as <typeparamref name="T"/>.</summary>
        /// <exception cref="InvalidOperationException">This node is not a value, or holds another kind.</exception>
        /// <exception cref="FormatException">The number does not fit <typeparamref name="T"/>.</exception>
        public virtual T GetValue<T>()
        {
            throw new InvalidOperationException(
                "An element of type '" + GetValueKind() + "' cannot be converted to a '" + typeof(T) + "'.");
        }

        public abstract JsonValueKind GetValueKind();

        /// <summary>A copy of this node and everything under it, without a parent.</summary>
        public abstract JsonNode DeepClone();

        /// <summary>Compact JSON text (indented when the options say so).</summary>
        public string ToJsonString(JsonSerializerOptions options = null)
        {
            return JsonTextWriter.Write(this, options != null && options.WriteIndented);
        }

        /// <summary>A string value as it is; anything else as indented JSON text.</summary>
        public override string ToString()
        {
            return JsonTextWriter.Write(this, true);
        }

        /// <summary>Whether two nodes hold equal JSON (numbers compared by value).</summary>
        public static bool DeepEquals(JsonNode node1, JsonNode node2)
        {
            if (node1 == null || node2 == null)
            {
                return node1 == null && node2 == null;
            }
            return node1.DeepEqualsNode(node2);
        }

        internal abstract bool DeepEqualsNode(JsonNode other);

        /// <summary>Makes this node the child of <paramref name="parent"/>; a node has one parent.</summary>
        internal void AttachTo(JsonNode parent)
        {
            if (Parent != null)
            {
                throw new InvalidOperationException("The node already has a parent.");
            }
            Parent = parent;
        }

        public static implicit operator JsonNode(bool value) { return JsonValue.Create(value); }
        public static implicit operator JsonNode(byte value) { return JsonValue.Create(value); }
        public static implicit operator JsonNode(char value) { return JsonValue.Create(value); }
        public static implicit operator JsonNode(DateTime value) { return JsonValue.Create(value); }
        public static implicit operator JsonNode(DateTimeOffset value) { return JsonValue.Create(value); }
        public static implicit operator JsonNode(decimal value) { return JsonValue.Create(value); }
        public static implicit operator JsonNode(double value) { return JsonValue.Create(value); }
        public static implicit operator JsonNode(Guid value) { return JsonValue.Create(value); }
        public static implicit operator JsonNode(short value) { return JsonValue.Create(value); }
        public static implicit operator JsonNode(int value) { return JsonValue.Create(value); }
        public static implicit operator JsonNode(long value) { return JsonValue.Create(value); }
        public static implicit operator JsonNode(sbyte value) { return JsonValue.Create(value); }
        public static implicit operator JsonNode(float value) { return JsonValue.Create(value); }
        public static implicit operator JsonNode(string value) { return JsonValue.Create(value); }
        public static implicit operator JsonNode(ushort value) { return JsonValue.Create(value); }
        public static implicit operator JsonNode(uint value) { return JsonValue.Create(value); }
        public static implicit operator JsonNode(ulong value) { return JsonValue.Create(value); }
        public static implicit operator JsonNode(bool? value) { return value.HasValue ? JsonValue.Create(value.Value) : null; }
        public static implicit operator JsonNode(decimal? value) { return value.HasValue ? JsonValue.Create(value.Value) : null; }
        public static implicit operator JsonNode(double? value) { return value.HasValue ? JsonValue.Create(value.Value) : null; }
        public static implicit operator JsonNode(int? value) { return value.HasValue ? JsonValue.Create(value.Value) : null; }
        public static implicit operator JsonNode(long? value) { return value.HasValue ? JsonValue.Create(value.Value) : null; }

        public static explicit operator bool(JsonNode value) { return Required(value).GetValue<bool>(); }
        public static explicit operator byte(JsonNode value) { return Required(value).GetValue<byte>(); }
        public static explicit operator DateTime(JsonNode value) { return Required(value).GetValue<DateTime>(); }
        public static explicit operator DateTimeOffset(JsonNode value) { return Required(value).GetValue<DateTimeOffset>(); }
        public static explicit operator decimal(JsonNode value) { return Required(value).GetValue<decimal>(); }
        public static explicit operator double(JsonNode value) { return Required(value).GetValue<double>(); }
        public static explicit operator Guid(JsonNode value) { return Required(value).GetValue<Guid>(); }
        public static explicit operator short(JsonNode value) { return Required(value).GetValue<short>(); }
        public static explicit operator int(JsonNode value) { return Required(value).GetValue<int>(); }
        public static explicit operator long(JsonNode value) { return Required(value).GetValue<long>(); }
        public static explicit operator float(JsonNode value) { return Required(value).GetValue<float>(); }
        public static explicit operator uint(JsonNode value) { return Required(value).GetValue<uint>(); }
        public static explicit operator ulong(JsonNode value) { return Required(value).GetValue<ulong>(); }
        public static explicit operator string(JsonNode value) { return value == null ? null : value.GetValue<string>(); }
        public static explicit operator bool?(JsonNode value) { return value == null ? (bool?)null : value.GetValue<bool>(); }
        public static explicit operator decimal?(JsonNode value) { return value == null ? (decimal?)null : value.GetValue<decimal>(); }
        public static explicit operator double?(JsonNode value) { return value == null ? (double?)null : value.GetValue<double>(); }
        public static explicit operator int?(JsonNode value) { return value == null ? (int?)null : value.GetValue<int>(); }
        public static explicit operator long?(JsonNode value) { return value == null ? (long?)null : value.GetValue<long>(); }

        private static JsonNode Required(JsonNode value)
        {
            if (value == null)
            {
                throw new InvalidCastException("A null JSON value cannot be converted to a value type.");
            }
            return value;
        }
    }
}
