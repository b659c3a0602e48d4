//! napi-rs addon over the host API of the the0 core (`the0_sdk::host`), loaded by the
//! `@the0/sdk` npm package as `the0.node`.
//!
//! Conversions only: JavaScript values arrive as JSON text or strings, the core applies every
//! rule, and its answer goes back as JSON text, a string, a boolean or lines to print. A failure
//! of the core is thrown as a JavaScript `Error` whose `code` is the core's stable status name
//! (`"READ_ONLY"`, `"INVALID_KEY"`...) and whose message is the core's text, word for word; the
//! TypeScript skin turns it into `The0Error` / `ReadOnlyStateError`.
//!
//! The environment is the caller's: calls that read variables take the `process.env` of the
//! calling JavaScript thread (a worker thread has its own), and hand the core a snapshot of the
//! names the call reads. Each JavaScript environment (the main thread, each worker thread) has its
//! own [`Host`]: its own registered paths, query service and read-only guard, as each had its own
//! module instance with upstream's pure-JavaScript SDK.
//!
//! Queries use the core's poll model. The core never calls into JavaScript: [`query_next`]
//! returns a Promise whose blocking wait runs on a Tokio blocking thread and which settles on the
//! JavaScript thread, so the event loop keeps running while it waits, several handlers can be in
//! flight, and nothing (no thread-safe function, no handle) stays referenced once the service is
//! done — the process exits by itself.

use std::sync::Arc;
use std::time::Duration;

use napi::Env;
use napi::bindgen_prelude::*;
use napi_derive::napi;
use the0_sdk::host::{self, Host, Next, Payload, Reply, Scope, StartOptions};
use the0_sdk::{Error as CoreError, Status as CoreStatus};

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

/// A failure of napi itself (reading `process.env`, instance data), with the core's PANIC status.
fn napi_failure(e: napi::Error) -> napi::Error<Code> {
    napi::Error::new(Code(CoreStatus::Panic.name()), e.reason.clone())
}

/// A bad argument found here (not by the core), reported with the core's INVALID_ARGUMENT status.
fn invalid_argument(message: String) -> napi::Error<Code> {
    napi::Error::new(Code(CoreStatus::InvalidArgument.name()), message)
}

/// The [`Host`] of the calling JavaScript environment, created on first use.
fn host_of(env: &Env) -> Result<Arc<Host>, Code> {
    if let Some(host) = env.get_instance_data::<Arc<Host>>().map_err(napi_failure)? {
        return Ok(Arc::clone(host));
    }
    let host = Arc::new(Host::new());
    env.set_instance_data(Arc::clone(&host), (), |_| {})
        .map_err(napi_failure)?;
    Ok(host)
}

/// The caller's view of the names of `scope`, read from its `process.env`.
fn snapshot(process_env: &Object, scope: Scope) -> Result<host::Env, Code> {
    let mut failure = None;
    let env = host::Env::capture(scope, |name| {
        process_env
            .get_named_property_unchecked::<Option<String>>(name)
            .map_err(|e| failure = Some(napi_failure(e)))
            .ok()
            .flatten()
    });
    failure.map_or(Ok(env), Err)
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
pub fn state_set(env: Env, process_env: Object, key: String, json: String) -> Result<(), Code> {
    let view = snapshot(&process_env, Scope::State)?;
    host_of(&env)?.state_set(&view, &key, &json).map_err(thrown)
}

/// Throws the error of a `set` whose value JavaScript could not serialize (`detail`: why): a
/// read-only process or a bad key first, as for any `set`.
#[napi]
pub fn state_set_unserializable(
    env: Env,
    process_env: Object,
    key: String,
    detail: String,
) -> Result<(), Code> {
    let view = snapshot(&process_env, Scope::State)?;
    Err(thrown(
        host_of(&env)?.state_set_unserializable(&view, &key, &detail),
    ))
}

/// The JSON text stored under `key`, or `null` when the key has no value.
#[napi]
pub fn state_get(env: Env, process_env: Object, key: String) -> Result<Option<String>, Code> {
    let view = snapshot(&process_env, Scope::StateRead)?;
    host_of(&env)?.state_get(&view, &key).map_err(thrown)
}

/// Whether `key` has a value.
#[napi]
pub fn state_exists(env: Env, process_env: Object, key: String) -> Result<bool, Code> {
    let view = snapshot(&process_env, Scope::StateRead)?;
    host_of(&env)?.state_exists(&view, &key).map_err(thrown)
}

/// Removes `key`; whether it had a value.
#[napi]
pub fn state_delete(env: Env, process_env: Object, key: String) -> Result<bool, Code> {
    let view = snapshot(&process_env, Scope::State)?;
    host_of(&env)?.state_delete(&view, &key).map_err(thrown)
}

/// Every key with a value, sorted.
#[napi]
pub fn state_list(env: Env, process_env: Object) -> Result<Vec<String>, Code> {
    let view = snapshot(&process_env, Scope::StateRead)?;
    host_of(&env)?.state_list(&view).map_err(thrown)
}

/// Removes every key.
#[napi]
pub fn state_clear(env: Env, process_env: Object) -> Result<(), Code> {
    let view = snapshot(&process_env, Scope::State)?;
    host_of(&env)?.state_clear(&view).map_err(thrown)
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
pub fn input_parse(process_env: Object) -> Result<BotInput, Code> {
    let view = snapshot(&process_env, Scope::Input)?;
    let (id, config_json) = host::input_parse(&view).map_err(thrown)?;
    Ok(BotInput { id, config_json })
}

/// Writes `{"status":<"success"|"error">,"message":...[,"data":...]}` to the result file;
/// returns the lines to print on stderr (the skin exits after an error itself).
#[napi]
pub fn input_report(
    process_env: Object,
    status: String,
    message: String,
    data_json: Option<String>,
) -> Result<Vec<String>, Code> {
    let view = snapshot(&process_env, Scope::Input)?;
    let data = data_json.as_deref();
    match status.as_str() {
        "error" => host::input_error(&view, &message, data),
        _ => host::input_success(&view, &message, data),
    }
    .map_err(thrown)
}

/// Writes a value, as it is, to the result file; returns the lines to print on stderr.
#[napi]
pub fn input_result(process_env: Object, json: String) -> Result<Vec<String>, Code> {
    let view = snapshot(&process_env, Scope::Input)?;
    host::input_result(&view, &json).map_err(thrown)
}

/// The metric line (without newline) for `metric_type` and data given as JSON text.
#[napi]
pub fn metric_line(metric_type: String, data_json: String) -> Result<String, Code> {
    host::metric_line(&metric_type, &data_json).map_err(thrown)
}

/// The log line (without newline) for a message, optional data (JSON text) and optional level.
#[napi]
pub fn log_line(message: String, data_json: Option<String>, level: Option<String>) -> Result<String, Code> {
    host::log_line(&message, data_json.as_deref(), level.as_deref()).map_err(thrown)
}

/// Throws the error of data JavaScript could not serialize: `payload` is `metric`, `log`,
/// `result_data` (of success/error) or `result`; `detail` is why.
#[napi]
pub fn unserializable(payload: String, detail: String) -> Result<(), Code> {
    let payload = match payload.as_str() {
        "metric" => Payload::MetricData,
        "log" => Payload::LogData,
        "result_data" => Payload::ResultData,
        "result" => Payload::Result,
        other => return Err(invalid_argument(format!("unknown payload {other:?}"))),
    };
    Err(thrown(host::unserializable(payload, &detail)))
}

// ---------------------------------------------------------------------------------------------
// Query

/// Registers `path` and returns it as stored (a missing leading `/` is added).
#[napi]
pub fn query_register(env: Env, path: String) -> Result<String, Code> {
    host_of(&env)?.register(&path).map_err(thrown)
}

/// What `queryStart` did: the mode's name (`"ephemeral"`, `"server"`, `"info"`; `null` when the
/// service cannot start), the number of requests to keep in flight at once, and the lines to
/// print on stderr (on failure, why: print it and exit with code 1).
#[napi(object)]
pub struct QueryStarted {
    pub mode: Option<String>,
    pub workers: u32,
    pub stderr: Vec<String>,
}

/// Starts the query service in the mode `processEnv` selects. Signals are the skin's business.
#[napi]
pub fn query_start(env: Env, process_env: Object, default_workers: u32) -> Result<QueryStarted, Code> {
    let view = snapshot(&process_env, Scope::Query)?;
    let options = StartOptions {
        default_workers: default_workers as usize,
        ..StartOptions::default()
    };
    Ok(match host_of(&env)?.start(&view, options) {
        Ok(started) => QueryStarted {
            mode: Some(started.mode.name().to_owned()),
            workers: u32::try_from(started.workers).unwrap_or(u32::MAX),
            stderr: started.stderr,
        },
        Err(failure) => QueryStarted {
            mode: None,
            workers: 0,
            stderr: vec![failure.line],
        },
    })
}

/// One request taken from the core's queue.
#[napi(object)]
pub struct QueryIncoming {
    /// Pass to `queryRespond` / `queryRespondError` / `queryRespondUnserializable`.
    pub id: i64,
    pub path: String,
    /// The parameters with their JSON types, as JSON object text.
    pub params_json: String,
    /// The parameters in string form (keys sorted), as JSON object text.
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

fn incoming(request: host::Request) -> QueryIncoming {
    let (params_json, strings_json) = if request.params.is_empty() {
        ("{}".to_owned(), "{}".to_owned())
    } else {
        (request.params_json(), request.strings_json())
    };
    QueryIncoming {
        id: request.id as i64,
        path: request.path,
        params_json,
        strings_json,
    }
}

/// Waits up to `timeout` for the first request, then takes up to `max - 1` more that are
/// already queued, without waiting.
fn next_batch(host: &Host, timeout: Duration, max: usize) -> QueryBatch {
    let mut batch = QueryBatch {
        requests: Vec::new(),
        done: false,
        error: None,
    };
    let mut wait = timeout;
    while batch.requests.len() < max {
        match host.next(wait) {
            Ok(Next::Request(request)) => batch.requests.push(incoming(request)),
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
#[napi(ts_return_type = "Promise<QueryBatch>")]
pub fn query_next(env: &Env, timeout_ms: u32, max: u32) -> Result<PromiseRaw<'_, QueryBatch>, Code> {
    let host = host_of(env)?;
    let max = max.max(1) as usize;
    let timeout = Duration::from_millis(u64::from(timeout_ms));
    env.spawn_future(async move {
        Ok(spawn_blocking(move || next_batch(&host, timeout, max))
            .await
            .unwrap_or_else(|e| QueryBatch {
                requests: Vec::new(),
                done: false,
                error: Some(panic_failure("query wait failed", e)),
            }))
    })
    .map_err(napi_failure)
}

fn request_id(id: i64) -> Result<u64, Code> {
    u64::try_from(id).map_err(|_| invalid_argument(format!("invalid query request id {id}")))
}

fn respond(env: &Env, id: i64, reply: Reply) -> Result<(), Code> {
    host_of(env)?.respond(request_id(id)?, reply).map_err(thrown)
}

/// Answers request `id` with the handler's result as JSON text (checked and made canonical by
/// the core; invalid text is answered 500 and thrown as INVALID_JSON).
#[napi]
pub fn query_respond(env: Env, id: i64, json: String) -> Result<(), Code> {
    respond(&env, id, Reply::Json(json))
}

/// Answers request `id` with a handler failure (500 with `message`).
#[napi]
pub fn query_respond_error(env: Env, id: i64, message: String) -> Result<(), Code> {
    respond(&env, id, Reply::Error(message))
}

/// Answers request `id` with a result JavaScript could not serialize (500, `detail`: why).
#[napi]
pub fn query_respond_unserializable(env: Env, id: i64, detail: String) -> Result<(), Code> {
    respond(&env, id, Reply::Unserializable(detail))
}

/// Asks the server to stop; requests in flight still get their answer.
#[napi]
pub fn query_stop(env: Env) -> Result<(), Code> {
    host_of(&env)?.stop().map_err(thrown)
}

/// How the service finished: the process exit code (0 or 1), whether a handler was given up on
/// (exit now without waiting for it), the lines to print on stderr, or the failure of `finish`.
#[napi(object)]
pub struct QueryFinished {
    pub exit_code: i32,
    pub abandoned: bool,
    pub stderr: Vec<String>,
    pub error: Option<CoreFailure>,
}

/// Resolves, once the service has finished, with how it finished.
#[napi(ts_return_type = "Promise<QueryFinished>")]
pub fn query_finish(env: &Env) -> Result<PromiseRaw<'_, QueryFinished>, Code> {
    let host = host_of(env)?;
    env.spawn_future(async move {
        let outcome = spawn_blocking(move || host.finish())
            .await
            .map_err(|e| panic_failure("query finish failed", e))
            .and_then(|finished| finished.map_err(CoreFailure::from));
        Ok(match outcome {
            Ok(finished) => QueryFinished {
                exit_code: finished.exit_code,
                abandoned: finished.abandoned,
                stderr: finished.stderr,
                error: None,
            },
            Err(e) => QueryFinished {
                exit_code: 1,
                abandoned: false,
                stderr: Vec::new(),
                error: Some(e),
            },
        })
    })
    .map_err(napi_failure)
}

/// The bot configuration from `BOT_CONFIG` as JSON text (`{}` when unset or invalid).
#[napi]
pub fn query_config(process_env: Object) -> Result<String, Code> {
    let view = snapshot(&process_env, Scope::Query)?;
    host::query_config(&view).map_err(thrown)
}

/// Parameters as JSON object text, with their types and in string form.
#[napi(object)]
pub struct QueryParams {
    pub params_json: String,
    pub strings_json: String,
}

/// The parameters of the ephemeral query (`QUERY_PARAMS`), `{}` outside query mode. (Inside a
/// handler the skin uses the request's own parameters.)
#[napi]
pub fn query_params(process_env: Object) -> Result<QueryParams, Code> {
    let view = snapshot(&process_env, Scope::Query)?;
    let (params_json, strings_json) = host::query_params_json(&view).map_err(thrown)?;
    Ok(QueryParams {
        params_json,
        strings_json,
    })
}

/// The string form of parameters given as JSON object text, keys sorted, as JSON object text.
#[napi]
pub fn param_strings(params_json: String) -> Result<String, Code> {
    host::param_strings_json(&params_json).map_err(thrown)
}

/// Whether this JavaScript environment serves queries (state is then read-only).
#[napi]
pub fn query_is_query_mode(env: Env, process_env: Object) -> Result<bool, Code> {
    let view = snapshot(&process_env, Scope::Query)?;
    host_of(&env)?.is_query_mode(&view).map_err(thrown)
}
