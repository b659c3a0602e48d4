//! `the0_query_*`: read-only query handlers, run on host threads that poll the core.
//!
//! The core never calls into the host. A host registers its paths, starts the service (which
//! detects the mode from the host's environment), prints what start hands back, and then, from as
//! many of its own threads as start says:
//!
//! ```c
//! while ((s = the0_query_next(500, &id, &path, &params, &strings)) != THE0_STATUS_DONE) {
//!     if (s != THE0_STATUS_OK) continue;                 /* THE0_STATUS_TIMEOUT: poll again */
//!     the0_query_respond(id, THE0_REPLY_OK, handle(path, params));
//!     /* free path, params and strings with the0_bytes_free */
//! }
//! the0_query_finish(&exit_code, &stderr_lines);          /* print the lines, exit with the code */
//! ```
//!
//! Each export is one call of the process's `the0_sdk::host::Host`.

use std::ffi::c_char;
use std::time::Duration;

use the0_sdk::host::{self, Host, Next, Reply, StartOptions};
use the0_sdk::{Error, Status};

use crate::args;
use crate::buffer::TextOut;
use crate::status::call;

/// Flag of `the0_query_start`: stop the server on SIGTERM or SIGINT. Leave it out when the host
/// handles signals itself and calls `the0_query_stop` (the JVM and .NET runtimes do).
pub const THE0_START_HANDLE_SIGNALS: u32 = 1;

/// Flag of `the0_query_start`: in ephemeral mode, when the handler does not answer within
/// `THE0_QUERY_TIMEOUT_MS`, the library writes the 504 result, prints the timeout line on file
/// descriptor 2 and ends the process with code 1 itself (`exit(1)` from its own thread: no JVM
/// shutdown hooks, no .NET finalizers). Without it, `the0_query_finish` returns
/// `THE0_STATUS_TIMEOUT` and the host ends the process. Use it only when the thread that runs the
/// handler is the one that would call `the0_query_finish` (a single-threaded C loop).
pub const THE0_START_EXIT_ON_TIMEOUT: u32 = 2;

/// Reply kind of `the0_query_respond`: the body is the handler's result as JSON text, answered
/// 200 `{"status":"ok","data":<body>}`.
pub const THE0_REPLY_OK: i32 = 0;

/// Reply kind of `the0_query_respond`: the handler failed and the body is its error message
/// (plain UTF-8 text), answered 500 `{"status":"error","error":<body>}`.
pub const THE0_REPLY_ERROR: i32 = 1;

/// Reply kind of `the0_query_respond`: the host could not serialize the handler's result to JSON
/// and the body is its serializer's reason, answered 500
/// `{"status":"error","error":"handler result cannot be serialized: <body>"}`.
pub const THE0_REPLY_UNSERIALIZABLE: i32 = 2;

/// Registers the query path `path`: requests for it will be handed to the host by
/// `the0_query_next`. A missing leading `/` is added; `*out_path` receives the path as stored,
/// which is the path `the0_query_next` reports for its requests. Registering a path again is
/// harmless. Register every path before `the0_query_start`.
///
/// `*out_path` receives a new NUL-terminated UTF-8 string owned by the caller (free it with
/// `the0_bytes_free`), or NULL when the status is not `THE0_STATUS_OK`.
///
/// Returns `THE0_STATUS_OK`; `THE0_STATUS_INVALID_ARGUMENT` for an empty path, a path with
/// control characters, or a NULL or non-UTF-8 argument; `THE0_STATUS_PANIC`.
///
/// # Safety
/// `path` must be NULL or a NUL-terminated string; `out_path` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn the0_query_register(path: *const c_char, out_path: *mut *mut c_char) -> i32 {
    call("the0_query_register", || {
        // SAFETY: the caller passes NULL or valid pointers.
        let (out, path) = unsafe { (TextOut::new(out_path, "out_path")?, args::text(path, "path")?) };
        out.put(&Host::process().register(path)?);
        Ok(Status::Ok)
    })
}

/// Starts the process-wide query service in the mode the environment selects, and writes that
/// mode (`THE0_MODE_EPHEMERAL`, `THE0_MODE_SERVER` or `THE0_MODE_INFO`) to `*out_mode`:
/// - `QUERY_PATH` set: ephemeral — the one request is handed to `the0_query_next` (unless the core
///   answers it itself), and the answer goes to the result file;
/// - `BOT_TYPE=realtime`: server — HTTP on `THE0_QUERY_SOCKET`, else on
///   `${THE0_QUERY_HOST:-0.0.0.0}:${THE0_QUERY_PORT:-9476}`, bound before this returns;
/// - otherwise: info — the `/info` answer goes to the result file.
///
/// `*out_workers` receives the number of threads to poll `the0_query_next` from:
/// `THE0_QUERY_WORKERS`, or `default_workers` (your runtime's sensible number, at least 1), in
/// server mode; 1 in the other modes.
///
/// `*out_stderr` receives the lines to print on stderr, whatever the status (NULL when there are
/// none): on success where the server listens (`Query server started on ...`); on failure the
/// error line `query service cannot start: <why>` — print it and exit with code 1.
///
/// Reads the names of `THE0_ENV_QUERY` from `env_json` (NULL: the process environment). From now
/// until `the0_query_finish`, state writes in this process fail with `THE0_STATUS_READ_ONLY`.
/// `flags` is 0 or an OR of `THE0_START_HANDLE_SIGNALS` and `THE0_START_EXIT_ON_TIMEOUT`.
///
/// Returns `THE0_STATUS_OK`; `THE0_STATUS_INVALID_STATE` when the service is already running;
/// `THE0_STATUS_INVALID_ARGUMENT` for unknown flags, a NULL out-pointer, a bad `env_json`, or an
/// invalid setting in the environment (port, host, timeout, limits, workers); `THE0_STATUS_IO`
/// when the server cannot listen; `THE0_STATUS_PANIC`.
///
/// # Safety
/// `env_json` must be NULL or a NUL-terminated string; every out-pointer NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn the0_query_start(
    env_json: *const c_char,
    flags: u32,
    default_workers: u32,
    out_mode: *mut i32,
    out_workers: *mut u32,
    out_stderr: *mut *mut c_char,
) -> i32 {
    call("the0_query_start", || {
        // SAFETY: the caller passes NULL or valid pointers.
        let (mode, workers, stderr, env) = unsafe {
            (
                args::out(out_mode, "out_mode", 0)?,
                args::out(out_workers, "out_workers", 0)?,
                TextOut::new(out_stderr, "out_stderr")?,
                args::env(env_json)?,
            )
        };
        let known = THE0_START_HANDLE_SIGNALS | THE0_START_EXIT_ON_TIMEOUT;
        if flags & !known != 0 {
            return Err(Error::InvalidArgument(format!(
                "unknown the0_query_start flags {flags:#x}"
            )));
        }
        let options = StartOptions {
            handle_signals: flags & THE0_START_HANDLE_SIGNALS != 0,
            exit_on_timeout: flags & THE0_START_EXIT_ON_TIMEOUT != 0,
            default_workers: default_workers as usize,
        };
        match Host::process().start(&env, options) {
            Ok(started) => {
                *mode = started.mode as i32;
                *workers = u32::try_from(started.workers).unwrap_or(u32::MAX);
                stderr.put_lines(&started.stderr);
                Ok(Status::Ok)
            }
            Err(failure) => {
                stderr.put(&failure.line);
                Err(failure.error)
            }
        }
    })
}

/// Waits up to `timeout_ms` milliseconds for a query request and hands it to the calling thread.
/// Any number of host threads may wait at once; each request goes to exactly one of them, which
/// must answer it with `the0_query_respond`.
///
/// On `THE0_STATUS_OK`: `*out_id` is the request id; `*out_path` the registered path requested;
/// `*out_params_json` its parameters as a JSON object, with their JSON types (URL query-string
/// values are strings, JSON body values keep their types); `*out_strings_json` the same
/// parameters as a JSON object of strings — a string parameter as it is, any other value as its
/// JSON text, keys sorted — which is what a request's `get(key)` returns in the statically typed
/// the0 SDKs. The three strings
/// are new NUL-terminated UTF-8 strings owned by the caller: free each with `the0_bytes_free`. On
/// any other status they are NULL and `*out_id` is 0.
///
/// Returns `THE0_STATUS_OK`; `THE0_STATUS_TIMEOUT` when nothing arrived in time (poll again);
/// `THE0_STATUS_DONE` when the service has finished handing out requests (server stopped, or the
/// ephemeral/info request was taken): stop polling and call `the0_query_finish`;
/// `THE0_STATUS_INVALID_STATE` when the service is not running; `THE0_STATUS_INVALID_ARGUMENT`
/// when an out-pointer is NULL; `THE0_STATUS_PANIC`. `TIMEOUT` and `DONE` are outcomes, not
/// failures: they do not change `the0_last_error`.
///
/// # Safety
/// Every out-pointer must be NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn the0_query_next(
    timeout_ms: u32,
    out_id: *mut u64,
    out_path: *mut *mut c_char,
    out_params_json: *mut *mut c_char,
    out_strings_json: *mut *mut c_char,
) -> i32 {
    call("the0_query_next", || {
        // SAFETY: the caller passes NULL or writable slots. All are checked before a request is
        // taken, so a bad argument never loses one.
        let (id, path, params, strings) = unsafe {
            (
                args::out(out_id, "out_id", 0)?,
                TextOut::new(out_path, "out_path")?,
                TextOut::new(out_params_json, "out_params_json")?,
                TextOut::new(out_strings_json, "out_strings_json")?,
            )
        };
        let incoming = match Host::process().next(Duration::from_millis(u64::from(timeout_ms)))? {
            Next::Request(incoming) => incoming,
            Next::Idle => return Ok(Status::Timeout),
            Next::Done => return Ok(Status::Done),
        };
        *id = incoming.id;
        path.put(&incoming.path);
        params.put(&incoming.params_json());
        strings.put(&incoming.strings_json());
        Ok(Status::Ok)
    })
}

/// Answers request `id` (from `the0_query_next`). `reply` is `THE0_REPLY_OK` with `body` the
/// handler's result as JSON text, `THE0_REPLY_ERROR` with `body` the handler's error message, or
/// `THE0_REPLY_UNSERIALIZABLE` with `body` the reason the result could not be serialized. Each
/// request takes exactly one answer.
///
/// Returns `THE0_STATUS_OK`; `THE0_STATUS_UNKNOWN_REQUEST` when `id` is not waiting for an answer
/// (never handed out, already answered, or timed out — its client got 504); `THE0_STATUS_INVALID_JSON`
/// when a `THE0_REPLY_OK` body is not JSON — the request is then answered 500 with that message,
/// so do not answer it again; `THE0_STATUS_INVALID_STATE` when the service is not running;
/// `THE0_STATUS_INVALID_ARGUMENT` for an unknown `reply` or a NULL or non-UTF-8 `body` — the
/// request is then still waiting: answer it again; `THE0_STATUS_PANIC`.
///
/// # Safety
/// `body` must be NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn the0_query_respond(id: u64, reply: i32, body: *const c_char) -> i32 {
    call("the0_query_respond", || {
        // SAFETY: the caller passes NULL or a NUL-terminated string.
        let body = unsafe { args::text(body, "body") }?.to_owned();
        let reply = match reply {
            THE0_REPLY_OK => Reply::Json(body),
            THE0_REPLY_ERROR => Reply::Error(body),
            THE0_REPLY_UNSERIALIZABLE => Reply::Unserializable(body),
            other => {
                return Err(Error::InvalidArgument(format!(
                    "{other} is not a reply kind: expected THE0_REPLY_OK, THE0_REPLY_ERROR or \
                     THE0_REPLY_UNSERIALIZABLE"
                )));
            }
        };
        Host::process().respond(id, reply)?;
        Ok(Status::Ok)
    })
}

/// Asks the server to stop: it accepts no new connections, requests in flight still get their
/// answer or their timeout, then `the0_query_next` returns `THE0_STATUS_DONE`. Does nothing in
/// ephemeral and info modes. Safe to call from any thread, including a signal-handling one, and
/// more than once.
///
/// Returns `THE0_STATUS_OK`; `THE0_STATUS_INVALID_STATE` when the service is not running;
/// `THE0_STATUS_PANIC`.
#[unsafe(no_mangle)]
pub extern "C" fn the0_query_stop() -> i32 {
    call("the0_query_stop", || {
        Host::process().stop()?;
        Ok(Status::Ok)
    })
}

/// Waits until the service has finished — the server stopped, or the ephemeral/info answer was
/// written to the result file — releases it (state is writable again), and writes the exit code
/// the process should end with to `*out_exit_code`: 0, or 1 when the ephemeral query failed, the
/// result could not be written, or the server failed. `*out_stderr` receives the lines to print
/// on stderr, whatever the status (NULL when there are none). Call it after `the0_query_next`
/// returned `THE0_STATUS_DONE` — in server mode after `the0_query_stop` (or a signal, with
/// `THE0_START_HANDLE_SIGNALS`); in ephemeral mode it may be called at once, from a thread that
/// does not run the handler, and returns when the answer is written.
///
/// Returns `THE0_STATUS_OK`; `THE0_STATUS_TIMEOUT` when the ephemeral handler did not answer in
/// time: the 504 result is written, `*out_exit_code` is 1 and the handler is still running on one
/// of your threads — print the lines and end the process now, without waiting for it;
/// `THE0_STATUS_INVALID_STATE` when the service is not running; `THE0_STATUS_INVALID_ARGUMENT`
/// when an out-pointer is NULL; `THE0_STATUS_PANIC`.
///
/// # Safety
/// Both out-pointers must be NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn the0_query_finish(out_exit_code: *mut i32, out_stderr: *mut *mut c_char) -> i32 {
    call("the0_query_finish", || {
        // SAFETY: the caller passes NULL or writable slots.
        let (code, stderr) = unsafe {
            (
                args::out(out_exit_code, "out_exit_code", 0)?,
                TextOut::new(out_stderr, "out_stderr")?,
            )
        };
        let finished = Host::process().finish()?;
        *code = finished.exit_code;
        stderr.put_lines(&finished.stderr);
        Ok(if finished.abandoned {
            Status::Timeout
        } else {
            Status::Ok
        })
    })
}

/// Writes the bot configuration (`BOT_CONFIG`) as JSON text to `*out_json`; `{}` when it is unset
/// or not JSON, as in every the0 SDK's `getConfig`.
///
/// Reads `BOT_CONFIG` from `env_json` (`THE0_ENV_QUERY`; NULL: the process environment).
///
/// `*out_json` receives a new NUL-terminated UTF-8 string owned by the caller (free it with
/// `the0_bytes_free`), or NULL when the status is not `THE0_STATUS_OK`.
///
/// Returns `THE0_STATUS_OK`; `THE0_STATUS_INVALID_ARGUMENT` when `out_json` is NULL or
/// `env_json` is bad; `THE0_STATUS_PANIC`.
///
/// # Safety
/// `env_json` must be NULL or a NUL-terminated string; `out_json` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn the0_query_config(env_json: *const c_char, out_json: *mut *mut c_char) -> i32 {
    call("the0_query_config", || {
        // SAFETY: the caller passes NULL or valid pointers.
        let (out, env) = unsafe { (TextOut::new(out_json, "out_json")?, args::env(env_json)?) };
        out.put(&host::query_config(&env)?);
        Ok(Status::Ok)
    })
}

/// Writes the parameters of the query outside a handler — those of `QUERY_PARAMS` when
/// `QUERY_PATH` is set, else none — as a JSON object with their JSON types to `*out_params_json`,
/// and as a JSON object of strings (a string as it is, anything else as its JSON text, keys
/// sorted) to `*out_strings_json`. This is `getParams()` outside a handler; inside one, use what
/// `the0_query_next` returned.
///
/// Reads `QUERY_PATH` and `QUERY_PARAMS` from `env_json` (`THE0_ENV_QUERY`).
///
/// Both receive new NUL-terminated UTF-8 strings owned by the caller (free each with
/// `the0_bytes_free`), or NULL when the status is not `THE0_STATUS_OK`.
///
/// Returns `THE0_STATUS_OK`; `THE0_STATUS_INVALID_ARGUMENT` when an out-pointer is NULL or
/// `env_json` is bad; `THE0_STATUS_PANIC`.
///
/// # Safety
/// `env_json` must be NULL or a NUL-terminated string; both out-pointers NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn the0_query_params(
    env_json: *const c_char,
    out_params_json: *mut *mut c_char,
    out_strings_json: *mut *mut c_char,
) -> i32 {
    call("the0_query_params", || {
        // SAFETY: the caller passes NULL or valid pointers.
        let (params, strings, env) = unsafe {
            (
                TextOut::new(out_params_json, "out_params_json")?,
                TextOut::new(out_strings_json, "out_strings_json")?,
                args::env(env_json)?,
            )
        };
        let (typed, string_form) = host::query_params_json(&env)?;
        params.put(&typed);
        strings.put(&string_form);
        Ok(Status::Ok)
    })
}

/// Writes 1 to `*out_active` when this process answers queries — `QUERY_PATH` is set, or the
/// query service is started — so state is read-only; else 0.
///
/// Reads `QUERY_PATH` from `env_json` (`THE0_ENV_QUERY` or `THE0_ENV_STATE`).
///
/// Returns `THE0_STATUS_OK`; `THE0_STATUS_INVALID_ARGUMENT` when `out_active` is NULL or
/// `env_json` is bad; `THE0_STATUS_PANIC`.
///
/// # Safety
/// `env_json` must be NULL or a NUL-terminated string; `out_active` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn the0_query_is_query_mode(env_json: *const c_char, out_active: *mut i32) -> i32 {
    call("the0_query_is_query_mode", || {
        // SAFETY: the caller passes NULL or valid pointers.
        let (out, env) = unsafe { (args::out(out_active, "out_active", 0)?, args::env(env_json)?) };
        *out = i32::from(Host::process().is_query_mode(&env)?);
        Ok(Status::Ok)
    })
}
