using System;

namespace The0
{
    /// <summary>Writes the lines the core formats through .NET's own streams (so a bot or test
    /// that replaces Console.Out or Console.Error sees them): metric lines on stdout, everything
    /// else (log lines, and the core's own lines) on stderr, each followed by a newline.</summary>
    internal static class Streams
    {
        internal static void Stdout(IntPtr lines)
        {
            var text = Native.Take(lines);
            if (text != null)
            {
                Console.Out.WriteLine(text);
            }
        }

        internal static void Stderr(IntPtr lines)
        {
            var text = Native.Take(lines);
            if (text != null)
            {
                Console.Error.WriteLine(text);
            }
        }
    }
}
