using System;
using System.Text;

namespace The0
{
    /// <summary>Status codes of the core that the SDK acts on (THE0_STATUS_* of the0.h; the
    /// numbers are ABI and never change).</summary>
    internal enum Status
    {
        Ok = 0,
        NotFound = 1,
        InvalidKey = 2,
        InvalidJson = 3,
        ReadOnly = 4,
        Timeout = 6,
        Done = 7,
        InvalidArgument = 8,
        MissingEnv = 11,
        UnknownRequest = 12,
    }

    /// <summary>Conversions at the C boundary: strings to NUL-terminated UTF-8 and back, and
    /// failed statuses to the SDK's exceptions with the core's status name and message.</summary>
    internal static class Native
    {
        /// <summary><paramref name="text"/> as NUL-terminated UTF-8, or null for null. Text with a
        /// NUL character is refused here: C would cut it short at the NUL.</summary>
        internal static byte[] Utf8(string text, string what)
        {
            if (text == null)
            {
                return null;
            }
            if (text.IndexOf('\0') >= 0)
            {
                throw new The0ArgumentException("INVALID_ARGUMENT",
                    what + " contains a NUL character, which cannot be passed to the the0 core");
            }
            var bytes = new byte[Encoding.UTF8.GetByteCount(text) + 1];
            Encoding.UTF8.GetBytes(text, 0, text.Length, bytes, 0);
            return bytes;
        }

        /// <summary>The UTF-8 text the core returned at <paramref name="pointer"/> (null for
        /// NULL), and frees it.</summary>
        internal static unsafe string Take(IntPtr pointer)
        {
            if (pointer == IntPtr.Zero)
            {
                return null;
            }
            try
            {
                var bytes = (byte*)pointer;
                var length = 0;
                while (bytes[length] != 0)
                {
                    length++;
                }
                return Encoding.UTF8.GetString(bytes, length);
            }
            finally
            {
                NativeMethods.the0_bytes_free(pointer);
            }
        }

        /// <summary>Throws the exception for <paramref name="status"/> unless it is OK.</summary>
        internal static void Check(int status)
        {
            if (status != (int)Status.Ok)
            {
                throw Failure(status);
            }
        }

        /// <summary>The exception for a failed call: its type follows the status (READ_ONLY →
        /// <see cref="ReadOnlyStateError"/>, key and argument errors → <see cref="ArgumentException"/>),
        /// its message is the core's for this thread's last failure. Call it right after the
        /// failing call, on the same thread.</summary>
        internal static Exception Failure(int status)
        {
            IntPtr pointer;
            NativeMethods.the0_last_error(out pointer);
            var message = Take(pointer);
            var name = StatusName(status);
            switch ((Status)status)
            {
                case Status.ReadOnly:
                    return new ReadOnlyStateError(message);
                case Status.InvalidKey:
                case Status.InvalidArgument:
                    return new The0ArgumentException(name, message);
                default:
                    return new The0Exception(name, message);
            }
        }

        /// <summary>The core's name of a status (<c>"READ_ONLY"</c>).</summary>
        internal static string StatusName(int status)
        {
            IntPtr pointer;
            return NativeMethods.the0_status_name(status, out pointer) == (int)Status.Ok
                ? Take(pointer)
                : "STATUS_" + status;
        }
    }
}
