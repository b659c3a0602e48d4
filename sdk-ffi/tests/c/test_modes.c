/*
 * test_modes: the ephemeral and info modes, through real child processes, as the agent runs a
 * bot's query entrypoint: query_bot (argv[1]) with QUERY_PATH / QUERY_PARAMS /
 * THE0_QUERY_RESULT_FILE set, and the README's example bot (argv[2]) in bot and query mode. Each
 * case checks the exit code and the exact result file.
 */
#include "check.h"

#include <sys/wait.h>

static char *temp_dir;
static char *state_dir;

static const char *const cleared_env[] = {
    "QUERY_PATH", "QUERY_PARAMS", "BOT_TYPE", "BOT_ID", "BOT_CONFIG", "THE0_QUERY_SOCKET",
    "THE0_QUERY_PORT", "THE0_QUERY_HOST", "THE0_QUERY_TIMEOUT_MS", "THE0_QUERY_RESULT_FILE",
    "CODE_MOUNT_DIR", "EXPECT_MODE",
};

/*
 * Runs `program` (with `arg` unless NULL) in a child whose environment is this one's without the
 * variables above, plus STATE_DIR, THE0_QUERY_RESULT_FILE=`result_file` and `env` (NAME=VALUE,
 * NULL-terminated). Returns its exit code.
 */
static int run(const char *program, const char *arg, const char *result_file,
               const char *const *env) {
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        for (size_t i = 0; i < sizeof cleared_env / sizeof cleared_env[0]; i++) {
            unsetenv(cleared_env[i]);
        }
        setenv("STATE_DIR", state_dir, 1);
        setenv("THE0_QUERY_RESULT_FILE", result_file, 1);
        for (; env != NULL && *env != NULL; env++) {
            putenv((char *)*env);
        }
        execl(program, program, arg, (char *)NULL);
        perror(program);
        _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

struct mode_case {
    const char *name;
    const char *arg;
    const char *env[5];
    int exit_code;
    const char *result; /* exact, or a prefix when `prefix` */
    int prefix;
};

#define AVAILABLE "[\"/badjson\",\"/echo\",\"/fail\",\"/hang\",\"/health\",\"/info\",\"/write\"]"
#define EPHEMERAL "EXPECT_MODE=1"
#define INFO "EXPECT_MODE=3"

static const struct mode_case cases[] = {
    {"ephemeral /echo keeps typed params and gives their string form",
     NULL,
     {EPHEMERAL, "QUERY_PATH=/echo", "QUERY_PARAMS={\"symbol\": \"BTC/USD\", \"n\": 5}",
      "BOT_CONFIG={\"risk\": 0.5}"},
     0,
     "{\"status\":\"ok\",\"data\":{\"path\":\"/echo\",\"params\":{\"symbol\":\"BTC/USD\",\"n\":5},"
     "\"strings\":{\"n\":\"5\",\"symbol\":\"BTC/USD\"},\"global\":{\"n\":\"5\",\"symbol\":"
     "\"BTC/USD\"},\"config\":{\"risk\":0.5}}}",
     0},
    {"ephemeral without QUERY_PARAMS",
     NULL,
     {EPHEMERAL, "QUERY_PATH=/echo"},
     0,
     "{\"status\":\"ok\",\"data\":{\"path\":\"/echo\",\"params\":{},\"strings\":{},\"global\":{},"
     "\"config\":{}}}",
     0},
    {"ephemeral handler error",
     NULL,
     {EPHEMERAL, "QUERY_PATH=/fail"},
     1,
     "{\"status\":\"error\",\"error\":\"deliberate failure\"}",
     0},
    {"ephemeral reply that is not JSON",
     NULL,
     {EPHEMERAL, "QUERY_PATH=/badjson"},
     1,
     "{\"status\":\"error\",\"error\":\"result of the handler for /badjson is not valid JSON",
     1},
    {"ephemeral state write is refused",
     NULL,
     {EPHEMERAL, "QUERY_PATH=/write"},
     0,
     "{\"status\":\"ok\",\"data\":{\"status\":4,\"name\":\"READ_ONLY\"}}",
     0},
    {"ephemeral unknown path",
     NULL,
     {EPHEMERAL, "QUERY_PATH=/nope"},
     1,
     "{\"status\":\"error\",\"error\":\"No handler for path: /nope\",\"available\":" AVAILABLE "}",
     0},
    {"ephemeral built-in /health",
     NULL,
     {EPHEMERAL, "QUERY_PATH=/health"},
     0,
     "{\"status\":\"ok\",\"data\":{\"status\":\"ok\"}}",
     0},
    {"ephemeral QUERY_PARAMS that is not an object",
     NULL,
     {EPHEMERAL, "QUERY_PATH=/echo", "QUERY_PARAMS=[1]"},
     1,
     "{\"status\":\"error\",\"error\":\"QUERY_PARAMS must be a JSON object, got an array\"}",
     0},
    {"ephemeral handler that never answers",
     NULL,
     {EPHEMERAL, "QUERY_PATH=/hang", "THE0_QUERY_TIMEOUT_MS=200"},
     1,
     "{\"status\":\"error\",\"error\":\"handler for /hang timed out after 200 ms\"}",
     0},
    {"info mode lists the queries",
     NULL,
     {INFO},
     0,
     "{\"status\":\"ok\",\"data\":{\"available_queries\":" AVAILABLE "}}",
     0},
    {"info mode with the bot's own /info",
     "--custom-info",
     {INFO},
     0,
     "{\"status\":\"ok\",\"data\":{\"custom\":true}}",
     0},
};

static void test_query_bot(const char *query_bot) {
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct mode_case *c = &cases[i];
        char *result_file = format("%s/result-%zu.json", temp_dir, i);
        int code = run(query_bot, c->arg, result_file, c->env);
        if (!CHECK(code == c->exit_code)) {
            fprintf(stderr, "    %s: exit code %d, expected %d\n", c->name, code, c->exit_code);
        }
        char *result = read_file(result_file);
        if (!check_text(c->result, result, c->prefix, c->name, __FILE__, __LINE__)) {
            fprintf(stderr, "    in case: %s\n", c->name);
        }
        free(result);
        free(result_file);
    }

    /* A result file that cannot be written: the query fails with exit code 1. */
    char *blocked = path_join(temp_dir, "plain-file");
    write_file(blocked, "x");
    char *below = path_join(blocked, "result.json");
    const char *env[] = {EPHEMERAL, "QUERY_PATH=/health", NULL};
    CHECK(run(query_bot, NULL, below, env) == 1);
    free(below);
    free(blocked);
}

static void test_example(const char *example) {
    char *code_dir = path_join(temp_dir, "bot");
    char *bot_result = path_join(code_dir, "result.json");
    char *query_result = path_join(temp_dir, "runs.json");
    char *code_env = format("CODE_MOUNT_DIR=%s", code_dir);
    const char *bot_env[] = {code_env, "BOT_ID=bot-1", "BOT_CONFIG={\"symbol\":\"BTC/USD\"}",
                             NULL};

    CHECK(run(example, NULL, query_result, bot_env) == 0);
    char *result = read_file(bot_result);
    CHECK_TEXT("{\"status\":\"success\",\"message\":\"run 1\",\"data\":{\"bot\":\"bot-1\","
               "\"runs\":1}}",
               result);
    free(result);
    CHECK(run(example, NULL, query_result, bot_env) == 0);
    result = read_file(bot_result);
    CHECK_TEXT("{\"status\":\"success\",\"message\":\"run 2\",\"data\":{\"bot\":\"bot-1\","
               "\"runs\":2}}",
               result);
    free(result);

    const char *query_env[] = {"QUERY_PATH=/runs", NULL};
    CHECK(run(example, NULL, query_result, query_env) == 0);
    result = read_file(query_result);
    CHECK_TEXT("{\"status\":\"ok\",\"data\":{\"runs\":2}}", result);
    free(result);

    const char *missing_env[] = {code_env, NULL}; /* no BOT_ID: the example reports and fails */
    CHECK(run(example, NULL, query_result, missing_env) == 1);

    free(code_env);
    free(query_result);
    free(bot_result);
    free(code_dir);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: test_modes QUERY_BOT EXAMPLE\n");
        return 2;
    }
    temp_dir = make_temp_dir("modes");
    state_dir = path_join(temp_dir, "state");
    test_query_bot(argv[1]);
    test_example(argv[2]);
    remove_tree(temp_dir);
    free(state_dir);
    free(temp_dir);
    return check_summary("test_modes");
}
