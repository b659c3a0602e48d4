/*
 * The C driver of the conformance suite: the command line of the0-driver-rust
 * (tests/conformance/src/bin/the0-driver-rust.rs) over libthe0 and the0.h, as a C bot uses them.
 *
 *   driver query [--custom-info]          register the standard handlers, then run the service
 *   driver state set KEY JSON | get KEY | exists KEY | delete KEY | list | clear
 *   driver read-loop KEY COUNT            read KEY COUNT times, report torn or missing reads
 *   driver input parse | success MSG [DATA] | error MSG | result JSON | metric TYPE JSON
 *                | log MSG [DATA|-] [LEVEL]
 *
 * `state` and `input` print one JSON line: {"ok": <result>} or
 * {"error": {"status": "<STATUS>", "message": "<text>"}}.
 *
 * C's view of the environment is the process environment, so every env_json is NULL. The
 * library prints nothing: the driver writes the lines it hands back, metrics on stdout and
 * everything else on stderr, and ends the process itself.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "the0.h"

/* ---------------------------------------------------------------------------------------- */
/* Output helpers                                                                            */

/* Writes `text` as a JSON string literal. */
static void put_json_string(FILE *out, const char *text) {
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", out); break;
        case '\\': fputs("\\\\", out); break;
        case '\n': fputs("\\n", out); break;
        case '\r': fputs("\\r", out); break;
        case '\t': fputs("\\t", out); break;
        default:
            if (*p < 0x20) {
                fprintf(out, "\\u%04x", *p);
            } else {
                fputc(*p, out);
            }
        }
    }
    fputc('"', out);
}

/* Prints text the library handed back (a line, or lines) on `out`, then frees it. */
static void print_lines(FILE *out, char *lines) {
    if (lines != NULL) {
        fprintf(out, "%s\n", lines);
        fflush(out);
    }
    the0_bytes_free(lines);
}

/* {"status": <name>, "message": <last error>} for a failed call's status, as a malloc'ed text. */
static char *error_json(int32_t status) {
    char *name = NULL, *message = NULL, *text = NULL;
    size_t size = 0;
    the0_status_name(status, &name);
    the0_last_error(&message);
    FILE *out = open_memstream(&text, &size);
    fputs("{\"status\":", out);
    put_json_string(out, name ? name : "PANIC");
    fputs(",\"message\":", out);
    put_json_string(out, message ? message : "");
    fputc('}', out);
    fclose(out);
    the0_bytes_free(name);
    the0_bytes_free(message);
    return text;
}

/* Prints {"ok": <ok_json>} (freed when `owned`), or {"error": ...} when status is a failure. */
static int print_outcome(int32_t status, char *ok_json, int owned) {
    if (status == THE0_STATUS_OK) {
        printf("{\"ok\":%s}\n", ok_json ? ok_json : "null");
    } else {
        char *error = error_json(status);
        printf("{\"error\":%s}\n", error);
        free(error);
    }
    if (owned) {
        the0_bytes_free(ok_json);
    }
    fflush(stdout);
    return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Parameters: the string form of a request is a JSON object of strings                      */

/* Reads the JSON string literal at *p (which points at its opening quote) into a malloc'ed C
 * string, and moves *p past it. Only the escapes a JSON writer produces are expected. */
static char *read_json_string(const char **p) {
    const char *s = *p + 1;
    size_t cap = strlen(s) + 1, n = 0;
    char *out = malloc(cap);
    while (*s && *s != '"') {
        if (*s == '\\') {
            s++;
            switch (*s) {
            case 'n': out[n++] = '\n'; break;
            case 't': out[n++] = '\t'; break;
            case 'r': out[n++] = '\r'; break;
            case 'b': out[n++] = '\b'; break;
            case 'f': out[n++] = '\f'; break;
            case 'u': {
                unsigned code = 0;
                sscanf(s + 1, "%4x", &code);
                s += 4;
                if (code < 0x80) {
                    out[n++] = (char)code;
                } else if (code < 0x800) {
                    out[n++] = (char)(0xc0 | (code >> 6));
                    out[n++] = (char)(0x80 | (code & 0x3f));
                } else {
                    out[n++] = (char)(0xe0 | (code >> 12));
                    out[n++] = (char)(0x80 | ((code >> 6) & 0x3f));
                    out[n++] = (char)(0x80 | (code & 0x3f));
                }
                break;
            }
            default: out[n++] = *s; break;
            }
            s++;
        } else {
            out[n++] = *s++;
        }
    }
    out[n] = '\0';
    *p = *s ? s + 1 : s;
    return out;
}

/* The string parameter `key` of a request (malloc'ed), or a copy of `fallback` when absent. */
static char *param(const char *strings_json, const char *key, const char *fallback) {
    const char *p = strchr(strings_json, '"');
    while (p != NULL) {
        char *name = read_json_string(&p);
        p = strchr(p, '"'); /* the value */
        if (p == NULL) {
            free(name);
            break;
        }
        char *value = read_json_string(&p);
        int found = strcmp(name, key) == 0;
        free(name);
        if (found) {
            return value;
        }
        free(value);
        p = strchr(p, '"');
    }
    return strdup(fallback);
}

/* ---------------------------------------------------------------------------------------- */
/* Queries                                                                                   */

static int custom_info;

/* {"written": true} or {"written": false, "error": {...}} for a state write. */
static char *write_probe(int32_t status) {
    if (status == THE0_STATUS_OK) {
        return strdup("{\"written\":true}");
    }
    char *error = error_json(status), *body = NULL;
    if (asprintf(&body, "{\"written\":false,\"error\":%s}", error) < 0) {
        body = NULL;
    }
    free(error);
    return body;
}

/* Runs the handler for one request and answers it. */
static void handle(uint64_t id, const char *path, const char *params, const char *strings) {
    char *body = NULL, *owned = NULL;
    if (strcmp(path, "/echo") == 0) {
        if (asprintf(&owned, "{\"path\":\"/echo\",\"params\":%s,\"strings\":%s}", params, strings) < 0) {
            owned = NULL;
        }
    } else if (strcmp(path, "/fail") == 0) {
        the0_query_respond(id, THE0_REPLY_ERROR, "deliberate failure");
        return;
    } else if (strcmp(path, "/sleep") == 0) {
        char *ms_text = param(strings, "ms", "0");
        long ms = strtol(ms_text, NULL, 10);
        free(ms_text);
        if (ms < 0) {
            ms = 0;
        }
        struct timespec pause = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
        nanosleep(&pause, NULL);
        if (asprintf(&owned, "{\"slept_ms\":%ld}", ms) < 0) {
            owned = NULL;
        }
    } else if (strcmp(path, "/state") == 0) {
        char *key = param(strings, "key", ""), *value = NULL;
        int32_t status = the0_state_get(NULL, key, &value);
        FILE *out = open_memstream(&owned, &(size_t){0});
        fputs("{\"key\":", out);
        put_json_string(out, key);
        if (status == THE0_STATUS_OK || status == THE0_STATUS_NOT_FOUND) {
            fprintf(out, ",\"exists\":%s,\"value\":%s}", value ? "true" : "false", value ? value : "null");
        } else {
            char *error = error_json(status);
            fprintf(out, ",\"error\":%s}", error);
            free(error);
        }
        fclose(out);
        the0_bytes_free(value);
        free(key);
    } else if (strcmp(path, "/write") == 0) {
        char *key = param(strings, "key", ""), *value = param(strings, "value", "null");
        owned = write_probe(the0_state_set(NULL, key, value));
        free(key);
        free(value);
    } else if (strcmp(path, "/config") == 0) {
        the0_query_config(NULL, &body);
    } else if (strcmp(path, "/params") == 0) {
        owned = strdup(strings); /* get_params inside a handler: this request's string form */
    } else if (custom_info && strcmp(path, "/info") == 0) {
        owned = write_probe(the0_state_set(NULL, "info-probe", "true"));
    } else {
        the0_query_respond(id, THE0_REPLY_ERROR, "no C handler is registered for this path");
        return;
    }
    the0_query_respond(id, THE0_REPLY_OK, body ? body : owned ? owned : "null");
    the0_bytes_free(body);
    free(owned);
}

/* A handler thread: takes requests until the service is done. */
static void *work(void *unused) {
    (void)unused;
    for (;;) {
        uint64_t id = 0;
        char *path = NULL, *params = NULL, *strings = NULL;
        int32_t status = the0_query_next(500, &id, &path, &params, &strings);
        if (status == THE0_STATUS_TIMEOUT) {
            continue;
        }
        if (status != THE0_STATUS_OK) {
            return NULL; /* THE0_STATUS_DONE */
        }
        handle(id, path, params, strings);
        the0_bytes_free(path);
        the0_bytes_free(params);
        the0_bytes_free(strings);
    }
}

static int run_query(void) {
    const char *paths[] = {"/echo", "/fail", "/sleep", "/state", "/write", "/config", "/params", "/info"};
    size_t count = custom_info ? 8 : 7;
    for (size_t i = 0; i < count; i++) {
        char *stored = NULL;
        the0_query_register(paths[i], &stored);
        the0_bytes_free(stored);
    }
    int32_t mode = 0;
    uint32_t workers = 0;
    char *lines = NULL;
    int32_t status = the0_query_start(NULL, THE0_START_HANDLE_SIGNALS, 4, &mode, &workers, &lines);
    print_lines(stderr, lines);
    if (status != THE0_STATUS_OK) {
        return 1;
    }
    /* Detached: finish returns once the answers are given; a handler still sleeping past its
     * timeout must not hold the process. */
    for (uint32_t i = 0; i < workers; i++) {
        pthread_t thread;
        pthread_create(&thread, NULL, work, NULL);
        pthread_detach(thread);
    }
    int32_t exit_code = 1;
    the0_query_finish(&exit_code, &lines); /* TIMEOUT: a handler was given up on; exit anyway */
    print_lines(stderr, lines);
    fflush(stdout);
    return exit_code;
}

/* ---------------------------------------------------------------------------------------- */
/* State and input                                                                           */

static int state_op(int argc, char **argv) {
    char *json = NULL;
    int32_t flag = 0, status;
    if (argc == 3 && strcmp(argv[0], "set") == 0) {
        return print_outcome(the0_state_set(NULL, argv[1], argv[2]), NULL, 0);
    }
    if (argc == 2 && strcmp(argv[0], "get") == 0) {
        status = the0_state_get(NULL, argv[1], &json);
        if (status == THE0_STATUS_NOT_FOUND) {
            return print_outcome(THE0_STATUS_OK, "{\"found\":false}", 0);
        }
        char *found = NULL;
        if (status == THE0_STATUS_OK && asprintf(&found, "{\"found\":true,\"value\":%s}", json) < 0) {
            found = NULL;
        }
        the0_bytes_free(json);
        print_outcome(status, found, 0);
        free(found);
        return 0;
    }
    if (argc == 2 && strcmp(argv[0], "exists") == 0) {
        status = the0_state_exists(NULL, argv[1], &flag);
        return print_outcome(status, flag ? "true" : "false", 0);
    }
    if (argc == 2 && strcmp(argv[0], "delete") == 0) {
        status = the0_state_delete(NULL, argv[1], &flag);
        return print_outcome(status, flag ? "true" : "false", 0);
    }
    if (argc == 1 && strcmp(argv[0], "list") == 0) {
        status = the0_state_list(NULL, &json);
        return print_outcome(status, json, 1);
    }
    if (argc == 1 && strcmp(argv[0], "clear") == 0) {
        return print_outcome(the0_state_clear(NULL), NULL, 0);
    }
    fprintf(stderr, "driver: unknown state operation\n");
    return 2;
}

static int read_loop(const char *key, long count) {
    long missing = 0, torn = 0, failed = 0;
    for (long i = 0; i < count; i++) {
        char *json = NULL;
        int32_t status = the0_state_get(NULL, key, &json);
        the0_bytes_free(json);
        if (status == THE0_STATUS_NOT_FOUND) {
            missing++;
        } else if (status == THE0_STATUS_CORRUPT_STATE) {
            torn++;
        } else if (status != THE0_STATUS_OK) {
            failed++;
        }
    }
    printf("{\"reads\":%ld,\"missing\":%ld,\"torn\":%ld,\"failed\":%ld}\n", count, missing, torn, failed);
    return 0;
}

static int input_op(int argc, char **argv) {
    char *lines = NULL, *line = NULL;
    int32_t status;
    if (argc == 1 && strcmp(argv[0], "parse") == 0) {
        char *bot_id = NULL, *config = NULL, *ok = NULL;
        size_t size = 0;
        status = the0_input_parse(NULL, &bot_id, &config);
        if (status == THE0_STATUS_OK) {
            FILE *out = open_memstream(&ok, &size);
            fputs("{\"bot_id\":", out);
            put_json_string(out, bot_id);
            fprintf(out, ",\"config\":%s}", config);
            fclose(out);
        }
        the0_bytes_free(bot_id);
        the0_bytes_free(config);
        print_outcome(status, ok, 0);
        free(ok);
        return 0;
    }
    if ((argc == 2 || argc == 3) && strcmp(argv[0], "success") == 0) {
        status = the0_input_success(NULL, argv[1], argc == 3 ? argv[2] : NULL, &lines);
        print_lines(stderr, lines);
        return print_outcome(status, NULL, 0);
    }
    if (argc == 2 && strcmp(argv[0], "error") == 0) {
        status = the0_input_error(NULL, argv[1], NULL, &lines);
        print_lines(stderr, lines);
        if (status != THE0_STATUS_OK) {
            return print_outcome(status, NULL, 0);
        }
        fflush(stdout);
        exit(1); /* the library reports; the host ends its process */
    }
    if (argc == 2 && strcmp(argv[0], "result") == 0) {
        status = the0_input_result(NULL, argv[1], &lines);
        print_lines(stderr, lines);
        return print_outcome(status, NULL, 0);
    }
    if (argc == 3 && strcmp(argv[0], "metric") == 0) {
        status = the0_input_metric(argv[1], argv[2], &line);
        print_lines(stdout, line);
        return print_outcome(status, NULL, 0);
    }
    if (argc >= 2 && argc <= 4 && strcmp(argv[0], "log") == 0) {
        const char *data = argc >= 3 && strcmp(argv[2], "-") != 0 ? argv[2] : NULL;
        status = the0_input_log(argv[1], data, argc == 4 ? argv[3] : NULL, &line);
        print_lines(stderr, line);
        return print_outcome(status, NULL, 0);
    }
    fprintf(stderr, "driver: unknown input operation\n");
    return 2;
}

int main(int argc, char **argv) {
    if (the0_abi_version() != THE0_ABI_VERSION) {
        fprintf(stderr, "driver: libthe0 speaks ABI %u, built for %u\n", the0_abi_version(), THE0_ABI_VERSION);
        return 2;
    }
    if (argc >= 2 && strcmp(argv[1], "query") == 0) {
        custom_info = argc >= 3 && strcmp(argv[2], "--custom-info") == 0;
        return run_query();
    }
    if (argc >= 2 && strcmp(argv[1], "state") == 0) {
        return state_op(argc - 2, argv + 2);
    }
    if (argc == 4 && strcmp(argv[1], "read-loop") == 0) {
        return read_loop(argv[2], strtol(argv[3], NULL, 10));
    }
    if (argc >= 2 && strcmp(argv[1], "input") == 0) {
        return input_op(argc - 2, argv + 2);
    }
    fprintf(stderr, "usage: driver query|state|read-loop|input ... (see the source header)\n");
    return 2;
}
