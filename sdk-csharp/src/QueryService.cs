using System;
using System.Collections.Generic;
using System.Reflection;
using System.Text.Json.Nodes;
using System.Threading;

namespace The0
{
    /// <summary>
    /// One run of the query system, the host's side of the poll model: start the core's service,
    /// take requests with <c>the0_query_next</c> on worker threads the SDK owns, answer each with
    /// <c>the0_query_respond</c>, finish, and end the process as the core says. No delegate is
    /// ever handed to native code.
    /// </summary>
    internal static class QueryService
    {
        private const uint HandleSignals = 1; // THE0_START_HANDLE_SIGNALS
        private const int ModeServer = 2; // THE0_MODE_SERVER
        private const int ReplyOk = 0, ReplyError = 1, ReplyUnserializable = 2; // THE0_REPLY_*

        /// <summary>How long one wait for a request lasts before it is renewed.</summary>
        private const uint PollMs = 1000;

        internal static void Run(Func<Query.QueryRequest, object> dispatch)
        {
            int mode;
            uint workers;
            IntPtr lines;
            JsonCodec.WarmUp();
            // Signal handling first: the core answers /health as soon as it listens. On .NET 8 the
            // runtime's handler stops the server (ServerShutdown); on Mono, which has none, the
            // core's. Never both: the core would stop the server and Run could unregister the
            // runtime's handler before the runtime dispatched the signal to it, and the runtime
            // would then end the process with 143.
            var shutdown = new ServerShutdown();
            var flags = shutdown.HandlesSignals ? 0u : HandleSignals;
            var status = NativeMethods.the0_query_start(HostEnvironment.Snapshot(Scope.Query), flags,
                (uint)Math.Max(2, Environment.ProcessorCount), out mode, out workers, out lines);
            Streams.Stderr(lines); // where the server listens, or why the service cannot start
            if (status != (int)Status.Ok)
            {
                Environment.Exit(1);
            }
            var server = mode == ModeServer;
            if (!server)
            {
                shutdown.Complete();
            }
            var threads = new List<Thread>();
            for (var i = 0; i < workers; i++)
            {
                var thread = new Thread(() => Poll(dispatch)) { IsBackground = true, Name = "the0-query-" + i };
                thread.Start();
                threads.Add(thread);
            }
            if (server)
            {
                threads.ForEach(t => t.Join());
            }
            int exitCode;
            // In ephemeral and info modes this returns as soon as the answer is written.
            status = NativeMethods.the0_query_finish(out exitCode, out lines);
            var failure = status == (int)Status.Ok || status == (int)Status.Timeout ? null : Native.Failure(status);
            Streams.Stderr(lines);
            if (status == (int)Status.Timeout)
            {
                // A handler hangs past its timeout; the 504 answer is written. Do not wait for it.
                Environment.Exit(exitCode != 0 ? exitCode : 1);
            }
            if (failure != null)
            {
                throw failure;
            }
            threads.ForEach(t => t.Join());
            if (server)
            {
                shutdown.Complete();
            }
            if (exitCode != 0)
            {
                Environment.Exit(exitCode);
            }
        }

        /// <summary>A JSON object of strings (the core's string form of parameters) as a dictionary.</summary>
        internal static Dictionary<string, string> Strings(string json)
        {
            var strings = new Dictionary<string, string>();
            if (json == "{}")
            {
                return strings;
            }
            foreach (var member in JsonNode.Parse(json).AsObject())
            {
                strings[member.Key] = member.Value.GetValue<string>();
            }
            return strings;
        }

        /// <summary>Takes requests and answers them until the core says there will be no more.</summary>
        private static void Poll(Func<Query.QueryRequest, object> dispatch)
        {
            while (true)
            {
                ulong id;
                IntPtr path, typed, strings;
                var status = NativeMethods.the0_query_next(PollMs, out id, out path, out typed, out strings);
                if (status == (int)Status.Timeout)
                {
                    continue;
                }
                if (status != (int)Status.Ok)
                {
                    return; // DONE (or the service is gone: the main thread's finish reports it)
                }
                var request = new Query.QueryRequest(Native.Take(path), Strings(Native.Take(strings)), Native.Take(typed));
                Answer(id, request, dispatch);
            }
        }

        private static void Answer(ulong id, Query.QueryRequest request, Func<Query.QueryRequest, object> dispatch)
        {
            object result;
            try
            {
                result = dispatch(request);
            }
            catch (Exception e)
            {
                Respond(id, ReplyError, e.Message);
                return;
            }
            string json;
            try
            {
                json = JsonCodec.Serialize(result);
            }
            catch (Exception e)
            {
                Respond(id, ReplyUnserializable, JsonCodec.Reason(e));
                return;
            }
            Respond(id, ReplyOk, json);
        }

        /// <summary>Answers a request. A refused answer needs nothing more: UNKNOWN_REQUEST means it
        /// timed out (its client got 504), INVALID_JSON that the core answered 500 itself.</summary>
        private static void Respond(ulong id, int reply, string body)
        {
            // C text ends at a NUL: a message that holds one is passed with the NUL replaced.
            var text = (body ?? "").Replace('\0', '\uFFFD');
            NativeMethods.the0_query_respond(id, reply, Native.Utf8(text, "the answer"));
        }

        /// <summary>
        /// .NET 8 ends the process by itself on SIGTERM and SIGINT (raising ProcessExit, exit code
        /// 143 or 130). In server mode the SDK cancels that through PosixSignalRegistration and stops
        /// the server instead, so the requests in flight are answered and Run returns; the process
        /// then exits 0. Mono has no such handling (nor the type): there the core's own signal
        /// handling (THE0_START_HANDLE_SIGNALS) stops the server. The type is looked up at run time
        /// because the SDK is also compiled by Mono's compiler, which does not know it.
        /// </summary>
        private sealed class ServerShutdown
        {
            private const string InteropServices = ", System.Runtime.InteropServices";
            private readonly List<IDisposable> registrations = new List<IDisposable>();

            internal ServerShutdown()
            {
                var registration = Type.GetType("System.Runtime.InteropServices.PosixSignalRegistration" + InteropServices);
                var signal = Type.GetType("System.Runtime.InteropServices.PosixSignal" + InteropServices);
                var context = Type.GetType("System.Runtime.InteropServices.PosixSignalContext" + InteropServices);
                if (registration == null || signal == null || context == null)
                {
                    return;
                }
                var handlerType = typeof(Action<>).MakeGenericType(context);
                var handler = Delegate.CreateDelegate(handlerType,
                    typeof(ServerShutdown).GetMethod(nameof(OnSignal), BindingFlags.NonPublic | BindingFlags.Static));
                var create = registration.GetMethod("Create", new[] { signal, handlerType });
                foreach (var name in new[] { "SIGTERM", "SIGINT" })
                {
                    registrations.Add((IDisposable)create.Invoke(null, new[] { Enum.Parse(signal, name), (object)handler }));
                }
            }

            /// <summary>Whether the runtime's signal handling stops the server (.NET 8, not Mono).</summary>
            internal bool HandlesSignals
            {
                get { return registrations.Count > 0; }
            }

            /// <summary>Stops handling the signals: the service has finished, or is not a server.</summary>
            internal void Complete()
            {
                registrations.ForEach(r => r.Dispose());
            }

            /// <summary>Cancels the runtime's termination and stops the server (the argument is
            /// a PosixSignalContext).</summary>
            private static void OnSignal(object context)
            {
                context.GetType().GetProperty("Cancel").SetValue(context, true);
                NativeMethods.the0_query_stop();
            }
        }
    }
}
