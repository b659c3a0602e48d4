//! [`StateError`]: the error of the upstream-shaped state functions, with upstream's variants.
//!
//! Upstream's `StateError` had four tuple variants, and bots match on them (`StateError::ReadOnly(_)`,
//! `StateError::InvalidKey(msg)`), so the type keeps exactly those variants and payload types. Each
//! error the core reports converts into one of them with the core's message, word for word; the
//! `try_*` functions of [`crate::state`] return the core's [`Error`] itself.

use std::fmt;
use std::io;

use crate::error::{Error, Status};

/// Why a state call failed (upstream's type and variants).
///
/// | Variant | Core errors | Payload |
/// |---|---|---|
/// | `InvalidKey(message)` | [`Error::InvalidKey`] (`INVALID_KEY`) | the core's message |
/// | `Io(error)` | [`Error::NotFound`] (kind `NotFound`), [`Error::Io`], any other | an `io::Error` wrapping the core's error |
/// | `Json(error)` | [`Error::Json`], [`Error::InvalidJson`], [`Error::CorruptState`] | the core's message |
/// | `ReadOnly(message)` | [`Error::ReadOnly`] (`READ_ONLY`) | the core's message |
///
/// `Display` is the core's message for every error the core produced.
#[derive(Debug)]
pub enum StateError {
    /// A key that breaks a key rule; the message says which (`must not contain a path separator`).
    InvalidKey(String),
    /// A file-system failure, or a key with no value (kind [`io::ErrorKind::NotFound`]).
    Io(io::Error),
    /// A value that cannot be serialized or does not fit the requested type, or a state file that
    /// is not JSON (the message names the key and the file).
    Json(serde_json::Error),
    /// A write while this process serves queries.
    ReadOnly(String),
}

impl StateError {
    /// The core's status for this error: exact for `InvalidKey`, `ReadOnly` and for `Io` errors
    /// the core produced (`NOT_FOUND` for a key with no value, `IO`...). `Json` is
    /// `INVALID_JSON`, also for a corrupt state file, which only [`crate::state::try_get`] reports
    /// as `CORRUPT_STATE` (upstream's type has one variant for both).
    pub fn status(&self) -> Status {
        match self {
            StateError::InvalidKey(_) => Status::InvalidKey,
            StateError::ReadOnly(_) => Status::ReadOnly,
            StateError::Json(_) => Status::InvalidJson,
            StateError::Io(e) => match e.get_ref().and_then(|inner| inner.downcast_ref::<Error>()) {
                Some(core) => core.status(),
                None => Status::Io,
            },
        }
    }
}

impl fmt::Display for StateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StateError::InvalidKey(message) | StateError::ReadOnly(message) => f.write_str(message),
            StateError::Io(e) => e.fmt(f),
            StateError::Json(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for StateError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StateError::Io(e) => Some(e),
            StateError::Json(e) => Some(e),
            StateError::InvalidKey(_) | StateError::ReadOnly(_) => None,
        }
    }
}

impl From<io::Error> for StateError {
    fn from(e: io::Error) -> Self {
        StateError::Io(e)
    }
}

impl From<serde_json::Error> for StateError {
    fn from(e: serde_json::Error) -> Self {
        StateError::Json(e)
    }
}

impl From<Error> for StateError {
    fn from(e: Error) -> Self {
        match e {
            Error::InvalidKey { .. } => StateError::InvalidKey(e.to_string()),
            Error::ReadOnly { .. } => StateError::ReadOnly(e.to_string()),
            Error::Json { .. } | Error::InvalidJson { .. } | Error::CorruptState { .. } => {
                StateError::Json(serde::de::Error::custom(e.to_string()))
            }
            Error::Io { ref source, .. } => StateError::Io(io::Error::new(source.kind(), e)),
            Error::NotFound { .. } => StateError::Io(io::Error::new(io::ErrorKind::NotFound, e)),
            other => StateError::Io(io::Error::other(other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::KeyRule;

    #[test]
    fn each_core_error_keeps_its_message_and_status() {
        let cases = [
            Error::InvalidKey {
                key: "a/b".into(),
                rule: KeyRule::PathSeparator,
            },
            Error::ReadOnly {
                operation: "set(\"k\")".into(),
            },
            Error::NotFound { key: "k".into() },
            Error::io(
                "cannot read /s/k.json",
                io::Error::from(io::ErrorKind::PermissionDenied),
            ),
            Error::MissingEnv { name: "STATE_DIR" },
        ];
        for core in cases {
            let (message, status) = (core.to_string(), core.status());
            let upstream = StateError::from(core);
            assert_eq!(upstream.to_string(), message);
            assert_eq!(upstream.status(), status, "{message}");
        }
    }

    #[test]
    fn variants_follow_upstream() {
        let not_found = StateError::from(Error::NotFound { key: "k".into() });
        assert!(matches!(&not_found, StateError::Io(e) if e.kind() == io::ErrorKind::NotFound));
        let corrupt = StateError::from(Error::CorruptState {
            key: "k".into(),
            path: "/s/k.json".into(),
            source: serde_json::from_str::<serde_json::Value>("{").unwrap_err(),
        });
        assert!(matches!(corrupt, StateError::Json(_)));
        assert_eq!(
            corrupt.to_string(),
            r#"state file for key "k" is corrupt (/s/k.json): EOF while parsing an object at line 1 column 1"#
        );
        let key = StateError::from(Error::InvalidKey {
            key: "..".into(),
            rule: KeyRule::DotDot,
        });
        assert!(matches!(&key, StateError::InvalidKey(m) if m.contains("path traversal")));
    }
}
