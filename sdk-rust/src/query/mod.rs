//! Queries: read-only handlers that answer questions about a running bot.
//!
//! ```no_run
//! use the0_sdk::{query, state};
//! use serde_json::json;
//!
//! query::handler("/status", |req| {
//!     let count: u64 = state::get_or("signal_count", 0);
//!     json!({ "symbol": req.get_or("symbol", "BTC/USD"), "signals": count })
//! });
//! // A handler that may fail: an `Err` is answered 500 with its message.
//! query::try_handler("/position", |req| -> query::HandlerResult {
//!     let symbol = req.get("symbol").ok_or("symbol is required")?;
//!     Ok(json!({ "symbol": symbol, "qty": state::get_or::<f64>(&symbol, 0.0) }))
//! });
//! query::run();
//! ```
//!
//! [`run`] detects the mode ([`Plan`]): one ephemeral answer to `QUERY_PATH`, an HTTP server for
//! realtime bots, or the `/info` answer. Handlers run on a pool of threads fed by the core's poll
//! queue ([`service`]) — the same queue every other SDK polls.

mod dispatch;
mod envelope;
pub mod http;
pub(crate) mod mode;
pub(crate) mod params;
pub(crate) mod registry;
mod server;
pub mod service;

pub use dispatch::{Incoming, Next, Reply};
pub use envelope::Response;
pub use mode::{Listen, Mode, Plan, Settings};
pub use params::{Params, string_view, strings_json, to_param_string};
pub use registry::{HEALTH_PATH, INFO_PATH, Registry, Route};
pub use service::{Finished, Service, StartOptions};

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt::{self, Display};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, LazyLock, RwLock};
use std::thread;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use crate::env::Env;
use crate::host::{self, Host};
use crate::input::{exit, print_line};

/// The request a handler receives (upstream's shape: a path and the parameters in string form).
///
/// Typed values (a number sent in a JSON body stays a number) are read with [`QueryRequest::value`]
/// and [`QueryRequest::values`].
#[derive(Debug, Clone, PartialEq)]
pub struct QueryRequest {
    /// The requested path (`"/status"`).
    pub path: String,
    /// Parameters in string form: strings as they are, other JSON values as JSON text.
    pub params: HashMap<String, String>,
}

impl QueryRequest {
    /// A request with string parameters (the upstream constructor).
    pub fn new(path: &str, params: HashMap<String, String>) -> Self {
        QueryRequest {
            path: path.to_owned(),
            params,
        }
    }

    /// A parameter in string form, if present.
    pub fn get(&self, key: &str) -> Option<String> {
        self.params.get(key).cloned()
    }

    /// A parameter in string form, or `default`.
    pub fn get_or(&self, key: &str, default: &str) -> String {
        self.params
            .get(key)
            .cloned()
            .unwrap_or_else(|| default.to_owned())
    }

    /// A parameter with its JSON type (a number sent in a JSON body stays a number). A request
    /// built with [`QueryRequest::new`] has string values only.
    pub fn value(&self, key: &str) -> Option<Value> {
        self.with_values(|values| values.get(key).cloned())
    }

    /// Every parameter with its JSON type.
    pub fn values(&self) -> Params {
        self.with_values(Params::clone)
    }

    /// Runs `f` on the typed parameters: those the core decoded when this is the request the
    /// current thread handles, else the string parameters as JSON strings.
    fn with_values<T>(&self, f: impl FnOnce(&Params) -> T) -> T {
        CURRENT.with(|current| match &*current.borrow() {
            Some(handled) if handled.request == *self => f(&handled.values),
            _ => f(&self
                .params
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect()),
        })
    }
}

/// Upstream's query-module error type for a state write during a query. The core reports such a
/// write as [`crate::state::StateError::ReadOnly`] (which this converts into); the type is kept so
/// that code naming it compiles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadOnlyStateError {
    /// What was refused.
    pub message: String,
}

impl ReadOnlyStateError {
    /// An error with `message`.
    pub fn new(message: &str) -> Self {
        ReadOnlyStateError {
            message: message.to_owned(),
        }
    }
}

impl Display for ReadOnlyStateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ReadOnlyStateError {}

impl From<ReadOnlyStateError> for crate::state::StateError {
    fn from(e: ReadOnlyStateError) -> Self {
        crate::state::StateError::ReadOnly(e.message)
    }
}

/// A convenient return type for [`try_handler`]: any error converts with `?`.
pub type HandlerResult<T = Value> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

type HandlerFn = dyn Fn(&QueryRequest) -> Reply + Send + Sync;

static HANDLERS: LazyLock<RwLock<HashMap<String, Arc<HandlerFn>>>> = LazyLock::new(Default::default);

/// The request a handler thread is running, with its typed parameters.
struct Handled {
    request: QueryRequest,
    values: Params,
}

thread_local! {
    /// The request the current thread is handling, for [`get_params`] and typed values.
    static CURRENT: RefCell<Option<Handled>> = const { RefCell::new(None) };
}

/// Registers `handler_fn` for `path` (a missing leading `/` is added). Registering a path again
/// replaces its handler. The handler returns the answer's data (upstream's signature); a handler
/// that panics is answered 500 with the panic message.
///
/// # Panics
/// If `path` is empty or contains control characters: a programming error, reported at startup.
pub fn handler<F>(path: &str, handler_fn: F)
where
    F: Fn(&QueryRequest) -> Value + Send + Sync + 'static,
{
    register(
        path,
        Arc::new(move |req: &QueryRequest| Reply::Value(handler_fn(req))),
    );
}

/// Registers a handler that may fail: `Ok(data)` is answered 200 with `data` (anything
/// serializable), `Err(e)` 500 with `e`'s message. Otherwise as [`handler`].
///
/// # Panics
/// If `path` is empty or contains control characters.
pub fn try_handler<F, T, E>(path: &str, handler_fn: F)
where
    F: Fn(&QueryRequest) -> Result<T, E> + Send + Sync + 'static,
    T: Serialize,
    E: Display,
{
    register(
        path,
        Arc::new(
            move |req: &QueryRequest| match handler_fn(req).map(serde_json::to_value) {
                Ok(Ok(data)) => Reply::Value(data),
                Ok(Err(e)) => Reply::Unserializable(e.to_string()),
                Err(e) => Reply::Error(e.to_string()),
            },
        ),
    );
}

fn register(path: &str, handler_fn: Arc<HandlerFn>) {
    let path = Host::process()
        .register(path)
        .unwrap_or_else(|e| panic!("cannot register query handler: {e}"));
    HANDLERS
        .write()
        .expect("handler table lock")
        .insert(path, handler_fn);
}

/// Runs the query system in the detected mode and returns when it is done.
///
/// Ephemeral and info modes write the answer to the result file; a failed query exits the process
/// with code 1 (as upstream). Server mode serves until SIGTERM or SIGINT, then returns. A server
/// that cannot start (port in use...) logs the reason and exits with code 1.
///
/// This is the Rust host of [`crate::host`]: the same calls every other SDK makes.
pub fn run() {
    let host = Host::process();
    let options = StartOptions {
        handle_signals: true,
        exit_on_timeout: false,
        // One slow handler must not stall the others.
        default_workers: thread::available_parallelism().map_or(2, |n| n.get()).max(2),
    };
    let started = match host.start(&Env::Native, options) {
        Ok(started) => started,
        Err(failure) => {
            print_stderr(&[failure.line]);
            exit(1)
        }
    };
    print_stderr(&started.stderr);
    let finished = serve_handlers(host, started.workers);
    print_stderr(&finished.stderr);
    if finished.exit_code != 0 {
        exit(finished.exit_code);
    }
}

fn print_stderr(lines: &[String]) {
    let mut stderr = std::io::stderr().lock();
    for line in lines {
        print_line(&mut stderr, line);
    }
}

/// Feeds the service's requests to `workers` handler threads and waits for it to finish.
///
/// The handler threads are detached: once the service is done, every request has been answered
/// or has timed out, so a thread still inside a hung handler has no one waiting for it and must
/// not keep the process alive.
fn serve_handlers(host: &'static Host, workers: usize) -> Finished {
    for i in 0..workers {
        let spawned = thread::Builder::new()
            .name(format!("the0-query-worker-{i}"))
            .spawn(move || work(host));
        if let Err(e) = spawned {
            let _ = host.stop();
            let mut finished = host.finish().unwrap_or_else(|_| Finished {
                exit_code: 1,
                abandoned: false,
                stderr: Vec::new(),
            });
            finished.exit_code = 1;
            finished.stderr.push(crate::input::format_log(
                &format!("query service failed: cannot start a query handler thread: {e}"),
                None,
                Some(crate::input::LogLevel::Error),
            ));
            return finished;
        }
    }
    host.finish()
        .expect("the service this function started is running")
}

/// One handler thread: take requests from the core until it is done.
fn work(host: &Host) {
    const POLL: Duration = Duration::from_millis(500);
    loop {
        match host.next(POLL) {
            Ok(Next::Request(incoming)) => {
                let reply = call_handler(&incoming);
                // An error here means the request timed out meanwhile: nobody is waiting.
                let _ = host.respond(incoming.id, reply);
            }
            Ok(Next::Idle) => continue,
            Ok(Next::Done) | Err(_) => return,
        }
    }
}

fn call_handler(incoming: &Incoming) -> Reply {
    let Some(handler_fn) = HANDLERS
        .read()
        .expect("handler table lock")
        .get(&incoming.path)
        .cloned()
    else {
        return Reply::Error(format!("no Rust handler is registered for {}", incoming.path));
    };
    let request = QueryRequest::new(&incoming.path, string_view(&incoming.params));
    CURRENT.with(|c| {
        *c.borrow_mut() = Some(Handled {
            request: request.clone(),
            values: incoming.params.clone(),
        })
    });
    let outcome = catch_unwind(AssertUnwindSafe(|| handler_fn(&request)));
    CURRENT.with(|c| *c.borrow_mut() = None);
    outcome.unwrap_or_else(|panic| {
        let message = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_owned());
        Reply::Error(format!("handler for {} panicked: {message}", incoming.path))
    })
}

/// Parameters of the current query in string form: those of the request this thread is handling,
/// else those of `QUERY_PARAMS` in ephemeral mode, else none.
pub fn get_params() -> HashMap<String, String> {
    if let Some(params) = CURRENT.with(|c| c.borrow().as_ref().map(|h| h.request.params.clone())) {
        return params;
    }
    string_view(&get_values())
}

/// [`get_params`] with their JSON types.
pub fn get_values() -> Params {
    if let Some(values) = CURRENT.with(|c| c.borrow().as_ref().map(|h| h.values.clone())) {
        return values;
    }
    host::query_params(&Env::Native).unwrap_or_default()
}

/// The bot configuration from `BOT_CONFIG`; `{}` when it is unset or not valid JSON (as upstream).
pub fn get_config() -> Value {
    host::query_config(&Env::Native)
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_else(|| Value::Object(Default::default()))
}

/// Whether this process answers queries, so state is read-only: `QUERY_PATH` is set, or
/// [`run`] is serving (in any mode, realtime server mode included).
pub fn is_query_mode() -> bool {
    Host::process().is_query_mode(&Env::Native).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn incoming(path: &str, params: Value) -> Incoming {
        let Value::Object(params) = params else {
            panic!("params must be an object")
        };
        Incoming {
            id: 1,
            path: path.to_owned(),
            params,
        }
    }

    #[test]
    fn the_handled_request_has_typed_values_and_its_params_in_string_form() {
        handler("/unit-typed", |req| {
            let built = QueryRequest::new(&req.path, req.params.clone());
            let other = QueryRequest::new("/elsewhere", HashMap::new());
            json!({
                "n": req.value("n"),
                "strings": req.params,
                "params": get_params(),
                "values": get_values(),
                "same_request_built_again": built.value("n"),
                "another_request": other.values(),
            })
        });
        let reply = call_handler(&incoming("/unit-typed", json!({"n": 5, "s": "x"})));
        let Reply::Value(data) = reply else {
            panic!("expected a value, got {reply:?}")
        };
        assert_eq!(
            data,
            json!({
                "n": 5,
                "strings": {"n": "5", "s": "x"},
                "params": {"n": "5", "s": "x"},
                "values": {"n": 5, "s": "x"},
                "same_request_built_again": 5,
                "another_request": {},
            })
        );
        let outside = QueryRequest::new("/unit-typed", [("n".to_owned(), "5".to_owned())].into());
        assert_eq!(outside.value("n"), Some(json!("5")), "outside a handler: strings");
    }

    #[test]
    fn try_handler_answers_ok_errors_and_panics() {
        try_handler("/unit-try", |req| match req.get("fail") {
            Some(why) => Err(why),
            None => Ok(vec![1, 2]),
        });
        handler("/unit-panic", |_req| panic!("no data"));
        assert_eq!(
            call_handler(&incoming("/unit-try", json!({}))),
            Reply::Value(json!([1, 2]))
        );
        assert_eq!(
            call_handler(&incoming("/unit-try", json!({"fail": "closed"}))),
            Reply::Error("closed".into())
        );
        assert_eq!(
            call_handler(&incoming("/unit-panic", json!({}))),
            Reply::Error("handler for /unit-panic panicked: no data".into())
        );
    }
}
