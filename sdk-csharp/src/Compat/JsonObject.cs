// Mono build only (see JsonNode.cs).
using System.Collections;
using System.Collections.Generic;
using System.Text.Json;

namespace System.Text.Json.Nodes
{
    /// <summary>A JSON object: members in the order they were added.</summary>
    public sealed class JsonObject : JsonNode, IDictionary<string, JsonNode>
    {
        private readonly List<KeyValuePair<string, JsonNode>> members = new List<KeyValuePair<string, JsonNode>>();
        private readonly Dictionary<string, int> index = new Dictionary<string, int>(StringComparer.Ordinal);

        public JsonObject()
        {
        }

        public JsonObject(IEnumerable<KeyValuePair<string, JsonNode>> properties)
        {
            foreach (var property in properties)
            {
                Add(property.Key, property.Value);
            }
        }

        public int Count { get { return members.Count; } }

        bool ICollection<KeyValuePair<string, JsonNode>>.IsReadOnly { get { return false; } }

        public ICollection<string> Keys
        {
            get { return members.ConvertAll(m => m.Key); }
        }

        public ICollection<JsonNode> Values
        {
            get { return members.ConvertAll(m => m.Value); }
        }

        /// <summary>The member named <paramref name="propertyName"/>; null when absent. Setting
        /// replaces it, or adds it at the end.</summary>
        public new JsonNode this[string propertyName]
        {
            get
            {
                JsonNode value;
                TryGetPropertyValue(propertyName, out value);
                return value;
            }
            set
            {
                int at;
                if (index.TryGetValue(propertyName, out at))
                {
                    if (value != null) value.AttachTo(this);
                    var old = members[at].Value;
                    if (old != null) old.Parent = null;
                    members[at] = new KeyValuePair<string, JsonNode>(propertyName, value);
                }
                else
                {
                    Add(propertyName, value);
                }
            }
        }

        public void Add(string propertyName, JsonNode value)
        {
            if (propertyName == null)
            {
                throw new ArgumentNullException(nameof(propertyName));
            }
            if (index.ContainsKey(propertyName))
            {
                throw new ArgumentException("An item with the same key has already been added. Key: " + propertyName);
            }
            if (value != null) value.AttachTo(this);
            index[propertyName] = members.Count;
            members.Add(new KeyValuePair<string, JsonNode>(propertyName, value));
        }

        public void Add(KeyValuePair<string, JsonNode> property)
        {
            Add(property.Key, property.Value);
        }

        public bool ContainsKey(string propertyName)
        {
            return index.ContainsKey(propertyName);
        }

        public bool TryGetPropertyValue(string propertyName, out JsonNode jsonNode)
        {
            int at;
            if (index.TryGetValue(propertyName, out at))
            {
                jsonNode = members[at].Value;
                return true;
            }
            jsonNode = null;
            return false;
        }

        bool IDictionary<string, JsonNode>.TryGetValue(string key, out JsonNode value)
        {
            return TryGetPropertyValue(key, out value);
        }

        public bool Remove(string propertyName)
        {
            int at;
            if (!index.TryGetValue(propertyName, out at))
            {
                return false;
            }
            var old = members[at].Value;
            if (old != null) old.Parent = null;
            members.RemoveAt(at);
            index.Remove(propertyName);
            for (var i = at; i < members.Count; i++)
            {
                index[members[i].Key] = i;
            }
            return true;
        }

        bool ICollection<KeyValuePair<string, JsonNode>>.Remove(KeyValuePair<string, JsonNode> item)
        {
            JsonNode value;
            return TryGetPropertyValue(item.Key, out value) && ReferenceEquals(value, item.Value) && Remove(item.Key);
        }

        bool ICollection<KeyValuePair<string, JsonNode>>.Contains(KeyValuePair<string, JsonNode> item)
        {
            JsonNode value;
            return TryGetPropertyValue(item.Key, out value) && ReferenceEquals(value, item.Value);
        }

        void ICollection<KeyValuePair<string, JsonNode>>.CopyTo(KeyValuePair<string, JsonNode>[] array, int arrayIndex)
        {
            members.CopyTo(array, arrayIndex);
        }

        public void Clear()
        {
            foreach (var member in members)
            {
                if (member.Value != null) member.Value.Parent = null;
            }
            members.Clear();
            index.Clear();
        }

        public IEnumerator<KeyValuePair<string, JsonNode>> GetEnumerator()
        {
            return members.GetEnumerator();
        }

        IEnumerator IEnumerable.GetEnumerator()
        {
            return GetEnumerator();
        }

        public override JsonValueKind GetValueKind()
        {
            return JsonValueKind.Object;
        }

        public override JsonNode DeepClone()
        {
            var copy = new JsonObject();
            foreach (var member in members)
            {
                copy.Add(member.Key, member.Value == null ? null : member.Value.DeepClone());
            }
            return copy;
        }

        internal override bool DeepEqualsNode(JsonNode other)
        {
            var obj = other as JsonObject;
            if (obj == null || obj.Count != Count)
            {
                return false;
            }
            foreach (var member in members)
            {
                JsonNode theirs;
                if (!obj.TryGetPropertyValue(member.Key, out theirs) || !DeepEquals(member.Value, theirs))
                {
                    return false;
                }
            }
            return true;
        }
    }
}
