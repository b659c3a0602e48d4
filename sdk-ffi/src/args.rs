//! Arguments from the caller: C strings to `&str`, JSON text to values, out-pointers checked.
//!
//! A NULL pointer where one is required, or text that is not UTF-8, is the caller's mistake:
//! `INVALID_ARGUMENT`, with a message naming the parameter, before the core is called.

use std::ffi::{CStr, c_char};

use the0_sdk::host::Env;
use the0_sdk::{Error, Result};

/// The NUL-terminated UTF-8 string at `ptr`, the parameter `name` of the export.
///
/// # Safety
/// `ptr` must be NULL or point to a NUL-terminated string that outlives the call.
pub(crate) unsafe fn text<'a>(ptr: *const c_char, name: &str) -> Result<&'a str> {
    // SAFETY: forwarded from the caller.
    unsafe { optional_text(ptr, name) }?.ok_or_else(|| null(name))
}

/// Like [`text`], for parameters where NULL means "none".
///
/// # Safety
/// `ptr` must be NULL or point to a NUL-terminated string that outlives the call.
pub(crate) unsafe fn optional_text<'a>(ptr: *const c_char, name: &str) -> Result<Option<&'a str>> {
    if ptr.is_null() {
        return Ok(None);
    }
    // SAFETY: non-NULL, and NUL-terminated by the caller's contract.
    let bytes = unsafe { CStr::from_ptr(ptr) };
    bytes
        .to_str()
        .map(Some)
        .map_err(|e| Error::InvalidArgument(format!("{name} is not valid UTF-8: {e}")))
}

/// The host's environment at `ptr`: NULL for the process environment, else a JSON object of
/// variable names to strings or null (see `the0_env_names`).
///
/// # Safety
/// As [`text`].
pub(crate) unsafe fn env(ptr: *const c_char) -> Result<Env> {
    // SAFETY: forwarded from the caller.
    match unsafe { optional_text(ptr, "env_json") }? {
        None => Ok(Env::Native),
        Some(text) => Env::from_json(text),
    }
}

/// The out-parameter `name` at `ptr`, checked non-NULL and set to `cleared`, so that it holds a
/// defined value whatever status the export returns.
///
/// # Safety
/// `ptr` must be NULL or point to writable storage for a `T`.
pub(crate) unsafe fn out<'a, T>(ptr: *mut T, name: &str, cleared: T) -> Result<&'a mut T> {
    if ptr.is_null() {
        return Err(null(name));
    }
    // SAFETY: non-NULL and writable by the caller's contract.
    unsafe {
        ptr.write(cleared);
        Ok(&mut *ptr)
    }
}

fn null(name: &str) -> Error {
    Error::InvalidArgument(format!("{name} must not be NULL"))
}
