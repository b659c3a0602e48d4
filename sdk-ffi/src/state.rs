//! `the0_state_*`: the bot's persistent key-value state, values as JSON text.
//!
//! Each export is one call of the core's JSON-text state API (`the0_sdk::state`), which reads
//! `STATE_DIR` at every call and applies every rule: key validation, canonical JSON, atomic
//! writes, and the read-only guard while the process serves queries.

use std::ffi::c_char;

use the0_sdk::{Error, Status, state};

use crate::args;
use crate::buffer::TextOut;
use crate::status::call;

/// Stores the JSON text `value_json` under `key`, in canonical form, atomically.
///
/// Returns `THE0_STATUS_OK`; `THE0_STATUS_INVALID_KEY` for a key that breaks a key rule;
/// `THE0_STATUS_INVALID_JSON` when `value_json` is not JSON; `THE0_STATUS_READ_ONLY` while this
/// process serves queries (`QUERY_PATH` is set, or the query service is started);
/// `THE0_STATUS_IO` when the file cannot be written; `THE0_STATUS_INVALID_ARGUMENT` for a NULL or
/// non-UTF-8 argument; `THE0_STATUS_PANIC`.
///
/// # Safety
/// `key` and `value_json` must be NULL or NUL-terminated strings.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn the0_state_set(key: *const c_char, value_json: *const c_char) -> i32 {
    call("the0_state_set", || {
        // SAFETY: the caller passes NULL or NUL-terminated strings.
        let (key, value) = unsafe { (args::text(key, "key")?, args::text(value_json, "value_json")?) };
        state::set_json(key, value)?;
        Ok(Status::Ok)
    })
}

/// Writes the JSON text stored under `key` to `*out_json`.
///
/// `*out_json` receives a new NUL-terminated UTF-8 string owned by the caller (free it with
/// `the0_bytes_free`), or NULL when the status is not `THE0_STATUS_OK`.
///
/// Returns `THE0_STATUS_OK`; `THE0_STATUS_NOT_FOUND` when `key` has no value;
/// `THE0_STATUS_INVALID_KEY`; `THE0_STATUS_CORRUPT_STATE` when the stored file is not JSON;
/// `THE0_STATUS_IO`; `THE0_STATUS_INVALID_ARGUMENT` for a NULL or non-UTF-8 argument;
/// `THE0_STATUS_PANIC`.
///
/// # Safety
/// `key` must be NULL or a NUL-terminated string; `out_json` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn the0_state_get(key: *const c_char, out_json: *mut *mut c_char) -> i32 {
    call("the0_state_get", || {
        // SAFETY: the caller passes NULL or valid pointers.
        let (out, key) = unsafe { (TextOut::new(out_json, "out_json")?, args::text(key, "key")?) };
        let json = state::get_json(key)?.ok_or_else(|| Error::NotFound { key: key.to_owned() })?;
        out.put(&json);
        Ok(Status::Ok)
    })
}

/// Writes 1 to `*out_exists` when `key` has a value, else 0.
///
/// Returns `THE0_STATUS_OK`; `THE0_STATUS_INVALID_KEY`; `THE0_STATUS_IO`;
/// `THE0_STATUS_INVALID_ARGUMENT` for a NULL or non-UTF-8 argument; `THE0_STATUS_PANIC`.
///
/// # Safety
/// `key` must be NULL or a NUL-terminated string; `out_exists` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn the0_state_exists(key: *const c_char, out_exists: *mut i32) -> i32 {
    call("the0_state_exists", || {
        // SAFETY: the caller passes NULL or valid pointers.
        let (out, key) = unsafe { (args::out(out_exists, "out_exists", 0)?, args::text(key, "key")?) };
        *out = i32::from(state::try_exists(key)?);
        Ok(Status::Ok)
    })
}

/// Removes `key`; writes 1 to `*out_existed` when it had a value, else 0.
///
/// Returns `THE0_STATUS_OK`; `THE0_STATUS_INVALID_KEY`; `THE0_STATUS_READ_ONLY` while this process
/// serves queries; `THE0_STATUS_IO`; `THE0_STATUS_INVALID_ARGUMENT` for a NULL or non-UTF-8
/// argument; `THE0_STATUS_PANIC`.
///
/// # Safety
/// `key` must be NULL or a NUL-terminated string; `out_existed` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn the0_state_delete(key: *const c_char, out_existed: *mut i32) -> i32 {
    call("the0_state_delete", || {
        // SAFETY: the caller passes NULL or valid pointers.
        let (out, key) = unsafe { (args::out(out_existed, "out_existed", 0)?, args::text(key, "key")?) };
        *out = i32::from(state::delete(key)?);
        Ok(Status::Ok)
    })
}

/// Writes every key that has a value, sorted, as a JSON array of strings to `*out_json`
/// (`[]` when the state directory does not exist yet).
///
/// `*out_json` receives a new NUL-terminated UTF-8 string owned by the caller (free it with
/// `the0_bytes_free`), or NULL when the status is not `THE0_STATUS_OK`.
///
/// Returns `THE0_STATUS_OK`; `THE0_STATUS_IO` when the state directory cannot be read;
/// `THE0_STATUS_INVALID_ARGUMENT` when `out_json` is NULL; `THE0_STATUS_PANIC`.
///
/// # Safety
/// `out_json` must be NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn the0_state_list(out_json: *mut *mut c_char) -> i32 {
    call("the0_state_list", || {
        // SAFETY: the caller passes NULL or a writable slot.
        let out = unsafe { TextOut::new(out_json, "out_json") }?;
        out.put(&serde_json::Value::from(state::try_list()?).to_string());
        Ok(Status::Ok)
    })
}

/// Removes every key.
///
/// Returns `THE0_STATUS_OK`; `THE0_STATUS_READ_ONLY` while this process serves queries;
/// `THE0_STATUS_IO`; `THE0_STATUS_PANIC`.
#[unsafe(no_mangle)]
pub extern "C" fn the0_state_clear() -> i32 {
    call("the0_state_clear", || {
        state::clear()?;
        Ok(Status::Ok)
    })
}
