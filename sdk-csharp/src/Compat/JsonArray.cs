// Mono build only (see JsonNode.cs).
using System.Collections;
using System.Collections.Generic;
using System.Text.Json;

namespace System.Text.Json.Nodes
{
    /// <summary>A JSON array.</summary>
    public sealed class JsonArray : JsonNode, IList<JsonNode>
    {
        private readonly List<JsonNode> items = new List<JsonNode>();

        public JsonArray(params JsonNode[] items)
        {
            if (items != null)
            {
                foreach (var item in items)
                {
                    Add(item);
                }
            }
        }

        public int Count { get { return items.Count; } }

        bool ICollection<JsonNode>.IsReadOnly { get { return false; } }

        public new JsonNode this[int index]
        {
            get { return items[index]; }
            set
            {
                if (value != null) value.AttachTo(this);
                var old = items[index];
                if (old != null) old.Parent = null;
                items[index] = value;
            }
        }

        public void Add(JsonNode item)
        {
            if (item != null) item.AttachTo(this);
            items.Add(item);
        }

        public void Insert(int index, JsonNode item)
        {
            if (item != null) item.AttachTo(this);
            items.Insert(index, item);
        }

        public bool Remove(JsonNode item)
        {
            var at = IndexOf(item);
            if (at < 0)
            {
                return false;
            }
            RemoveAt(at);
            return true;
        }

        public void RemoveAt(int index)
        {
            var old = items[index];
            if (old != null) old.Parent = null;
            items.RemoveAt(index);
        }

        public int IndexOf(JsonNode item)
        {
            for (var i = 0; i < items.Count; i++)
            {
                if (ReferenceEquals(items[i], item))
                {
                    return i;
                }
            }
            return -1;
        }

        public bool Contains(JsonNode item)
        {
            return IndexOf(item) >= 0;
        }

        public void Clear()
        {
            foreach (var item in items)
            {
                if (item != null) item.Parent = null;
            }
            items.Clear();
        }

        public void CopyTo(JsonNode[] array, int arrayIndex)
        {
            items.CopyTo(array, arrayIndex);
        }

        public IEnumerator<JsonNode> GetEnumerator()
        {
            return items.GetEnumerator();
        }

        IEnumerator IEnumerable.GetEnumerator()
        {
            return GetEnumerator();
        }

        /// <summary>The elements as <typeparamref name="T"/> (each through GetValue).</summary>
        public IEnumerable<T> GetValues<T>()
        {
            foreach (var item in items)
            {
                yield return item == null ? default(T) : item.GetValue<T>();
            }
        }

        public override JsonValueKind GetValueKind()
        {
            return JsonValueKind.Array;
        }

        public override JsonNode DeepClone()
        {
            var copy = new JsonArray();
            foreach (var item in items)
            {
                copy.Add(item == null ? null : item.DeepClone());
            }
            return copy;
        }

        internal override bool DeepEqualsNode(JsonNode other)
        {
            var array = other as JsonArray;
            if (array == null || array.Count != Count)
            {
                return false;
            }
            for (var i = 0; i < items.Count; i++)
            {
                if (!DeepEquals(items[i], array.items[i]))
                {
                    return false;
                }
            }
            return true;
        }
    }
}
