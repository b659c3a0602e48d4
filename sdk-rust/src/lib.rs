//! # the0 SDK for Rust — and the core every other the0 SDK calls
//!
//! Bot authors use three modules, with the names and call shapes of the upstream `the0-sdk`:
//!
//! - [`input`]: `parse()` the bot id and config; report `success`/`error`/`result`; emit `metric`
//!   and `log` lines.
//! - [`state`]: persistent key-value state (`set`, `get`, `get_or`, `exists`, `delete`, `list`,
//!   `clear`), synced to the object store by the agent.
//! - [`query`]: read-only handlers (`handler(path, fn)`) served by `run()`.
//!
//! ```no_run
//! use the0_sdk::{input, state};
//!
//! let (bot_id, config) = input::parse()?;
//! let runs: u64 = state::get_or("runs", 0);
//! state::set("runs", &(runs + 1))?;
//! input::log_info(&format!("bot {bot_id} run {}", runs + 1), Some(&config));
//! input::success("done");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The Python, Node and C++ SDKs call this crate directly (pyo3, napi-rs, cxx); C#, Scala and
//! Haskell through the C ABI of `the0-ffi`. All of them go through one module, [`host`]. Every
//! rule — key validation, atomic writes, canonical JSON, the read-only guard, mode detection, the
//! HTTP server, envelopes, line formats — is implemented once, here. See `ARCHITECTURE.md` for the
//! map.

pub mod env;
mod error;
pub mod fsutil;
pub mod host;
pub mod input;
pub mod json;
pub mod query;
pub mod state;
pub mod time;

pub use error::{Error, KeyRule, Result, Status, quote};
pub use input::ParseError;

/// Compiles the examples of `README.md` as doctests, so the documentation cannot drift.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
