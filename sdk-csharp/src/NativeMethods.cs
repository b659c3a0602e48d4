using System;
using System.Runtime.InteropServices;

namespace The0
{
    /// <summary>
    /// The C ABI of libthe0 (<c>sdk-ffi/include/the0.h</c>), declared for P/Invoke. Text goes in as
    /// NUL-terminated UTF-8 byte arrays (null for NULL); text comes out as pointers the caller frees
    /// with <see cref="the0_bytes_free"/>. Nothing here is ever called back from native code.
    /// </summary>
    internal static class NativeMethods
    {
        /// <summary>libthe0.so: found beside the SDK's assembly, in the application's folder, or
        /// on the loader's path (LD_LIBRARY_PATH).</summary>
        internal const string Library = "the0";

        /// <summary>The ABI version this SDK was written for (<c>THE0_ABI_VERSION</c> of the0.h).</summary>
        internal const uint AbiVersion = 2;

        /// <summary>Checks the library's ABI before the first call into it: a library of another
        /// version would misread every argument, so the SDK refuses to run on it. (The runtime
        /// reports a failure here as a TypeInitializationException whose InnerException says why.)</summary>
        static NativeMethods()
        {
            var version = the0_abi_version();
            if (version != AbiVersion)
            {
                throw new The0Exception("ABI_MISMATCH",
                    "libthe0 speaks ABI version " + version + ", but this the0 SDK was built for version " +
                    AbiVersion + ": install a libthe0.so of the same the0 release as the SDK");
            }
        }

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint the0_abi_version();

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern void the0_bytes_free(IntPtr ptr);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int the0_last_error(out IntPtr message);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int the0_status_name(int status, out IntPtr name);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int the0_env_names(int scope, out IntPtr json);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int the0_state_set(byte[] envJson, byte[] key, byte[] valueJson);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int the0_state_set_unserializable(byte[] envJson, byte[] key, byte[] detail);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int the0_state_get(byte[] envJson, byte[] key, out IntPtr json);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int the0_state_exists(byte[] envJson, byte[] key, out int exists);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int the0_state_delete(byte[] envJson, byte[] key, out int existed);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int the0_state_list(byte[] envJson, out IntPtr json);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int the0_state_clear(byte[] envJson);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int the0_input_parse(byte[] envJson, out IntPtr botId, out IntPtr configJson);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int the0_input_success(byte[] envJson, byte[] message, byte[] dataJson, out IntPtr stderr);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int the0_input_error(byte[] envJson, byte[] message, byte[] dataJson, out IntPtr stderr);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int the0_input_result(byte[] envJson, byte[] dataJson, out IntPtr stderr);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int the0_input_metric(byte[] metricType, byte[] dataJson, out IntPtr line);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int the0_input_log(byte[] message, byte[] dataJson, byte[] level, out IntPtr line);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int the0_input_unserializable(int payload, byte[] detail);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int the0_query_register(byte[] path, out IntPtr storedPath);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int the0_query_start(byte[] envJson, uint flags, uint defaultWorkers,
            out int mode, out uint workers, out IntPtr stderr);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int the0_query_next(uint timeoutMs, out ulong id, out IntPtr path,
            out IntPtr paramsJson, out IntPtr stringsJson);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int the0_query_respond(ulong id, int reply, byte[] body);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int the0_query_stop();

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int the0_query_finish(out int exitCode, out IntPtr stderr);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int the0_query_config(byte[] envJson, out IntPtr json);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int the0_query_params(byte[] envJson, out IntPtr paramsJson, out IntPtr stringsJson);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int the0_query_is_query_mode(byte[] envJson, out int active);
    }
}
