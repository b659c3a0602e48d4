//! The Rust SDK's conformance driver. Every SDK has a driver with this same command line:
//!
//! ```text
//! driver query [--custom-info]          register the standard handlers, then query.run()
//! driver state set KEY JSON | get KEY | exists KEY | delete KEY | list | clear
//! driver read-loop KEY COUNT            read KEY COUNT times, report torn or missing reads
//! driver input parse | success MSG [DATA] | error MSG | result JSON | metric TYPE JSON
//!              | log MSG [DATA|-] [LEVEL]
//! ```
//!
//! `state` and `input` print one JSON line: `{"ok": <result>}` or
//! `{"error": {"status": "<STATUS>", "message": "<text>"}}`.

use std::process::ExitCode;
use std::thread;
use std::time::Duration;

use serde_json::{Value, json};
use the0_sdk::input::{self, LogLevel};
use the0_sdk::{Error, query, state};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    match words.as_slice() {
        ["query", rest @ ..] => {
            run_query(rest.contains(&"--custom-info"));
            ExitCode::SUCCESS
        }
        ["state", op @ ..] => print_outcome(state_op(op)),
        ["read-loop", key, count] => read_loop(key, count.parse().expect("COUNT is a number")),
        ["input", op @ ..] => print_outcome(input_op(op)),
        _ => {
            eprintln!("usage: the0-driver-rust query|state|read-loop|input ... (see the source header)");
            ExitCode::from(2)
        }
    }
}

fn run_query(custom_info: bool) {
    query::handler(
        "/echo",
        |req| json!({"path": req.path, "params": req.values(), "strings": req.params}),
    );
    query::try_handler("/fail", |_req| Err::<Value, _>("deliberate failure"));
    query::handler("/sleep", |req| {
        let ms: u64 = req.get_or("ms", "0").parse().unwrap_or(0);
        thread::sleep(Duration::from_millis(ms));
        json!({"slept_ms": ms})
    });
    query::handler("/state", |req| {
        let key = req.get_or("key", "");
        match state::get_opt::<Value>(&key) {
            Ok(value) => json!({"key": key, "exists": value.is_some(), "value": value}),
            Err(e) => json!({"key": key, "error": error_json(&e)}),
        }
    });
    query::handler("/write", |req| {
        let key = req.get_or("key", "");
        write_probe(state::set_json(&key, &req.get_or("value", "null")))
    });
    query::handler("/config", |_req| query::get_config());
    query::handler("/params", |_req| json!(query::get_params()));
    if custom_info {
        query::handler("/info", |_req| write_probe(state::try_set("info-probe", &true)));
    }
    query::run();
}

/// The outcome of a state write attempted by a query handler.
fn write_probe(outcome: the0_sdk::Result<()>) -> Value {
    match outcome {
        Ok(()) => json!({"written": true}),
        Err(e) => json!({"written": false, "error": error_json(&e)}),
    }
}

fn error_json(e: &Error) -> Value {
    json!({"status": e.status().name(), "message": e.to_string()})
}

fn print_outcome(outcome: the0_sdk::Result<Value>) -> ExitCode {
    let line = match outcome {
        Ok(value) => json!({"ok": value}),
        Err(e) => json!({"error": error_json(&e)}),
    };
    println!("{line}");
    ExitCode::SUCCESS
}

fn state_op(op: &[&str]) -> the0_sdk::Result<Value> {
    Ok(match op {
        ["set", key, value] => {
            state::set_json(key, value)?;
            Value::Null
        }
        ["get", key] => match state::get_opt::<Value>(key)? {
            Some(value) => json!({"found": true, "value": value}),
            None => json!({"found": false}),
        },
        ["exists", key] => json!(state::try_exists(key)?),
        ["delete", key] => json!(state::try_delete(key)?),
        ["list"] => json!(state::try_list()?),
        ["clear"] => {
            state::try_clear()?;
            Value::Null
        }
        other => {
            return Err(Error::InvalidArgument(format!(
                "unknown state operation {other:?}"
            )));
        }
    })
}

fn read_loop(key: &str, count: u64) -> ExitCode {
    let (mut missing, mut torn, mut failed) = (0u64, 0u64, 0u64);
    for _ in 0..count {
        match state::get_json(key) {
            Ok(Some(_)) => {}
            Ok(None) => missing += 1,
            Err(Error::CorruptState { .. }) => torn += 1,
            Err(_) => failed += 1,
        }
    }
    println!(
        "{}",
        json!({"reads": count, "missing": missing, "torn": torn, "failed": failed})
    );
    ExitCode::SUCCESS
}

fn input_op(op: &[&str]) -> the0_sdk::Result<Value> {
    let json_arg = |text: &str| the0_sdk::json::parse("argument", text);
    Ok(match op {
        ["parse"] => {
            let (bot_id, config) = input::parse()?;
            json!({"bot_id": bot_id, "config": config})
        }
        ["success", message] => {
            input::success(message);
            Value::Null
        }
        ["success", message, data] => {
            input::success_with_data(message, &json_arg(data)?);
            Value::Null
        }
        ["error", message] => input::error(message),
        ["result", data] => {
            input::result(&json_arg(data)?);
            Value::Null
        }
        ["metric", kind, data] => {
            input::metric(kind, &json_arg(data)?);
            Value::Null
        }
        ["log", message, rest @ ..] => {
            let data = match rest.first() {
                Some(&"-") | None => None,
                Some(text) => Some(json_arg(text)?),
            };
            let level = rest.get(1).map(|l| l.parse::<LogLevel>()).transpose()?;
            input::log(message, data.as_ref(), level);
            Value::Null
        }
        other => {
            return Err(Error::InvalidArgument(format!(
                "unknown input operation {other:?}"
            )));
        }
    })
}
