package the0.internal;

/**
 * The C ABI of libthe0 ({@code sdk-ffi/include/the0.h}, ABI version 2), bound with JNA direct
 * mapping: static natives registered by {@code Core} once the library is loaded and its ABI
 * version checked. Nothing here is called before that.
 *
 * <p>Java types for C types: text arguments are NUL-terminated UTF-8 {@code byte[]} (null for
 * NULL); each {@code char **} out-parameter is a {@code long[1]} that receives the address of a
 * string the core allocated (0 for NULL), freed with {@link #the0_bytes_free}; {@code int32_t *}
 * and {@code uint32_t *} are {@code int[1]}; {@code uint64_t *} is {@code long[1]}. The library
 * never calls back into the JVM: no callback crosses this boundary.
 *
 * <p>Java, not Scala: JNA direct mapping registers {@code static native} methods.
 */
public final class Libthe0 {
    private Libthe0() {}

    public static native int the0_abi_version();

    public static native void the0_bytes_free(long ptr);

    public static native int the0_last_error(long[] outMessage);

    public static native int the0_status_name(int status, long[] outName);

    public static native int the0_env_names(int scope, long[] outJson);

    public static native int the0_state_set(byte[] env, byte[] key, byte[] valueJson);

    public static native int the0_state_get(byte[] env, byte[] key, long[] outJson);

    public static native int the0_state_exists(byte[] env, byte[] key, int[] outExists);

    public static native int the0_state_delete(byte[] env, byte[] key, int[] outExisted);

    public static native int the0_state_list(byte[] env, long[] outJson);

    public static native int the0_state_clear(byte[] env);

    public static native int the0_input_parse(byte[] env, long[] outBotId, long[] outConfigJson);

    public static native int the0_input_success(byte[] env, byte[] message, byte[] dataJson, long[] outStderr);

    public static native int the0_input_error(byte[] env, byte[] message, byte[] dataJson, long[] outStderr);

    public static native int the0_input_result(byte[] env, byte[] dataJson, long[] outStderr);

    public static native int the0_input_metric(byte[] metricType, byte[] dataJson, long[] outLine);

    public static native int the0_input_log(byte[] message, byte[] dataJson, byte[] level, long[] outLine);

    public static native int the0_query_register(byte[] path, long[] outPath);

    public static native int the0_query_start(
            byte[] env, int flags, int defaultWorkers, int[] outMode, int[] outWorkers, long[] outStderr);

    public static native int the0_query_next(
            int timeoutMs, long[] outId, long[] outPath, long[] outParamsJson, long[] outStringsJson);

    public static native int the0_query_respond(long id, int reply, byte[] body);

    public static native int the0_query_stop();

    public static native int the0_query_finish(int[] outExitCode, long[] outStderr);

    public static native int the0_query_config(byte[] env, long[] outJson);

    public static native int the0_query_params(byte[] env, long[] outParamsJson, long[] outStringsJson);

    public static native int the0_query_is_query_mode(byte[] env, int[] outActive);
}
