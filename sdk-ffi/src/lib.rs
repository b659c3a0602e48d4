//! # the0 C ABI
//!
//! `libthe0.so` / `libthe0.a` and `include/the0.h`: the one door into the Rust core
//! (`the0-sdk`) for languages that reach it through a C foreign-function interface — C, C#
//! (P/Invoke), Scala (JNA) and Haskell (GHC `foreign import ccall`).
//!
//! Nothing here implements behaviour. Each export converts its C arguments to Rust values, calls
//! the core, and converts the result back; the rules (state keys, atomic writes, mode detection,
//! the HTTP server, envelopes, line formats) are the core's, so a bot written against this ABI
//! behaves exactly like one written in Rust, Python or Node.
//!
//! The conventions every export follows, chosen for GHC, JNA and P/Invoke:
//! - it returns an `int32_t` status from the core's table (`THE0_STATUS_*`) and writes results
//!   through out-pointers; no struct crosses the boundary by value;
//! - on a failure it records a message for the calling thread (`status.rs`);
//! - text in is NUL-terminated UTF-8; text out is NUL-terminated UTF-8 the caller owns and frees
//!   with `the0_bytes_free` (`buffer.rs`);
//! - it is thread-safe, may be called from any host thread, and never calls back into the host:
//!   query handlers run on host threads that poll `the0_query_next` (`query.rs`);
//! - it reads the environment through the host's view, `env_json` (`env.rs`), and prints
//!   nothing: lines come back for the host to write on its own streams;
//! - its body runs inside `catch_unwind`, so a panic in the core is a `PANIC` status, never an
//!   abort or undefined behaviour.

mod args;
mod buffer;
mod env;
mod input;
mod query;
mod state;
mod status;

/// The version of this ABI, returned by `the0_abi_version`. It changes whenever an export's
/// signature or meaning changes incompatibly; every SDK checks it when it loads the library and
/// refuses to run against a version it was not built for.
pub const THE0_ABI_VERSION: u32 = 2;

/// The ABI version of the loaded library (`THE0_ABI_VERSION` of the header it was built with).
///
/// Call it first and compare it with the `THE0_ABI_VERSION` your binding was written for. Never
/// fails.
#[unsafe(no_mangle)]
pub extern "C" fn the0_abi_version() -> u32 {
    THE0_ABI_VERSION
}
