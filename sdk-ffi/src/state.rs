//! `the0_state_*`: the bot's persistent key-value state, values as JSON text.
//!
//! Each export is one call of the host API (`the0_sdk::host::Host`), which reads `STATE_DIR`
//! from the caller's environment (`env_json`, scope `THE0_ENV_STATE`) at every call and applies
//! every rule: key validation, canonical JSON, atomic writes, and the read-only guard while the
//! process serves queries.

use std::ffi::c_char;

use the0_sdk::host::Host;
use the0_sdk::{Error, Status};

use crate::args;
use crate::buffer::TextOut;
use crate::status::call;

/// Stores the JSON text `value_json` under `key`, in canonical form, atomically.
///
/// Reads `STATE_DIR` and `QUERY_PATH` from `env_json` (`THE0_ENV_STATE`; NULL: the process
/// environment).
///
/// Returns `THE0_STATUS_OK`; `THE0_STATUS_INVALID_KEY` for a key that breaks a key rule;
/// `THE0_STATUS_INVALID_JSON` when `value_json` is not JSON; `THE0_STATUS_READ_ONLY` while this
/// process serves queries (`QUERY_PATH` is set, or the query service is started);
/// `THE0_STATUS_IO` when the file cannot be written; `THE0_STATUS_INVALID_ARGUMENT` for a NULL or
/// non-UTF-8 argument or an `env_json` that lacks a name; `THE0_STATUS_PANIC`.
///
/// # Safety
/// `env_json`, `key` and `value_json` must be NULL or NUL-terminated strings.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn the0_state_set(
    env_json: *const c_char,
    key: *const c_char,
    value_json: *const c_char,
) -> i32 {
    call("the0_state_set", || {
        // SAFETY: the caller passes NULL or NUL-terminated strings.
        let (env, key, value) = unsafe {
            (
                args::env(env_json)?,
                args::text(key, "key")?,
                args::text(value_json, "value_json")?,
            )
        };
        Host::process().state_set(&env, key, value)?;
        Ok(Status::Ok)
    })
}

/// Reports a `set` of a value the host could not serialize to JSON: `detail` is its serializer's
/// reason. Always fails, with the status and message every the0 SDK gives for it — read-only and
/// key errors first, as for any `set`, else `THE0_STATUS_INVALID_JSON` with
/// `value for state key "<key>" cannot be serialized: <detail>` — so the host raises exactly that.
/// Nothing is written.
///
/// Reads `STATE_DIR` and `QUERY_PATH` from `env_json` (`THE0_ENV_STATE`).
///
/// Returns `THE0_STATUS_READ_ONLY`, `THE0_STATUS_INVALID_KEY` or `THE0_STATUS_INVALID_JSON`;
/// `THE0_STATUS_INVALID_ARGUMENT` for a NULL or non-UTF-8 argument; `THE0_STATUS_PANIC`.
///
/// # Safety
/// `env_json`, `key` and `detail` must be NULL or NUL-terminated strings.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn the0_state_set_unserializable(
    env_json: *const c_char,
    key: *const c_char,
    detail: *const c_char,
) -> i32 {
    call("the0_state_set_unserializable", || {
        // SAFETY: the caller passes NULL or NUL-terminated strings.
        let (env, key, detail) = unsafe {
            (
                args::env(env_json)?,
                args::text(key, "key")?,
                args::text(detail, "detail")?,
            )
        };
        Err(Host::process().state_set_unserializable(&env, key, detail))
    })
}

/// Writes the JSON text stored under `key` to `*out_json`.
///
/// Reads `STATE_DIR` from `env_json` (`THE0_ENV_STATE_READ`, or `THE0_ENV_STATE`).
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
/// `env_json` and `key` must be NULL or NUL-terminated strings; `out_json` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn the0_state_get(
    env_json: *const c_char,
    key: *const c_char,
    out_json: *mut *mut c_char,
) -> i32 {
    call("the0_state_get", || {
        // SAFETY: the caller passes NULL or valid pointers.
        let (out, env, key) = unsafe {
            (
                TextOut::new(out_json, "out_json")?,
                args::env(env_json)?,
                args::text(key, "key")?,
            )
        };
        let json = Host::process()
            .state_get(&env, key)?
            .ok_or_else(|| Error::NotFound { key: key.to_owned() })?;
        out.put(&json);
        Ok(Status::Ok)
    })
}

/// Writes 1 to `*out_exists` when `key` has a value, else 0.
///
/// Reads `STATE_DIR` from `env_json` (`THE0_ENV_STATE_READ`, or `THE0_ENV_STATE`).
///
/// Returns `THE0_STATUS_OK`; `THE0_STATUS_INVALID_KEY`; `THE0_STATUS_IO`;
/// `THE0_STATUS_INVALID_ARGUMENT` for a NULL or non-UTF-8 argument; `THE0_STATUS_PANIC`.
///
/// # Safety
/// `env_json` and `key` must be NULL or NUL-terminated strings; `out_exists` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn the0_state_exists(
    env_json: *const c_char,
    key: *const c_char,
    out_exists: *mut i32,
) -> i32 {
    call("the0_state_exists", || {
        // SAFETY: the caller passes NULL or valid pointers.
        let (out, env, key) = unsafe {
            (
                args::out(out_exists, "out_exists", 0)?,
                args::env(env_json)?,
                args::text(key, "key")?,
            )
        };
        *out = i32::from(Host::process().state_exists(&env, key)?);
        Ok(Status::Ok)
    })
}

/// Removes `key`; writes 1 to `*out_existed` when it had a value, else 0.
///
/// Reads `STATE_DIR` and `QUERY_PATH` from `env_json` (`THE0_ENV_STATE`).
///
/// Returns `THE0_STATUS_OK`; `THE0_STATUS_INVALID_KEY`; `THE0_STATUS_READ_ONLY` while this process
/// serves queries; `THE0_STATUS_IO`; `THE0_STATUS_INVALID_ARGUMENT` for a NULL or non-UTF-8
/// argument; `THE0_STATUS_PANIC`.
///
/// # Safety
/// `env_json` and `key` must be NULL or NUL-terminated strings; `out_existed` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn the0_state_delete(
    env_json: *const c_char,
    key: *const c_char,
    out_existed: *mut i32,
) -> i32 {
    call("the0_state_delete", || {
        // SAFETY: the caller passes NULL or valid pointers.
        let (out, env, key) = unsafe {
            (
                args::out(out_existed, "out_existed", 0)?,
                args::env(env_json)?,
                args::text(key, "key")?,
            )
        };
        *out = i32::from(Host::process().state_delete(&env, key)?);
        Ok(Status::Ok)
    })
}

/// Writes every key that has a value, sorted, as a JSON array of strings to `*out_json`
/// (`[]` when the state directory does not exist yet).
///
/// Reads `STATE_DIR` from `env_json` (`THE0_ENV_STATE_READ`, or `THE0_ENV_STATE`).
///
/// `*out_json` receives a new NUL-terminated UTF-8 string owned by the caller (free it with
/// `the0_bytes_free`), or NULL when the status is not `THE0_STATUS_OK`.
///
/// Returns `THE0_STATUS_OK`; `THE0_STATUS_IO` when the state directory cannot be read;
/// `THE0_STATUS_INVALID_ARGUMENT` when `out_json` is NULL; `THE0_STATUS_PANIC`.
///
/// # Safety
/// `env_json` must be NULL or a NUL-terminated string; `out_json` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn the0_state_list(env_json: *const c_char, out_json: *mut *mut c_char) -> i32 {
    call("the0_state_list", || {
        // SAFETY: the caller passes NULL or valid pointers.
        let (out, env) = unsafe { (TextOut::new(out_json, "out_json")?, args::env(env_json)?) };
        out.put(&Host::process().state_list_json(&env)?);
        Ok(Status::Ok)
    })
}

/// Removes every key.
///
/// Reads `STATE_DIR` and `QUERY_PATH` from `env_json` (`THE0_ENV_STATE`).
///
/// Returns `THE0_STATUS_OK`; `THE0_STATUS_READ_ONLY` while this process serves queries;
/// `THE0_STATUS_IO`; `THE0_STATUS_INVALID_ARGUMENT` for a bad `env_json`; `THE0_STATUS_PANIC`.
///
/// # Safety
/// `env_json` must be NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn the0_state_clear(env_json: *const c_char) -> i32 {
    call("the0_state_clear", || {
        // SAFETY: the caller passes NULL or a NUL-terminated string.
        let env = unsafe { args::env(env_json) }?;
        Host::process().state_clear(&env)?;
        Ok(Status::Ok)
    })
}
