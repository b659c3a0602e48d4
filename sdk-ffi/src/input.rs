//! `the0_input_*`: the bot's configuration, its result file, and its metric and log lines.
//!
//! Each export is one call of the host API (`the0_sdk::host`). JSON text arguments are parsed by
//! the core, so a bad one is `INVALID_JSON` naming the argument, and nothing is written. The core
//! prints nothing: lines come back for the caller to write on its own stdout / stderr.

use std::ffi::c_char;

use the0_sdk::host::{self, Payload};
use the0_sdk::{Error, Status};

use crate::args;
use crate::buffer::TextOut;
use crate::status::call;

/// Reads the bot id (`BOT_ID`) into `*out_bot_id` and the configuration (`BOT_CONFIG`, a JSON
/// document; set but empty means `{}`) into `*out_config_json`, as canonical JSON text.
///
/// Reads `BOT_ID` and `BOT_CONFIG` from `env_json` (`THE0_ENV_INPUT`; NULL: the process
/// environment).
///
/// Both receive new NUL-terminated UTF-8 strings owned by the caller (free each with
/// `the0_bytes_free`), or NULL when the status is not `THE0_STATUS_OK`.
///
/// Returns `THE0_STATUS_OK`; `THE0_STATUS_MISSING_ENV` when `BOT_ID` or `BOT_CONFIG` is not set;
/// `THE0_STATUS_INVALID_JSON` when `BOT_CONFIG` is not JSON; `THE0_STATUS_INVALID_ARGUMENT` when
/// an out-pointer is NULL or `env_json` is bad; `THE0_STATUS_PANIC`.
///
/// # Safety
/// `env_json` must be NULL or a NUL-terminated string; both out-pointers NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn the0_input_parse(
    env_json: *const c_char,
    out_bot_id: *mut *mut c_char,
    out_config_json: *mut *mut c_char,
) -> i32 {
    call("the0_input_parse", || {
        // SAFETY: the caller passes NULL or valid pointers.
        let (id_out, config_out, env) = unsafe {
            (
                TextOut::new(out_bot_id, "out_bot_id")?,
                TextOut::new(out_config_json, "out_config_json")?,
                args::env(env_json)?,
            )
        };
        let (bot_id, config) = host::input_parse(&env)?;
        id_out.put(&bot_id);
        config_out.put(&config);
        Ok(Status::Ok)
    })
}

/// Reports success: writes `{"status":"success","message":<message>}` — plus `"data":<data>`
/// when `data_json` is not NULL — to the result file `/<CODE_MOUNT_DIR>/result.json`.
///
/// Reads `CODE_MOUNT_DIR` from `env_json` (`THE0_ENV_INPUT`).
///
/// `*out_stderr` receives the lines to print on stderr (NULL when there are none): an error log
/// line when the result file cannot be written — reported, not returned, as in every the0 SDK.
///
/// Returns `THE0_STATUS_OK`; `THE0_STATUS_INVALID_JSON` when `data_json` is not JSON;
/// `THE0_STATUS_INVALID_ARGUMENT` for a NULL `message` or `out_stderr`, non-UTF-8 text or a bad
/// `env_json`; `THE0_STATUS_PANIC`.
///
/// # Safety
/// `env_json`, `message` and `data_json` must be NULL or NUL-terminated strings; `out_stderr`
/// NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn the0_input_success(
    env_json: *const c_char,
    message: *const c_char,
    data_json: *const c_char,
    out_stderr: *mut *mut c_char,
) -> i32 {
    call("the0_input_success", || {
        // SAFETY: the caller passes NULL or valid pointers.
        let (out, env, message, data) = unsafe {
            (
                TextOut::new(out_stderr, "out_stderr")?,
                args::env(env_json)?,
                args::text(message, "message")?,
                args::optional_text(data_json, "data_json")?,
            )
        };
        out.put_lines(&host::input_success(&env, message, data)?);
        Ok(Status::Ok)
    })
}

/// Reports failure: writes `{"status":"error","message":<message>}` — plus `"data":<data>` when
/// `data_json` is not NULL — to the result file. The library does not end the process: print
/// `*out_stderr` (NULL when empty), then exit with code 1 your language's way.
///
/// Reads `CODE_MOUNT_DIR` from `env_json` (`THE0_ENV_INPUT`).
///
/// Returns `THE0_STATUS_OK`; `THE0_STATUS_INVALID_JSON` when `data_json` is not JSON (nothing is
/// written); `THE0_STATUS_INVALID_ARGUMENT` for a NULL `message` or `out_stderr`, non-UTF-8 text
/// or a bad `env_json`; `THE0_STATUS_PANIC`.
///
/// # Safety
/// `env_json`, `message` and `data_json` must be NULL or NUL-terminated strings; `out_stderr`
/// NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn the0_input_error(
    env_json: *const c_char,
    message: *const c_char,
    data_json: *const c_char,
    out_stderr: *mut *mut c_char,
) -> i32 {
    call("the0_input_error", || {
        // SAFETY: the caller passes NULL or valid pointers.
        let (out, env, message, data) = unsafe {
            (
                TextOut::new(out_stderr, "out_stderr")?,
                args::env(env_json)?,
                args::text(message, "message")?,
                args::optional_text(data_json, "data_json")?,
            )
        };
        out.put_lines(&host::input_error(&env, message, data)?);
        Ok(Status::Ok)
    })
}

/// Writes the JSON value `data_json` as it is to the result file `/<CODE_MOUNT_DIR>/result.json`.
///
/// Reads `CODE_MOUNT_DIR` from `env_json` (`THE0_ENV_INPUT`). `*out_stderr` as for
/// `the0_input_success`.
///
/// Returns `THE0_STATUS_OK`; `THE0_STATUS_INVALID_JSON` when `data_json` is not JSON;
/// `THE0_STATUS_INVALID_ARGUMENT` for a NULL or non-UTF-8 argument or a bad `env_json`;
/// `THE0_STATUS_PANIC`.
///
/// # Safety
/// `env_json` and `data_json` must be NULL or NUL-terminated strings; `out_stderr` NULL or
/// writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn the0_input_result(
    env_json: *const c_char,
    data_json: *const c_char,
    out_stderr: *mut *mut c_char,
) -> i32 {
    call("the0_input_result", || {
        // SAFETY: the caller passes NULL or valid pointers.
        let (out, env, data) = unsafe {
            (
                TextOut::new(out_stderr, "out_stderr")?,
                args::env(env_json)?,
                args::text(data_json, "data_json")?,
            )
        };
        out.put_lines(&host::input_result(&env, data)?);
        Ok(Status::Ok)
    })
}

/// Formats one metric line for stdout into `*out_line` (without a newline):
/// `{"_metric":<metric_type>,<fields of data>,"timestamp":"<RFC 3339 UTC, ms>"}` (data that is
/// not an object is kept under `"data"`). Print it, followed by a newline, on your stdout.
///
/// `*out_line` receives a new NUL-terminated UTF-8 string owned by the caller (free it with
/// `the0_bytes_free`), or NULL when the status is not `THE0_STATUS_OK`.
///
/// Returns `THE0_STATUS_OK`; `THE0_STATUS_INVALID_JSON` when `data_json` is not JSON;
/// `THE0_STATUS_INVALID_ARGUMENT` for a NULL or non-UTF-8 argument; `THE0_STATUS_PANIC`.
///
/// # Safety
/// `metric_type` and `data_json` must be NULL or NUL-terminated strings; `out_line` NULL or
/// writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn the0_input_metric(
    metric_type: *const c_char,
    data_json: *const c_char,
    out_line: *mut *mut c_char,
) -> i32 {
    call("the0_input_metric", || {
        // SAFETY: the caller passes NULL or valid pointers.
        let (out, metric_type, data) = unsafe {
            (
                TextOut::new(out_line, "out_line")?,
                args::text(metric_type, "metric_type")?,
                args::text(data_json, "data_json")?,
            )
        };
        out.put(&host::metric_line(metric_type, data)?);
        Ok(Status::Ok)
    })
}

/// Formats one log line for stderr into `*out_line` (without a newline):
/// `{"level":<level>,"message":<message>,<fields of data>,"timestamp":"<RFC 3339 UTC, ms>"}`.
/// `data_json` may be NULL (no data); `level` may be NULL (`info`) or `info`, `warn`, `warning`
/// or `error` in any case. Print it, followed by a newline, on your stderr.
///
/// `*out_line` as for `the0_input_metric`.
///
/// Returns `THE0_STATUS_OK`; `THE0_STATUS_INVALID_JSON` when `data_json` is not JSON;
/// `THE0_STATUS_INVALID_ARGUMENT` for an unknown level, a NULL `message`, or non-UTF-8 text;
/// `THE0_STATUS_PANIC`.
///
/// # Safety
/// `message`, `data_json` and `level` must be NULL or NUL-terminated strings; `out_line` NULL or
/// writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn the0_input_log(
    message: *const c_char,
    data_json: *const c_char,
    level: *const c_char,
    out_line: *mut *mut c_char,
) -> i32 {
    call("the0_input_log", || {
        // SAFETY: the caller passes NULL or valid pointers.
        let (out, message, data, level) = unsafe {
            (
                TextOut::new(out_line, "out_line")?,
                args::text(message, "message")?,
                args::optional_text(data_json, "data_json")?,
                args::optional_text(level, "level")?,
            )
        };
        out.put(&host::log_line(message, data, level)?);
        Ok(Status::Ok)
    })
}

/// Reports a value the host could not serialize to JSON for `payload` (`THE0_PAYLOAD_*`: the
/// data of a metric, a log line, `success`/`error`, or the value of `result`); `detail` is its
/// serializer's reason. Always fails with `THE0_STATUS_INVALID_JSON` and the message every the0
/// SDK gives, `"<metric data|log data|result data|result> cannot be serialized: <detail>"`, so
/// the host raises exactly that.
///
/// Returns `THE0_STATUS_INVALID_JSON`; `THE0_STATUS_INVALID_ARGUMENT` for an unknown `payload`
/// or a NULL or non-UTF-8 `detail`; `THE0_STATUS_PANIC`.
///
/// # Safety
/// `detail` must be NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn the0_input_unserializable(payload: i32, detail: *const c_char) -> i32 {
    call("the0_input_unserializable", || {
        // SAFETY: the caller passes NULL or a NUL-terminated string.
        let detail = unsafe { args::text(detail, "detail") }?;
        let payload = Payload::from_code(payload)
            .ok_or_else(|| Error::InvalidArgument(format!("{payload} is not a THE0_PAYLOAD_* code")))?;
        Err(host::unserializable(payload, detail))
    })
}
