using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Text;
using System.Text.Json.Nodes;
using System.Threading;

namespace The0.Tests
{
    /// <summary>Marks a test: a public method without parameters, run on a new instance of its
    /// class (disposed afterwards when the class is IDisposable).</summary>
    [AttributeUsage(AttributeTargets.Method)]
    public sealed class TestAttribute : Attribute
    {
    }

    /// <summary>Marks a probe: a static method the tests run in a child process
    /// (<c>probe NAME ARGS...</c>), for what ends or owns a process (Query.Run, Input.Error).</summary>
    [AttributeUsage(AttributeTargets.Method)]
    public sealed class ProbeAttribute : Attribute
    {
    }

    /// <summary>
    /// A small test runner of our own (xunit cannot be fetched here): runs every [Test] of this
    /// assembly, or those whose name contains the argument, prints one line per test and a last
    /// line <c>N passed, N failed</c>, and exits 1 when a test failed. <c>probe NAME ARGS</c> runs a
    /// probe instead.
    /// </summary>
    public static class Runner
    {
        public static int Main(string[] args)
        {
            if (args.Length > 0 && args[0] == "probe")
            {
                var probe = typeof(Runner).Assembly.GetTypes().SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Static))
                    .Single(m => m.GetCustomAttributes(typeof(ProbeAttribute), false).Length > 0 && m.Name == args[1]);
                probe.Invoke(null, new object[] { args.Skip(2).ToArray() });
                return 0;
            }
            var filter = args.Length > 0 ? args[0] : "";
            var tests = typeof(Runner).Assembly.GetTypes()
                .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Instance))
                .Where(m => m.GetCustomAttributes(typeof(TestAttribute), false).Length > 0)
                .Where(m => (m.DeclaringType.Name + "." + m.Name).Contains(filter))
                .OrderBy(m => m.DeclaringType.Name).ThenBy(m => m.Name).ToList();
            Console.Error.WriteLine("# " + tests.Count + " tests on " + Runtime.Name);
            int passed = 0, failed = 0;
            foreach (var test in tests)
            {
                var name = test.DeclaringType.Name + "." + test.Name;
                try
                {
                    var instance = Activator.CreateInstance(test.DeclaringType);
                    try
                    {
                        test.Invoke(instance, null);
                    }
                    finally
                    {
                        (instance as IDisposable)?.Dispose();
                    }
                    passed++;
                    Console.WriteLine("ok   " + name);
                }
                catch (Exception e)
                {
                    failed++;
                    var cause = e is TargetInvocationException && e.InnerException != null ? e.InnerException : e;
                    Console.WriteLine("FAIL " + name + ": " + cause.GetType().Name + ": " + cause.Message);
                    Console.WriteLine("     " + cause.StackTrace?.Replace("\n", "\n     "));
                }
            }
            Console.WriteLine(passed + " passed, " + failed + " failed");
            return failed == 0 && passed > 0 ? 0 : 1;
        }
    }

    /// <summary>The runtime the tests run on, and child processes on the same runtime.</summary>
    public static class Runtime
    {
        public static bool IsMono => Type.GetType("Mono.Runtime") != null;

        public static string Name => IsMono ? "Mono " + Environment.Version : ".NET " + Environment.Version;

        /// <summary>Runs probe <paramref name="name"/> in a child process with <paramref name="env"/>
        /// added to (null: removed from) this process's environment.</summary>
        public static Child Probe(string name, Dictionary<string, string> env, params string[] args)
        {
            return Start(typeof(Runner).Assembly.Location, env, new[] { "probe", name }.Concat(args).ToArray());
        }

        /// <summary>Runs the program <paramref name="assembly"/> on this runtime in a child process.</summary>
        public static Child Start(string assembly, Dictionary<string, string> env, params string[] args)
        {
            var host = Process.GetCurrentProcess().MainModule.FileName;
            var info = new ProcessStartInfo(host)
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            info.Arguments = string.Join(" ", new[] { assembly }.Concat(args).Select(Quote));
            foreach (var pair in env)
            {
                if (pair.Value == null)
                {
                    info.EnvironmentVariables.Remove(pair.Key);
                }
                else
                {
                    info.EnvironmentVariables[pair.Key] = pair.Value;
                }
            }
            return new Child(Process.Start(info));
        }

        /// <summary>One argument quoted for ProcessStartInfo.Arguments (both runtimes split it
        /// with the usual rules: quotes group, backslashes escape only before a quote).</summary>
        public static string Quote(string arg)
        {
            var quoted = new StringBuilder("\"");
            var backslashes = 0;
            foreach (var c in arg)
            {
                if (c == '\\')
                {
                    backslashes++;
                    continue;
                }
                quoted.Append('\\', c == '"' ? 2 * backslashes + 1 : backslashes);
                backslashes = 0;
                quoted.Append(c);
            }
            return quoted.Append('\\', 2 * backslashes).Append('"').ToString();
        }
    }

    /// <summary>A child process whose output is collected line by line.</summary>
    public sealed class Child : IDisposable
    {
        private readonly Process process;
        private readonly List<string> stdout = new List<string>();
        private readonly List<string> stderr = new List<string>();

        public Child(Process process)
        {
            this.process = process;
            process.OutputDataReceived += (s, e) => { if (e.Data != null) lock (stdout) stdout.Add(e.Data); };
            process.ErrorDataReceived += (s, e) => { if (e.Data != null) lock (stderr) stderr.Add(e.Data); };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        public int Pid => process.Id;

        /// <summary>Waits for the exit (at most two minutes: a hang fails the test) and returns the code.</summary>
        public int Wait()
        {
            if (!process.WaitForExit(120000))
            {
                process.Kill();
                throw new TimeoutException("the child did not exit; stderr: " + Stderr);
            }
            process.WaitForExit();
            return process.ExitCode;
        }

        public string Stdout { get { lock (stdout) return string.Join("\n", stdout); } }

        public string Stderr { get { lock (stderr) return string.Join("\n", stderr); } }

        /// <summary>Waits until a stderr line contains <paramref name="text"/>, and returns it.</summary>
        public string WaitForStderr(string text)
        {
            var deadline = DateTime.UtcNow.AddMinutes(2);
            while (DateTime.UtcNow < deadline)
            {
                lock (stderr)
                {
                    var line = stderr.FirstOrDefault(l => l.Contains(text));
                    if (line != null) return line;
                }
                if (process.HasExited)
                {
                    Thread.Sleep(100); // let the output readers drain
                    lock (stderr)
                    {
                        var line = stderr.FirstOrDefault(l => l.Contains(text));
                        if (line != null) return line;
                    }
                    throw new InvalidOperationException("the child exited (" + process.ExitCode + ") before printing " + text + ": " + Stderr);
                }
                Thread.Sleep(20);
            }
            throw new TimeoutException("no stderr line with " + text + ": " + Stderr);
        }

        /// <summary>Sends a signal (kill(1): the test machine's own tool).</summary>
        public void Signal(string name)
        {
            Process.Start("kill", "-" + name + " " + process.Id).WaitForExit();
        }

        public void Dispose()
        {
            if (!process.HasExited)
            {
                process.Kill();
                process.WaitForExit();
            }
        }
    }

    /// <summary>An HTTP response: status and JSON body.</summary>
    public sealed class Response
    {
        public int Status;
        public JsonNode Body;
        public string Text;
    }

    /// <summary>HTTP requests to a query server through curl (TCP on 127.0.0.1, or a Unix socket).</summary>
    public static class Http
    {
        public static Response Request(string target, string method, string path, string body = null)
        {
            var args = new List<string> { "-s", "-S", "-o", "-", "-w", "\n%{http_code}", "-X", method };
            string url;
            if (target.StartsWith("unix:"))
            {
                args.Add("--unix-socket");
                args.Add(target.Substring(5));
                url = "http://localhost" + path;
            }
            else
            {
                url = "http://" + target + path;
            }
            if (body != null)
            {
                args.Add("-H");
                args.Add("Content-Type: application/json");
                args.Add("--data-binary");
                args.Add(body);
            }
            args.Add(url);
            var info = new ProcessStartInfo("curl", string.Join(" ", args.Select(Runtime.Quote)))
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            var process = Process.Start(info);
            var output = process.StandardOutput.ReadToEnd();
            var error = process.StandardError.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException("curl failed: " + error);
            }
            var cut = output.LastIndexOf('\n');
            var text = output.Substring(0, cut);
            return new Response { Status = int.Parse(output.Substring(cut + 1)), Text = text, Body = JsonNode.Parse(text) };
        }
    }

    /// <summary>Assertions that say what differed.</summary>
    public static class Assert
    {
        public static void Equal<T>(T expected, T actual, string what = "value")
        {
            if (!EqualityComparer<T>.Default.Equals(expected, actual))
            {
                throw new Exception(what + ": expected <" + expected + "> but got <" + actual + ">");
            }
        }

        public static void Json(string expected, JsonNode actual, string what = "JSON")
        {
            if (!JsonNode.DeepEquals(JsonNode.Parse(expected), actual))
            {
                throw new Exception(what + ": expected " + expected + " but got " + (actual == null ? "null" : actual.ToJsonString()));
            }
        }

        public static void True(bool condition, string what)
        {
            if (!condition) throw new Exception("expected: " + what);
        }

        public static void Contains(string part, string text)
        {
            if (text == null || !text.Contains(part)) throw new Exception("expected <" + text + "> to contain <" + part + ">");
        }

        /// <summary>Runs <paramref name="action"/> and returns the exception of type
        /// <typeparamref name="T"/> (or a subtype) it throws.</summary>
        public static T Throws<T>(Action action) where T : Exception
        {
            try
            {
                action();
            }
            catch (T e)
            {
                return e;
            }
            catch (Exception e)
            {
                throw new Exception("expected " + typeof(T).Name + " but got " + e.GetType().Name + ": " + e.Message);
            }
            throw new Exception("expected " + typeof(T).Name + ", nothing was thrown");
        }

        /// <summary>Asserts a failure's type, status name and the core's message.</summary>
        public static void Failure<T>(Action action, string status, string message) where T : Exception
        {
            var e = Throws<T>(action);
            Equal(status, ((IThe0Error)e).Status, "status");
            Equal(message, e.Message, "message");
        }
    }

    /// <summary>A scratch folder and the variables a test sets in-process, restored afterwards.</summary>
    public class Scratch : IDisposable
    {
        private readonly Dictionary<string, string> saved = new Dictionary<string, string>();
        protected readonly string Dir;

        public Scratch()
        {
            Dir = Path.Combine(Path.GetTempPath(), "the0-csharp-test-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(Dir);
            foreach (var name in new[] { "STATE_DIR", "QUERY_PATH", "QUERY_PARAMS", "BOT_ID", "BOT_CONFIG", "BOT_TYPE", "CODE_MOUNT_DIR" })
            {
                saved[name] = Environment.GetEnvironmentVariable(name);
                Environment.SetEnvironmentVariable(name, null);
            }
            SetEnv("STATE_DIR", StateDir);
        }

        protected string StateDir => Path.Combine(Dir, "state");

        protected void SetEnv(string name, string value)
        {
            if (!saved.ContainsKey(name)) saved[name] = Environment.GetEnvironmentVariable(name);
            Environment.SetEnvironmentVariable(name, value);
        }

        protected string StateFile(string key)
        {
            return File.ReadAllText(Path.Combine(StateDir, key + ".json"), Encoding.UTF8);
        }

        public virtual void Dispose()
        {
            foreach (var pair in saved) Environment.SetEnvironmentVariable(pair.Key, pair.Value);
            try { Directory.Delete(Dir, true); } catch (IOException) { }
        }
    }
}
