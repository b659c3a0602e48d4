//! `the0_env_names`: which environment variables the library reads, so that a host can hand it
//! its own view of them.
//!
//! Every export that reads the environment takes `env_json` first: NULL for the process
//! environment (`getenv`: right for C and for hosts whose setters reach it), or a JSON object of
//! the host's current values — `{"STATE_DIR": "/state/.the0-state", "QUERY_PATH": null}` — for
//! every name of the export's scope (`null` when unset). Hosts whose environment is their own
//! (.NET's `Environment.SetEnvironmentVariable`, the JVM's system properties, Node's worker
//! threads) must pass it, or the library would not see what the bot set.

use std::ffi::c_char;

use the0_sdk::host::Scope;
use the0_sdk::{Error, Status};

use crate::buffer::TextOut;
use crate::status::call;

/// Writes the names of the environment variables the exports of `scope` read, as a JSON array of
/// strings, to `*out_json`. `scope` is `THE0_ENV_STATE` (the0_state_*), `THE0_ENV_STATE_READ`
/// (the0_state_get, _exists, _list only: fewer names to read), `THE0_ENV_INPUT`
/// (the0_input_parse, _success, _error, _result), `THE0_ENV_QUERY` (the0_query_start, _config,
/// _params, _is_query_mode) or `THE0_ENV_ALL` (every name: a snapshot of these suits every
/// export). Ask once when the binding loads; the list does not change while the library runs.
///
/// `*out_json` receives a new NUL-terminated UTF-8 string owned by the caller (free it with
/// `the0_bytes_free`), or NULL when the status is not `THE0_STATUS_OK`.
///
/// Returns `THE0_STATUS_OK`; `THE0_STATUS_INVALID_ARGUMENT` for an unknown scope or a NULL
/// `out_json`; `THE0_STATUS_PANIC`.
///
/// # Safety
/// `out_json` must be NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn the0_env_names(scope: i32, out_json: *mut *mut c_char) -> i32 {
    call("the0_env_names", || {
        // SAFETY: the caller passes NULL or a writable slot.
        let out = unsafe { TextOut::new(out_json, "out_json") }?;
        let scope = Scope::from_code(scope)
            .ok_or_else(|| Error::InvalidArgument(format!("{scope} is not a THE0_ENV_* scope")))?;
        out.put(&serde_json::Value::from(scope.names()).to_string());
        Ok(Status::Ok)
    })
}
