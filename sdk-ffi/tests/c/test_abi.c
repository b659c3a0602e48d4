/*
 * test_abi: every export of libthe0 in one process, with every error path that does not need a
 * running query service: NULL pointers, non-UTF-8 text, bad keys and JSON, corrupt files, I/O
 * failures, the read-only guard, missing environment, query calls before start and starts that
 * fail, and the thread-locality of the last error. The query service itself is tested by
 * test_server (server mode) and test_modes (ephemeral and info modes), each in its own process,
 * because a started service is process-wide.
 */
#include "check.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/wait.h>

#define NOT_UTF8 "\xff\xfe"

/* A pointer value no export may leave in an out-parameter it clears. */
#define SENTINEL ((char *)"sentinel")

static char *temp_dir;
static char *state_dir;
static char *code_dir;
static char *result_file;

static void use_state_dir(const char *dir) { setenv("STATE_DIR", dir, 1); }

static void test_version_names_and_last_error(void) {
    CHECK(the0_abi_version() == THE0_ABI_VERSION);
    CHECK(THE0_ABI_VERSION == 2);
    the0_bytes_free(NULL);

    static const char *const names[] = {
        "OK", "NOT_FOUND", "INVALID_KEY", "INVALID_JSON", "READ_ONLY", "IO", "TIMEOUT", "DONE",
        "INVALID_ARGUMENT", "PANIC", "CORRUPT_STATE", "MISSING_ENV", "UNKNOWN_REQUEST",
        "INVALID_STATE",
    };
    static const int32_t codes[] = {
        THE0_STATUS_OK, THE0_STATUS_NOT_FOUND, THE0_STATUS_INVALID_KEY, THE0_STATUS_INVALID_JSON,
        THE0_STATUS_READ_ONLY, THE0_STATUS_IO, THE0_STATUS_TIMEOUT, THE0_STATUS_DONE,
        THE0_STATUS_INVALID_ARGUMENT, THE0_STATUS_PANIC, THE0_STATUS_CORRUPT_STATE,
        THE0_STATUS_MISSING_ENV, THE0_STATUS_UNKNOWN_REQUEST, THE0_STATUS_INVALID_STATE,
    };
    for (int32_t i = 0; i < (int32_t)(sizeof names / sizeof names[0]); i++) {
        char *name = SENTINEL;
        CHECK(codes[i] == i);
        CHECK_STATUS(THE0_STATUS_OK, the0_status_name(i, &name));
        CHECK_OWNED_TEXT(names[i], name);
    }
    char *name = SENTINEL;
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_status_name(14, &name));
    CHECK(name == NULL);
    CHECK_ERROR("14 is not a the0 status code");
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_status_name(-1, &name));
    CHECK_ERROR("-1 is not a the0 status code");
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_status_name(THE0_STATUS_OK, NULL));
    CHECK_ERROR("out_name must not be NULL");

    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_last_error(NULL));
    CHECK_ERROR("out_message must not be NULL");
    /* A success leaves the message of the last failure in place. */
    CHECK_STATUS(THE0_STATUS_OK, the0_status_name(THE0_STATUS_OK, &name));
    the0_bytes_free(name);
    CHECK_ERROR("out_message must not be NULL");
}

static void *fresh_thread_last_error(void *unused) {
    (void)unused;
    CHECK_ERROR("");
    return NULL;
}

/* Checks that `lines` (an out_stderr result) is NULL, and frees it. */
#define CHECK_NO_LINES(lines) (CHECK((lines) == NULL), the0_bytes_free(lines))

static void test_input_error(void) {
    char *lines = SENTINEL;
    /* The library writes the result and returns: the caller ends its process. */
    CHECK_STATUS(THE0_STATUS_OK, the0_input_error(NULL, "bad thing", "{ \"code\" : 3 }", &lines));
    CHECK_NO_LINES(lines);
    char *result = read_file(result_file);
    CHECK_TEXT("{\"status\":\"error\",\"message\":\"bad thing\",\"data\":{\"code\":3}}", result);
    free(result);

    CHECK_STATUS(THE0_STATUS_OK, the0_input_error(NULL, "plain failure", NULL, &lines));
    CHECK_NO_LINES(lines);
    result = read_file(result_file);
    CHECK_TEXT("{\"status\":\"error\",\"message\":\"plain failure\"}", result);
    free(result);

    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_input_error(NULL, NULL, NULL, &lines));
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_input_error(NULL, NOT_UTF8, NULL, &lines));
    CHECK_STATUS(THE0_STATUS_INVALID_JSON, the0_input_error(NULL, "m", "{", &lines));
    CHECK_ERROR_PREFIX("result data is not valid JSON");
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_input_error(NULL, "m", NULL, NULL));
    CHECK_ERROR("out_stderr must not be NULL");
    result = read_file(result_file);
    CHECK_TEXT("{\"status\":\"error\",\"message\":\"plain failure\"}", result); /* untouched */
    free(result);
}

static void test_state_round_trip(void) {
    char *json = SENTINEL;
    int32_t flag = -1;
    CHECK_STATUS(THE0_STATUS_OK, the0_state_list(NULL, &json));
    CHECK_OWNED_TEXT("[]", json); /* the directory does not exist yet */

    CHECK_STATUS(THE0_STATUS_OK, the0_state_set(NULL, "alpha", " { \"b\" : 1, \"a\": [true, null] } "));
    CHECK_STATUS(THE0_STATUS_OK, the0_state_get(NULL, "alpha", &json));
    CHECK_OWNED_TEXT("{\"b\":1,\"a\":[true,null]}", json);
    CHECK_STATUS(THE0_STATUS_OK, the0_state_set(NULL, "beta", "\"caf\\u00e9 \xc3\xa9\""));
    CHECK_STATUS(THE0_STATUS_OK, the0_state_get(NULL, "beta", &json));
    CHECK_OWNED_TEXT("\"caf\xc3\xa9 \xc3\xa9\"", json);
    char *file = path_join(state_dir, "beta.json");
    char *stored = read_file(file);
    CHECK_TEXT("\"caf\xc3\xa9 \xc3\xa9\"", stored);
    free(stored);
    free(file);

    CHECK_STATUS(THE0_STATUS_OK, the0_state_exists(NULL, "alpha", &flag));
    CHECK(flag == 1);
    CHECK_STATUS(THE0_STATUS_OK, the0_state_exists(NULL, "gamma", &flag));
    CHECK(flag == 0);
    CHECK_STATUS(THE0_STATUS_OK, the0_state_list(NULL, &json));
    CHECK_OWNED_TEXT("[\"alpha\",\"beta\"]", json);

    json = SENTINEL;
    CHECK_STATUS(THE0_STATUS_NOT_FOUND, the0_state_get(NULL, "gamma", &json));
    CHECK(json == NULL);
    CHECK_ERROR("state key \"gamma\" not found");

    CHECK_STATUS(THE0_STATUS_OK, the0_state_delete(NULL, "alpha", &flag));
    CHECK(flag == 1);
    CHECK_STATUS(THE0_STATUS_OK, the0_state_delete(NULL, "alpha", &flag));
    CHECK(flag == 0);
    CHECK_STATUS(THE0_STATUS_OK, the0_state_clear(NULL));
    CHECK_STATUS(THE0_STATUS_OK, the0_state_list(NULL, &json));
    CHECK_OWNED_TEXT("[]", json);
}

static void test_state_arguments(void) {
    char *json = SENTINEL;
    int32_t flag = -1;
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_state_set(NULL, NULL, "1"));
    CHECK_ERROR("key must not be NULL");
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_state_set(NULL, "k", NULL));
    CHECK_ERROR("value_json must not be NULL");
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_state_set(NULL, NOT_UTF8, "1"));
    CHECK_ERROR_PREFIX("key is not valid UTF-8");
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_state_set(NULL, "k", "\"" NOT_UTF8 "\""));
    CHECK_ERROR_PREFIX("value_json is not valid UTF-8");

    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_state_get(NULL, NULL, &json));
    CHECK(json == NULL); /* out-parameters are cleared first, whatever fails */
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_state_get(NULL, NOT_UTF8, &json));
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_state_get(NULL, "k", NULL));
    CHECK_ERROR("out_json must not be NULL");

    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_state_exists(NULL, NULL, &flag));
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_state_exists(NULL, NOT_UTF8, &flag));
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_state_exists(NULL, "k", NULL));
    CHECK_ERROR("out_exists must not be NULL");

    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_state_delete(NULL, NULL, &flag));
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_state_delete(NULL, NOT_UTF8, &flag));
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_state_delete(NULL, "k", NULL));
    CHECK_ERROR("out_existed must not be NULL");

    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_state_list(NULL, NULL));
    CHECK_ERROR("out_json must not be NULL");
}

static void test_state_rules(void) {
    char long_key[202];
    memset(long_key, 'k', 201);
    long_key[201] = '\0';
    const char *bad_keys[] = {"", "a/b", "a\\b", "..x", ".hidden", "tab\tkey", long_key};
    for (size_t i = 0; i < sizeof bad_keys / sizeof bad_keys[0]; i++) {
        char *json = SENTINEL;
        int32_t flag = -1;
        CHECK_STATUS(THE0_STATUS_INVALID_KEY, the0_state_set(NULL, bad_keys[i], "1"));
        CHECK_STATUS(THE0_STATUS_INVALID_KEY, the0_state_get(NULL, bad_keys[i], &json));
        CHECK(json == NULL);
        CHECK_STATUS(THE0_STATUS_INVALID_KEY, the0_state_exists(NULL, bad_keys[i], &flag));
        CHECK(flag == 0);
        CHECK_STATUS(THE0_STATUS_INVALID_KEY, the0_state_delete(NULL, bad_keys[i], &flag));
    }
    the0_state_set(NULL, "a/b", "1");
    CHECK_ERROR("invalid state key \"a/b\": must not contain a path separator ('/' or '\\')");
    the0_state_get(NULL, "", &(char *){NULL});
    CHECK_ERROR("invalid state key \"\": must not be empty");

    const char *bad_json[] = {"", "{", "NaN", "{'a':1}", "[1] [2]", "tru"};
    for (size_t i = 0; i < sizeof bad_json / sizeof bad_json[0]; i++) {
        CHECK_STATUS(THE0_STATUS_INVALID_JSON, the0_state_set(NULL, "k", bad_json[i]));
        CHECK_ERROR_PREFIX("value for state key \"k\" is not valid JSON");
    }
    int32_t flag = -1;
    CHECK_STATUS(THE0_STATUS_OK, the0_state_exists(NULL, "k", &flag));
    CHECK(flag == 0); /* nothing was written */

    char *broken = path_join(state_dir, "broken.json");
    mkdir(state_dir, 0755);
    write_file(broken, "{oops");
    char *json = SENTINEL;
    CHECK_STATUS(THE0_STATUS_CORRUPT_STATE, the0_state_get(NULL, "broken", &json));
    CHECK(json == NULL);
    CHECK_ERROR_PREFIX("state file for key \"broken\" is corrupt");
    remove(broken);
    free(broken);
}

static void test_state_io_failures(void) {
    /* A state directory below a regular file: every operation fails with ENOTDIR. */
    char *plain = path_join(temp_dir, "plain-file");
    write_file(plain, "not a directory");
    char *below = path_join(plain, "state");
    use_state_dir(below);
    char *json = SENTINEL;
    int32_t flag = -1;
    CHECK_STATUS(THE0_STATUS_IO, the0_state_set(NULL, "k", "1"));
    CHECK_ERROR_PREFIX("cannot write ");
    CHECK_STATUS(THE0_STATUS_IO, the0_state_get(NULL, "k", &json));
    CHECK(json == NULL);
    CHECK_STATUS(THE0_STATUS_IO, the0_state_exists(NULL, "k", &flag));
    CHECK_STATUS(THE0_STATUS_IO, the0_state_delete(NULL, "k", &flag));
    CHECK_STATUS(THE0_STATUS_IO, the0_state_list(NULL, &json));
    CHECK(json == NULL);
    CHECK_ERROR_PREFIX("cannot list ");
    CHECK_STATUS(THE0_STATUS_IO, the0_state_clear(NULL));
    use_state_dir(state_dir);
    free(below);
    free(plain);
}

static void test_read_only_guard(void) {
    int32_t active = -1;
    CHECK_STATUS(THE0_STATUS_OK, the0_state_set(NULL, "kept", "1"));
    CHECK_STATUS(THE0_STATUS_OK, the0_query_is_query_mode(NULL, &active));
    CHECK(active == 0);

    setenv("QUERY_PATH", "/anything", 1); /* a query process, from its first line */
    CHECK_STATUS(THE0_STATUS_OK, the0_query_is_query_mode(NULL, &active));
    CHECK(active == 1);
    CHECK_STATUS(THE0_STATUS_READ_ONLY, the0_state_set(NULL, "kept", "2"));
    CHECK_ERROR("state is read-only while this process serves queries: set(\"kept\") refused");
    int32_t existed = -1;
    CHECK_STATUS(THE0_STATUS_READ_ONLY, the0_state_delete(NULL, "kept", &existed));
    CHECK(existed == 0);
    CHECK_STATUS(THE0_STATUS_READ_ONLY, the0_state_clear(NULL));
    CHECK_ERROR("state is read-only while this process serves queries: clear() refused");
    char *json = NULL;
    CHECK_STATUS(THE0_STATUS_OK, the0_state_get(NULL, "kept", &json)); /* reads still work */
    CHECK_OWNED_TEXT("1", json);

    setenv("QUERY_PATH", "", 1); /* empty counts as unset */
    CHECK_STATUS(THE0_STATUS_OK, the0_query_is_query_mode(NULL, &active));
    CHECK(active == 0);
    unsetenv("QUERY_PATH");
    CHECK_STATUS(THE0_STATUS_OK, the0_state_delete(NULL, "kept", &existed));
    CHECK(existed == 1);
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_query_is_query_mode(NULL, NULL));
    CHECK_ERROR("out_active must not be NULL");
}

static void test_input(void) {
    char *bot_id = SENTINEL, *config = SENTINEL;
    unsetenv("BOT_ID");
    unsetenv("BOT_CONFIG");
    CHECK_STATUS(THE0_STATUS_MISSING_ENV, the0_input_parse(NULL, &bot_id, &config));
    CHECK(bot_id == NULL && config == NULL);
    CHECK_ERROR("environment variable BOT_ID is not set");
    setenv("BOT_ID", "bot-7", 1);
    CHECK_STATUS(THE0_STATUS_MISSING_ENV, the0_input_parse(NULL, &bot_id, &config));
    CHECK_ERROR("environment variable BOT_CONFIG is not set");
    setenv("BOT_CONFIG", "{", 1);
    CHECK_STATUS(THE0_STATUS_INVALID_JSON, the0_input_parse(NULL, &bot_id, &config));
    CHECK_ERROR_PREFIX("BOT_CONFIG is not valid JSON");
    setenv("BOT_CONFIG", "", 1);
    CHECK_STATUS(THE0_STATUS_OK, the0_input_parse(NULL, &bot_id, &config));
    CHECK_OWNED_TEXT("bot-7", bot_id);
    CHECK_OWNED_TEXT("{}", config);
    setenv("BOT_CONFIG", "{ \"symbol\": \"BTC/USD\", \"n\": 2 }", 1);
    CHECK_STATUS(THE0_STATUS_OK, the0_input_parse(NULL, &bot_id, &config));
    CHECK_OWNED_TEXT("bot-7", bot_id);
    CHECK_OWNED_TEXT("{\"symbol\":\"BTC/USD\",\"n\":2}", config);
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_input_parse(NULL, NULL, &config));
    CHECK_ERROR("out_bot_id must not be NULL");
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_input_parse(NULL, &bot_id, NULL));
    CHECK_ERROR("out_config_json must not be NULL");

    char *result, *lines = SENTINEL;
    CHECK_STATUS(THE0_STATUS_OK, the0_input_success(NULL, "done", NULL, &lines));
    CHECK_NO_LINES(lines);
    result = read_file(result_file);
    CHECK_TEXT("{\"status\":\"success\",\"message\":\"done\"}", result);
    free(result);
    CHECK_STATUS(THE0_STATUS_OK, the0_input_success(NULL, "done", "{\"n\": [1]}", &lines));
    result = read_file(result_file);
    CHECK_TEXT("{\"status\":\"success\",\"message\":\"done\",\"data\":{\"n\":[1]}}", result);
    free(result);
    CHECK_NO_LINES(lines);
    CHECK_STATUS(THE0_STATUS_INVALID_JSON, the0_input_success(NULL, "done", "{", &lines));
    CHECK_ERROR_PREFIX("result data is not valid JSON");
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_input_success(NULL, NULL, NULL, &lines));
    CHECK_ERROR("message must not be NULL");
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_input_success(NULL, NOT_UTF8, NULL, &lines));
    CHECK_ERROR_PREFIX("message is not valid UTF-8");
    CHECK_STATUS(THE0_STATUS_OK, the0_input_result(NULL, "{ \"x\" : [1, 2] }", &lines));
    CHECK_NO_LINES(lines);
    result = read_file(result_file);
    CHECK_TEXT("{\"x\":[1,2]}", result);
    free(result);
    CHECK_STATUS(THE0_STATUS_INVALID_JSON, the0_input_result(NULL, "[1", &lines));
    CHECK_ERROR_PREFIX("result is not valid JSON");
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_input_result(NULL, NULL, &lines));
    CHECK_ERROR("data_json must not be NULL");
    result = read_file(result_file);
    CHECK_TEXT("{\"x\":[1,2]}", result); /* failed calls write nothing */
    free(result);

    /* A result file that cannot be written is reported as a line to print, not an error. */
    char *blocker = path_join(temp_dir, "blocker");
    write_file(blocker, "x");
    char *below = path_join(blocker, "bot");
    setenv("CODE_MOUNT_DIR", below, 1);
    CHECK_STATUS(THE0_STATUS_OK, the0_input_success(NULL, "done", NULL, &lines));
    CHECK_PREFIX("{\"level\":\"error\",\"message\":\"cannot write result file ", lines);
    the0_bytes_free(lines);
    setenv("CODE_MOUNT_DIR", code_dir, 1);
    free(below);
    free(blocker);

    /* Lines come back for the caller to print; the library prints nothing. */
    char *line = SENTINEL;
    CHECK_STATUS(THE0_STATUS_OK, the0_input_metric("trade", "{\"price\": 1.5, \"_metric\": \"x\"}", &line));
    CHECK_PREFIX("{\"_metric\":\"trade\",\"price\":1.5,\"timestamp\":\"", line);
    CHECK(line && strlen(line) > 3 && strcmp(line + strlen(line) - 3, "Z\"}") == 0);
    the0_bytes_free(line);
    CHECK_STATUS(THE0_STATUS_OK, the0_input_metric("count", "42", &line));
    CHECK_PREFIX("{\"_metric\":\"count\",\"data\":42,\"timestamp\":\"", line);
    the0_bytes_free(line);
    CHECK_STATUS(THE0_STATUS_INVALID_JSON, the0_input_metric("trade", "{", &line));
    CHECK(line == NULL);
    CHECK_ERROR_PREFIX("metric data is not valid JSON");
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_input_metric(NULL, "{}", &line));
    CHECK_ERROR("metric_type must not be NULL");
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_input_metric("trade", NULL, &line));
    CHECK_ERROR("data_json must not be NULL");
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_input_metric(NOT_UTF8, "{}", &line));
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_input_metric("trade", "{}", NULL));
    CHECK_ERROR("out_line must not be NULL");

    CHECK_STATUS(THE0_STATUS_OK, the0_input_log("hello \"you\"\t", "{\"order\": 7}", "WARNING", &line));
    CHECK_PREFIX("{\"level\":\"warn\",\"message\":\"hello \\\"you\\\"\\t\",\"order\":7,"
                 "\"timestamp\":\"",
                 line);
    the0_bytes_free(line);
    CHECK_STATUS(THE0_STATUS_OK, the0_input_log("plain", NULL, NULL, &line));
    CHECK_PREFIX("{\"level\":\"info\",\"message\":\"plain\",\"timestamp\":\"", line);
    the0_bytes_free(line);
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_input_log("m", NULL, "loud", &line));
    CHECK_ERROR("unknown log level \"loud\": expected info, warn or error");
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_input_log("m", NULL, NOT_UTF8, &line));
    CHECK_ERROR_PREFIX("level is not valid UTF-8");
    CHECK_STATUS(THE0_STATUS_INVALID_JSON, the0_input_log("m", "nope", NULL, &line));
    CHECK_ERROR_PREFIX("log data is not valid JSON");
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_input_log(NULL, NULL, NULL, &line));
    CHECK_ERROR("message must not be NULL");

    /* Values the host could not serialize get the message every SDK shows. */
    CHECK_STATUS(THE0_STATUS_INVALID_JSON, the0_input_unserializable(THE0_PAYLOAD_METRIC_DATA, "circular"));
    CHECK_ERROR("metric data cannot be serialized: circular");
    CHECK_STATUS(THE0_STATUS_INVALID_JSON, the0_input_unserializable(THE0_PAYLOAD_RESULT, "x"));
    CHECK_ERROR("result cannot be serialized: x");
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_input_unserializable(9, "x"));
    CHECK_ERROR("9 is not a THE0_PAYLOAD_* code");
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_input_unserializable(THE0_PAYLOAD_LOG_DATA, NULL));
}

static void test_query_without_service(void) {
    uint64_t id = 99;
    char *path = SENTINEL, *params = SENTINEL, *strings = SENTINEL;
    CHECK_STATUS(THE0_STATUS_INVALID_STATE, the0_query_next(0, &id, &path, &params, &strings));
    CHECK_ERROR("the query service is not running; call start first");
    CHECK(id == 0 && path == NULL && params == NULL && strings == NULL);
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_query_next(0, NULL, &path, &params, &strings));
    CHECK_ERROR("out_id must not be NULL");
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_query_next(0, &id, NULL, &params, &strings));
    CHECK_ERROR("out_path must not be NULL");
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_query_next(0, &id, &path, NULL, &strings));
    CHECK_ERROR("out_params_json must not be NULL");
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_query_next(0, &id, &path, &params, NULL));
    CHECK_ERROR("out_strings_json must not be NULL");

    CHECK_STATUS(THE0_STATUS_INVALID_STATE, the0_query_respond(1, THE0_REPLY_OK, "{}"));
    CHECK_STATUS(THE0_STATUS_INVALID_STATE, the0_query_respond(1, THE0_REPLY_ERROR, "boom"));
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_query_respond(1, 7, "{}"));
    CHECK_ERROR("7 is not a reply kind: expected THE0_REPLY_OK, THE0_REPLY_ERROR or "
                "THE0_REPLY_UNSERIALIZABLE");
    CHECK_STATUS(THE0_STATUS_INVALID_STATE, the0_query_respond(1, THE0_REPLY_UNSERIALIZABLE, "x"));
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_query_respond(1, THE0_REPLY_OK, NULL));
    CHECK_ERROR("body must not be NULL");
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_query_respond(1, THE0_REPLY_ERROR, NOT_UTF8));
    CHECK_ERROR_PREFIX("body is not valid UTF-8");
    CHECK_STATUS(THE0_STATUS_INVALID_STATE, the0_query_stop());
    int32_t code = -1;
    char *lines = SENTINEL;
    CHECK_STATUS(THE0_STATUS_INVALID_STATE, the0_query_finish(&code, &lines));
    CHECK(code == 0 && lines == NULL);
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_query_finish(NULL, &lines));
    CHECK_ERROR("out_exit_code must not be NULL");
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_query_finish(&code, NULL));
    CHECK_ERROR("out_stderr must not be NULL");

    CHECK_STATUS(THE0_STATUS_OK, the0_query_register("status", &path));
    CHECK_OWNED_TEXT("/status", path);
    CHECK_STATUS(THE0_STATUS_OK, the0_query_register("/status", &path));
    CHECK_OWNED_TEXT("/status", path);
    path = SENTINEL;
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_query_register("", &path));
    CHECK(path == NULL);
    CHECK_ERROR("query path must not be empty");
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_query_register("/a\nb", &path));
    CHECK_ERROR("query path \"/a\\nb\" must not contain control characters");
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_query_register(NULL, &path));
    CHECK_ERROR("path must not be NULL");
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_query_register(NOT_UTF8, &path));
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_query_register("/x", NULL));
    CHECK_ERROR("out_path must not be NULL");

    char *json = NULL;
    unsetenv("BOT_CONFIG");
    CHECK_STATUS(THE0_STATUS_OK, the0_query_config(NULL, &json));
    CHECK_OWNED_TEXT("{}", json);
    setenv("BOT_CONFIG", "{\"a\": [1, 2], \"b\": null}", 1);
    CHECK_STATUS(THE0_STATUS_OK, the0_query_config(NULL, &json));
    CHECK_OWNED_TEXT("{\"a\":[1,2],\"b\":null}", json);
    setenv("BOT_CONFIG", "not json", 1);
    CHECK_STATUS(THE0_STATUS_OK, the0_query_config(NULL, &json));
    CHECK_OWNED_TEXT("{}", json);
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_query_config(NULL, NULL));
    CHECK_ERROR("out_json must not be NULL");

    setenv("QUERY_PARAMS", "{\"b\": 2, \"a\": \"x\", \"c\": [1, {\"d\": true}]}", 1);
    CHECK_STATUS(THE0_STATUS_OK, the0_query_params(NULL, &json, &strings));
    CHECK_OWNED_TEXT("{}", json); /* not an ephemeral query process */
    CHECK_OWNED_TEXT("{}", strings);
    setenv("QUERY_PATH", "/status", 1);
    CHECK_STATUS(THE0_STATUS_OK, the0_query_params(NULL, &json, &strings));
    CHECK_OWNED_TEXT("{\"b\":2,\"a\":\"x\",\"c\":[1,{\"d\":true}]}", json);
    CHECK_OWNED_TEXT("{\"a\":\"x\",\"b\":\"2\",\"c\":\"[1,{\\\"d\\\":true}]\"}", strings);
    unsetenv("QUERY_PATH");
    unsetenv("QUERY_PARAMS");
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_query_params(NULL, NULL, &strings));
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_query_params(NULL, &json, NULL));
}

static void check_start_fails(int32_t expected, const char *message_prefix) {
    int32_t mode = -1, active = -1;
    uint32_t workers = 9;
    char *lines = SENTINEL;
    CHECK_STATUS(expected, the0_query_start(NULL, 0, 4, &mode, &workers, &lines));
    CHECK_ERROR_PREFIX(message_prefix);
    CHECK(mode == 0 && workers == 0);
    /* The line to print before exiting, whatever the status. */
    /* (up to the first quote of the message, which the JSON line escapes) */
    char *line = format("{\"level\":\"error\",\"message\":\"query service cannot start: %.*s",
                        (int)strcspn(message_prefix, "\""), message_prefix);
    CHECK_PREFIX(line, lines);
    free(line);
    the0_bytes_free(lines);
    CHECK_STATUS(THE0_STATUS_OK, the0_query_is_query_mode(NULL, &active));
    CHECK(active == 0); /* a failed start leaves state writable */
    CHECK_STATUS(THE0_STATUS_INVALID_STATE, the0_query_stop());
}

static void test_start_failures(void) {
    int32_t mode = -1;
    uint32_t workers = 0;
    char *lines = NULL;
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_query_start(NULL, 0, 1, NULL, &workers, &lines));
    CHECK_ERROR("out_mode must not be NULL");
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_query_start(NULL, 0, 1, &mode, NULL, &lines));
    CHECK_ERROR("out_workers must not be NULL");
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_query_start(NULL, 0, 1, &mode, &workers, NULL));
    CHECK_ERROR("out_stderr must not be NULL");
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_query_start(NULL, 4, 1, &mode, &workers, &lines));
    CHECK_ERROR("unknown the0_query_start flags 0x4");
    the0_bytes_free(lines);

    setenv("BOT_TYPE", "realtime", 1);
    setenv("THE0_QUERY_HOST", "127.0.0.1", 1);
    setenv("THE0_QUERY_PORT", "http", 1);
    check_start_fails(THE0_STATUS_INVALID_ARGUMENT,
                      "THE0_QUERY_PORT must be a non-negative integer, got \"http\"");
    char port[16];
    setenv("THE0_QUERY_PORT", "0", 1);
    setenv("THE0_QUERY_HOST", "localhost", 1);
    check_start_fails(THE0_STATUS_INVALID_ARGUMENT,
                      "THE0_QUERY_HOST must be an IP address, got \"localhost\"");
    setenv("THE0_QUERY_HOST", "127.0.0.1", 1);
    setenv("THE0_QUERY_TIMEOUT_MS", "0", 1);
    check_start_fails(THE0_STATUS_INVALID_ARGUMENT, "THE0_QUERY_TIMEOUT_MS must be at least 1");
    unsetenv("THE0_QUERY_TIMEOUT_MS");
    setenv("THE0_QUERY_WORKERS", "none", 1);
    check_start_fails(THE0_STATUS_INVALID_ARGUMENT,
                      "THE0_QUERY_WORKERS must be a non-negative integer, got \"none\"");
    unsetenv("THE0_QUERY_WORKERS");

    /* A port with a listener on it. */
    int busy = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof addr;
    CHECK(bind(busy, (struct sockaddr *)&addr, sizeof addr) == 0);
    CHECK(listen(busy, 1) == 0);
    getsockname(busy, (struct sockaddr *)&addr, &len);
    snprintf(port, sizeof port, "%d", ntohs(addr.sin_port));
    setenv("THE0_QUERY_PORT", port, 1);
    char expected[64];
    snprintf(expected, sizeof expected, "cannot listen on 127.0.0.1:%s", port);
    check_start_fails(THE0_STATUS_IO, expected);
    close(busy);
    unsetenv("BOT_TYPE");
    unsetenv("THE0_QUERY_HOST");
    unsetenv("THE0_QUERY_PORT");
}

/* The caller's view of the environment, passed as JSON, wins over the process environment. */
static void test_env_snapshots(void) {
    char *json = SENTINEL;
    CHECK_STATUS(THE0_STATUS_OK, the0_env_names(THE0_ENV_STATE, &json));
    CHECK_OWNED_TEXT("[\"STATE_DIR\",\"QUERY_PATH\"]", json);
    CHECK_STATUS(THE0_STATUS_OK, the0_env_names(THE0_ENV_STATE_READ, &json));
    CHECK_OWNED_TEXT("[\"STATE_DIR\"]", json);
    CHECK_STATUS(THE0_STATUS_OK, the0_env_names(THE0_ENV_INPUT, &json));
    CHECK_OWNED_TEXT("[\"BOT_ID\",\"BOT_CONFIG\",\"CODE_MOUNT_DIR\"]", json);
    CHECK_STATUS(THE0_STATUS_OK, the0_env_names(THE0_ENV_QUERY, &json));
    CHECK_PREFIX("[\"QUERY_PATH\",\"QUERY_PARAMS\",\"BOT_TYPE\",\"BOT_CONFIG\",", json);
    the0_bytes_free(json);
    CHECK_STATUS(THE0_STATUS_OK, the0_env_names(THE0_ENV_ALL, &json));
    CHECK_PREFIX("[\"BOT_ID\",", json);
    the0_bytes_free(json);
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_env_names(7, &json));
    CHECK_ERROR("7 is not a THE0_ENV_* scope");
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_env_names(THE0_ENV_ALL, NULL));

    char *other = path_join(temp_dir, "other-state");
    char *env = format("{\"STATE_DIR\": \"%s\", \"QUERY_PATH\": null}", other);
    CHECK_STATUS(THE0_STATUS_OK, the0_state_set(env, "seen", "1"));
    int32_t flag = -1;
    CHECK_STATUS(THE0_STATUS_OK, the0_state_exists(NULL, "seen", &flag));
    CHECK(flag == 0); /* not in the process's STATE_DIR */
    CHECK_STATUS(THE0_STATUS_OK, the0_state_list(env, &json));
    CHECK_OWNED_TEXT("[\"seen\"]", json);
    free(env);

    /* QUERY_PATH in the caller's view makes state read-only, whatever getenv says. */
    env = format("{\"STATE_DIR\": \"%s\", \"QUERY_PATH\": \"/q\"}", other);
    CHECK_STATUS(THE0_STATUS_READ_ONLY, the0_state_set(env, "seen", "2"));
    CHECK_STATUS(THE0_STATUS_READ_ONLY, the0_state_set_unserializable(env, "seen", "a set"));
    CHECK_STATUS(THE0_STATUS_OK, the0_query_is_query_mode(env, &flag));
    CHECK(flag == 1);
    free(env);
    env = format("{\"STATE_DIR\": \"%s\", \"QUERY_PATH\": \"\"}", other);
    CHECK_STATUS(THE0_STATUS_INVALID_KEY, the0_state_set_unserializable(env, "a/b", "a set"));
    CHECK_STATUS(THE0_STATUS_INVALID_JSON, the0_state_set_unserializable(env, "seen", "a set"));
    CHECK_ERROR("value for state key \"seen\" cannot be serialized: a set");
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_state_set_unserializable(env, "seen", NULL));
    free(env);

    /* A snapshot must hold every name the call reads. */
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_state_get("{\"QUERY_PATH\": null}", "seen", &json));
    CHECK_ERROR_PREFIX("the host's environment snapshot has no entry for STATE_DIR");
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_state_get("{\"STATE_DIR\": 3}", "seen", &json));
    CHECK_ERROR("the environment snapshot: the value of STATE_DIR must be a string or null");
    CHECK_STATUS(THE0_STATUS_INVALID_JSON, the0_state_get("{", "seen", &json));
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_state_get(NOT_UTF8, "seen", &json));
    CHECK_ERROR_PREFIX("env_json is not valid UTF-8");

    char *bot_id = NULL, *config = NULL;
    CHECK_STATUS(THE0_STATUS_OK,
                 the0_input_parse("{\"BOT_ID\": \"from-host\", \"BOT_CONFIG\": \"{\\\"a\\\": 1}\", "
                                  "\"CODE_MOUNT_DIR\": null}",
                                  &bot_id, &config));
    CHECK_OWNED_TEXT("from-host", bot_id);
    CHECK_OWNED_TEXT("{\"a\":1}", config);
    CHECK_STATUS(THE0_STATUS_OK, the0_query_config("{\"BOT_CONFIG\": \"[2]\"}", &json));
    CHECK_OWNED_TEXT("[2]", json);
    free(other);
}

/* Many threads at once: state calls interleave safely and each keeps its own last error. */
#define THREADS 8
#define ROUNDS 40

static void *state_worker(void *arg) {
    int n = (int)(intptr_t)arg;
    char key[32], value[64], bad_key[32], expected[128];
    snprintf(key, sizeof key, "thread-%d", n);
    snprintf(bad_key, sizeof bad_key, "bad/%d", n);
    snprintf(expected, sizeof expected, "invalid state key \"%s\": must not contain a path separator ('/' or '\\')",
             bad_key);
    for (int round = 0; round < ROUNDS; round++) {
        snprintf(value, sizeof value, "{\"thread\":%d,\"round\":%d}", n, round);
        CHECK_STATUS(THE0_STATUS_OK, the0_state_set(NULL, key, value));
        char *json = NULL;
        CHECK_STATUS(THE0_STATUS_OK, the0_state_get(NULL, key, &json));
        CHECK_OWNED_TEXT(value, json);
        CHECK_STATUS(THE0_STATUS_INVALID_KEY, the0_state_set(NULL, bad_key, "1"));
        CHECK_ERROR(expected);
    }
    return NULL;
}

static void test_threads(void) {
    pthread_t fresh;
    pthread_create(&fresh, NULL, fresh_thread_last_error, NULL);
    pthread_join(fresh, NULL);

    pthread_t threads[THREADS];
    for (intptr_t i = 0; i < THREADS; i++) {
        pthread_create(&threads[i], NULL, state_worker, (void *)i);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(threads[i], NULL);
    }
    char *json = NULL;
    CHECK_STATUS(THE0_STATUS_OK, the0_state_list(NULL, &json));
    CHECK_OWNED_TEXT("[\"thread-0\",\"thread-1\",\"thread-2\",\"thread-3\",\"thread-4\","
                     "\"thread-5\",\"thread-6\",\"thread-7\"]",
                     json);
}

int main(void) {
    static const char *const query_env[] = {
        "QUERY_PATH", "QUERY_PARAMS", "BOT_TYPE", "THE0_QUERY_SOCKET", "THE0_QUERY_PORT",
        "THE0_QUERY_HOST", "THE0_QUERY_TIMEOUT_MS", "THE0_QUERY_RESULT_FILE",
    };
    for (size_t i = 0; i < sizeof query_env / sizeof query_env[0]; i++) {
        unsetenv(query_env[i]);
    }
    temp_dir = make_temp_dir("abi");
    state_dir = path_join(temp_dir, "state");
    code_dir = path_join(temp_dir, "bot");
    result_file = path_join(code_dir, "result.json");
    use_state_dir(state_dir);
    setenv("CODE_MOUNT_DIR", code_dir, 1);

    test_version_names_and_last_error();
    test_input_error();
    test_state_round_trip();
    test_state_arguments();
    test_state_rules();
    test_state_io_failures();
    test_read_only_guard();
    test_input();
    test_query_without_service();
    test_start_failures();
    test_env_snapshots();
    test_threads();

    remove_tree(temp_dir);
    free(result_file);
    free(code_dir);
    free(state_dir);
    free(temp_dir);
    return check_summary("test_abi");
}
