//! The host API: the one door bindings use into the core (pyo3, napi-rs, the C ABI, cxx), and the
//! Rust SDK's own path too.
//!
//! A *host* is the language runtime a bot runs in. It converts its values to JSON text, calls
//! these functions, converts the answers back, and does its language's own duties (threads,
//! async, exceptions, writing lines, ending the process). Every rule is here:
//!
//! - **JSON text in and out**, and a [`Result`](crate::Result) from every call whose error
//!   carries a stable [`Status`](crate::Status) and the message every SDK shows.
//! - **The environment is the host's.** Each call takes an [`Env`]: [`Env::Native`] (Rust, C, and
//!   any host whose setters reach the C environment) or a snapshot of the host's own view of the
//!   names of the call's [`Scope`] — [`Scope::State`] for `state_*`, [`Scope::Input`] for the
//!   input calls, [`Scope::Query`] for the query calls. The core reads nothing else.
//! - **The streams are the host's.** The core formats every line (metric, log, and the lines it
//!   has to say itself: where the server listens, why it cannot start, a timeout, a result that
//!   cannot be written) and hands it back; the host writes it through its own stdout/stderr
//!   (Node's `console.log`/`console.error`, Python's `sys.stdout`/`sys.stderr`...), so the lines
//!   stay in order with the bot's own output and capture tools see them.
//! - **Hosts poll; the core never calls them.** Handlers run on threads the host owns, which take
//!   requests with [`Host::next`] and answer with [`Host::respond`].
//! - **The host ends its process.** The core reports (an exit code, a handler it gave up on) and
//!   never exits, unless the host asks for it with [`StartOptions::exit_on_timeout`].
//!
//! A [`Host`] is one context: the registered paths, the running service, and so the read-only
//! guard. [`Host::process`] is the process's; a binding whose language runs several isolated
//! programs in one process (Node worker threads) keeps one `Host` per program.

mod io;

pub use io::{
    Payload, input_error, input_parse, input_result, input_success, log_line, metric_line, unserializable,
};

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

pub use crate::env::{Env, Scope};
pub use crate::query::service::{Answer, Finished, StartOptions, result_write_error};
pub use crate::query::{Incoming as Request, Mode, Next, Reply};

use crate::env;
use crate::error::{Error, Result};
use crate::input::{LogLevel, format_log};
use crate::query::mode::{Plan, Settings, positive};
use crate::query::params::{self, Params};
use crate::query::registry::Registry;
use crate::query::service::{AnswerTo, Service};
use crate::state::Store;

/// What [`Host::start`] hands back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Started {
    /// The mode the service runs in.
    pub mode: Mode,
    /// Handler threads the host should poll [`Host::next`] from: `THE0_QUERY_WORKERS` or the
    /// host's default in server mode, 1 otherwise.
    pub workers: usize,
    /// Lines to print on the host's stderr now ("Query server started on ...").
    pub stderr: Vec<String>,
}

/// Why [`Host::start`] failed, with the line the host prints before it exits with code 1.
#[derive(Debug)]
pub struct StartFailure {
    /// What went wrong (its status is the C ABI's return value).
    pub error: Error,
    /// The error log line `query service cannot start: <why>`, for the host's stderr.
    pub line: String,
}

impl std::fmt::Display for StartFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(f)
    }
}

impl std::error::Error for StartFailure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

impl From<Error> for StartFailure {
    fn from(error: Error) -> Self {
        let line = format_log(
            &format!("query service cannot start: {error}"),
            None,
            Some(LogLevel::Error),
        );
        StartFailure { error, line }
    }
}

/// One host context: its registered query paths, its running query service, and therefore
/// whether its state is read-only.
#[derive(Debug, Default)]
pub struct Host {
    registry: Arc<Registry>,
    running: Mutex<Option<Arc<Service>>>,
    serving: AtomicBool,
}

static PROCESS: LazyLock<Host> = LazyLock::new(Host::default);

impl Host {
    /// A new, empty context.
    pub fn new() -> Host {
        Host::default()
    }

    /// The process's context: the Rust SDK's, the C ABI's, Python's.
    pub fn process() -> &'static Host {
        &PROCESS
    }

    // -----------------------------------------------------------------------------------------
    // The read-only guard and state

    /// Whether this host answers queries, so state is read-only: `QUERY_PATH` is set in `env` (an
    /// ephemeral query process, from its first line), or the host has started its query service
    /// in any mode — including realtime server mode, which upstream left writable.
    pub fn is_query_mode(&self, env: &Env) -> Result<bool> {
        Ok(self.serving.load(Ordering::SeqCst) || env.query_path()?.is_some())
    }

    /// The state store as `env` places it (`STATE_DIR`), read-only while [`Host::is_query_mode`].
    pub fn store(&self, env: &Env) -> Result<Store> {
        Ok(Store::new(env.state_dir()?).with_read_only(self.is_query_mode(env)?))
    }

    /// Stores JSON text under `key` (validated, canonical, atomic).
    pub fn state_set(&self, env: &Env, key: &str, json: &str) -> Result<()> {
        self.store(env)?.set_json(key, json)
    }

    /// The error of a `set` whose value the host could not turn into JSON (`detail`: its
    /// serializer's reason): read-only and key errors come first, as for any `set`.
    pub fn state_set_unserializable(&self, env: &Env, key: &str, detail: &str) -> Error {
        match self.store(env) {
            Ok(store) => store.unserializable_value(key, detail),
            Err(e) => e,
        }
    }

    /// The JSON text stored under `key`, or `None`.
    pub fn state_get(&self, env: &Env, key: &str) -> Result<Option<String>> {
        Store::new(env.state_dir()?).get_json(key)
    }

    /// Whether `key` has a value.
    pub fn state_exists(&self, env: &Env, key: &str) -> Result<bool> {
        Store::new(env.state_dir()?).exists(key)
    }

    /// Removes `key`; whether it had a value.
    pub fn state_delete(&self, env: &Env, key: &str) -> Result<bool> {
        self.store(env)?.delete(key)
    }

    /// Every key with a value, sorted.
    pub fn state_list(&self, env: &Env) -> Result<Vec<String>> {
        Store::new(env.state_dir()?).list()
    }

    /// Every key with a value, sorted, as a JSON array.
    pub fn state_list_json(&self, env: &Env) -> Result<String> {
        Ok(serde_json::Value::from(self.state_list(env)?).to_string())
    }

    /// Removes every key.
    pub fn state_clear(&self, env: &Env) -> Result<()> {
        self.store(env)?.clear()
    }

    // -----------------------------------------------------------------------------------------
    // The query lifecycle

    /// Registers `path` (a missing leading `/` is added) and returns it as stored: the path
    /// [`Host::next`] reports for its requests. Register every path before [`Host::start`].
    pub fn register(&self, path: &str) -> Result<String> {
        self.registry.register(path)
    }

    /// Makes `paths` the registered paths, dropping any other, and returns them as stored: for a
    /// host whose own handler table is the one truth (upstream's Python tests clear and fill
    /// `query._handlers` directly). Nothing changes when a path is invalid.
    pub fn set_paths<S: AsRef<str>>(&self, paths: &[S]) -> Result<Vec<String>> {
        self.registry.replace(paths)
    }

    /// Starts the query service in the mode `env` selects, and returns it with the number of
    /// handler threads to poll from and the lines to print. From now until [`Host::finish`],
    /// state is read-only in this host.
    ///
    /// Fails (with the line to print before exiting with code 1) on a bad setting, a port that
    /// cannot be bound, or a service already running.
    pub fn start(&self, env: &Env, options: StartOptions) -> Result<Started, StartFailure> {
        self.launch(env, options, AnswerTo::File)
    }

    /// Like [`Host::start`], for a host that writes the ephemeral or info answer itself, with its
    /// own file functions (so that its tests can replace them, as upstream's Python tests replace
    /// `open`): [`Host::finish_with_answer`] hands the answer back instead of the core writing it.
    pub fn start_keeping_answer(&self, env: &Env, options: StartOptions) -> Result<Started, StartFailure> {
        self.launch(env, options, AnswerTo::Host)
    }

    fn launch(&self, env: &Env, options: StartOptions, answer_to: AnswerTo) -> Result<Started, StartFailure> {
        let mut slot = self.running.lock().expect("service lock");
        if slot.is_some() {
            return Err(Error::InvalidState("the query service is already running".to_owned()).into());
        }
        let plan = Plan::from_env(env)?;
        let settings = Settings::read(env)?;
        let workers = match plan {
            Plan::Server(_) => positive(env, env::THE0_QUERY_WORKERS, options.default_workers.max(1))?,
            _ => 1,
        };
        // Read-only from before the first request can reach a handler.
        self.serving.store(true, Ordering::SeqCst);
        let service = match Service::launch(Arc::clone(&self.registry), plan, settings, options, answer_to) {
            Ok(service) => service,
            Err(e) => {
                self.serving.store(false, Ordering::SeqCst);
                return Err(e.into());
            }
        };
        let started = Started {
            mode: service.mode(),
            workers,
            stderr: service.started_lines(),
        };
        *slot = Some(Arc::new(service));
        Ok(started)
    }

    fn running(&self) -> Result<Arc<Service>> {
        self.running.lock().expect("service lock").clone().ok_or_else(|| {
            Error::InvalidState("the query service is not running; call start first".to_owned())
        })
    }

    /// Waits up to `timeout` for a request. [`Next::Done`]: there will be no more; stop polling
    /// and call [`Host::finish`].
    pub fn next(&self, timeout: Duration) -> Result<Next> {
        Ok(self.running()?.next(timeout))
    }

    /// Answers request `id`. A late answer (the request timed out, its client left) is
    /// [`Error::UnknownRequest`]: nobody is waiting, the host may ignore it.
    pub fn respond(&self, id: u64, reply: Reply) -> Result<()> {
        self.running()?.respond(id, reply)
    }

    /// Asks the server to stop (no new connections; requests in flight get their answer). Safe
    /// from any thread, more than once; nothing to do in ephemeral and info modes.
    pub fn stop(&self) -> Result<()> {
        self.running()?.stop();
        Ok(())
    }

    /// Waits until the service has finished, releases it (state is writable again) and returns
    /// the exit code, whether a handler was abandoned, and the lines to print.
    pub fn finish(&self) -> Result<Finished> {
        Ok(self.finish_with_answer()?.0)
    }

    /// [`Host::finish`], with the ephemeral or info answer the host writes itself (to
    /// [`Answer::file`]) when the service was started with [`Host::start_keeping_answer`]; when
    /// it cannot, it prints [`result_write_error`] and exits with code 1.
    pub fn finish_with_answer(&self) -> Result<(Finished, Option<Answer>)> {
        let service = self.running()?;
        let finished = service.finish();
        let mut slot = self.running.lock().expect("service lock");
        if slot.as_ref().is_some_and(|s| Arc::ptr_eq(s, &service)) {
            *slot = None;
            self.serving.store(false, Ordering::SeqCst);
        }
        Ok((finished, service.answer()))
    }
}

/// The bot configuration (`BOT_CONFIG`) as JSON text; `{}` when it is unset or not JSON (as
/// upstream's `get_config`).
pub fn query_config(env: &Env) -> Result<String> {
    let config = env
        .var(env::BOT_CONFIG)?
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok());
    Ok(config.map_or_else(|| "{}".to_owned(), |c| c.to_string()))
}

/// The parameters of the query outside a handler — `QUERY_PARAMS` when `QUERY_PATH` is set,
/// else none; also none when `QUERY_PARAMS` is not a JSON object — with their JSON types.
pub fn query_params(env: &Env) -> Result<Params> {
    if env.query_path()?.is_none() {
        return Ok(Params::new());
    }
    let text = env.var(env::QUERY_PARAMS)?;
    Ok(params::from_json_text(env::QUERY_PARAMS, text.as_deref()).unwrap_or_default())
}

/// [`query_params`] as JSON object text: `(typed, strings)`, the second with every value in
/// string form, keys sorted.
pub fn query_params_json(env: &Env) -> Result<(String, String)> {
    let params = query_params(env)?;
    Ok((
        serde_json::Value::Object(params.clone()).to_string(),
        params::strings_json(&params),
    ))
}

/// The string form of parameters given as JSON object text (`{"n": 5, "s": "x"}` gives
/// `{"n":"5","s":"x"}`, keys sorted), for requests a host builds itself (in tests).
pub fn param_strings_json(params_json: &str) -> Result<String> {
    let params = params::from_json_text("params", Some(params_json))?;
    Ok(params::strings_json(&params))
}

#[cfg(test)]
mod tests;
