//! Persistent key-value state: `$STATE_DIR/<key>.json`, one JSON document per key.
//!
//! The agent archives the whole state directory to the object store and restores it before the
//! next run, so values written here survive restarts and are readable by the query process.
//!
//! ```no_run
//! use the0_sdk::state;
//!
//! let count: u64 = state::get_or("trade_count", 0);
//! state::set("trade_count", &(count + 1))?;
//! if state::exists("positions") {
//!     let positions: Vec<String> = state::get("positions")?;
//! }
//! # Ok::<(), the0_sdk::state::StateError>(())
//! ```
//!
//! The functions have upstream's names and signatures (`delete` and `exists` return `bool`,
//! failures are [`StateError`] with upstream's variants). Beside each, a `try_*` form returns the
//! core's [`Error`] with its exact status, and reports what the upstream shape cannot: a bad key
//! or a refused write in `try_delete`, an unreadable directory in `try_list`.
//!
//! Every function reads `STATE_DIR` when it is called. The rules (key validation, atomic writes,
//! canonical JSON, the read-only guard while serving queries) are those of [`Store`], reached
//! through [`crate::host::Host`] as every other SDK reaches them, so every SDK behaves the same.

mod error;
mod key;
mod store;

pub use error::StateError;
pub use key::{MAX_KEY_BYTES, validate_key};
pub use store::Store;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::env::Env;
use crate::error::{Error, Result};
use crate::host::Host;

/// The process's store, as the Rust host sees it.
fn store() -> Result<Store> {
    Host::process().store(&Env::Native)
}

/// Stores `value` under `key`.
///
/// Fails with [`StateError::ReadOnly`] while this process serves queries,
/// [`StateError::InvalidKey`] for a bad key, [`StateError::Json`] if the value cannot be
/// serialized, [`StateError::Io`] if the write fails.
pub fn set<T: Serialize + ?Sized>(key: &str, value: &T) -> Result<(), StateError> {
    Ok(try_set(key, value)?)
}

/// [`set`], failing with the core's [`Error`].
pub fn try_set<T: Serialize + ?Sized>(key: &str, value: &T) -> Result<()> {
    store()?.set(key, value)
}

/// The value stored under `key`. A key with no value is [`StateError::Io`] of kind `NotFound` (as
/// upstream); a file that is not JSON, or JSON that does not fit `T`, is [`StateError::Json`].
pub fn get<T: DeserializeOwned>(key: &str) -> Result<T, StateError> {
    Ok(try_get(key)?)
}

/// [`get`], failing with the core's [`Error`]: [`Error::NotFound`], [`Error::CorruptState`]...
pub fn try_get<T: DeserializeOwned>(key: &str) -> Result<T> {
    get_opt(key)?.ok_or_else(|| Error::NotFound { key: key.to_owned() })
}

/// The value stored under `key`, or `None` when the key has no value.
pub fn get_opt<T: DeserializeOwned>(key: &str) -> Result<Option<T>> {
    store()?.get(key)
}

/// The value stored under `key`, or `default` when there is none or it cannot be read as a `T`
/// (as upstream; use [`get_opt`] to see why a read failed).
pub fn get_or<T: DeserializeOwned>(key: &str, default: T) -> T {
    get_opt(key).ok().flatten().unwrap_or(default)
}

/// Whether `key` has a value. An invalid key has none, so this returns `false` for it (as
/// upstream); [`try_exists`] reports the error instead.
pub fn exists(key: &str) -> bool {
    try_exists(key).unwrap_or(false)
}

/// Whether `key` has a value, reporting an invalid key or an I/O failure as an error.
pub fn try_exists(key: &str) -> Result<bool> {
    store()?.exists(key)
}

/// Removes `key` and returns whether it had a value: `false` also for an invalid key and while
/// this process serves queries (as upstream). [`try_delete`] reports those as errors.
pub fn delete(key: &str) -> bool {
    try_delete(key).unwrap_or(false)
}

/// Removes `key` and returns whether it had a value; a bad key is [`Error::InvalidKey`], a write
/// while serving queries [`Error::ReadOnly`].
pub fn try_delete(key: &str) -> Result<bool> {
    store()?.delete(key)
}

/// Every key with a value, sorted; empty when the state directory cannot be read (as upstream).
pub fn list() -> Vec<String> {
    try_list().unwrap_or_default()
}

/// Every key with a value, sorted, reporting an unreadable state directory as an error.
pub fn try_list() -> Result<Vec<String>> {
    store()?.list()
}

/// Removes every key.
pub fn clear() -> Result<(), StateError> {
    Ok(try_clear()?)
}

/// [`clear`], failing with the core's [`Error`].
pub fn try_clear() -> Result<()> {
    store()?.clear()
}

/// Stores JSON text (from any language) under `key`, in canonical form.
pub fn set_json(key: &str, json: &str) -> Result<()> {
    store()?.set_json(key, json)
}

/// The JSON text stored under `key`, or `None` when the key has no value.
pub fn get_json(key: &str) -> Result<Option<String>> {
    store()?.get_json(key)
}
