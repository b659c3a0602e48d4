/*
 * check.h: the few helpers the C tests of libthe0 share. Header-only on purpose: each test
 * program is a single translation unit.
 *
 * Every CHECK counts; a failed one prints where and why (with the0_last_error for statuses) and
 * makes check_summary() return a failing exit code. The counters are atomic, so worker and
 * client threads may check too.
 */
#ifndef THE0_TEST_CHECK_H
#define THE0_TEST_CHECK_H

#define _GNU_SOURCE
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "the0.h"

static int check_total;
static int check_failed;

static inline int check_record(int ok, const char *file, int line, const char *what) {
    __atomic_fetch_add(&check_total, 1, __ATOMIC_SEQ_CST);
    if (!ok) {
        __atomic_fetch_add(&check_failed, 1, __ATOMIC_SEQ_CST);
        fprintf(stderr, "%s:%d: FAILED: %s\n", file, line, what);
    }
    return ok;
}

/* The calling thread's last error, as a malloc'ed copy (free with free()). */
static inline char *last_error(void) {
    char *message = NULL;
    if (the0_last_error(&message) != THE0_STATUS_OK) {
        return strdup("<the0_last_error failed>");
    }
    char *copy = strdup(message);
    the0_bytes_free(message);
    return copy;
}

static inline int check_status(int32_t expected, int32_t actual, const char *call,
                               const char *file, int line) {
    int ok = check_record(expected == actual, file, line, call);
    if (!ok) {
        char *message = last_error();
        fprintf(stderr, "    expected status %d, got %d (last error: %s)\n", expected, actual,
                message);
        free(message);
    }
    return ok;
}

static inline int check_text(const char *expected, const char *actual, int prefix_only,
                             const char *what, const char *file, int line) {
    int ok = actual != NULL && (prefix_only ? strncmp(actual, expected, strlen(expected)) == 0
                                            : strcmp(actual, expected) == 0);
    if (!check_record(ok, file, line, what)) {
        fprintf(stderr, "    expected %s%s\n    actual   %s\n", prefix_only ? "prefix " : "",
                expected, actual ? actual : "(NULL)");
    }
    return ok;
}

/* CHECK(cond): a condition. */
#define CHECK(cond) check_record(!!(cond), __FILE__, __LINE__, #cond)
/* CHECK_STATUS(expected, call): the status a call returns. */
#define CHECK_STATUS(expected, call) check_status((expected), (call), #call, __FILE__, __LINE__)
/* CHECK_TEXT / CHECK_PREFIX: text (NULL fails) equal to, or starting with, `expected`. */
#define CHECK_TEXT(expected, actual) \
    check_text((expected), (actual), 0, #actual, __FILE__, __LINE__)
#define CHECK_PREFIX(expected, actual) \
    check_text((expected), (actual), 1, #actual, __FILE__, __LINE__)
/* CHECK_OWNED_TEXT: like CHECK_TEXT for a buffer the library returned; frees it. */
#define CHECK_OWNED_TEXT(expected, owned)        \
    do {                                         \
        char *owned_ = (owned);                  \
        CHECK_TEXT((expected), owned_);          \
        the0_bytes_free(owned_);                 \
    } while (0)
/* CHECK_ERROR / CHECK_ERROR_PREFIX: the calling thread's last error message. */
#define CHECK_ERROR_IMPL(expected, prefix)                                                    \
    do {                                                                                      \
        char *message_ = last_error();                                                        \
        check_text((expected), message_, (prefix), "the0_last_error", __FILE__, __LINE__);    \
        free(message_);                                                                       \
    } while (0)
#define CHECK_ERROR(expected) CHECK_ERROR_IMPL((expected), 0)
#define CHECK_ERROR_PREFIX(expected) CHECK_ERROR_IMPL((expected), 1)

/* Prints the tally and returns the exit code of the test program. */
static inline int check_summary(const char *program) {
    printf("%s: %d checks, %d failed\n", program, check_total, check_failed);
    return check_failed == 0 && check_total > 0 ? 0 : 1;
}

/* printf into a new malloc'ed string. */
static inline char *format(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline char *format(const char *fmt, ...) {
    char *text = NULL;
    va_list args;
    va_start(args, fmt);
    int n = vasprintf(&text, fmt, args);
    va_end(args);
    if (n < 0) {
        exit(2);
    }
    return text;
}

/* A new temporary directory (malloc'ed path). */
static inline char *make_temp_dir(const char *name) {
    char *dir = format("/tmp/the0-ffi-%s-XXXXXX", name);
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        exit(2);
    }
    return dir;
}

/* `dir`/`name` (malloc'ed). */
static inline char *path_join(const char *dir, const char *name) {
    return format("%s/%s", dir, name);
}

/* The whole content of a file (malloc'ed, NUL-terminated), or NULL when it cannot be read. */
static inline char *read_file(const char *path) {
    FILE *file = fopen(path, "rb");
    if (file == NULL) {
        return NULL;
    }
    size_t size = 0, cap = 256;
    char *data = malloc(cap);
    size_t n;
    while ((n = fread(data + size, 1, cap - size - 1, file)) > 0) {
        size += n;
        if (cap - size - 1 == 0) {
            cap *= 2;
            data = realloc(data, cap);
        }
    }
    fclose(file);
    data[size] = '\0';
    return data;
}

static inline void write_file(const char *path, const char *text) {
    FILE *file = fopen(path, "wb");
    if (file == NULL || fputs(text, file) < 0 || fclose(file) != 0) {
        perror(path);
        exit(2);
    }
}

static inline int remove_entry(const char *path, const struct stat *st, int type,
                               struct FTW *ftw) {
    (void)st, (void)type, (void)ftw;
    return remove(path);
}

/* rm -rf `dir`. */
static inline void remove_tree(const char *dir) {
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

#endif /* THE0_TEST_CHECK_H */
