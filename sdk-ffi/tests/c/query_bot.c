/*
 * query_bot: a small C query program, as a bot's query entrypoint would be. It registers its
 * handlers, starts the query service in the mode the environment selects (checked against
 * EXPECT_MODE), answers requests until the service is done, and exits with the service's exit
 * code. test_modes runs it with QUERY_PATH / QUERY_PARAMS / THE0_QUERY_RESULT_FILE set and checks
 * the result file and the exit code.
 *
 * Along the way it checks the ABI's answers to misuse (a second start, unknown ids, double
 * answers, calls after finish); a wrong answer exits with code 3.
 *
 * Handlers: /echo (path, params, strings, getParams, getConfig), /fail (an error reply),
 * /badjson (a reply that is not JSON), /write (a state write, refused), /hang (never answered),
 * and with --custom-info, /info.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "the0.h"

#define EXPECT(cond)                                                              \
    do {                                                                          \
        if (!(cond)) {                                                            \
            char *message_ = NULL;                                                \
            the0_last_error(&message_);                                           \
            fprintf(stderr, "query_bot:%d: expected %s (last error: %s)\n", __LINE__, #cond, \
                    message_ ? message_ : "");                                    \
            the0_bytes_free(message_);                                            \
            exit(3);                                                              \
        }                                                                         \
    } while (0)

static void register_path(const char *path) {
    char *stored = NULL;
    EXPECT(the0_query_register(path, &stored) == THE0_STATUS_OK);
    EXPECT(strcmp(stored, path) == 0);
    the0_bytes_free(stored);
}

/* Answers one request; returns 0 when it is deliberately left unanswered. */
static int handle(uint64_t id, const char *path, const char *params, const char *strings) {
    if (strcmp(path, "/echo") == 0) {
        char *global = NULL, *config = NULL, *body = NULL;
        char *typed = NULL;
        EXPECT(the0_query_params(NULL, &typed, &global) == THE0_STATUS_OK);
        the0_bytes_free(typed);
        EXPECT(the0_query_config(NULL, &config) == THE0_STATUS_OK);
        EXPECT(asprintf(&body, "{\"path\":\"%s\",\"params\":%s,\"strings\":%s,\"global\":%s,"
                               "\"config\":%s}",
                        path, params, strings, global, config) > 0);
        EXPECT(the0_query_respond(id, THE0_REPLY_OK, body) == THE0_STATUS_OK);
        free(body);
        the0_bytes_free(config);
        the0_bytes_free(global);
    } else if (strcmp(path, "/fail") == 0) {
        EXPECT(the0_query_respond(id, THE0_REPLY_ERROR, "deliberate failure") == THE0_STATUS_OK);
    } else if (strcmp(path, "/badjson") == 0) {
        /* Not JSON: the core answers 500 itself and reports it; the request is then answered. */
        EXPECT(the0_query_respond(id, THE0_REPLY_OK, "{nope") == THE0_STATUS_INVALID_JSON);
    } else if (strcmp(path, "/write") == 0) {
        int32_t status = the0_state_set(NULL, "probe", "true");
        char *name = NULL, body[96];
        EXPECT(the0_status_name(status, &name) == THE0_STATUS_OK);
        snprintf(body, sizeof body, "{\"status\":%d,\"name\":\"%s\"}", status, name);
        the0_bytes_free(name);
        EXPECT(the0_query_respond(id, THE0_REPLY_OK, body) == THE0_STATUS_OK);
    } else if (strcmp(path, "/info") == 0) {
        EXPECT(the0_query_respond(id, THE0_REPLY_OK, "{\"custom\": true}") == THE0_STATUS_OK);
    } else if (strcmp(path, "/hang") == 0) {
        return 0; /* the core times the request out */
    } else {
        EXPECT(!"a request for a path this program did not register");
    }
    return 1;
}

int main(int argc, char **argv) {
    EXPECT(the0_abi_version() == THE0_ABI_VERSION);
    const char *paths[] = {"/echo", "/fail", "/badjson", "/write", "/hang"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        register_path(paths[i]);
    }
    if (argc > 1 && strcmp(argv[1], "--custom-info") == 0) {
        register_path("/info");
    }

    int32_t mode = 0, active = -1;
    uint32_t workers = 0;
    char *lines = NULL;
    EXPECT(the0_query_start(NULL, 0, 3, &mode, &workers, &lines) == THE0_STATUS_OK);
    EXPECT(lines == NULL && workers == 1); /* one request at most: one thread */
    const char *expected_mode = getenv("EXPECT_MODE");
    EXPECT(expected_mode != NULL && mode == atoi(expected_mode));
    EXPECT(the0_query_start(NULL, 0, 3, &mode, &workers, &lines) == THE0_STATUS_INVALID_STATE);
    EXPECT(mode == 0 && lines != NULL);
    the0_bytes_free(lines);
    EXPECT(the0_query_is_query_mode(NULL, &active) == THE0_STATUS_OK && active == 1);
    EXPECT(the0_query_respond(424242, THE0_REPLY_OK, "1") == THE0_STATUS_UNKNOWN_REQUEST);

    for (;;) {
        uint64_t id = 0;
        char *path = NULL, *params = NULL, *strings = NULL;
        int32_t status = the0_query_next(1000, &id, &path, &params, &strings);
        if (status == THE0_STATUS_TIMEOUT) {
            continue;
        }
        if (status == THE0_STATUS_DONE) {
            break;
        }
        EXPECT(status == THE0_STATUS_OK);
        if (handle(id, path, params, strings)) {
            /* Each request takes exactly one answer. */
            EXPECT(the0_query_respond(id, THE0_REPLY_OK, "2") == THE0_STATUS_UNKNOWN_REQUEST);
        }
        the0_bytes_free(path);
        the0_bytes_free(params);
        the0_bytes_free(strings);
    }
    uint64_t id = 7;
    char *path = NULL, *params = NULL, *strings = NULL;
    EXPECT(the0_query_next(0, &id, &path, &params, &strings) == THE0_STATUS_DONE);
    EXPECT(id == 0 && path == NULL && params == NULL && strings == NULL);
    EXPECT(the0_query_stop() == THE0_STATUS_OK); /* a no-op outside server mode */

    /* The handler of /hang never answers: finish reports TIMEOUT, and this program exits. */
    int32_t exit_code = -1;
    int32_t finished = the0_query_finish(&exit_code, &lines);
    if (lines != NULL) {
        fprintf(stderr, "%s\n", lines); /* the library prints nothing itself */
        the0_bytes_free(lines);
    }
    EXPECT(finished == THE0_STATUS_OK || (finished == THE0_STATUS_TIMEOUT && exit_code == 1));
    EXPECT(exit_code == 0 || exit_code == 1);

    /* The service is released: every call that needs it says so. */
    EXPECT(the0_query_next(0, &id, &path, &params, &strings) == THE0_STATUS_INVALID_STATE);
    EXPECT(the0_query_respond(1, THE0_REPLY_OK, "1") == THE0_STATUS_INVALID_STATE);
    EXPECT(the0_query_stop() == THE0_STATUS_INVALID_STATE);
    int32_t again = -1;
    EXPECT(the0_query_finish(&again, &lines) == THE0_STATUS_INVALID_STATE);
    const char *query_path = getenv("QUERY_PATH");
    EXPECT(the0_query_is_query_mode(NULL, &active) == THE0_STATUS_OK);
    EXPECT(active == (query_path != NULL && query_path[0] != '\0'));
    return exit_code;
}
