//! The cxx bridge of the C++ SDK: the core's host API (`the0_sdk::host`), reached from C++.
//!
//! Conversions only. Values cross as JSON text (the C++ skin, `sdk-cpp`, calls
//! `nlohmann::json::dump` and `parse`); every rule lives in the core. A failure comes back as a
//! [`ffi::Fault`] carrying the core's status code, its name and its message word for word, which
//! the skin throws as the matching C++ exception (`the0::InvalidKeyError`,
//! `the0::ReadOnlyStateError`, `the0::Error`).
//!
//! Text from C++ arrives as bytes (`rust::Slice<const uint8_t>`), not `rust::Str`, so that a
//! `std::string` that is not UTF-8 becomes the core's `INVALID_ARGUMENT` naming the argument
//! instead of a `std::invalid_argument` thrown by cxx.
//!
//! The environment is C++'s own: C and C++ read and write the process environment (`getenv`,
//! `setenv`), so every call passes [`Env::Native`]. The streams are C++'s too: lines come back for
//! the skin to write on `std::cout` / `std::cerr`. Handlers run on threads the skin owns, polling
//! [`query_next`] and answering with `query_respond_*`; nothing here calls into C++.

use std::time::Duration;

use the0_sdk::host::{self, Env, Host, Next, Payload, Reply, StartOptions};
use the0_sdk::{Error, Result};

#[cxx::bridge(namespace = "the0::bridge")]
mod ffi {
    /// What went wrong in a call: the core's status (`code` 0 and empty texts: nothing), its name
    /// (`"READ_ONLY"`) and its message.
    #[derive(Default)]
    struct Fault {
        code: i32,
        status: String,
        message: String,
    }

    /// One query parameter in string form.
    struct Param {
        key: String,
        value: String,
    }

    /// What [`query_next`] found.
    enum Poll {
        /// A request to handle.
        Request,
        /// Nothing arrived within the timeout: poll again.
        Idle,
        /// The service has finished: stop polling.
        Done,
    }

    /// A request taken from the core's queue (`poll == Request`), or why there is none.
    struct Incoming {
        poll: Poll,
        id: u64,
        path: String,
        /// The parameters in string form (strings as they are, other values as JSON text).
        strings: Vec<Param>,
        /// The parameters with their JSON types, as a JSON object.
        values_json: String,
    }

    /// What `query_start` hands back: the mode, the handler threads to run, and the lines to
    /// print on stderr; `ok == false` when the service cannot start (print `stderr`, exit 1).
    #[derive(Default)]
    struct Started {
        ok: bool,
        mode: String,
        workers: usize,
        stderr: Vec<String>,
    }

    /// How the service ended: the exit code, whether a handler was given up on, the lines to
    /// print on stderr.
    #[derive(Default)]
    struct Finished {
        exit_code: i32,
        abandoned: bool,
        stderr: Vec<String>,
    }

    /// A value C++ could not turn into JSON, named in the error message.
    enum Payload {
        /// The data of `metric`.
        MetricData,
        /// The data of `log`.
        LogData,
        /// The data of `success` and `error`.
        ResultData,
        /// The value of `result`.
        Result,
    }

    /// The bot id and its configuration as JSON text.
    #[derive(Default)]
    struct Parsed {
        bot_id: String,
        config_json: String,
    }

    extern "Rust" {
        fn state_set(key: &[u8], json: &[u8], fault: &mut Fault);
        fn state_set_unserializable(key: &[u8], detail: &[u8]) -> Fault;
        fn state_get(key: &[u8], json: &mut String, fault: &mut Fault) -> bool;
        fn state_exists(key: &[u8], fault: &mut Fault) -> bool;
        fn state_delete(key: &[u8], fault: &mut Fault) -> bool;
        fn state_list(fault: &mut Fault) -> Vec<String>;
        fn state_clear(fault: &mut Fault);

        fn input_parse(fault: &mut Fault) -> Parsed;
        fn input_report(
            success: bool,
            message: &[u8],
            data_json: &[u8],
            has_data: bool,
            fault: &mut Fault,
        ) -> Vec<String>;
        fn input_result(json: &[u8], fault: &mut Fault) -> Vec<String>;
        fn metric_line(metric_type: &[u8], data_json: &[u8], fault: &mut Fault) -> String;
        fn log_line(
            message: &[u8],
            data_json: &[u8],
            has_data: bool,
            level: &[u8],
            has_level: bool,
            fault: &mut Fault,
        ) -> String;
        fn unserializable(payload: Payload, detail: &[u8]) -> Fault;

        fn query_register(path: &[u8], fault: &mut Fault) -> String;
        fn query_start(default_workers: usize) -> Started;
        fn query_next(timeout_ms: u64, fault: &mut Fault) -> Incoming;
        fn query_respond_json(id: u64, json: &[u8], fault: &mut Fault);
        fn query_respond_error(id: u64, message: &[u8], fault: &mut Fault);
        fn query_respond_unserializable(id: u64, detail: &[u8], fault: &mut Fault);
        fn query_stop(fault: &mut Fault);
        fn query_finish(fault: &mut Fault) -> Finished;
        fn is_query_mode(fault: &mut Fault) -> bool;
        fn query_config(fault: &mut Fault) -> String;
        fn query_params(fault: &mut Fault) -> Vec<Param>;
        fn param_strings(values_json: &[u8], fault: &mut Fault) -> Vec<Param>;
    }
}

use ffi::{Fault, Incoming, Param, Parsed, Poll};

// ---------------------------------------------------------------------------------------------
// Conversions

/// The argument `name` as text; bytes that are not UTF-8 are the caller's mistake.
fn text<'a>(name: &str, bytes: &'a [u8]) -> Result<&'a str> {
    std::str::from_utf8(bytes).map_err(|e| Error::InvalidArgument(format!("{name} is not valid UTF-8: {e}")))
}

/// The optional argument `name`: present when `given`.
fn optional<'a>(name: &str, bytes: &'a [u8], given: bool) -> Result<Option<&'a str>> {
    given.then(|| text(name, bytes)).transpose()
}

fn fault_of(error: &Error) -> Fault {
    let status = error.status();
    Fault {
        code: status.code(),
        status: status.name().to_owned(),
        message: error.to_string(),
    }
}

/// The value of `outcome`; on failure the fault is recorded and a default value returned (the
/// skin throws before looking at it).
fn settle<T: Default>(fault: &mut Fault, outcome: Result<T>) -> T {
    outcome.unwrap_or_else(|error| {
        *fault = fault_of(&error);
        T::default()
    })
}

fn params_from_json(strings_json: &str) -> Result<Vec<Param>> {
    let object: serde_json::Map<String, serde_json::Value> = serde_json::from_str(strings_json)
        .map_err(|e| Error::InvalidArgument(format!("the core's parameter strings: {e}")))?;
    Ok(object
        .into_iter()
        .map(|(key, value)| Param {
            key,
            value: value.as_str().unwrap_or_default().to_owned(),
        })
        .collect())
}

fn host() -> &'static Host {
    Host::process()
}

// ---------------------------------------------------------------------------------------------
// State

fn state_set(key: &[u8], json: &[u8], fault: &mut Fault) {
    let outcome = (|| host().state_set(&Env::Native, text("key", key)?, text("value", json)?))();
    settle(fault, outcome);
}

fn state_set_unserializable(key: &[u8], detail: &[u8]) -> Fault {
    let error = match (text("key", key), text("detail", detail)) {
        (Ok(key), Ok(detail)) => host().state_set_unserializable(&Env::Native, key, detail),
        (Err(e), _) | (_, Err(e)) => e,
    };
    fault_of(&error)
}

fn state_get(key: &[u8], json: &mut String, fault: &mut Fault) -> bool {
    let outcome = (|| host().state_get(&Env::Native, text("key", key)?))();
    match settle(fault, outcome) {
        Some(stored) => {
            *json = stored;
            true
        }
        None => false,
    }
}

fn state_exists(key: &[u8], fault: &mut Fault) -> bool {
    let outcome = (|| host().state_exists(&Env::Native, text("key", key)?))();
    settle(fault, outcome)
}

fn state_delete(key: &[u8], fault: &mut Fault) -> bool {
    let outcome = (|| host().state_delete(&Env::Native, text("key", key)?))();
    settle(fault, outcome)
}

fn state_list(fault: &mut Fault) -> Vec<String> {
    settle(fault, host().state_list(&Env::Native))
}

fn state_clear(fault: &mut Fault) {
    settle(fault, host().state_clear(&Env::Native));
}

// ---------------------------------------------------------------------------------------------
// Input and output

fn input_parse(fault: &mut Fault) -> Parsed {
    let outcome = host::input_parse(&Env::Native).map(|(bot_id, config_json)| Parsed { bot_id, config_json });
    settle(fault, outcome)
}

/// `success` (`{"status":"success",...}`) or `error` (`{"status":"error",...}`, after which the
/// skin exits with code 1) to the result file; the lines to print on stderr.
fn input_report(
    success: bool,
    message: &[u8],
    data_json: &[u8],
    has_data: bool,
    fault: &mut Fault,
) -> Vec<String> {
    let report = if success {
        host::input_success
    } else {
        host::input_error
    };
    let outcome = (|| {
        report(
            &Env::Native,
            text("message", message)?,
            optional("data", data_json, has_data)?,
        )
    })();
    settle(fault, outcome)
}

fn input_result(json: &[u8], fault: &mut Fault) -> Vec<String> {
    let outcome = (|| host::input_result(&Env::Native, text("result", json)?))();
    settle(fault, outcome)
}

fn metric_line(metric_type: &[u8], data_json: &[u8], fault: &mut Fault) -> String {
    let outcome = (|| host::metric_line(text("metric type", metric_type)?, text("data", data_json)?))();
    settle(fault, outcome)
}

fn log_line(
    message: &[u8],
    data_json: &[u8],
    has_data: bool,
    level: &[u8],
    has_level: bool,
    fault: &mut Fault,
) -> String {
    let outcome = (|| {
        host::log_line(
            text("message", message)?,
            optional("data", data_json, has_data)?,
            optional("level", level, has_level)?,
        )
    })();
    settle(fault, outcome)
}

fn unserializable(payload: ffi::Payload, detail: &[u8]) -> Fault {
    let payload = match payload {
        ffi::Payload::MetricData => Some(Payload::MetricData),
        ffi::Payload::LogData => Some(Payload::LogData),
        ffi::Payload::ResultData => Some(Payload::ResultData),
        ffi::Payload::Result => Some(Payload::Result),
        _ => None,
    };
    let error = match (payload, text("detail", detail)) {
        (Some(payload), Ok(detail)) => host::unserializable(payload, detail),
        (None, _) => Error::InvalidArgument("unknown payload".to_owned()),
        (_, Err(e)) => e,
    };
    fault_of(&error)
}

// ---------------------------------------------------------------------------------------------
// Queries

fn query_register(path: &[u8], fault: &mut Fault) -> String {
    let outcome = (|| host().register(text("path", path)?))();
    settle(fault, outcome)
}

fn query_start(default_workers: usize) -> ffi::Started {
    // C++ has no signal handling of its own: the core stops the server on SIGTERM / SIGINT.
    let options = StartOptions {
        handle_signals: true,
        exit_on_timeout: false,
        default_workers,
    };
    match host().start(&Env::Native, options) {
        Ok(started) => ffi::Started {
            ok: true,
            mode: started.mode.name().to_owned(),
            workers: started.workers,
            stderr: started.stderr,
        },
        Err(failure) => ffi::Started {
            stderr: vec![failure.line],
            ..ffi::Started::default()
        },
    }
}

fn no_request(poll: Poll) -> Incoming {
    Incoming {
        poll,
        id: 0,
        path: String::new(),
        strings: Vec::new(),
        values_json: String::new(),
    }
}

fn query_next(timeout_ms: u64, fault: &mut Fault) -> Incoming {
    match host().next(Duration::from_millis(timeout_ms)) {
        Ok(Next::Request(request)) => Incoming {
            poll: Poll::Request,
            id: request.id,
            strings: request
                .string_params()
                .into_iter()
                .map(|(key, value)| Param { key, value })
                .collect(),
            values_json: request.params_json(),
            path: request.path,
        },
        Ok(Next::Idle) => no_request(Poll::Idle),
        Ok(Next::Done) => no_request(Poll::Done),
        Err(error) => {
            *fault = fault_of(&error);
            no_request(Poll::Done)
        }
    }
}

fn respond(id: u64, reply: Result<Reply>, fault: &mut Fault) {
    settle(fault, reply.and_then(|reply| host().respond(id, reply)));
}

fn query_respond_json(id: u64, json: &[u8], fault: &mut Fault) {
    respond(id, text("result", json).map(|t| Reply::Json(t.to_owned())), fault);
}

fn query_respond_error(id: u64, message: &[u8], fault: &mut Fault) {
    respond(
        id,
        text("message", message).map(|t| Reply::Error(t.to_owned())),
        fault,
    );
}

fn query_respond_unserializable(id: u64, detail: &[u8], fault: &mut Fault) {
    respond(
        id,
        text("detail", detail).map(|t| Reply::Unserializable(t.to_owned())),
        fault,
    );
}

fn query_stop(fault: &mut Fault) {
    settle(fault, host().stop());
}

fn query_finish(fault: &mut Fault) -> ffi::Finished {
    let outcome = host().finish().map(|finished| ffi::Finished {
        exit_code: finished.exit_code,
        abandoned: finished.abandoned,
        stderr: finished.stderr,
    });
    settle(fault, outcome)
}

fn is_query_mode(fault: &mut Fault) -> bool {
    settle(fault, host().is_query_mode(&Env::Native))
}

fn query_config(fault: &mut Fault) -> String {
    settle(fault, host::query_config(&Env::Native))
}

fn query_params(fault: &mut Fault) -> Vec<Param> {
    let outcome = host::query_params_json(&Env::Native).and_then(|(_, strings)| params_from_json(&strings));
    settle(fault, outcome)
}

fn param_strings(values_json: &[u8], fault: &mut Fault) -> Vec<Param> {
    let outcome = (|| params_from_json(&host::param_strings_json(text("params", values_json)?)?))();
    settle(fault, outcome)
}
