// Mono build only. The JSON reader and writer behind the System.Text.Json.Nodes subset: strict
// RFC 8259, and numbers keep the text they were read with (as JsonNode does on .NET 8), so a
// value read and written again is the same JSON.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace The0.Compat
{
    /// <summary>Parses JSON text into nodes.</summary>
    internal sealed class JsonTextParser
    {
        /// <summary>Deeper documents are refused, as System.Text.Json refuses them by default.</summary>
        private const int MaxDepth = 64;

        private readonly string text;
        private int position;
        private int depth;

        private JsonTextParser(string text)
        {
            this.text = text;
        }

        /// <summary>The node of <paramref name="json"/>; null for the JSON <c>null</c>.</summary>
        internal static JsonNode Parse(string json)
        {
            if (json == null)
            {
                throw new ArgumentNullException(nameof(json));
            }
            var parser = new JsonTextParser(json);
            parser.SkipWhitespace();
            var node = parser.ReadValue();
            parser.SkipWhitespace();
            if (parser.position != json.Length)
            {
                throw parser.Error("'" + json[parser.position] + "' is invalid after a single JSON value");
            }
            return node;
        }

        private JsonException Error(string what)
        {
            return new JsonException(what + ". Position: " + position + ".");
        }

        private void SkipWhitespace()
        {
            while (position < text.Length)
            {
                var c = text[position];
                if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
                {
                    return;
                }
                position++;
            }
        }

        private JsonNode ReadValue()
        {
            if (position >= text.Length)
            {
                throw Error("The input does not contain any JSON tokens");
            }
            var c = text[position];
            switch (c)
            {
                case '{':
                    return ReadObject();
                case '[':
                    return ReadArray();
                case '"':
                    return JsonValue.Create(ReadString());
                case 't':
                    ReadLiteral("true");
                    return JsonValue.Create(true);
                case 'f':
                    ReadLiteral("false");
                    return JsonValue.Create(false);
                case 'n':
                    ReadLiteral("null");
                    return null;
                default:
                    if (c == '-' || (c >= '0' && c <= '9'))
                    {
                        return new JsonPrimitive(ReadNumber(), JsonValueKind.Number);
                    }
                    throw Error("'" + c + "' is an invalid start of a value");
            }
        }

        private void Enter()
        {
            if (++depth > MaxDepth)
            {
                throw Error("The maximum depth of " + MaxDepth + " was exceeded");
            }
        }

        private JsonObject ReadObject()
        {
            Enter();
            position++;
            var result = new JsonObject();
            SkipWhitespace();
            if (Peek() == '}')
            {
                position++;
                depth--;
                return result;
            }
            while (true)
            {
                SkipWhitespace();
                if (Peek() != '"')
                {
                    throw Error("Expected a property name");
                }
                var name = ReadString();
                SkipWhitespace();
                Expect(':');
                SkipWhitespace();
                result[name] = ReadValue();
                SkipWhitespace();
                var next = Peek();
                position++;
                if (next == '}')
                {
                    depth--;
                    return result;
                }
                if (next != ',')
                {
                    position--;
                    throw Error("Expected ',' or '}'");
                }
            }
        }

        private JsonArray ReadArray()
        {
            Enter();
            position++;
            var result = new JsonArray();
            SkipWhitespace();
            if (Peek() == ']')
            {
                position++;
                depth--;
                return result;
            }
            while (true)
            {
                SkipWhitespace();
                result.Add(ReadValue());
                SkipWhitespace();
                var next = Peek();
                position++;
                if (next == ']')
                {
                    depth--;
                    return result;
                }
                if (next != ',')
                {
                    position--;
                    throw Error("Expected ',' or ']'");
                }
            }
        }

        private char Peek()
        {
            if (position >= text.Length)
            {
                throw Error("Unexpected end of the JSON text");
            }
            return text[position];
        }

        private void Expect(char c)
        {
            if (Peek() != c)
            {
                throw Error("Expected '" + c + "'");
            }
            position++;
        }

        private void ReadLiteral(string literal)
        {
            if (string.CompareOrdinal(text, position, literal, 0, literal.Length) != 0)
            {
                throw Error("'" + text[position] + "' is an invalid start of a value");
            }
            position += literal.Length;
        }

        private string ReadString()
        {
            position++;
            var builder = new System.Text.StringBuilder();
            while (true)
            {
                var c = Peek();
                position++;
                if (c == '"')
                {
                    return builder.ToString();
                }
                if (c < ' ')
                {
                    position--;
                    throw Error("A control character must be escaped in a string");
                }
                if (c != '\\')
                {
                    builder.Append(c);
                    continue;
                }
                var escape = Peek();
                position++;
                switch (escape)
                {
                    case '"': builder.Append('"'); break;
                    case '\\': builder.Append('\\'); break;
                    case '/': builder.Append('/'); break;
                    case 'b': builder.Append('\b'); break;
                    case 'f': builder.Append('\f'); break;
                    case 'n': builder.Append('\n'); break;
                    case 'r': builder.Append('\r'); break;
                    case 't': builder.Append('\t'); break;
                    case 'u':
                        if (position + 4 > text.Length ||
                            !int.TryParse(text.Substring(position, 4), NumberStyles.AllowHexSpecifier,
                                CultureInfo.InvariantCulture, out var code))
                        {
                            throw Error("Expected four hexadecimal digits after \\u");
                        }
                        builder.Append((char)code);
                        position += 4;
                        break;
                    default:
                        position--;
                        throw Error("'" + escape + "' is an invalid escapable character");
                }
            }
        }

        private string ReadNumber()
        {
            var start = position;
            if (Peek() == '-')
            {
                position++;
            }
            if (position < text.Length && text[position] == '0')
            {
                position++;
            }
            else if (!ReadDigits())
            {
                throw Error("Expected a digit");
            }
            if (position < text.Length && text[position] == '.')
            {
                position++;
                if (!ReadDigits())
                {
                    throw Error("Expected a digit after the decimal point");
                }
            }
            if (position < text.Length && (text[position] == 'e' || text[position] == 'E'))
            {
                position++;
                if (position < text.Length && (text[position] == '+' || text[position] == '-'))
                {
                    position++;
                }
                if (!ReadDigits())
                {
                    throw Error("Expected a digit in the exponent");
                }
            }
            if (position < text.Length && (char.IsLetterOrDigit(text[position]) || text[position] == '.'))
            {
                throw Error("'" + text[position] + "' is invalid within a number");
            }
            return text.Substring(start, position - start);
        }

        private bool ReadDigits()
        {
            var start = position;
            while (position < text.Length && text[position] >= '0' && text[position] <= '9')
            {
                position++;
            }
            return position > start;
        }
    }

    /// <summary>Writes nodes as JSON text: compact, or indented by two spaces.</summary>
    internal static class JsonTextWriter
    {
        internal static string Write(JsonNode node, bool indented)
        {
            var builder = new System.Text.StringBuilder();
            Write(builder, node, indented, 0);
            return builder.ToString();
        }

        private static void Write(System.Text.StringBuilder builder, JsonNode node, bool indented, int level)
        {
            if (node == null)
            {
                builder.Append("null");
                return;
            }
            var obj = node as JsonObject;
            if (obj != null)
            {
                WriteMembers(builder, '{', '}', obj.Count, obj, indented, level);
                return;
            }
            var array = node as JsonArray;
            if (array != null)
            {
                WriteMembers(builder, '[', ']', array.Count, array, indented, level);
                return;
            }
            ((JsonPrimitive)node).WriteTo(builder);
        }

        private static void WriteMembers(System.Text.StringBuilder builder, char open, char close, int count,
            System.Collections.IEnumerable items, bool indented, int level)
        {
            builder.Append(open);
            if (count == 0)
            {
                builder.Append(close);
                return;
            }
            var first = true;
            foreach (var item in items)
            {
                if (!first)
                {
                    builder.Append(',');
                }
                first = false;
                if (indented)
                {
                    builder.Append('\n').Append(' ', 2 * (level + 1));
                }
                if (item is KeyValuePair<string, JsonNode>)
                {
                    var member = (KeyValuePair<string, JsonNode>)item;
                    JsonQuote.Append(builder, member.Key);
                    builder.Append(indented ? ": " : ":");
                    Write(builder, member.Value, indented, level + 1);
                }
                else
                {
                    Write(builder, (JsonNode)item, indented, level + 1);
                }
            }
            if (indented)
            {
                builder.Append('\n').Append(' ', 2 * level);
            }
            builder.Append(close);
        }
    }
}
