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
    CHECK(THE0_ABI_VERSION == 1);
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

/* the0_input_error ends the process, so it runs in forked children. Before any thread exists. */
static int run_forked(void (*body)(void)) {
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        body();
        _exit(42); /* the0_input_error returned */
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void error_with_data(void) { the0_input_error("bad thing", "{ \"code\" : 3 }"); }
static void error_plain(void) { the0_input_error("plain failure", NULL); }
static void error_invalid_arguments(void) {
    int ok = the0_input_error(NULL, NULL) == THE0_STATUS_INVALID_ARGUMENT &&
             the0_input_error(NOT_UTF8, NULL) == THE0_STATUS_INVALID_ARGUMENT &&
             the0_input_error("m", "{") == THE0_STATUS_INVALID_JSON;
    _exit(ok ? 42 : 43);
}

static void test_input_error(void) {
    CHECK(run_forked(error_with_data) == 1);
    char *result = read_file(result_file);
    CHECK_TEXT("{\"status\":\"error\",\"message\":\"bad thing\",\"data\":{\"code\":3}}", result);
    free(result);

    CHECK(run_forked(error_plain) == 1);
    result = read_file(result_file);
    CHECK_TEXT("{\"status\":\"error\",\"message\":\"plain failure\"}", result);
    free(result);

    CHECK(run_forked(error_invalid_arguments) == 42);
    result = read_file(result_file);
    CHECK_TEXT("{\"status\":\"error\",\"message\":\"plain failure\"}", result); /* untouched */
    free(result);
}

static void test_state_round_trip(void) {
    char *json = SENTINEL;
    int32_t flag = -1;
    CHECK_STATUS(THE0_STATUS_OK, the0_state_list(&json));
    CHECK_OWNED_TEXT("[]", json); /* the directory does not exist yet */

    CHECK_STATUS(THE0_STATUS_OK, the0_state_set("alpha", " { \"b\" : 1, \"a\": [true, null] } "));
    CHECK_STATUS(THE0_STATUS_OK, the0_state_get("alpha", &json));
    CHECK_OWNED_TEXT("{\"b\":1,\"a\":[true,null]}", json);
    CHECK_STATUS(THE0_STATUS_OK, the0_state_set("beta", "\"caf\\u00e9 \xc3\xa9\""));
    CHECK_STATUS(THE0_STATUS_OK, the0_state_get("beta", &json));
    CHECK_OWNED_TEXT("\"caf\xc3\xa9 \xc3\xa9\"", json);
    char *file = path_join(state_dir, "beta.json");
    char *stored = read_file(file);
    CHECK_TEXT("\"caf\xc3\xa9 \xc3\xa9\"", stored);
    free(stored);
    free(file);

    CHECK_STATUS(THE0_STATUS_OK, the0_state_exists("alpha", &flag));
    CHECK(flag == 1);
    CHECK_STATUS(THE0_STATUS_OK, the0_state_exists("gamma", &flag));
    CHECK(flag == 0);
    CHECK_STATUS(THE0_STATUS_OK, the0_state_list(&json));
    CHECK_OWNED_TEXT("[\"alpha\",\"beta\"]", json);

    json = SENTINEL;
    CHECK_STATUS(THE0_STATUS_NOT_FOUND, the0_state_get("gamma", &json));
    CHECK(json == NULL);
    CHECK_ERROR("state key \"gamma\" not found");

    CHECK_STATUS(THE0_STATUS_OK, the0_state_delete("alpha", &flag));
    CHECK(flag == 1);
    CHECK_STATUS(THE0_STATUS_OK, the0_state_delete("alpha", &flag));
    CHECK(flag == 0);
    CHECK_STATUS(THE0_STATUS_OK, the0_state_clear());
    CHECK_STATUS(THE0_STATUS_OK, the0_state_list(&json));
    CHECK_OWNED_TEXT("[]", json);
}

static void test_state_arguments(void) {
    char *json = SENTINEL;
    int32_t flag = -1;
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_state_set(NULL, "1"));
    CHECK_ERROR("key must not be NULL");
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_state_set("k", NULL));
    CHECK_ERROR("value_json must not be NULL");
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_state_set(NOT_UTF8, "1"));
    CHECK_ERROR_PREFIX("key is not valid UTF-8");
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_state_set("k", "\"" NOT_UTF8 "\""));
    CHECK_ERROR_PREFIX("value_json is not valid UTF-8");

    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_state_get(NULL, &json));
    CHECK(json == NULL); /* out-parameters are cleared first, whatever fails */
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_state_get(NOT_UTF8, &json));
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_state_get("k", NULL));
    CHECK_ERROR("out_json must not be NULL");

    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_state_exists(NULL, &flag));
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_state_exists(NOT_UTF8, &flag));
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_state_exists("k", NULL));
    CHECK_ERROR("out_exists must not be NULL");

    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_state_delete(NULL, &flag));
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_state_delete(NOT_UTF8, &flag));
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_state_delete("k", NULL));
    CHECK_ERROR("out_existed must not be NULL");

    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_state_list(NULL));
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
        CHECK_STATUS(THE0_STATUS_INVALID_KEY, the0_state_set(bad_keys[i], "1"));
        CHECK_STATUS(THE0_STATUS_INVALID_KEY, the0_state_get(bad_keys[i], &json));
        CHECK(json == NULL);
        CHECK_STATUS(THE0_STATUS_INVALID_KEY, the0_state_exists(bad_keys[i], &flag));
        CHECK(flag == 0);
        CHECK_STATUS(THE0_STATUS_INVALID_KEY, the0_state_delete(bad_keys[i], &flag));
    }
    the0_state_set("a/b", "1");
    CHECK_ERROR("invalid state key \"a/b\": must not contain '/' or '\\'");
    the0_state_get("", &(char *){NULL});
    CHECK_ERROR("invalid state key \"\": must not be empty");

    const char *bad_json[] = {"", "{", "NaN", "{'a':1}", "[1] [2]", "tru"};
    for (size_t i = 0; i < sizeof bad_json / sizeof bad_json[0]; i++) {
        CHECK_STATUS(THE0_STATUS_INVALID_JSON, the0_state_set("k", bad_json[i]));
        CHECK_ERROR_PREFIX("value for state key \"k\" is not valid JSON");
    }
    int32_t flag = -1;
    CHECK_STATUS(THE0_STATUS_OK, the0_state_exists("k", &flag));
    CHECK(flag == 0); /* nothing was written */

    char *broken = path_join(state_dir, "broken.json");
    mkdir(state_dir, 0755);
    write_file(broken, "{oops");
    char *json = SENTINEL;
    CHECK_STATUS(THE0_STATUS_CORRUPT_STATE, the0_state_get("broken", &json));
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
    CHECK_STATUS(THE0_STATUS_IO, the0_state_set("k", "1"));
    CHECK_ERROR_PREFIX("cannot write ");
    CHECK_STATUS(THE0_STATUS_IO, the0_state_get("k", &json));
    CHECK(json == NULL);
    CHECK_STATUS(THE0_STATUS_IO, the0_state_exists("k", &flag));
    CHECK_STATUS(THE0_STATUS_IO, the0_state_delete("k", &flag));
    CHECK_STATUS(THE0_STATUS_IO, the0_state_list(&json));
    CHECK(json == NULL);
    CHECK_ERROR_PREFIX("cannot list ");
    CHECK_STATUS(THE0_STATUS_IO, the0_state_clear());
    use_state_dir(state_dir);
    free(below);
    free(plain);
}

static void test_read_only_guard(void) {
    int32_t active = -1;
    CHECK_STATUS(THE0_STATUS_OK, the0_state_set("kept", "1"));
    CHECK_STATUS(THE0_STATUS_OK, the0_query_is_query_mode(&active));
    CHECK(active == 0);

    setenv("QUERY_PATH", "/anything", 1); /* a query process, from its first line */
    CHECK_STATUS(THE0_STATUS_OK, the0_query_is_query_mode(&active));
    CHECK(active == 1);
    CHECK_STATUS(THE0_STATUS_READ_ONLY, the0_state_set("kept", "2"));
    CHECK_ERROR("state is read-only while this process serves queries: set(\"kept\") refused");
    int32_t existed = -1;
    CHECK_STATUS(THE0_STATUS_READ_ONLY, the0_state_delete("kept", &existed));
    CHECK(existed == 0);
    CHECK_STATUS(THE0_STATUS_READ_ONLY, the0_state_clear());
    CHECK_ERROR("state is read-only while this process serves queries: clear() refused");
    char *json = NULL;
    CHECK_STATUS(THE0_STATUS_OK, the0_state_get("kept", &json)); /* reads still work */
    CHECK_OWNED_TEXT("1", json);

    setenv("QUERY_PATH", "", 1); /* empty counts as unset */
    CHECK_STATUS(THE0_STATUS_OK, the0_query_is_query_mode(&active));
    CHECK(active == 0);
    unsetenv("QUERY_PATH");
    CHECK_STATUS(THE0_STATUS_OK, the0_state_delete("kept", &existed));
    CHECK(existed == 1);
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_query_is_query_mode(NULL));
    CHECK_ERROR("out_active must not be NULL");
}

/* Runs `fn` with fd 1 or 2 sent to a file, and returns what it wrote (malloc'ed). */
static char *capture(int fd, int32_t (*fn)(void), int32_t *status) {
    char *path = path_join(temp_dir, "captured");
    fflush(NULL);
    int saved = dup(fd);
    int file = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(file, fd);
    close(file);
    *status = fn();
    dup2(saved, fd);
    close(saved);
    char *text = read_file(path);
    remove(path);
    free(path);
    return text;
}

static int32_t metric_trade(void) {
    return the0_input_metric("trade", "{\"price\": 1.5, \"_metric\": \"x\"}");
}
static int32_t metric_scalar(void) { return the0_input_metric("count", "42"); }
static int32_t log_warn(void) {
    return the0_input_log("hello \"you\"\t", "{\"order\": 7}", "WARNING");
}
static int32_t log_plain(void) { return the0_input_log("plain", NULL, NULL); }

static void test_input(void) {
    char *bot_id = SENTINEL, *config = SENTINEL;
    unsetenv("BOT_ID");
    unsetenv("BOT_CONFIG");
    CHECK_STATUS(THE0_STATUS_MISSING_ENV, the0_input_parse(&bot_id, &config));
    CHECK(bot_id == NULL && config == NULL);
    CHECK_ERROR("environment variable BOT_ID is not set");
    setenv("BOT_ID", "bot-7", 1);
    CHECK_STATUS(THE0_STATUS_MISSING_ENV, the0_input_parse(&bot_id, &config));
    CHECK_ERROR("environment variable BOT_CONFIG is not set");
    setenv("BOT_CONFIG", "{", 1);
    CHECK_STATUS(THE0_STATUS_INVALID_JSON, the0_input_parse(&bot_id, &config));
    CHECK_ERROR_PREFIX("BOT_CONFIG is not valid JSON");
    setenv("BOT_CONFIG", "", 1);
    CHECK_STATUS(THE0_STATUS_OK, the0_input_parse(&bot_id, &config));
    CHECK_OWNED_TEXT("bot-7", bot_id);
    CHECK_OWNED_TEXT("{}", config);
    setenv("BOT_CONFIG", "{ \"symbol\": \"BTC/USD\", \"n\": 2 }", 1);
    CHECK_STATUS(THE0_STATUS_OK, the0_input_parse(&bot_id, &config));
    CHECK_OWNED_TEXT("bot-7", bot_id);
    CHECK_OWNED_TEXT("{\"symbol\":\"BTC/USD\",\"n\":2}", config);
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_input_parse(NULL, &config));
    CHECK_ERROR("out_bot_id must not be NULL");
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_input_parse(&bot_id, NULL));
    CHECK_ERROR("out_config_json must not be NULL");

    char *result;
    CHECK_STATUS(THE0_STATUS_OK, the0_input_success("done", NULL));
    result = read_file(result_file);
    CHECK_TEXT("{\"status\":\"success\",\"message\":\"done\"}", result);
    free(result);
    CHECK_STATUS(THE0_STATUS_OK, the0_input_success("done", "{\"n\": [1]}"));
    result = read_file(result_file);
    CHECK_TEXT("{\"status\":\"success\",\"message\":\"done\",\"data\":{\"n\":[1]}}", result);
    free(result);
    CHECK_STATUS(THE0_STATUS_INVALID_JSON, the0_input_success("done", "{"));
    CHECK_ERROR_PREFIX("data_json is not valid JSON");
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_input_success(NULL, NULL));
    CHECK_ERROR("message must not be NULL");
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_input_success(NOT_UTF8, NULL));
    CHECK_ERROR_PREFIX("message is not valid UTF-8");
    CHECK_STATUS(THE0_STATUS_OK, the0_input_result("{ \"x\" : [1, 2] }"));
    result = read_file(result_file);
    CHECK_TEXT("{\"x\":[1,2]}", result);
    free(result);
    CHECK_STATUS(THE0_STATUS_INVALID_JSON, the0_input_result("[1"));
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_input_result(NULL));
    CHECK_ERROR("data_json must not be NULL");
    result = read_file(result_file);
    CHECK_TEXT("{\"x\":[1,2]}", result); /* failed calls write nothing */
    free(result);

    int32_t status = -1;
    char *line = capture(STDOUT_FILENO, metric_trade, &status);
    CHECK(status == THE0_STATUS_OK);
    CHECK_PREFIX("{\"_metric\":\"trade\",\"price\":1.5,\"timestamp\":\"", line);
    CHECK(line && strlen(line) > 4 && strcmp(line + strlen(line) - 4, "Z\"}\n") == 0);
    free(line);
    line = capture(STDOUT_FILENO, metric_scalar, &status);
    CHECK(status == THE0_STATUS_OK);
    CHECK_PREFIX("{\"_metric\":\"count\",\"data\":42,\"timestamp\":\"", line);
    free(line);
    CHECK_STATUS(THE0_STATUS_INVALID_JSON, the0_input_metric("trade", "{"));
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_input_metric(NULL, "{}"));
    CHECK_ERROR("metric_type must not be NULL");
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_input_metric("trade", NULL));
    CHECK_ERROR("data_json must not be NULL");
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_input_metric(NOT_UTF8, "{}"));

    line = capture(STDERR_FILENO, log_warn, &status);
    CHECK(status == THE0_STATUS_OK);
    CHECK_PREFIX("{\"level\":\"warn\",\"message\":\"hello \\\"you\\\"\\t\",\"order\":7,"
                 "\"timestamp\":\"",
                 line);
    free(line);
    line = capture(STDERR_FILENO, log_plain, &status);
    CHECK(status == THE0_STATUS_OK);
    CHECK_PREFIX("{\"level\":\"info\",\"message\":\"plain\",\"timestamp\":\"", line);
    free(line);
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_input_log("m", NULL, "loud"));
    CHECK_ERROR("unknown log level \"loud\": expected info, warn or error");
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_input_log("m", NULL, NOT_UTF8));
    CHECK_ERROR_PREFIX("level is not valid UTF-8");
    CHECK_STATUS(THE0_STATUS_INVALID_JSON, the0_input_log("m", "nope", NULL));
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_input_log(NULL, NULL, NULL));
    CHECK_ERROR("message must not be NULL");
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
    CHECK_ERROR("7 is not a reply kind: expected THE0_REPLY_OK or THE0_REPLY_ERROR");
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_query_respond(1, THE0_REPLY_OK, NULL));
    CHECK_ERROR("body must not be NULL");
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_query_respond(1, THE0_REPLY_ERROR, NOT_UTF8));
    CHECK_ERROR_PREFIX("body is not valid UTF-8");
    CHECK_STATUS(THE0_STATUS_INVALID_STATE, the0_query_stop());
    int32_t code = -1;
    CHECK_STATUS(THE0_STATUS_INVALID_STATE, the0_query_finish(&code));
    CHECK(code == 0);
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_query_finish(NULL));
    CHECK_ERROR("out_exit_code must not be NULL");

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
    CHECK_STATUS(THE0_STATUS_OK, the0_query_config(&json));
    CHECK_OWNED_TEXT("{}", json);
    setenv("BOT_CONFIG", "{\"a\": [1, 2], \"b\": null}", 1);
    CHECK_STATUS(THE0_STATUS_OK, the0_query_config(&json));
    CHECK_OWNED_TEXT("{\"a\":[1,2],\"b\":null}", json);
    setenv("BOT_CONFIG", "not json", 1);
    CHECK_STATUS(THE0_STATUS_OK, the0_query_config(&json));
    CHECK_OWNED_TEXT("{}", json);
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_query_config(NULL));
    CHECK_ERROR("out_json must not be NULL");

    setenv("QUERY_PARAMS", "{\"b\": 2, \"a\": \"x\", \"c\": [1, {\"d\": true}]}", 1);
    CHECK_STATUS(THE0_STATUS_OK, the0_query_params(&json));
    CHECK_OWNED_TEXT("{}", json); /* not an ephemeral query process */
    setenv("QUERY_PATH", "/status", 1);
    CHECK_STATUS(THE0_STATUS_OK, the0_query_params(&json));
    CHECK_OWNED_TEXT("{\"a\":\"x\",\"b\":\"2\",\"c\":\"[1,{\\\"d\\\":true}]\"}", json);
    unsetenv("QUERY_PATH");
    unsetenv("QUERY_PARAMS");
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_query_params(NULL));
}

/* A port that was free a moment ago, on loopback. */
static int free_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof addr;
    bind(fd, (struct sockaddr *)&addr, sizeof addr);
    getsockname(fd, (struct sockaddr *)&addr, &len);
    close(fd);
    return ntohs(addr.sin_port);
}

static void check_start_fails(int32_t expected, const char *message_prefix) {
    int32_t mode = -1, active = -1;
    CHECK_STATUS(expected, the0_query_start(0, &mode));
    CHECK_ERROR_PREFIX(message_prefix);
    CHECK(mode == 0);
    CHECK_STATUS(THE0_STATUS_OK, the0_query_is_query_mode(&active));
    CHECK(active == 0); /* a failed start leaves state writable */
    CHECK_STATUS(THE0_STATUS_INVALID_STATE, the0_query_stop());
}

static void test_start_failures(void) {
    int32_t mode = -1;
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_query_start(0, NULL));
    CHECK_ERROR("out_mode must not be NULL");
    CHECK_STATUS(THE0_STATUS_INVALID_ARGUMENT, the0_query_start(2, &mode));
    CHECK_ERROR("unknown the0_query_start flags 0x2");

    setenv("BOT_TYPE", "realtime", 1);
    setenv("THE0_QUERY_HOST", "127.0.0.1", 1);
    setenv("THE0_QUERY_PORT", "http", 1);
    check_start_fails(THE0_STATUS_INVALID_ARGUMENT,
                      "THE0_QUERY_PORT must be a non-negative integer, got \"http\"");
    char port[16];
    snprintf(port, sizeof port, "%d", free_port());
    setenv("THE0_QUERY_PORT", port, 1);
    setenv("THE0_QUERY_HOST", "localhost", 1);
    check_start_fails(THE0_STATUS_INVALID_ARGUMENT,
                      "THE0_QUERY_HOST must be an IP address, got \"localhost\"");
    setenv("THE0_QUERY_HOST", "127.0.0.1", 1);
    setenv("THE0_QUERY_TIMEOUT_MS", "0", 1);
    check_start_fails(THE0_STATUS_INVALID_ARGUMENT, "THE0_QUERY_TIMEOUT_MS must be at least 1");
    unsetenv("THE0_QUERY_TIMEOUT_MS");

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

/* Many threads at once: state calls interleave safely and each keeps its own last error. */
#define THREADS 8
#define ROUNDS 40

static void *state_worker(void *arg) {
    int n = (int)(intptr_t)arg;
    char key[32], value[64], bad_key[32], expected[96];
    snprintf(key, sizeof key, "thread-%d", n);
    snprintf(bad_key, sizeof bad_key, "bad/%d", n);
    snprintf(expected, sizeof expected, "invalid state key \"%s\": must not contain '/' or '\\'",
             bad_key);
    for (int round = 0; round < ROUNDS; round++) {
        snprintf(value, sizeof value, "{\"thread\":%d,\"round\":%d}", n, round);
        CHECK_STATUS(THE0_STATUS_OK, the0_state_set(key, value));
        char *json = NULL;
        CHECK_STATUS(THE0_STATUS_OK, the0_state_get(key, &json));
        CHECK_OWNED_TEXT(value, json);
        CHECK_STATUS(THE0_STATUS_INVALID_KEY, the0_state_set(bad_key, "1"));
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
    CHECK_STATUS(THE0_STATUS_OK, the0_state_list(&json));
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
    test_input_error(); /* forks: first, while this process has one thread */
    test_state_round_trip();
    test_state_arguments();
    test_state_rules();
    test_state_io_failures();
    test_read_only_guard();
    test_input();
    test_query_without_service();
    test_start_failures();
    test_threads();

    remove_tree(temp_dir);
    free(result_file);
    free(code_dir);
    free(state_dir);
    free(temp_dir);
    return check_summary("test_abi");
}
