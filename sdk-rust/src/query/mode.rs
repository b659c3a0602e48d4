//! Mode detection and the settings of the query service, read from the environment.
//!
//! Order (contract §8, made consistent across SDKs):
//! 1. `QUERY_PATH` non-empty: **ephemeral** — answer that one path with `QUERY_PARAMS`, write the
//!    envelope to the result file, exit 0 or 1.
//! 2. `BOT_TYPE=realtime`: **server** — HTTP on `THE0_QUERY_SOCKET` (Unix socket) when set, else TCP
//!    `${THE0_QUERY_HOST:-0.0.0.0}:${THE0_QUERY_PORT:-9476}`.
//! 3. otherwise: **info** — the `/info` answer to the result file.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use crate::env::{self, Env};
use crate::error::{Error, Result};

/// How the query service runs.
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Answer `QUERY_PATH` once, write the result file, exit.
    Ephemeral = 1,
    /// Serve HTTP until stopped.
    Server = 2,
    /// Write the `/info` answer to the result file, exit.
    Info = 3,
}

impl Mode {
    /// Lower-case name, identical in every SDK.
    pub const fn name(self) -> &'static str {
        match self {
            Mode::Ephemeral => "ephemeral",
            Mode::Server => "server",
            Mode::Info => "info",
        }
    }
}

/// Where the server listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listen {
    /// A TCP address.
    Tcp(SocketAddr),
    /// A Unix socket path.
    Unix(PathBuf),
}

/// What `start` will do, as detected from the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Answer `path` once with the parameters in `params` (JSON object text, may be absent).
    Ephemeral { path: String, params: Option<String> },
    /// Serve HTTP.
    Server(Listen),
    /// Answer `/info` once.
    Info,
}

impl Plan {
    /// Detects the plan from `env`.
    pub fn from_env(env: &Env) -> Result<Plan> {
        if let Some(path) = env.query_path()? {
            return Ok(Plan::Ephemeral {
                path,
                params: env.var(env::QUERY_PARAMS)?,
            });
        }
        if !env.is_realtime()? {
            return Ok(Plan::Info);
        }
        if let Some(socket) = env.non_empty(env::THE0_QUERY_SOCKET)? {
            return Ok(Plan::Server(Listen::Unix(PathBuf::from(socket))));
        }
        let port = env.parse_or(env::THE0_QUERY_PORT, env::DEFAULT_QUERY_PORT)?;
        let host = match env.non_empty(env::THE0_QUERY_HOST)? {
            None => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            Some(text) => text.parse().map_err(|_| {
                Error::InvalidArgument(format!(
                    "{} must be an IP address, got {}",
                    env::THE0_QUERY_HOST,
                    crate::quote(&text)
                ))
            })?,
        };
        Ok(Plan::Server(Listen::Tcp(SocketAddr::new(host, port))))
    }

    /// The mode this plan runs in.
    pub fn mode(&self) -> Mode {
        match self {
            Plan::Ephemeral { .. } => Mode::Ephemeral,
            Plan::Server(_) => Mode::Server,
            Plan::Info => Mode::Info,
        }
    }
}

/// Limits and files of the query service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Longest a handler may take before the request is answered 504.
    pub timeout: Duration,
    /// Largest request body; larger ones are answered 413.
    pub max_body_bytes: usize,
    /// Most requests waiting for or inside handlers; more are answered 503.
    pub max_in_flight: usize,
    /// Where ephemeral and info modes write their answer.
    pub result_file: PathBuf,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            timeout: Duration::from_millis(30_000),
            max_body_bytes: 1 << 20,
            max_in_flight: 1024,
            result_file: PathBuf::from(env::DEFAULT_QUERY_RESULT_FILE),
        }
    }
}

impl Settings {
    /// The settings of the process environment (see [`Settings::read`]).
    pub fn from_env() -> Result<Settings> {
        Settings::read(&Env::Native)
    }

    /// Reads `THE0_QUERY_TIMEOUT_MS`, `THE0_QUERY_MAX_BODY_BYTES`, `THE0_QUERY_MAX_IN_FLIGHT` and
    /// `THE0_QUERY_RESULT_FILE` from `env`, keeping the defaults for unset ones.
    pub fn read(env: &Env) -> Result<Settings> {
        let defaults = Settings::default();
        let timeout_ms = positive(
            env,
            env::THE0_QUERY_TIMEOUT_MS,
            defaults.timeout.as_millis() as u64,
        )?;
        Ok(Settings {
            timeout: Duration::from_millis(timeout_ms),
            max_body_bytes: positive(
                env,
                env::THE0_QUERY_MAX_BODY_BYTES,
                defaults.max_body_bytes as u64,
            )? as usize,
            max_in_flight: positive(env, env::THE0_QUERY_MAX_IN_FLIGHT, defaults.max_in_flight as u64)?
                as usize,
            result_file: env.query_result_file()?,
        })
    }
}

/// A numeric setting that must be at least 1.
pub(crate) fn positive<T>(env: &Env, name: &str, default: T) -> Result<T>
where
    T: std::str::FromStr + PartialEq + From<u8>,
{
    let value = env.parse_or(name, default)?;
    if value == T::from(0) {
        return Err(Error::InvalidArgument(format!("{name} must be at least 1")));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::snapshot_of as env;
    use crate::error::Status;

    #[test]
    fn query_path_wins_then_realtime_then_info() {
        let plan = Plan::from_env(&env(&[
            ("QUERY_PATH", "/q"),
            ("QUERY_PARAMS", "{}"),
            ("BOT_TYPE", "realtime"),
        ]))
        .unwrap();
        assert_eq!(
            plan,
            Plan::Ephemeral {
                path: "/q".into(),
                params: Some("{}".into())
            }
        );
        assert_eq!(plan.mode(), Mode::Ephemeral);
        for pairs in [
            vec![],
            vec![("BOT_TYPE", "scheduled")],
            vec![("QUERY_PATH", "")],
            vec![("BOT_TYPE", "Realtime")],
        ] {
            assert_eq!(Plan::from_env(&env(&pairs)).unwrap(), Plan::Info, "{pairs:?}");
        }
    }

    #[test]
    fn server_listens_on_the_socket_first_then_tcp() {
        let socket = Plan::from_env(&env(&[
            ("BOT_TYPE", "realtime"),
            ("THE0_QUERY_SOCKET", "/run/q.sock"),
            ("THE0_QUERY_PORT", "http"),
        ]))
        .unwrap();
        assert_eq!(socket, Plan::Server(Listen::Unix(PathBuf::from("/run/q.sock"))));
        let tcp = Plan::from_env(&env(&[("BOT_TYPE", "realtime")])).unwrap();
        assert_eq!(
            tcp,
            Plan::Server(Listen::Tcp(SocketAddr::from(([0, 0, 0, 0], 9476))))
        );
        let v6 = Plan::from_env(&env(&[
            ("BOT_TYPE", "realtime"),
            ("THE0_QUERY_HOST", "::1"),
            ("THE0_QUERY_PORT", "0"),
        ]))
        .unwrap();
        assert_eq!(v6, Plan::Server(Listen::Tcp("[::1]:0".parse().unwrap())));
        let bad = Plan::from_env(&env(&[("BOT_TYPE", "realtime"), ("THE0_QUERY_PORT", "70000")]));
        assert_eq!(bad.unwrap_err().status(), Status::InvalidArgument);
    }

    #[test]
    fn settings_defaults_values_and_zeroes() {
        assert_eq!(Settings::read(&env(&[])).unwrap(), Settings::default());
        let set = Settings::read(&env(&[
            ("THE0_QUERY_TIMEOUT_MS", "250"),
            ("THE0_QUERY_MAX_BODY_BYTES", "10"),
            ("THE0_QUERY_MAX_IN_FLIGHT", "3"),
            ("THE0_QUERY_RESULT_FILE", "/tmp/r.json"),
        ]))
        .unwrap();
        assert_eq!(
            set,
            Settings {
                timeout: Duration::from_millis(250),
                max_body_bytes: 10,
                max_in_flight: 3,
                result_file: PathBuf::from("/tmp/r.json"),
            }
        );
        for name in [
            "THE0_QUERY_TIMEOUT_MS",
            "THE0_QUERY_MAX_BODY_BYTES",
            "THE0_QUERY_MAX_IN_FLIGHT",
        ] {
            let err = Settings::read(&env(&[(name, "0")])).unwrap_err();
            assert_eq!(err.to_string(), format!("{name} must be at least 1"));
        }
    }
}
