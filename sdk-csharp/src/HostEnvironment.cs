using System;
using System.Collections.Generic;
using System.Text;
using System.Text.Json.Nodes;

namespace The0
{
    /// <summary>The groups of variables the core's calls read (THE0_ENV_* of the0.h).</summary>
    internal enum Scope
    {
        All = 0,
        State = 1,
        Input = 2,
        Query = 3,
    }

    /// <summary>
    /// .NET's view of the environment, handed to the core at every call. On .NET 8
    /// <c>Environment.SetEnvironmentVariable</c> does not reach the C library's <c>getenv</c>
    /// (on Mono it does), so the core never reads the process environment itself: each call gets a
    /// JSON object of the current values of the names its scope reads, read through
    /// <see cref="Environment.GetEnvironmentVariable(string)"/> — a bot or test that sets
    /// STATE_DIR, QUERY_PATH or BOT_CONFIG in-process is honoured on both runtimes.
    /// </summary>
    internal static class HostEnvironment
    {
        /// <summary>The names of each scope, asked from the core once (they never change).</summary>
        private static readonly string[][] NamesByScope = new string[4][];

        /// <summary>The snapshot for a call of <paramref name="scope"/>, as NUL-terminated UTF-8:
        /// <c>{"STATE_DIR":"/state","QUERY_PATH":null}</c>.</summary>
        internal static byte[] Snapshot(Scope scope)
        {
            var builder = new StringBuilder(128);
            builder.Append('{');
            var first = true;
            foreach (var name in Names(scope))
            {
                if (!first)
                {
                    builder.Append(',');
                }
                first = false;
                JsonQuote.Append(builder, name);
                builder.Append(':');
                var value = Environment.GetEnvironmentVariable(name);
                if (value == null)
                {
                    builder.Append("null");
                }
                else
                {
                    JsonQuote.Append(builder, value);
                }
            }
            builder.Append('}');
            return Native.Utf8(builder.ToString(), "the environment");
        }

        private static string[] Names(Scope scope)
        {
            var names = NamesByScope[(int)scope];
            if (names != null)
            {
                return names;
            }
            IntPtr pointer;
            Native.Check(NativeMethods.the0_env_names((int)scope, out pointer));
            var list = new List<string>();
            foreach (var name in JsonNode.Parse(Native.Take(pointer)).AsArray())
            {
                list.Add(name.GetValue<string>());
            }
            names = list.ToArray();
            NamesByScope[(int)scope] = names;
            return names;
        }
    }
}
