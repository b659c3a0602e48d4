//! The pyo3 extension module `the0._native`: the the0 core (`the0_sdk`), reached from Python.
//!
//! This module is deliberately thin. Values cross the boundary as JSON text (the pure-Python
//! package `the0` calls `json.dumps`/`json.loads`), every rule lives in the core, and every
//! failure is raised as the exception class of `the0.errors` that matches the core's status, with
//! the core's message verbatim.
//!
//! Threads: every call that may block or touch the disk runs with the GIL released
//! ([`Python::detach`]), so a Python thread waiting for a query request or writing state never
//! stalls the others.
//!
//! Fork safety: the query service (tokio runtime, HTTP listener, poll queue) belongs to the process
//! that started it. A forked child inherits the memory but not the threads, so every service call
//! checks the process id and refuses, with a clear message, in a child.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyList, PyTuple};
use serde_json::Value;
use the0_sdk::input::{self, LogLevel};
use the0_sdk::query::{self, Next, Reply, StartOptions, service};
use the0_sdk::{Error, Status, env, json, state};

/// Results larger than this are canonicalized with the GIL released (smaller ones take less time
/// than a GIL hand-off).
const DETACH_RESPOND_BYTES: usize = 64 * 1024;

/// Process id of the process that started the query service (0: not started).
static SERVICE_PID: AtomicU32 = AtomicU32::new(0);

// ---------------------------------------------------------------------------------------------
// Errors

/// A Python exception for `status` with `message`: an instance of the matching class of
/// `the0.errors` (built by its `_from_status`), or `RuntimeError` if that module cannot be loaded.
fn py_error(py: Python<'_>, status: Status, message: String) -> PyErr {
    static FACTORY: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let factory = match FACTORY.import(py, "the0.errors", "_from_status") {
        Ok(factory) => factory,
        Err(_) => return PyRuntimeError::new_err(format!("{}: {message}", status.name())),
    };
    match factory.call1((status.name(), message)) {
        Ok(exception) => PyErr::from_value(exception),
        Err(e) => e,
    }
}

/// Converts a core error, keeping its status and its message.
fn core_error(py: Python<'_>, e: Error) -> PyErr {
    py_error(py, e.status(), e.to_string())
}

trait OrRaise<T> {
    fn or_raise(self, py: Python<'_>) -> PyResult<T>;
}

impl<T> OrRaise<T> for the0_sdk::Result<T> {
    fn or_raise(self, py: Python<'_>) -> PyResult<T> {
        self.map_err(|e| core_error(py, e))
    }
}

// ---------------------------------------------------------------------------------------------
// JSON values to Python objects

/// Builds the Python object of a JSON value (dict, list, str, int, float, bool, None).
fn to_py<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => b.into_pyobject(py)?.to_owned().into_any(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.into_pyobject(py)?.into_any()
            } else if let Some(u) = n.as_u64() {
                u.into_pyobject(py)?.into_any()
            } else {
                n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any()
            }
        }
        Value::String(s) => s.into_pyobject(py)?.into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(to_py(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(fields) => to_py_dict(py, fields)?.into_any(),
    })
}

fn to_py_dict<'py>(py: Python<'py>, fields: &serde_json::Map<String, Value>) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    for (k, v) in fields {
        dict.set_item(k, to_py(py, v)?)?;
    }
    Ok(dict)
}

/// Parses JSON text handed over by the Python package, naming it `what` in the error.
fn parse_json(py: Python<'_>, what: &str, text: &str) -> PyResult<Value> {
    json::parse(what, text).or_raise(py)
}

// ---------------------------------------------------------------------------------------------
// State

/// Stores JSON text under `key` (canonicalized by the core). GIL released.
#[pyfunction]
fn state_set(py: Python<'_>, key: &str, json: &str) -> PyResult<()> {
    py.detach(|| state::set_json(key, json)).or_raise(py)
}

/// The exception (not raised) for a `set` whose value Python could not serialize (`detail` says
/// why): the core reports a read-only process or a bad key first, as for any `set`.
#[pyfunction]
fn state_value_error(py: Python<'_>, key: &str, detail: &str) -> Py<pyo3::exceptions::PyBaseException> {
    core_error(py, state::unserializable_value(key, detail)).into_value(py)
}

/// The JSON text stored under `key`, or `None`. GIL released.
#[pyfunction]
fn state_get(py: Python<'_>, key: &str) -> PyResult<Option<String>> {
    py.detach(|| state::get_json(key)).or_raise(py)
}

/// Whether `key` has a value. GIL released.
#[pyfunction]
fn state_exists(py: Python<'_>, key: &str) -> PyResult<bool> {
    py.detach(|| state::try_exists(key)).or_raise(py)
}

/// Removes `key`; whether it had a value. GIL released.
#[pyfunction]
fn state_delete(py: Python<'_>, key: &str) -> PyResult<bool> {
    py.detach(|| state::delete(key)).or_raise(py)
}

/// Every key, sorted. GIL released.
#[pyfunction]
fn state_list(py: Python<'_>) -> PyResult<Vec<String>> {
    py.detach(state::try_list).or_raise(py)
}

/// Removes every key. GIL released.
#[pyfunction]
fn state_clear(py: Python<'_>) -> PyResult<()> {
    py.detach(state::clear).or_raise(py)
}

/// The directory state is stored in (`$STATE_DIR` or its default).
#[pyfunction]
fn state_dir() -> String {
    env::state_dir().to_string_lossy().into_owned()
}

// ---------------------------------------------------------------------------------------------
// Input and output

/// `(bot_id, config)` from `BOT_ID` and `BOT_CONFIG`.
#[pyfunction]
fn parse(py: Python<'_>) -> PyResult<(String, Bound<'_, PyAny>)> {
    let (id, config) = input::parse().or_raise(py)?;
    Ok((id, to_py(py, &config)?))
}

/// Writes `{"status", "message"[, "data"]}` to the bot result file. GIL released.
#[pyfunction]
#[pyo3(signature = (status, message, data_json=None))]
fn write_status_result(py: Python<'_>, status: &str, message: &str, data_json: Option<&str>) -> PyResult<()> {
    let data = data_json
        .map(|text| parse_json(py, "result data", text))
        .transpose()?;
    let value = input::status_result(status, message, data.as_ref());
    py.detach(|| input::write_result(&value)).or_raise(py)
}

/// Writes a JSON value as it is to the bot result file. GIL released.
#[pyfunction]
fn write_result(py: Python<'_>, json: &str) -> PyResult<()> {
    let value = parse_json(py, "result", json)?;
    py.detach(|| input::write_result(&value)).or_raise(py)
}

/// The metric line for `metric_type` and data given as JSON text (not printed).
#[pyfunction]
fn format_metric(py: Python<'_>, metric_type: &str, data_json: &str) -> PyResult<String> {
    let data = parse_json(py, "metric data", data_json)?;
    Ok(input::format_metric(metric_type, &data))
}

/// The log line for `message`, optional data as JSON text, optional level name (not printed).
#[pyfunction]
#[pyo3(signature = (message, data_json=None, level=None))]
fn format_log(
    py: Python<'_>,
    message: &str,
    data_json: Option<&str>,
    level: Option<&str>,
) -> PyResult<String> {
    let level = level.map(str::parse::<LogLevel>).transpose().or_raise(py)?;
    let data = data_json
        .map(|text| parse_json(py, "log data", text))
        .transpose()?;
    Ok(input::format_log(message, data.as_ref(), level))
}

/// `text` quoted as the core quotes user text in its messages.
#[pyfunction]
fn quote(text: &str) -> String {
    json::quote(text)
}

// ---------------------------------------------------------------------------------------------
// Queries

/// Refuses service calls in a forked child of the process that started the service.
fn check_pid(py: Python<'_>) -> PyResult<()> {
    let owner = SERVICE_PID.load(Ordering::Acquire);
    let me = std::process::id();
    if owner != 0 && owner != me {
        return Err(py_error(
            py,
            Status::InvalidState,
            format!(
                "the query service was started by process {owner}; this process ({me}) is a fork of it \
                 and cannot use it (start the service in the child, or fork before query.run())"
            ),
        ));
    }
    Ok(())
}

/// Registers a query path in the core; returns it as stored (leading `/` added).
#[pyfunction]
fn query_register(py: Python<'_>, path: &str) -> PyResult<String> {
    service::register(path).or_raise(py)
}

/// Starts the query service in the mode detected from the environment; returns the mode name
/// (`"ephemeral"`, `"server"` or `"info"`). Signals are left to Python.
#[pyfunction]
fn query_start(py: Python<'_>) -> PyResult<&'static str> {
    check_pid(py)?;
    let mode = py
        .detach(|| {
            service::start(StartOptions {
                handle_signals: false,
            })
        })
        .or_raise(py)?;
    SERVICE_PID.store(std::process::id(), Ordering::Release);
    Ok(mode.name())
}

/// Waits up to `timeout` seconds (GIL released) for a request.
///
/// Returns `(id, path, params, strings)` for a request (`params` keeps JSON types, `strings` is
/// the core's string view), `None` when nothing arrived in time, and `()` when the service is done.
///
/// With `greedy`, a request already queued is taken without giving up the GIL (fewer thread
/// switches when one thread serves a busy queue); the wait itself always releases it.
#[pyfunction]
#[pyo3(signature = (timeout, greedy=false))]
fn query_next(py: Python<'_>, timeout: f64, greedy: bool) -> PyResult<Bound<'_, PyAny>> {
    check_pid(py)?;
    let wait = Duration::from_secs_f64(timeout.max(0.0));
    let first = if greedy {
        service::next(Duration::ZERO).or_raise(py)?
    } else {
        Next::Idle
    };
    let next = match first {
        Next::Idle if !wait.is_zero() || !greedy => py.detach(|| service::next(wait)).or_raise(py)?,
        other => other,
    };
    Ok(match next {
        Next::Request(incoming) => {
            let strings = PyDict::new(py);
            for (k, v) in &incoming.params {
                strings.set_item(k, query::to_param_string(v))?;
            }
            let params = to_py_dict(py, &incoming.params)?;
            (incoming.id, incoming.path, params, strings)
                .into_pyobject(py)?
                .into_any()
        }
        Next::Idle => py.None().into_bound(py),
        Next::Done => PyTuple::empty(py).into_any(),
    })
}

/// Answers request `id` with the handler's result as JSON text.
#[pyfunction]
fn query_respond(py: Python<'_>, id: u64, json: &str) -> PyResult<()> {
    check_pid(py)?;
    if json.len() > DETACH_RESPOND_BYTES {
        py.detach(|| service::respond(id, Reply::Json(json.to_owned())))
    } else {
        service::respond(id, Reply::Json(json.to_owned()))
    }
    .or_raise(py)
}

/// Answers request `id` with a handler error (HTTP 500, the message in the envelope).
#[pyfunction]
fn query_respond_error(py: Python<'_>, id: u64, message: &str) -> PyResult<()> {
    check_pid(py)?;
    service::respond(id, Reply::Error(message.to_owned())).or_raise(py)
}

/// Asks the server to stop (requests in flight still get their answer). A no-op in the other modes.
#[pyfunction]
fn query_stop(py: Python<'_>) -> PyResult<()> {
    check_pid(py)?;
    service::stop().or_raise(py)
}

/// Waits (GIL released) until the service has finished; returns the process exit code.
#[pyfunction]
fn query_finish(py: Python<'_>) -> PyResult<i32> {
    check_pid(py)?;
    let code = py.detach(service::finish).or_raise(py)?;
    SERVICE_PID.store(0, Ordering::Release);
    Ok(code)
}

/// Number of handler threads: `THE0_QUERY_WORKERS`, or `default`.
#[pyfunction]
fn query_workers(py: Python<'_>, default: usize) -> PyResult<usize> {
    query::worker_count(default).or_raise(py)
}

/// Whether this process answers queries (state is then read-only).
#[pyfunction]
fn is_query_mode() -> bool {
    query::is_query_mode()
}

/// The bot configuration from `BOT_CONFIG` (`{}` when unset or not JSON).
#[pyfunction]
fn get_config(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
    to_py(py, &query::get_config())
}

/// Parameters of the current query in string form as the core sees them from this thread: those
/// of `QUERY_PARAMS` in ephemeral mode, else none (Python keeps the request being handled itself).
#[pyfunction]
fn query_env_params(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let dict = PyDict::new(py);
    for (k, v) in query::get_params() {
        dict.set_item(k, v)?;
    }
    Ok(dict)
}

/// The core's string view of parameters given as JSON object text.
#[pyfunction]
fn param_strings<'py>(py: Python<'py>, params_json: &str) -> PyResult<Bound<'py, PyDict>> {
    let strings = PyDict::new(py);
    if let Value::Object(fields) = parse_json(py, "params", params_json)? {
        for (k, v) in &fields {
            strings.set_item(k, query::to_param_string(v))?;
        }
    }
    Ok(strings)
}

// ---------------------------------------------------------------------------------------------

/// Every status name of the core, in code order.
#[pyfunction]
fn status_names() -> Vec<&'static str> {
    Status::ALL.iter().map(|s| s.name()).collect()
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(state_set, m)?)?;
    m.add_function(wrap_pyfunction!(state_value_error, m)?)?;
    m.add_function(wrap_pyfunction!(state_get, m)?)?;
    m.add_function(wrap_pyfunction!(state_exists, m)?)?;
    m.add_function(wrap_pyfunction!(state_delete, m)?)?;
    m.add_function(wrap_pyfunction!(state_list, m)?)?;
    m.add_function(wrap_pyfunction!(state_clear, m)?)?;
    m.add_function(wrap_pyfunction!(state_dir, m)?)?;
    m.add_function(wrap_pyfunction!(parse, m)?)?;
    m.add_function(wrap_pyfunction!(write_status_result, m)?)?;
    m.add_function(wrap_pyfunction!(write_result, m)?)?;
    m.add_function(wrap_pyfunction!(format_metric, m)?)?;
    m.add_function(wrap_pyfunction!(format_log, m)?)?;
    m.add_function(wrap_pyfunction!(quote, m)?)?;
    m.add_function(wrap_pyfunction!(query_register, m)?)?;
    m.add_function(wrap_pyfunction!(query_start, m)?)?;
    m.add_function(wrap_pyfunction!(query_next, m)?)?;
    m.add_function(wrap_pyfunction!(query_respond, m)?)?;
    m.add_function(wrap_pyfunction!(query_respond_error, m)?)?;
    m.add_function(wrap_pyfunction!(query_stop, m)?)?;
    m.add_function(wrap_pyfunction!(query_finish, m)?)?;
    m.add_function(wrap_pyfunction!(query_workers, m)?)?;
    m.add_function(wrap_pyfunction!(is_query_mode, m)?)?;
    m.add_function(wrap_pyfunction!(get_config, m)?)?;
    m.add_function(wrap_pyfunction!(param_strings, m)?)?;
    m.add_function(wrap_pyfunction!(query_env_params, m)?)?;
    m.add_function(wrap_pyfunction!(status_names, m)?)?;
    Ok(())
}
