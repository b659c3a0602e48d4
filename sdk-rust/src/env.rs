//! Environment variables the core reads, with their defaults, and [`Env`]: whose view of them
//! the core reads.
//!
//! Every value is read when it is used, never cached when the library loads (as upstream), so a
//! process — or a test — that changes a variable sees the change at the next call.
//!
//! A host language may keep its own environment apart from the C one: Node's `process.env` in a
//! worker thread, .NET 8's `Environment.SetEnvironmentVariable`, the JVM's read-only environment
//! overridden by system properties. The core therefore never reads the process environment behind
//! a host's back: every host call carries an [`Env`], either [`Env::Native`] (Rust and C, whose
//! view *is* the process environment) or a [`Env::Snapshot`] of the host's current values for the
//! names of one [`Scope`].

use std::path::PathBuf;

use crate::error::{Error, Result, quote};

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
/// Number of threads a host runs handlers on in server mode (default: the host's own).
pub const THE0_QUERY_WORKERS: &str = "THE0_QUERY_WORKERS";

/// The value of [`BOT_TYPE`] that makes a bot realtime (a long-running bot whose queries are
/// served over HTTP).
pub const REALTIME: &str = "realtime";
/// The folder of the key-value state files inside a bot's state volume.
pub const STATE_DIR_NAME: &str = ".the0-state";
/// Default of [`STATE_DIR`]: [`STATE_DIR_NAME`] in the state volume `/state`.
pub const DEFAULT_STATE_DIR: &str = "/state/.the0-state";
/// Default of [`CODE_MOUNT_DIR`].
pub const DEFAULT_CODE_MOUNT_DIR: &str = "bot";
/// Default of [`THE0_QUERY_RESULT_FILE`].
pub const DEFAULT_QUERY_RESULT_FILE: &str = "/query/result.json";
/// Default of [`THE0_QUERY_PORT`].
pub const DEFAULT_QUERY_PORT: u16 = 9476;

/// The groups of variables the host calls read: a host call of one group reads only the names
/// of its scope, so a host snapshots only those (reading a host's environment is not free).
///
/// The numbers are ABI (`THE0_ENV_*` in `the0.h`).
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Every name the core reads: a snapshot of this scope suits every call.
    All = 0,
    /// State calls: the state directory and the read-only guard.
    State = 1,
    /// Input calls: `parse` and the result file.
    Input = 2,
    /// Query calls: mode detection, server settings, worker count, config and params.
    Query = 3,
    /// State reads (`get`, `exists`, `list`): the state directory only — a subset of
    /// [`Scope::State`] for hosts where each variable read costs (a snapshot of `State` also
    /// suits them).
    StateRead = 4,
}

const STATE_NAMES: &[&str] = &[STATE_DIR, QUERY_PATH];
const STATE_READ_NAMES: &[&str] = &[STATE_DIR];
const INPUT_NAMES: &[&str] = &[BOT_ID, BOT_CONFIG, CODE_MOUNT_DIR];
const QUERY_NAMES: &[&str] = &[
    QUERY_PATH,
    QUERY_PARAMS,
    BOT_TYPE,
    BOT_CONFIG,
    THE0_QUERY_SOCKET,
    THE0_QUERY_HOST,
    THE0_QUERY_PORT,
    THE0_QUERY_RESULT_FILE,
    THE0_QUERY_TIMEOUT_MS,
    THE0_QUERY_MAX_BODY_BYTES,
    THE0_QUERY_MAX_IN_FLIGHT,
    THE0_QUERY_WORKERS,
];
const ALL_NAMES: &[&str] = &[
    BOT_ID,
    BOT_CONFIG,
    BOT_TYPE,
    CODE_MOUNT_DIR,
    STATE_DIR,
    QUERY_PATH,
    QUERY_PARAMS,
    THE0_QUERY_SOCKET,
    THE0_QUERY_HOST,
    THE0_QUERY_PORT,
    THE0_QUERY_RESULT_FILE,
    THE0_QUERY_TIMEOUT_MS,
    THE0_QUERY_MAX_BODY_BYTES,
    THE0_QUERY_MAX_IN_FLIGHT,
    THE0_QUERY_WORKERS,
];

impl Scope {
    /// Every scope, in code order.
    pub const ALL_SCOPES: [Scope; 5] = [
        Scope::All,
        Scope::State,
        Scope::Input,
        Scope::Query,
        Scope::StateRead,
    ];

    /// The scope with this numeric code, if any.
    pub fn from_code(code: i32) -> Option<Scope> {
        Self::ALL_SCOPES.into_iter().find(|s| *s as i32 == code)
    }

    /// The variable names calls of this scope read.
    pub const fn names(self) -> &'static [&'static str] {
        match self {
            Scope::All => ALL_NAMES,
            Scope::State => STATE_NAMES,
            Scope::Input => INPUT_NAMES,
            Scope::Query => QUERY_NAMES,
            Scope::StateRead => STATE_READ_NAMES,
        }
    }
}

/// Whose environment a call reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Env {
    /// The process environment (`std::env`): the view of Rust and C hosts.
    Native,
    /// A host's values for a set of names (`None`: unset). A name the call reads that is not in
    /// the snapshot is a host bug, reported as [`Error::InvalidArgument`] naming the variable.
    Snapshot(Vec<(String, Option<String>)>),
}

impl Env {
    /// A snapshot of the names of `scope`, each value asked from `lookup` (the host's view).
    pub fn capture(scope: Scope, mut lookup: impl FnMut(&str) -> Option<String>) -> Env {
        Env::Snapshot(
            scope
                .names()
                .iter()
                .map(|name| ((*name).to_owned(), lookup(name)))
                .collect(),
        )
    }

    /// A snapshot given as a JSON object of names to strings or `null` (`{"STATE_DIR": "/s",
    /// "QUERY_PATH": null}`): how C ABI hosts pass their view.
    pub fn from_json(text: &str) -> Result<Env> {
        const WHAT: &str = "the environment snapshot";
        let serde_json::Value::Object(fields) = crate::json::parse(WHAT, text)? else {
            return Err(Error::InvalidArgument(format!(
                "{WHAT} must be a JSON object of variable names to strings or null"
            )));
        };
        let mut pairs = Vec::with_capacity(fields.len());
        for (name, value) in fields {
            let value = match value {
                serde_json::Value::Null => None,
                serde_json::Value::String(text) => Some(text),
                _ => {
                    return Err(Error::InvalidArgument(format!(
                        "{WHAT}: the value of {name} must be a string or null"
                    )));
                }
            };
            pairs.push((name, value));
        }
        Ok(Env::Snapshot(pairs))
    }

    /// The value of `name` as set (possibly empty), or `None` when it is unset.
    pub fn var(&self, name: &str) -> Result<Option<String>> {
        match self {
            Env::Native => Ok(std::env::var(name).ok()),
            Env::Snapshot(pairs) => pairs
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, value)| value.clone())
                .ok_or_else(|| {
                    Error::InvalidArgument(format!(
                        "the host's environment snapshot has no entry for {name} \
                         (a snapshot holds every name of its scope, null when unset)"
                    ))
                }),
        }
    }

    /// The value of `name` when it is set and not empty.
    ///
    /// Upstream SDKs disagreed on whether a set-but-empty variable counts; the core treats empty as
    /// unset everywhere.
    pub fn non_empty(&self, name: &str) -> Result<Option<String>> {
        Ok(self.var(name)?.filter(|v| !v.is_empty()))
    }

    /// Parses a numeric variable, or returns `default` when it is unset or empty.
    pub fn parse_or<T: std::str::FromStr>(&self, name: &str, default: T) -> Result<T> {
        match self.non_empty(name)? {
            None => Ok(default),
            Some(text) => text.trim().parse().map_err(|_| {
                Error::InvalidArgument(format!(
                    "{name} must be a non-negative integer, got {}",
                    quote(&text)
                ))
            }),
        }
    }

    /// The state directory: `$STATE_DIR` or `/state/.the0-state`.
    pub fn state_dir(&self) -> Result<PathBuf> {
        Ok(self
            .non_empty(STATE_DIR)?
            .map_or_else(|| PathBuf::from(DEFAULT_STATE_DIR), PathBuf::from))
    }

    /// The ephemeral query path, when `QUERY_PATH` is set and not empty.
    pub fn query_path(&self) -> Result<Option<String>> {
        self.non_empty(QUERY_PATH)
    }

    /// Whether `BOT_TYPE` is `realtime`.
    pub fn is_realtime(&self) -> Result<bool> {
        Ok(is_realtime_type(self.var(BOT_TYPE)?.as_deref()))
    }

    /// The bot-mode result file: `/<CODE_MOUNT_DIR>/result.json`.
    pub fn bot_result_file(&self) -> Result<PathBuf> {
        let dir = self
            .non_empty(CODE_MOUNT_DIR)?
            .unwrap_or_else(|| DEFAULT_CODE_MOUNT_DIR.to_owned());
        Ok(PathBuf::from("/")
            .join(dir.trim_start_matches('/'))
            .join("result.json"))
    }

    /// The query result file: `$THE0_QUERY_RESULT_FILE` or `/query/result.json`.
    pub fn query_result_file(&self) -> Result<PathBuf> {
        Ok(self
            .non_empty(THE0_QUERY_RESULT_FILE)?
            .map_or_else(|| PathBuf::from(DEFAULT_QUERY_RESULT_FILE), PathBuf::from))
    }
}

/// A snapshot of every name, set to `pairs` and unset otherwise: the environment of unit tests.
#[cfg(test)]
pub(crate) fn snapshot_of(pairs: &[(&str, &str)]) -> Env {
    Env::capture(Scope::All, |name| {
        pairs
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| (*v).to_owned())
    })
}

/// The process environment's value of `name` when it is set and not empty (see
/// [`Env::non_empty`]).
pub fn non_empty(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Parses a numeric variable of the process environment, or returns `default` when it is unset or
/// empty (see [`Env::parse_or`]).
pub fn parse_or<T: std::str::FromStr>(name: &str, default: T) -> Result<T> {
    Env::Native.parse_or(name, default)
}

/// Whether a `BOT_TYPE` value makes a bot realtime (exactly `realtime`, as upstream).
pub fn is_realtime_type(bot_type: Option<&str>) -> bool {
    bot_type == Some(REALTIME)
}

/// The state directory inside a state volume (`/state` gives `/state/.the0-state`), where the
/// agent points `STATE_DIR` when it is not set.
pub fn state_dir_in(state_volume: &std::path::Path) -> PathBuf {
    state_volume.join(STATE_DIR_NAME)
}

/// Whether the process environment's `BOT_TYPE` is `realtime`.
pub fn is_realtime() -> bool {
    Env::Native.is_realtime().unwrap_or(false)
}

/// The process environment's query result file (see [`Env::query_result_file`]).
pub fn query_result_file() -> PathBuf {
    Env::Native
        .query_result_file()
        .unwrap_or_else(|_| PathBuf::from(DEFAULT_QUERY_RESULT_FILE))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Status;

    #[test]
    fn scopes_cover_every_name_once_and_all_is_their_union() {
        let mut union: Vec<&str> = [Scope::State, Scope::Input, Scope::Query]
            .iter()
            .flat_map(|s| s.names().iter().copied())
            .collect();
        union.sort_unstable();
        union.dedup();
        let mut all = Scope::All.names().to_vec();
        all.sort_unstable();
        assert_eq!(union, all);
        for (i, scope) in Scope::ALL_SCOPES.iter().enumerate() {
            assert_eq!(Scope::from_code(i as i32), Some(*scope));
        }
        assert_eq!(Scope::from_code(5), None);
        assert!(
            Scope::StateRead
                .names()
                .iter()
                .all(|n| Scope::State.names().contains(n))
        );
    }

    #[test]
    fn a_snapshot_answers_for_its_names_and_refuses_others() {
        let env = Env::capture(Scope::State, |name| (name == STATE_DIR).then(|| "/s".to_owned()));
        assert_eq!(env.state_dir().unwrap(), PathBuf::from("/s"));
        assert_eq!(env.query_path().unwrap(), None);
        let err = env.var(BOT_ID).unwrap_err();
        assert_eq!(err.status(), Status::InvalidArgument);
        assert!(err.to_string().contains("no entry for BOT_ID"), "{err}");
    }

    #[test]
    fn snapshots_from_json() {
        let env = Env::from_json(r#"{"STATE_DIR": "", "QUERY_PATH": "/q", "BOT_TYPE": null}"#).unwrap();
        assert_eq!(
            env.state_dir().unwrap(),
            PathBuf::from(DEFAULT_STATE_DIR),
            "empty is unset"
        );
        assert_eq!(env.query_path().unwrap().as_deref(), Some("/q"));
        assert!(!env.is_realtime().unwrap());
        assert_eq!(
            Env::from_json("[]").unwrap_err().status(),
            Status::InvalidArgument
        );
        assert_eq!(
            Env::from_json(r#"{"STATE_DIR": 1}"#).unwrap_err().to_string(),
            "the environment snapshot: the value of STATE_DIR must be a string or null"
        );
        assert_eq!(Env::from_json("{").unwrap_err().status(), Status::InvalidJson);
    }

    #[test]
    fn realtime_and_the_state_volume() {
        assert!(is_realtime_type(Some("realtime")));
        assert!(!is_realtime_type(Some("Realtime")) && !is_realtime_type(None));
        assert_eq!(
            state_dir_in(std::path::Path::new("/state")),
            PathBuf::from(DEFAULT_STATE_DIR)
        );
    }

    #[test]
    fn numbers_and_files() {
        let env = Env::Snapshot(vec![
            (THE0_QUERY_PORT.into(), Some(" 8080 ".into())),
            (THE0_QUERY_WORKERS.into(), Some("many".into())),
            (CODE_MOUNT_DIR.into(), Some("/code".into())),
        ]);
        assert_eq!(env.parse_or(THE0_QUERY_PORT, 1u16).unwrap(), 8080);
        assert_eq!(
            env.parse_or(THE0_QUERY_WORKERS, 1usize).unwrap_err().to_string(),
            r#"THE0_QUERY_WORKERS must be a non-negative integer, got "many""#
        );
        assert_eq!(env.bot_result_file().unwrap(), PathBuf::from("/code/result.json"));
    }
}
