//! The one error type of the core, and the stable status table every binding maps it to.
//!
//! Every SDK reports the same failure with the same status and the same message, because every
//! SDK gets both from here: the C ABI returns [`Status::code`], pyo3/napi/cxx raise an exception
//! carrying [`Status::name`] and the `Display` text of the [`Error`].

use std::fmt;
use std::io;
use std::path::PathBuf;

/// `text` as a JSON string literal: how the core quotes user text (keys, paths, values) inside
/// error messages, the same in every language.
pub fn quote(text: &str) -> String {
    serde_json::Value::from(text).to_string()
}

/// Result alias used across the core.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Stable status codes, shared by every binding.
///
/// These numbers are ABI: they are returned by the C functions of `sdk-ffi` and checked by the C#,
/// Scala and Haskell SDKs. Never renumber a status; add new ones at the end.
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Status {
    /// Success.
    Ok = 0,
    /// A state key that does not exist (only for APIs that cannot express absence otherwise).
    NotFound = 1,
    /// A state key that breaks a key rule.
    InvalidKey = 2,
    /// Text that is not JSON, or JSON that does not fit the requested type.
    InvalidJson = 3,
    /// A state write while this process serves queries.
    ReadOnly = 4,
    /// A file-system or socket failure.
    Io = 5,
    /// A wait (for example `next`) ended without a result.
    Timeout = 6,
    /// The query service has finished: there will be no more requests.
    Done = 7,
    /// An argument the caller should not have passed (NULL, non-UTF-8, bad path, bad level...).
    InvalidArgument = 8,
    /// A panic inside the core, caught at the FFI boundary.
    Panic = 9,
    /// A state file on disk that is not valid JSON.
    CorruptState = 10,
    /// A required environment variable is not set.
    MissingEnv = 11,
    /// A response for a request id that is not pending (unknown, answered, or timed out).
    UnknownRequest = 12,
    /// A call that does not fit the query service's current state (start twice, next before start).
    InvalidState = 13,
}

impl Status {
    /// Every status, in code order (used by bindings to generate their constants and by tests).
    pub const ALL: [Status; 14] = [
        Status::Ok,
        Status::NotFound,
        Status::InvalidKey,
        Status::InvalidJson,
        Status::ReadOnly,
        Status::Io,
        Status::Timeout,
        Status::Done,
        Status::InvalidArgument,
        Status::Panic,
        Status::CorruptState,
        Status::MissingEnv,
        Status::UnknownRequest,
        Status::InvalidState,
    ];

    /// The numeric code of this status.
    pub const fn code(self) -> i32 {
        self as i32
    }

    /// The status for a numeric code, if there is one.
    pub fn from_code(code: i32) -> Option<Status> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    /// The upper-snake-case name, identical in every SDK (`"READ_ONLY"`).
    pub const fn name(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::NotFound => "NOT_FOUND",
            Status::InvalidKey => "INVALID_KEY",
            Status::InvalidJson => "INVALID_JSON",
            Status::ReadOnly => "READ_ONLY",
            Status::Io => "IO",
            Status::Timeout => "TIMEOUT",
            Status::Done => "DONE",
            Status::InvalidArgument => "INVALID_ARGUMENT",
            Status::Panic => "PANIC",
            Status::CorruptState => "CORRUPT_STATE",
            Status::MissingEnv => "MISSING_ENV",
            Status::UnknownRequest => "UNKNOWN_REQUEST",
            Status::InvalidState => "INVALID_STATE",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Which state-key rule a key broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyRule {
    /// The key is the empty string.
    Empty,
    /// The key is longer than [`crate::state::MAX_KEY_BYTES`] bytes.
    TooLong,
    /// The key contains NUL or another control character.
    ControlCharacter,
    /// The key contains `/` or `\`. The message says "path separator": what a user searches for.
    PathSeparator,
    /// The key contains `..`. The message says "path traversal": what a user searches for.
    DotDot,
    /// The key starts with `.` (hidden names are reserved for the core's temporary files).
    LeadingDot,
}

impl fmt::Display for KeyRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KeyRule::Empty => "must not be empty",
            KeyRule::TooLong => "must be at most 200 bytes",
            KeyRule::ControlCharacter => "must not contain control characters",
            KeyRule::PathSeparator => "must not contain a path separator ('/' or '\\')",
            KeyRule::DotDot => "must not contain '..' (path traversal)",
            KeyRule::LeadingDot => "must not start with '.'",
        })
    }
}

/// Every failure the core can report. [`Error::status`] gives its stable [`Status`].
///
/// The upstream-shaped functions report upstream's [`crate::state::StateError`] and
/// [`crate::ParseError`] instead, converted from this type with its message.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// `state::get` of a key that has no value.
    #[error("state key {} not found", quote(key))]
    NotFound { key: String },

    /// A key that breaks one of the key rules.
    #[error("invalid state key {}: {rule}", quote(key))]
    InvalidKey { key: String, rule: KeyRule },

    /// Text given to the core that is not JSON (a state value, BOT_CONFIG, QUERY_PARAMS, a handler
    /// result...). `what` names the input.
    #[error("{what} is not valid JSON: {source}")]
    InvalidJson {
        what: String,
        #[source]
        source: serde_json::Error,
    },

    /// A Rust value that cannot be turned into JSON, or JSON that does not fit the requested type.
    #[error("{what}: {source}")]
    Json {
        what: String,
        #[source]
        source: serde_json::Error,
    },

    /// A state file that exists but does not hold valid JSON.
    #[error("state file for key {} is corrupt ({}): {source}", quote(key), path.display())]
    CorruptState {
        key: String,
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },

    /// A state write while this process serves queries.
    #[error("state is read-only while this process serves queries: {operation} refused")]
    ReadOnly { operation: String },

    /// A file-system or socket failure; `context` says what was being done to which path.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },

    /// A required environment variable is not set.
    #[error("environment variable {name} is not set")]
    MissingEnv { name: &'static str },

    /// An argument that makes no sense (a query path without a leading `/`, an unknown log level...).
    #[error("{0}")]
    InvalidArgument(String),

    /// A response for a request that is not pending.
    #[error("query request {id} is not pending (unknown, already answered, or timed out)")]
    UnknownRequest { id: u64 },

    /// A query-service call that does not fit its current state.
    #[error("{0}")]
    InvalidState(String),
}

impl Error {
    /// The stable status of this error.
    pub fn status(&self) -> Status {
        match self {
            Error::NotFound { .. } => Status::NotFound,
            Error::InvalidKey { .. } => Status::InvalidKey,
            Error::InvalidJson { .. } | Error::Json { .. } => Status::InvalidJson,
            Error::CorruptState { .. } => Status::CorruptState,
            Error::ReadOnly { .. } => Status::ReadOnly,
            Error::Io { .. } => Status::Io,
            Error::MissingEnv { .. } => Status::MissingEnv,
            Error::InvalidArgument(_) => Status::InvalidArgument,
            Error::UnknownRequest { .. } => Status::UnknownRequest,
            Error::InvalidState(_) => Status::InvalidState,
        }
    }

    /// Builds an [`Error::Io`] whose context names the action and path.
    pub(crate) fn io(context: impl Into<String>, source: io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    /// Builds an [`Error::InvalidJson`] for the input named by `what`.
    pub(crate) fn invalid_json(what: impl Into<String>, source: serde_json::Error) -> Self {
        Error::InvalidJson {
            what: what.into(),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_codes_are_stable_and_dense() {
        for (i, status) in Status::ALL.iter().enumerate() {
            assert_eq!(status.code(), i as i32, "{status} moved");
            assert_eq!(Status::from_code(i as i32), Some(*status));
        }
        assert_eq!(Status::from_code(Status::ALL.len() as i32), None);
        assert_eq!(Status::ReadOnly.code(), 4);
        assert_eq!(Status::InvalidState.name(), "INVALID_STATE");
    }

    #[test]
    fn messages_name_the_culprit() {
        let e = Error::InvalidKey {
            key: "a/b".into(),
            rule: KeyRule::PathSeparator,
        };
        assert_eq!(
            e.to_string(),
            r#"invalid state key "a/b": must not contain a path separator ('/' or '\')"#
        );
        assert_eq!(e.status(), Status::InvalidKey);
        let e = Error::MissingEnv { name: "BOT_ID" };
        assert_eq!(e.to_string(), "environment variable BOT_ID is not set");
    }
}
