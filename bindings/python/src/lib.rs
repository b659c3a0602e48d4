//! The pyo3 extension module `the0._native`: the host API of the the0 core
//! (`the0_sdk::host`), reached from Python.
//!
//! Conversions only. Values cross as JSON text (the package `the0` calls `json.dumps`) or as
//! Python objects built from the core's JSON; every rule lives in the core, and every failure is
//! raised as the exception class of `the0.errors` that matches the core's status, with the core's
//! message verbatim.
//!
//! The environment is Python's: calls that read variables take the mapping the skin passes
//! (`os.environ` as it is at call time, so `monkeypatch.setenv` and assignments are honoured) and
//! hand the core a snapshot of the names the call reads. Lines come back as strings for the skin
//! to print on `sys.stdout` / `sys.stderr`.
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

use pyo3::exceptions::{PyKeyError, PyRuntimeError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyList, PyTuple};
use serde_json::Value;
use the0_sdk::host::{self, Env, Host, Next, Payload, Reply, Scope, StartOptions};
use the0_sdk::{Error, Status};

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
// Conversions

/// Python's view of the names of `scope`, from the mapping the skin passes (`os.environ`).
///
/// `os.environ` keeps its values as bytes in a dict (`_data`); reading that dict directly skips
/// the mapping's Python-level `__getitem__` (a third of a state read's time). Any other mapping
/// (a test's replacement dict) is read through the mapping protocol.
fn snapshot(environ: &Bound<'_, PyAny>, scope: Scope) -> PyResult<Env> {
    if let Ok(data) = environ.getattr(pyo3::intern!(environ.py(), "_data"))
        && let Ok(data) = data.cast::<PyDict>()
        && let Some(env) = from_environ_data(data, scope)?
    {
        return Ok(env);
    }
    let mut failure = None;
    let env = Env::capture(scope, |name| match environ.get_item(name) {
        Ok(value) => value.extract::<String>().map_err(|e| failure = Some(e)).ok(),
        Err(e) if e.is_instance_of::<PyKeyError>(environ.py()) => None,
        Err(e) => {
            failure = Some(e);
            None
        }
    });
    failure.map_or(Ok(env), Err)
}

/// A snapshot from `os.environ._data` (bytes to bytes), or `None` when a value is not UTF-8 (then
/// the mapping protocol decodes it as Python does).
fn from_environ_data(data: &Bound<'_, PyDict>, scope: Scope) -> PyResult<Option<Env>> {
    let py = data.py();
    let mut pairs = Vec::with_capacity(scope.names().len());
    for name in scope.names() {
        let value = match data.get_item(pyo3::types::PyBytes::new(py, name.as_bytes()))? {
            None => None,
            Some(bytes) => match std::str::from_utf8(bytes.cast::<pyo3::types::PyBytes>()?.as_bytes()) {
                Ok(text) => Some(text.to_owned()),
                Err(_) => return Ok(None),
            },
        };
        pairs.push(((*name).to_owned(), value));
    }
    Ok(Some(Env::Snapshot(pairs)))
}

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

/// The Python object of JSON text the core produced (always valid JSON).
fn json_to_py<'py>(py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyAny>> {
    let value: Value = serde_json::from_str(text).map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
    to_py(py, &value)
}

// ---------------------------------------------------------------------------------------------
// State (GIL released for the disk work)

/// Stores JSON text under `key` (canonicalized by the core).
#[pyfunction]
fn state_set(py: Python<'_>, environ: &Bound<'_, PyAny>, key: &str, json: &str) -> PyResult<()> {
    let env = snapshot(environ, Scope::State)?;
    py.detach(|| Host::process().state_set(&env, key, json))
        .or_raise(py)
}

/// The exception (not raised) for a `set` whose value Python could not serialize (`detail` says
/// why): the core reports a read-only process or a bad key first, as for any `set`.
#[pyfunction]
fn state_set_unserializable(
    py: Python<'_>,
    environ: &Bound<'_, PyAny>,
    key: &str,
    detail: &str,
) -> PyResult<Py<pyo3::exceptions::PyBaseException>> {
    let env = snapshot(environ, Scope::State)?;
    let error = Host::process().state_set_unserializable(&env, key, detail);
    Ok(core_error(py, error).into_value(py))
}

/// The JSON text stored under `key`, or `None`.
#[pyfunction]
fn state_get(py: Python<'_>, environ: &Bound<'_, PyAny>, key: &str) -> PyResult<Option<String>> {
    let env = snapshot(environ, Scope::StateRead)?;
    py.detach(|| Host::process().state_get(&env, key)).or_raise(py)
}

/// Whether `key` has a value.
#[pyfunction]
fn state_exists(py: Python<'_>, environ: &Bound<'_, PyAny>, key: &str) -> PyResult<bool> {
    let env = snapshot(environ, Scope::StateRead)?;
    py.detach(|| Host::process().state_exists(&env, key)).or_raise(py)
}

/// Removes `key`; whether it had a value.
#[pyfunction]
fn state_delete(py: Python<'_>, environ: &Bound<'_, PyAny>, key: &str) -> PyResult<bool> {
    let env = snapshot(environ, Scope::State)?;
    py.detach(|| Host::process().state_delete(&env, key)).or_raise(py)
}

/// Every key, sorted.
#[pyfunction]
fn state_list(py: Python<'_>, environ: &Bound<'_, PyAny>) -> PyResult<Vec<String>> {
    let env = snapshot(environ, Scope::StateRead)?;
    py.detach(|| Host::process().state_list(&env)).or_raise(py)
}

/// Removes every key.
#[pyfunction]
fn state_clear(py: Python<'_>, environ: &Bound<'_, PyAny>) -> PyResult<()> {
    let env = snapshot(environ, Scope::State)?;
    py.detach(|| Host::process().state_clear(&env)).or_raise(py)
}

// ---------------------------------------------------------------------------------------------
// Input and output

/// `(bot_id, config)` from `BOT_ID` and `BOT_CONFIG`.
#[pyfunction]
fn parse<'py>(py: Python<'py>, environ: &Bound<'py, PyAny>) -> PyResult<(String, Bound<'py, PyAny>)> {
    let env = snapshot(environ, Scope::Input)?;
    let (id, config) = host::input_parse(&env).or_raise(py)?;
    Ok((id, json_to_py(py, &config)?))
}

/// Writes `{"status": status, "message"[, "data"]}` (status `success` or `error`) to the result
/// file; returns the lines to print on stderr.
#[pyfunction]
#[pyo3(signature = (environ, status, message, data_json=None))]
fn report(
    py: Python<'_>,
    environ: &Bound<'_, PyAny>,
    status: &str,
    message: &str,
    data_json: Option<&str>,
) -> PyResult<Vec<String>> {
    let env = snapshot(environ, Scope::Input)?;
    py.detach(|| match status {
        "error" => host::input_error(&env, message, data_json),
        _ => host::input_success(&env, message, data_json),
    })
    .or_raise(py)
}

/// Writes a JSON value as it is to the result file; returns the lines to print on stderr.
#[pyfunction]
fn write_result(py: Python<'_>, environ: &Bound<'_, PyAny>, json: &str) -> PyResult<Vec<String>> {
    let env = snapshot(environ, Scope::Input)?;
    py.detach(|| host::input_result(&env, json)).or_raise(py)
}

/// The metric line for `metric_type` and data given as JSON text.
#[pyfunction]
fn metric_line(py: Python<'_>, metric_type: &str, data_json: &str) -> PyResult<String> {
    host::metric_line(metric_type, data_json).or_raise(py)
}

/// The log line for `message`, optional data as JSON text, optional level name.
#[pyfunction]
#[pyo3(signature = (message, data_json=None, level=None))]
fn log_line(py: Python<'_>, message: &str, data_json: Option<&str>, level: Option<&str>) -> PyResult<String> {
    host::log_line(message, data_json, level).or_raise(py)
}

/// The exception (not raised) for data Python could not serialize: `payload` is `"metric"`,
/// `"log"`, `"result_data"` (of success/error) or `"result"`.
#[pyfunction]
fn unserializable(
    py: Python<'_>,
    payload: &str,
    detail: &str,
) -> PyResult<Py<pyo3::exceptions::PyBaseException>> {
    let payload = match payload {
        "metric" => Payload::MetricData,
        "log" => Payload::LogData,
        "result_data" => Payload::ResultData,
        "result" => Payload::Result,
        other => {
            return Err(PyRuntimeError::new_err(format!("unknown payload {other:?}")));
        }
    };
    Ok(core_error(py, host::unserializable(payload, detail)).into_value(py))
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
    Host::process().register(path).or_raise(py)
}

/// Makes `paths` (the keys of `query._handlers`) the registered paths; returns them as stored.
#[pyfunction]
fn query_set_paths(py: Python<'_>, paths: Vec<String>) -> PyResult<Vec<String>> {
    Host::process().set_paths(&paths).or_raise(py)
}

/// Starts the query service in the mode Python's environment selects. Returns
/// `(mode, workers, lines)`: the mode name (`"ephemeral"`, `"server"`, `"info"`), the number of
/// handler threads to run, and the lines to print on stderr; on failure `(None, 0, [line])`, the
/// line saying why (print it, exit 1). Signals are left to Python.
///
/// With `keep_answer`, an ephemeral or info answer is not written by the core: `query_finish`
/// hands it back for Python to write.
#[pyfunction]
#[pyo3(signature = (environ, default_workers, keep_answer=false))]
fn query_start<'py>(
    py: Python<'py>,
    environ: &Bound<'py, PyAny>,
    default_workers: usize,
    keep_answer: bool,
) -> PyResult<(Option<&'static str>, usize, Vec<String>)> {
    check_pid(py)?;
    let env = snapshot(environ, Scope::Query)?;
    let options = StartOptions {
        default_workers,
        ..StartOptions::default()
    };
    let host = Host::process();
    let started = py.detach(|| {
        if keep_answer {
            host.start_keeping_answer(&env, options)
        } else {
            host.start(&env, options)
        }
    });
    match started {
        Ok(started) => {
            SERVICE_PID.store(std::process::id(), Ordering::Release);
            Ok((Some(started.mode.name()), started.workers, started.stderr))
        }
        Err(failure) => Ok((None, 0, vec![failure.line])),
    }
}

/// Waits up to `timeout` seconds (GIL released) for a request.
///
/// Returns `(id, path, params, strings)` for a request (`params` keeps JSON types, `strings` is
/// the core's string form), `None` when nothing arrived in time, and `()` when the service is done.
///
/// With `greedy`, a request already queued is taken without giving up the GIL (fewer thread
/// switches when one thread serves a busy queue); the wait itself always releases it.
#[pyfunction]
#[pyo3(signature = (timeout, greedy=false))]
fn query_next(py: Python<'_>, timeout: f64, greedy: bool) -> PyResult<Bound<'_, PyAny>> {
    check_pid(py)?;
    let host = Host::process();
    let wait = Duration::from_secs_f64(timeout.max(0.0));
    let first = if greedy {
        host.next(Duration::ZERO).or_raise(py)?
    } else {
        Next::Idle
    };
    let next = match first {
        Next::Idle if !wait.is_zero() || !greedy => py.detach(|| host.next(wait)).or_raise(py)?,
        other => other,
    };
    Ok(match next {
        Next::Request(request) => {
            let strings = json_to_py(py, &request.strings_json())?;
            let params = to_py_dict(py, &request.params)?;
            (request.id, request.path, params, strings)
                .into_pyobject(py)?
                .into_any()
        }
        Next::Idle => py.None().into_bound(py),
        Next::Done => PyTuple::empty(py).into_any(),
    })
}

fn respond(py: Python<'_>, id: u64, reply: Reply, detach: bool) -> PyResult<()> {
    check_pid(py)?;
    if detach {
        py.detach(|| Host::process().respond(id, reply))
    } else {
        Host::process().respond(id, reply)
    }
    .or_raise(py)
}

/// Answers request `id` with the handler's result as JSON text.
#[pyfunction]
fn query_respond(py: Python<'_>, id: u64, json: &str) -> PyResult<()> {
    respond(
        py,
        id,
        Reply::Json(json.to_owned()),
        json.len() > DETACH_RESPOND_BYTES,
    )
}

/// Answers request `id` with a handler error (HTTP 500, the message in the envelope).
#[pyfunction]
fn query_respond_error(py: Python<'_>, id: u64, message: &str) -> PyResult<()> {
    respond(py, id, Reply::Error(message.to_owned()), false)
}

/// Answers request `id` with a result Python could not serialize (`detail`: why).
#[pyfunction]
fn query_respond_unserializable(py: Python<'_>, id: u64, detail: &str) -> PyResult<()> {
    respond(py, id, Reply::Unserializable(detail.to_owned()), false)
}

/// Asks the server to stop (requests in flight still get their answer). A no-op in the other modes.
#[pyfunction]
fn query_stop(py: Python<'_>) -> PyResult<()> {
    check_pid(py)?;
    Host::process().stop().or_raise(py)
}

/// The answer Python writes itself: `(file, envelope JSON text)`.
type Answer = (String, String);

/// Waits (GIL released) until the service has finished. Returns `(exit_code, abandoned, lines,
/// answer)`: the code to exit with, whether a handler was given up on (exit now, without waiting
/// for it), the lines to print on stderr, and the answer to write when the service was started
/// with `keep_answer` (else `None`).
#[pyfunction]
fn query_finish(py: Python<'_>) -> PyResult<(i32, bool, Vec<String>, Option<Answer>)> {
    check_pid(py)?;
    let (finished, answer) = py.detach(|| Host::process().finish_with_answer()).or_raise(py)?;
    SERVICE_PID.store(0, Ordering::Release);
    let answer = answer.map(|a| (a.file.to_string_lossy().into_owned(), a.body));
    Ok((finished.exit_code, finished.abandoned, finished.stderr, answer))
}

/// The error line for an answer Python could not write to `file`: `errno` (the `OSError`'s, so
/// that the reason reads as in every SDK) or else `reason`.
#[pyfunction]
#[pyo3(signature = (file, errno=None, reason=""))]
fn result_write_error(file: &str, errno: Option<i32>, reason: &str) -> String {
    let reason = errno.map_or_else(
        || reason.to_owned(),
        |code| std::io::Error::from_raw_os_error(code).to_string(),
    );
    host::result_write_error(std::path::Path::new(file), &reason)
}

/// Whether this process answers queries (state is then read-only).
#[pyfunction]
fn is_query_mode(py: Python<'_>, environ: &Bound<'_, PyAny>) -> PyResult<bool> {
    let env = snapshot(environ, Scope::Query)?;
    Host::process().is_query_mode(&env).or_raise(py)
}

/// The bot configuration from `BOT_CONFIG` (`{}` when unset or not JSON).
#[pyfunction]
fn get_config<'py>(py: Python<'py>, environ: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let env = snapshot(environ, Scope::Query)?;
    json_to_py(py, &host::query_config(&env).or_raise(py)?)
}

/// The parameters of the query outside a handler (`QUERY_PARAMS` in ephemeral mode, else none):
/// `(typed, strings)`.
#[pyfunction]
fn query_params<'py>(
    py: Python<'py>,
    environ: &Bound<'py, PyAny>,
) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
    let env = snapshot(environ, Scope::Query)?;
    let (typed, strings) = host::query_params_json(&env).or_raise(py)?;
    Ok((json_to_py(py, &typed)?, json_to_py(py, &strings)?))
}

/// The string form of parameters given as JSON object text (`{"n": 5}` gives `{"n": "5"}`), for
/// requests built in Python rather than taken from the core.
#[pyfunction]
fn param_strings<'py>(py: Python<'py>, params_json: &str) -> PyResult<Bound<'py, PyAny>> {
    json_to_py(py, &host::param_strings_json(params_json).or_raise(py)?)
}

/// Every status name of the core, in code order.
#[pyfunction]
fn status_names() -> Vec<&'static str> {
    Status::ALL.iter().map(|s| s.name()).collect()
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(state_set, m)?)?;
    m.add_function(wrap_pyfunction!(state_set_unserializable, m)?)?;
    m.add_function(wrap_pyfunction!(state_get, m)?)?;
    m.add_function(wrap_pyfunction!(state_exists, m)?)?;
    m.add_function(wrap_pyfunction!(state_delete, m)?)?;
    m.add_function(wrap_pyfunction!(state_list, m)?)?;
    m.add_function(wrap_pyfunction!(state_clear, m)?)?;
    m.add_function(wrap_pyfunction!(parse, m)?)?;
    m.add_function(wrap_pyfunction!(report, m)?)?;
    m.add_function(wrap_pyfunction!(write_result, m)?)?;
    m.add_function(wrap_pyfunction!(metric_line, m)?)?;
    m.add_function(wrap_pyfunction!(log_line, m)?)?;
    m.add_function(wrap_pyfunction!(unserializable, m)?)?;
    m.add_function(wrap_pyfunction!(query_register, m)?)?;
    m.add_function(wrap_pyfunction!(query_set_paths, m)?)?;
    m.add_function(wrap_pyfunction!(query_start, m)?)?;
    m.add_function(wrap_pyfunction!(query_next, m)?)?;
    m.add_function(wrap_pyfunction!(query_respond, m)?)?;
    m.add_function(wrap_pyfunction!(query_respond_error, m)?)?;
    m.add_function(wrap_pyfunction!(query_respond_unserializable, m)?)?;
    m.add_function(wrap_pyfunction!(query_stop, m)?)?;
    m.add_function(wrap_pyfunction!(query_finish, m)?)?;
    m.add_function(wrap_pyfunction!(result_write_error, m)?)?;
    m.add_function(wrap_pyfunction!(is_query_mode, m)?)?;
    m.add_function(wrap_pyfunction!(get_config, m)?)?;
    m.add_function(wrap_pyfunction!(query_params, m)?)?;
    m.add_function(wrap_pyfunction!(param_strings, m)?)?;
    m.add_function(wrap_pyfunction!(status_names, m)?)?;
    Ok(())
}
