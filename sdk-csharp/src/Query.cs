using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace The0
{
    /// <summary>
    /// Queries: read-only handlers that answer questions about a bot.
    /// </summary>
    /// <remarks>
    /// <see cref="Run"/> lets the core detect the mode once: QUERY_PATH set → answer that one query
    /// and write the envelope to <c>/query/result.json</c>; BOT_TYPE=realtime → serve HTTP (port
    /// 9476, or the agent's Unix socket); otherwise → write the <c>/info</c> answer. The HTTP
    /// server, routing, parameters (query string and JSON body), envelopes, limits, timeouts and
    /// every line printed are the core's; handlers run on threads the SDK owns, which take requests
    /// from the core (several at once in server mode).
    /// </remarks>
    /// <example>
    /// <code>
    /// Query.Handler("/portfolio", req =&gt; new { symbol = req.Get("symbol", "BTC/USD"), positions = State.Get("positions", 0) });
    /// Query.Run();
    /// </code>
    /// </example>
    public static class Query
    {
        private static readonly ConcurrentDictionary<string, Func<QueryRequest, object>> Handlers =
            new ConcurrentDictionary<string, Func<QueryRequest, object>>();

        /// <summary>The request the calling thread's handler is answering.</summary>
        [ThreadStatic]
        private static QueryRequest current;

        /// <summary>The request a handler receives.</summary>
        public class QueryRequest
        {
            private readonly string paramsJson;
            private JsonObject typedParams;

            /// <summary>A request with string parameters (for tests of handlers).</summary>
            public QueryRequest(string path, Dictionary<string, string> @params)
            {
                Path = path;
                Params = @params ?? new Dictionary<string, string>();
            }

            internal QueryRequest(string path, Dictionary<string, string> strings, string paramsJson)
                : this(path, strings)
            {
                this.paramsJson = paramsJson;
            }

            /// <summary>The requested path, such as <c>"/portfolio"</c>.</summary>
            public string Path { get; }

            /// <summary>Every parameter in string form: a string as it is, any other JSON value
            /// (from a JSON body or QUERY_PARAMS) as its JSON text — the same in every the0 SDK.</summary>
            public Dictionary<string, string> Params { get; }

            /// <summary>The parameters with their JSON types: query-string values are strings,
            /// values from a JSON body or QUERY_PARAMS keep their types.</summary>
            public JsonObject TypedParams
            {
                get
                {
                    if (typedParams == null)
                    {
                        typedParams = paramsJson != null ? JsonNode.Parse(paramsJson).AsObject() : FromStrings(Params);
                    }
                    return typedParams;
                }
            }

            /// <summary>A parameter in string form, or null when absent.</summary>
            public string Get(string key)
            {
                string value;
                return Params.TryGetValue(key, out value) ? value : null;
            }

            /// <summary>A parameter in string form, or <paramref name="defaultValue"/> when absent.</summary>
            public string Get(string key, string defaultValue)
            {
                string value;
                return Params.TryGetValue(key, out value) ? value : defaultValue;
            }

            /// <summary>A parameter with its JSON type, as <typeparamref name="T"/>, or
            /// <paramref name="defaultValue"/> when absent.</summary>
            /// <exception cref="The0Exception">INVALID_JSON: the value does not fit <typeparamref name="T"/>.</exception>
            public T GetValue<T>(string key, T defaultValue = default(T))
            {
                JsonNode node;
                if (!TypedParams.TryGetPropertyValue(key, out node))
                {
                    return defaultValue;
                }
                try
                {
                    return JsonCodec.Deserialize<T>(node == null ? "null" : node.ToJsonString());
                }
                catch (JsonException e)
                {
                    throw new The0Exception("INVALID_JSON",
                        "query parameter \"" + key + "\" cannot be read as " + typeof(T) + ": " + e.Message);
                }
            }

            private static JsonObject FromStrings(Dictionary<string, string> strings)
            {
                var obj = new JsonObject();
                foreach (var pair in strings)
                {
                    obj[pair.Key] = pair.Value;
                }
                return obj;
            }
        }

        /// <summary>Upstream's second read-only error type, kept so its name still compiles. The
        /// SDK throws <see cref="The0.ReadOnlyStateError"/>; catching either type catches it only
        /// when it is this one, so catch <see cref="The0.ReadOnlyStateError"/>.</summary>
        public class ReadOnlyStateError : The0.ReadOnlyStateError
        {
            public ReadOnlyStateError(string message) : base(message)
            {
            }
        }

        /// <summary>Registers <paramref name="handler"/> for <paramref name="path"/> (a missing
        /// leading <c>/</c> is added; registering a path again replaces its handler).
        /// <c>/health</c> and <c>/info</c> are built in unless registered here.</summary>
        /// <exception cref="ArgumentException">An empty path, or one with control characters.</exception>
        public static void Handler(string path, Func<QueryRequest, object> handler)
        {
            if (handler == null)
            {
                throw new ArgumentNullException(nameof(handler));
            }
            IntPtr stored;
            Native.Check(NativeMethods.the0_query_register(Native.Utf8(path, "the query path"), out stored));
            Handlers[Native.Take(stored)] = handler;
        }

        /// <summary>The parameters of the current query in string form: those of the request this
        /// thread's handler answers, else those of QUERY_PARAMS in ephemeral mode, else none.</summary>
        public static Dictionary<string, string> GetParams()
        {
            var request = current;
            if (request != null)
            {
                return new Dictionary<string, string>(request.Params);
            }
            IntPtr typed, strings;
            Native.Check(NativeMethods.the0_query_params(HostEnvironment.Snapshot(Scope.Query), out typed, out strings));
            Native.Take(typed);
            return QueryService.Strings(Native.Take(strings));
        }

        /// <summary>The bot configuration (BOT_CONFIG), read at every call; <c>{}</c> when unset
        /// or not JSON.</summary>
        public static JsonNode GetConfig()
        {
            IntPtr json;
            Native.Check(NativeMethods.the0_query_config(HostEnvironment.Snapshot(Scope.Query), out json));
            return JsonNode.Parse(Native.Take(json));
        }

        /// <summary>Whether this process serves queries (QUERY_PATH set, or <see cref="Run"/>
        /// started): state is then read-only.</summary>
        public static bool IsQueryMode()
        {
            int active;
            Native.Check(NativeMethods.the0_query_is_query_mode(HostEnvironment.Snapshot(Scope.Query), out active));
            return active != 0;
        }

        /// <summary>Runs the query system in the detected mode and returns when it is done.</summary>
        /// <remarks>
        /// Ephemeral and info modes: the answer goes to the result file; a failed query ends the
        /// process with exit code 1 (as upstream). Server mode: serves until SIGTERM or SIGINT
        /// (or Ctrl+C), lets the requests in flight finish, then returns. A server that cannot
        /// start (port in use, bad setting) prints why and ends the process with code 1.
        /// </remarks>
        public static void Run()
        {
            QueryService.Run(HandlerFor);
        }

        private static object HandlerFor(QueryRequest request)
        {
            Func<QueryRequest, object> handler;
            if (!Handlers.TryGetValue(request.Path, out handler))
            {
                throw new InvalidOperationException("no C# handler is registered for " + request.Path);
            }
            current = request;
            try
            {
                return handler(request);
            }
            finally
            {
                current = null;
            }
        }
    }
}
