//! Environment variables the core reads, with their defaults.
//!
//! Every value is read when it is used, never cached when the library loads (as upstream), so a
//! process — or a test — that changes a variable sees the change at the next call.

use std::path::PathBuf;

use crate::error::{Error, Result};

/// Bot instance id, read by `input::parse`.
pub const BOT_ID: &str = "BOT_ID";
/// Bot configuration as a JSON object, read by `input::parse` and `query::get_config`.
pub const BOT_CONFIG: &str = "BOT_CONFIG";
/// `realtime` makes `query::run` serve HTTP; anything else is scheduled.
pub const BOT_TYPE: &str = "BOT_TYPE";
/// Directory of the code mount without its leading slash; the result file is `/<dir>/result.json`.
pub const CODE_MOUNT_DIR: &str = "CODE_MOUNT_DIR";
/// Directory of the key-value state files.
pub const STATE_DIR: &str = "STATE_DIR";
/// Non-empty: this process answers exactly this query path (ephemeral mode).
pub const QUERY_PATH: &str = "QUERY_PATH";
/// JSON object of parameters for the ephemeral query.
pub const QUERY_PARAMS: &str = "QUERY_PARAMS";
/// TCP port of the query server (default 9476).
pub const THE0_QUERY_PORT: &str = "THE0_QUERY_PORT";
/// Address the TCP query server binds (default `0.0.0.0`).
pub const THE0_QUERY_HOST: &str = "THE0_QUERY_HOST";
/// Unix socket path of the query server; set by the agent, takes precedence over TCP.
pub const THE0_QUERY_SOCKET: &str = "THE0_QUERY_SOCKET";
/// Result file of ephemeral and info modes (default `/query/result.json`).
pub const THE0_QUERY_RESULT_FILE: &str = "THE0_QUERY_RESULT_FILE";
/// Per-request handler timeout in milliseconds (default 30000).
pub const THE0_QUERY_TIMEOUT_MS: &str = "THE0_QUERY_TIMEOUT_MS";
/// Largest accepted request body in bytes (default 1 MiB).
pub const THE0_QUERY_MAX_BODY_BYTES: &str = "THE0_QUERY_MAX_BODY_BYTES";
/// Most requests in flight at once before the server answers 503 (default 1024).
pub const THE0_QUERY_MAX_IN_FLIGHT: &str = "THE0_QUERY_MAX_IN_FLIGHT";
/// Number of threads the Rust SDK runs handlers on (default: CPU count, at least 2).
pub const THE0_QUERY_WORKERS: &str = "THE0_QUERY_WORKERS";

/// Default of [`STATE_DIR`].
pub const DEFAULT_STATE_DIR: &str = "/state/.the0-state";
/// Default of [`CODE_MOUNT_DIR`].
pub const DEFAULT_CODE_MOUNT_DIR: &str = "bot";
/// Default of [`THE0_QUERY_RESULT_FILE`].
pub const DEFAULT_QUERY_RESULT_FILE: &str = "/query/result.json";
/// Default of [`THE0_QUERY_PORT`].
pub const DEFAULT_QUERY_PORT: u16 = 9476;

/// The variable's value when it is set and not empty.
///
/// Upstream SDKs disagreed on whether a set-but-empty variable counts; the core treats empty as
/// unset everywhere.
pub fn non_empty(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Parses a numeric variable, or returns `default` when it is unset or empty.
pub fn parse_or<T: std::str::FromStr>(name: &str, default: T) -> Result<T> {
    match non_empty(name) {
        None => Ok(default),
        Some(text) => text.trim().parse().map_err(|_| {
            Error::InvalidArgument(format!(
                "{name} must be a non-negative integer, got {}",
                crate::json::quote(&text)
            ))
        }),
    }
}

/// The state directory: `$STATE_DIR` or `/state/.the0-state`.
pub fn state_dir() -> PathBuf {
    non_empty(STATE_DIR).map_or_else(|| PathBuf::from(DEFAULT_STATE_DIR), PathBuf::from)
}

/// The ephemeral query path, when `QUERY_PATH` is set and not empty.
pub fn query_path() -> Option<String> {
    non_empty(QUERY_PATH)
}

/// Whether `BOT_TYPE` is `realtime`.
pub fn is_realtime() -> bool {
    std::env::var(BOT_TYPE).is_ok_and(|t| t == "realtime")
}

/// The bot-mode result file: `/<CODE_MOUNT_DIR>/result.json`.
pub fn bot_result_file() -> PathBuf {
    let dir = non_empty(CODE_MOUNT_DIR).unwrap_or_else(|| DEFAULT_CODE_MOUNT_DIR.to_owned());
    PathBuf::from("/")
        .join(dir.trim_start_matches('/'))
        .join("result.json")
}

/// The query result file: `$THE0_QUERY_RESULT_FILE` or `/query/result.json`.
pub fn query_result_file() -> PathBuf {
    non_empty(THE0_QUERY_RESULT_FILE).map_or_else(|| PathBuf::from(DEFAULT_QUERY_RESULT_FILE), PathBuf::from)
}
