//! `the0_input_*`: the bot's configuration, its result file, and its metric and log lines.
//!
//! Each export is one call of `the0_sdk::input`; JSON text arguments are parsed by the core, so a
//! bad one is `INVALID_JSON` naming the parameter, and nothing is written.

use std::ffi::c_char;

use the0_sdk::Status;
use the0_sdk::input::{self, LogLevel};

use crate::args;
use crate::buffer::TextOut;
use crate::status::call;

/// Reads the bot id (`BOT_ID`) into `*out_bot_id` and the configuration (`BOT_CONFIG`, a JSON
/// document; set but empty means `{}`) into `*out_config_json`, as canonical JSON text.
///
/// Both receive new NUL-terminated UTF-8 strings owned by the caller (free each with
/// `the0_bytes_free`), or NULL when the status is not `THE0_STATUS_OK`.
///
/// Returns `THE0_STATUS_OK`; `THE0_STATUS_MISSING_ENV` when `BOT_ID` or `BOT_CONFIG` is not set;
/// `THE0_STATUS_INVALID_JSON` when `BOT_CONFIG` is not JSON; `THE0_STATUS_INVALID_ARGUMENT` when
/// an out-pointer is NULL; `THE0_STATUS_PANIC`.
///
/// # Safety
/// Both out-pointers must be NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn the0_input_parse(
    out_bot_id: *mut *mut c_char,
    out_config_json: *mut *mut c_char,
) -> i32 {
    call("the0_input_parse", || {
        // SAFETY: the caller passes NULL or writable slots.
        let (id_out, config_out) = unsafe {
            (
                TextOut::new(out_bot_id, "out_bot_id")?,
                TextOut::new(out_config_json, "out_config_json")?,
            )
        };
        let (bot_id, config) = input::parse()?;
        id_out.put(&bot_id);
        config_out.put(&config.to_string());
        Ok(Status::Ok)
    })
}

/// Reports success: writes `{"status":"success","message":<message>}` — plus `"data":<data>`
/// when `data_json` is not NULL — to the result file `/<CODE_MOUNT_DIR>/result.json`. A result
/// file that cannot be written is reported as an error log line on stderr, as in every the0 SDK.
///
/// Returns `THE0_STATUS_OK`; `THE0_STATUS_INVALID_JSON` when `data_json` is not JSON;
/// `THE0_STATUS_INVALID_ARGUMENT` for a NULL `message` or non-UTF-8 text; `THE0_STATUS_PANIC`.
///
/// # Safety
/// `message` and `data_json` must be NULL or NUL-terminated strings.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn the0_input_success(message: *const c_char, data_json: *const c_char) -> i32 {
    call("the0_input_success", || {
        // SAFETY: the caller passes NULL or NUL-terminated strings.
        let (message, data) = unsafe {
            (
                args::text(message, "message")?,
                args::optional_json(data_json, "data_json")?,
            )
        };
        match data {
            Some(data) => input::success_with_data(message, &data),
            None => input::success(message),
        }
        Ok(Status::Ok)
    })
}

/// Reports failure and ends the process: writes `{"status":"error","message":<message>}` — plus
/// `"data":<data>` when `data_json` is not NULL — to the result file, flushes stdout, and exits
/// with code 1. It returns only when an argument is invalid, without writing anything.
///
/// Returns (only then) `THE0_STATUS_INVALID_JSON` when `data_json` is not JSON;
/// `THE0_STATUS_INVALID_ARGUMENT` for a NULL `message` or non-UTF-8 text; `THE0_STATUS_PANIC`.
///
/// # Safety
/// `message` and `data_json` must be NULL or NUL-terminated strings.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn the0_input_error(message: *const c_char, data_json: *const c_char) -> i32 {
    call("the0_input_error", || {
        // SAFETY: the caller passes NULL or NUL-terminated strings.
        let (message, data) = unsafe {
            (
                args::text(message, "message")?,
                args::optional_json(data_json, "data_json")?,
            )
        };
        match data {
            Some(data) => input::error_with_data(message, &data),
            None => input::error(message),
        }
    })
}

/// Writes the JSON value `data_json` as it is to the result file `/<CODE_MOUNT_DIR>/result.json`
/// (a write failure is logged on stderr, as in every the0 SDK).
///
/// Returns `THE0_STATUS_OK`; `THE0_STATUS_INVALID_JSON` when `data_json` is not JSON;
/// `THE0_STATUS_INVALID_ARGUMENT` for a NULL or non-UTF-8 argument; `THE0_STATUS_PANIC`.
///
/// # Safety
/// `data_json` must be NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn the0_input_result(data_json: *const c_char) -> i32 {
    call("the0_input_result", || {
        // SAFETY: the caller passes NULL or a NUL-terminated string.
        let data = unsafe { args::json(data_json, "data_json") }?;
        input::result(&data);
        Ok(Status::Ok)
    })
}

/// Prints one metric line on stdout:
/// `{"_metric":<metric_type>,<fields of data>,"timestamp":"<RFC 3339 UTC, ms>"}` (data that is
/// not an object is kept under `"data"`).
///
/// Returns `THE0_STATUS_OK`; `THE0_STATUS_INVALID_JSON` when `data_json` is not JSON;
/// `THE0_STATUS_INVALID_ARGUMENT` for a NULL or non-UTF-8 argument; `THE0_STATUS_PANIC`.
///
/// # Safety
/// `metric_type` and `data_json` must be NULL or NUL-terminated strings.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn the0_input_metric(metric_type: *const c_char, data_json: *const c_char) -> i32 {
    call("the0_input_metric", || {
        // SAFETY: the caller passes NULL or NUL-terminated strings.
        let (metric_type, data) = unsafe {
            (
                args::text(metric_type, "metric_type")?,
                args::json(data_json, "data_json")?,
            )
        };
        input::metric(metric_type, &data);
        Ok(Status::Ok)
    })
}

/// Prints one log line on stderr:
/// `{"level":<level>,"message":<message>,<fields of data>,"timestamp":"<RFC 3339 UTC, ms>"}`.
/// `data_json` may be NULL (no data); `level` may be NULL (`info`) or `info`, `warn`, `warning`
/// or `error` in any case.
///
/// Returns `THE0_STATUS_OK`; `THE0_STATUS_INVALID_JSON` when `data_json` is not JSON;
/// `THE0_STATUS_INVALID_ARGUMENT` for an unknown level, a NULL `message`, or non-UTF-8 text;
/// `THE0_STATUS_PANIC`.
///
/// # Safety
/// `message`, `data_json` and `level` must be NULL or NUL-terminated strings.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn the0_input_log(
    message: *const c_char,
    data_json: *const c_char,
    level: *const c_char,
) -> i32 {
    call("the0_input_log", || {
        // SAFETY: the caller passes NULL or NUL-terminated strings.
        let (message, data, level) = unsafe {
            (
                args::text(message, "message")?,
                args::optional_json(data_json, "data_json")?,
                args::optional_text(level, "level")?,
            )
        };
        let level = level.map(str::parse::<LogLevel>).transpose()?;
        input::log(message, data.as_ref(), level);
        Ok(Status::Ok)
    })
}
