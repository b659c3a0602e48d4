using System.Globalization;
using System.Text;

namespace The0
{
    /// <summary>Writes a string as a JSON string literal (quotes, backslashes and control
    /// characters escaped, everything else as it is) — for the environment snapshots the SDK hands
    /// the core, and for the Mono build's JSON writer.</summary>
    internal static class JsonQuote
    {
        internal static void Append(StringBuilder builder, string value)
        {
            builder.Append('"');
            foreach (var c in value)
            {
                switch (c)
                {
                    case '"': builder.Append("\\\""); break;
                    case '\\': builder.Append("\\\\"); break;
                    case '\n': builder.Append("\\n"); break;
                    case '\r': builder.Append("\\r"); break;
                    case '\t': builder.Append("\\t"); break;
                    case '\b': builder.Append("\\b"); break;
                    case '\f': builder.Append("\\f"); break;
                    default:
                        if (c < ' ')
                        {
                            builder.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                        }
                        else
                        {
                            builder.Append(c);
                        }
                        break;
                }
            }
            builder.Append('"');
        }
    }
}
