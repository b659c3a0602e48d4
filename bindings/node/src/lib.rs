//! napi-rs addon over the the0 core, loaded by the `@the0/sdk` npm package as `the0.node`.
//!
//! Every function here is a thin conversion: JavaScript values arrive as JSON text or strings,
//! the core (`the0_sdk`) applies every rule, and its answer goes back as JSON text, a string or a
//! boolean. A failure of the core is thrown as a JavaScript `Error` whose `code` is the core's
//! stable status name (`"READ_ONLY"`, `"INVALID_KEY"`...) and whose message is the core's text,
//! word for word; the TypeScript skin turns it into `The0Error` / `ReadOnlyStateError`.
//!
//! Queries use the core's poll model. The core never calls into JavaScript: [`query_next`] is an
//! `async` function whose blocking wait runs on a Tokio blocking thread and whose Promise
//! settles on the JavaScript thread, so the event loop keeps running while it waits, several
//! handlers can be in flight, and nothing (no thread-safe function, no handle) stays referenced
//! once the service is done — the process exits by itself.

use std::time::Duration;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use serde_json::Value;
use the0_sdk::input::{self, LogLevel};
use the0_sdk::query::service::{self, StartOptions};
use the0_sdk::query::{self, Next, Reply};
use the0_sdk::{Error as CoreError, Status as CoreStatus, state};

/// The status name carried by a thrown error: one of the core's stable names (`Status::name`).
pub struct Code(&'static str);

impl AsRef<str> for Code {
    fn as_ref(&self) -> &str {
        self.0
    }
}

/// A core error as a JavaScript error: `code` = status name, message = the core's text.
fn thrown(e: CoreError) -> napi::Error<Code> {
    napi::Error::new(Code(e.status().name()), e.to_string())
}

/// A bad argument found here (not by the core), reported with the core's INVALID_ARGUMENT status.
fn invalid_argument(message: String) -> napi::Error<Code> {
    napi::Error::new(Code(CoreStatus::InvalidArgument.name()), message)
}

/// Parses JSON text produced by `JSON.stringify` in the skin.
fn json_value(what: &str, text: &str) -> Result<Value, Code> {
    the0_sdk::json::parse(what, text).map_err(thrown)
}

fn optional_value(what: &str, text: Option<String>) -> Result<Option<Value>, Code> {
    text.map(|t| json_value(what, &t)).transpose()
}

/// The version of this addon: the workspace version, shared with the core it was built from.
#[napi]
pub fn core_version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}

/// Every status name of the core, indexed by its stable code.
#[napi]
pub fn status_names() -> Vec<String> {
    CoreStatus::ALL.iter().map(|s| s.name().to_owned()).collect()
}

// ---------------------------------------------------------------------------------------------
// State

/// Stores JSON text under `key` (validated, made canonical and written atomically by the core).
#[napi]
pub fn state_set(key: String, json: String) -> Result<(), Code> {
    state::set_json(&key, &json).map_err(thrown)
}

/// The JSON text stored under `key`, or `null` when the key has no value.
#[napi]
pub fn state_get(key: String) -> Result<Option<String>, Code> {
    state::get_json(&key).map_err(thrown)
}

/// Whether `key` has a value.
#[napi]
pub fn state_exists(key: String) -> Result<bool, Code> {
    state::try_exists(&key).map_err(thrown)
}

/// Removes `key`; whether it had a value.
#[napi]
pub fn state_delete(key: String) -> Result<bool, Code> {
    state::delete(&key).map_err(thrown)
}

/// Every key with a value, sorted.
#[napi]
pub fn state_list() -> Result<Vec<String>, Code> {
    state::try_list().map_err(thrown)
}

/// Removes every key.
#[napi]
pub fn state_clear() -> Result<(), Code> {
    state::clear().map_err(thrown)
}

// ---------------------------------------------------------------------------------------------
// Input

/// `BOT_ID` and `BOT_CONFIG` as the core reads them.
#[napi(object)]
pub struct BotInput {
    pub id: String,
    /// The configuration as JSON text.
    pub config_json: String,
}

/// Reads `BOT_ID` and `BOT_CONFIG`.
#[napi]
pub fn input_parse() -> Result<BotInput, Code> {
    let (id, config) = input::parse().map_err(thrown)?;
    Ok(BotInput {
        id,
        config_json: config.to_string(),
    })
}

/// Writes `{"status":"success","message":...[,"data":...]}` to the result file (a write failure
/// is logged on stderr by the core, as in every SDK).
#[napi]
pub fn input_success(message: String, data_json: Option<String>) -> Result<(), Code> {
    match optional_value("success data", data_json)? {
        Some(data) => input::success_with_data(&message, &data),
        None => input::success(&message),
    }
    Ok(())
}

/// Writes `{"status":"error","message":...[,"data":...]}` to the result file. The skin exits the
/// process afterwards (through `process.exit`, so that Node's exit hooks run).
#[napi]
pub fn input_error(message: String, data_json: Option<String>) -> Result<(), Code> {
    let data = optional_value("error data", data_json)?;
    input::report_result(&input::status_result("error", &message, data.as_ref()));
    Ok(())
}

/// Writes a value, as it is, to the result file.
#[napi]
pub fn input_result(json: String) -> Result<(), Code> {
    input::result(&json_value("result", &json)?);
    Ok(())
}

/// The metric line (without newline) for `metric_type` and data given as JSON text.
#[napi]
pub fn format_metric(metric_type: String, data_json: String) -> Result<String, Code> {
    Ok(input::format_metric(
        &metric_type,
        &json_value("metric data", &data_json)?,
    ))
}

/// The log line (without newline) for a message, optional data (JSON text) and optional level.
#[napi]
pub fn format_log(message: String, data_json: Option<String>, level: Option<String>) -> Result<String, Code> {
    let level = level.map(|l| l.parse::<LogLevel>()).transpose().map_err(thrown)?;
    let data = optional_value("log data", data_json)?;
    Ok(input::format_log(&message, data.as_ref(), level))
}

// ---------------------------------------------------------------------------------------------
// Query

/// Registers `path` and returns it as stored (a missing leading `/` is added).
#[napi]
pub fn query_register(path: String) -> Result<String, Code> {
    service::register(&path).map_err(thrown)
}

/// Starts the query service in the mode detected from the environment and returns the mode's
/// name (`"ephemeral"`, `"server"` or `"info"`). Signals are the skin's business.
#[napi]
pub fn query_start() -> Result<String, Code> {
    service::start(StartOptions {
        handle_signals: false,
    })
    .map(|mode| mode.name().to_owned())
    .map_err(thrown)
}

/// One request taken from the core's queue.
#[napi(object)]
pub struct QueryIncoming {
    /// Pass to `queryRespond` / `queryRespondError`.
    pub id: i64,
    pub path: String,
    /// The parameters with their JSON types, as JSON object text.
    pub params_json: String,
    /// The parameters in string form (the core's `to_param_string`), as JSON object text.
    pub strings_json: String,
}

/// A core failure reported through a resolved value (async functions resolve rather than
/// reject, so that the status name survives the trip).
#[napi(object)]
pub struct CoreFailure {
    pub status: String,
    pub message: String,
}

impl From<CoreError> for CoreFailure {
    fn from(e: CoreError) -> Self {
        CoreFailure {
            status: e.status().name().to_owned(),
            message: e.to_string(),
        }
    }
}

fn panic_failure(what: &str, e: impl std::fmt::Display) -> CoreFailure {
    CoreFailure {
        status: CoreStatus::Panic.name().to_owned(),
        message: format!("{what}: {e}"),
    }
}

/// What `queryNext` found: requests (none when the wait timed out), whether the service is done
/// (no request will ever come again), or the failure of the wait.
#[napi(object)]
pub struct QueryBatch {
    pub requests: Vec<QueryIncoming>,
    pub done: bool,
    pub error: Option<CoreFailure>,
}

fn incoming(req: the0_sdk::query::Incoming) -> QueryIncoming {
    let (params_json, strings_json) = if req.params.is_empty() {
        ("{}".to_owned(), "{}".to_owned())
    } else {
        (
            req.params_json(),
            serde_json::to_string(&req.string_params()).expect("a string map always serializes"),
        )
    };
    QueryIncoming {
        id: req.id as i64,
        path: req.path,
        params_json,
        strings_json,
    }
}

/// Waits up to `timeout` for the first request, then takes up to `max - 1` more that are
/// already queued, without waiting.
fn next_batch(timeout: Duration, max: usize) -> QueryBatch {
    let mut batch = QueryBatch {
        requests: Vec::new(),
        done: false,
        error: None,
    };
    let mut wait = timeout;
    while batch.requests.len() < max {
        match service::next(wait) {
            Ok(Next::Request(req)) => batch.requests.push(incoming(req)),
            Ok(Next::Idle) => break,
            Ok(Next::Done) => {
                batch.done = true;
                break;
            }
            Err(e) => {
                batch.error = Some(e.into());
                break;
            }
        }
        wait = Duration::ZERO;
    }
    batch
}

/// Resolves with the next requests of the running service. The wait runs on a blocking thread,
/// never on the JavaScript thread.
#[napi]
pub async fn query_next(timeout_ms: u32, max: u32) -> QueryBatch {
    let max = max.max(1) as usize;
    let timeout = Duration::from_millis(u64::from(timeout_ms));
    spawn_blocking(move || next_batch(timeout, max))
        .await
        .unwrap_or_else(|e| QueryBatch {
            requests: Vec::new(),
            done: false,
            error: Some(panic_failure("query wait failed", e)),
        })
}

fn request_id(id: i64) -> Result<u64, Code> {
    u64::try_from(id).map_err(|_| invalid_argument(format!("invalid query request id {id}")))
}

/// Answers request `id` with the handler's result as JSON text (checked and made canonical by
/// the core; invalid text is answered 500 and thrown as INVALID_JSON).
#[napi]
pub fn query_respond(id: i64, json: String) -> Result<(), Code> {
    service::respond(request_id(id)?, Reply::Json(json)).map_err(thrown)
}

/// Answers request `id` with a handler failure (500 with `message`).
#[napi]
pub fn query_respond_error(id: i64, message: String) -> Result<(), Code> {
    service::respond(request_id(id)?, Reply::Error(message)).map_err(thrown)
}

/// Asks the server to stop; requests in flight still get their answer.
#[napi]
pub fn query_stop() -> Result<(), Code> {
    service::stop().map_err(thrown)
}

/// How the service finished: the process exit code (0 or 1), or the failure of `finish`.
#[napi(object)]
pub struct QueryFinished {
    pub exit_code: i32,
    pub error: Option<CoreFailure>,
}

/// Resolves, once the service has finished, with the process exit code.
#[napi]
pub async fn query_finish() -> QueryFinished {
    let outcome = spawn_blocking(service::finish)
        .await
        .map_err(|e| panic_failure("query finish failed", e))
        .and_then(|code| code.map_err(CoreFailure::from));
    match outcome {
        Ok(exit_code) => QueryFinished {
            exit_code,
            error: None,
        },
        Err(e) => QueryFinished {
            exit_code: 1,
            error: Some(e),
        },
    }
}

/// The bot configuration from `BOT_CONFIG` as JSON text (`{}` when unset or invalid).
#[napi]
pub fn query_get_config() -> String {
    query::get_config().to_string()
}

/// The parameters of the ephemeral query (`QUERY_PARAMS`) in string form, as JSON object text;
/// `{}` outside query mode. (Inside a handler the skin uses the request's own parameters.)
#[napi]
pub fn query_get_params() -> String {
    serde_json::to_string(&query::get_params()).expect("a string map always serializes")
}

/// Whether this process serves queries (state is then read-only).
#[napi]
pub fn query_is_query_mode() -> bool {
    query::is_query_mode()
}
