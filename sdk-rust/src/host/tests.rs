//! The host API end to end, in-process: each test builds its own [`Host`] and environment
//! snapshot, so tests run in parallel without touching the process environment.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

use super::*;
use crate::error::Status;

use crate::env::snapshot_of as snapshot;

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn line(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

const WAIT: Duration = Duration::from_secs(10);

fn take_request(host: &Host) -> Request {
    match host.next(WAIT).unwrap() {
        Next::Request(request) => request,
        other => panic!("expected a request, got {other:?}"),
    }
}

#[test]
fn state_follows_the_hosts_environment_at_every_call() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let host = Host::new();
    let in_a = snapshot(&[("STATE_DIR", a.path().to_str().unwrap())]);
    let in_b = snapshot(&[("STATE_DIR", b.path().to_str().unwrap())]);
    host.state_set(&in_a, "k", " [1, 2] ").unwrap();
    assert_eq!(host.state_get(&in_a, "k").unwrap().as_deref(), Some("[1,2]"));
    assert_eq!(host.state_get(&in_b, "k").unwrap(), None);
    assert_eq!(host.state_list_json(&in_a).unwrap(), r#"["k"]"#);
    assert!(host.state_exists(&in_a, "k").unwrap());
    assert!(host.state_delete(&in_a, "k").unwrap());
    host.state_clear(&in_b).unwrap();

    let lacking = Env::capture(Scope::Input, |_| None);
    let err = host.state_get(&lacking, "k").unwrap_err();
    assert_eq!(err.status(), Status::InvalidArgument);
    assert!(err.to_string().contains("STATE_DIR"), "{err}");
}

#[test]
fn query_path_in_the_hosts_view_makes_state_read_only() {
    let dir = tempfile::tempdir().unwrap();
    let host = Host::new();
    let dir_text = dir.path().to_str().unwrap();
    let querying = snapshot(&[("STATE_DIR", dir_text), ("QUERY_PATH", "/q")]);
    assert!(host.is_query_mode(&querying).unwrap());
    let err = host.state_set(&querying, "k", "1").unwrap_err();
    assert_eq!(err.status(), Status::ReadOnly);
    assert_eq!(
        err.to_string(),
        r#"state is read-only while this process serves queries: set("k") refused"#
    );
    assert_eq!(
        host.state_set_unserializable(&querying, "k", "x").status(),
        Status::ReadOnly
    );
    let writable = snapshot(&[("STATE_DIR", dir_text)]);
    assert!(!host.is_query_mode(&writable).unwrap());
    assert_eq!(
        host.state_set_unserializable(&writable, "k", "Object of type set is not JSON serializable")
            .to_string(),
        r#"value for state key "k" cannot be serialized: Object of type set is not JSON serializable"#
    );
}

#[test]
fn ephemeral_run_answers_once_and_releases_the_guard() {
    let dir = tempfile::tempdir().unwrap();
    let result = dir.path().join("q/result.json");
    let host = Host::new();
    assert_eq!(host.register("echo").unwrap(), "/echo");
    let env = snapshot(&[
        ("QUERY_PATH", "/echo"),
        ("QUERY_PARAMS", r#"{"b": 2, "a": "x"}"#),
        ("THE0_QUERY_RESULT_FILE", result.to_str().unwrap()),
    ]);
    let started = host.start(&env, StartOptions::default()).unwrap();
    assert_eq!(
        (started.mode, started.workers, started.stderr.len()),
        (Mode::Ephemeral, 1, 0)
    );
    let plain = snapshot(&[("STATE_DIR", dir.path().to_str().unwrap())]);
    assert!(
        host.is_query_mode(&plain).unwrap(),
        "serving makes state read-only"
    );
    let request = take_request(&host);
    assert_eq!(request.path, "/echo");
    assert_eq!(request.params_json(), r#"{"b":2,"a":"x"}"#);
    assert_eq!(request.strings_json(), r#"{"a":"x","b":"2"}"#, "sorted");
    host.respond(request.id, Reply::Json(r#"{"ok": true}"#.into()))
        .unwrap();
    assert_eq!(host.next(WAIT).unwrap(), Next::Done);
    let finished = host.finish().unwrap();
    assert_eq!(
        finished,
        Finished {
            exit_code: 0,
            abandoned: false,
            stderr: vec![]
        }
    );
    assert_eq!(read_json(&result), json!({"status": "ok", "data": {"ok": true}}));
    assert!(!host.is_query_mode(&plain).unwrap(), "finish releases the guard");
    assert_eq!(host.next(WAIT).unwrap_err().status(), Status::InvalidState);
}

#[test]
fn an_ephemeral_timeout_is_reported_not_an_exit() {
    let dir = tempfile::tempdir().unwrap();
    let result = dir.path().join("result.json");
    let host = Host::new();
    host.register("/slow").unwrap();
    let env = snapshot(&[
        ("QUERY_PATH", "/slow"),
        ("THE0_QUERY_TIMEOUT_MS", "50"),
        ("THE0_QUERY_RESULT_FILE", result.to_str().unwrap()),
    ]);
    host.start(&env, StartOptions::default()).unwrap();
    let request = take_request(&host); // and never answered in time
    let finished = host.finish().unwrap();
    assert_eq!((finished.exit_code, finished.abandoned), (1, true));
    assert_eq!(finished.stderr.len(), 1);
    assert_eq!(
        line(&finished.stderr[0])["message"],
        "handler for /slow timed out after 50 ms"
    );
    assert_eq!(
        read_json(&result),
        json!({"status": "error", "error": "handler for /slow timed out after 50 ms"})
    );
    assert_eq!(
        host.respond(request.id, Reply::Json("1".into()))
            .unwrap_err()
            .status(),
        Status::InvalidState,
        "the service is released"
    );
}

#[test]
fn info_mode_and_a_result_file_that_cannot_be_written() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, b"x").unwrap();
    let host = Host::new();
    let env = snapshot(&[(
        "THE0_QUERY_RESULT_FILE",
        blocker.join("result.json").to_str().unwrap(),
    )]);
    let started = host.start(&env, StartOptions::default()).unwrap();
    assert_eq!(started.mode, Mode::Info);
    assert_eq!(host.next(WAIT).unwrap(), Next::Done);
    let finished = host.finish().unwrap();
    assert_eq!((finished.exit_code, finished.abandoned), (1, false));
    let message = line(&finished.stderr[0])["message"].as_str().unwrap().to_owned();
    assert!(message.starts_with("cannot write query result "), "{message}");
}

#[test]
fn a_host_that_writes_the_answer_itself_gets_it_back_unwritten() {
    let dir = tempfile::tempdir().unwrap();
    let result = dir.path().join("result.json");
    let host = Host::new();
    host.register("/echo").unwrap();
    let ephemeral = snapshot(&[
        ("QUERY_PATH", "/echo"),
        ("QUERY_PARAMS", r#"{"n": 5}"#),
        ("THE0_QUERY_RESULT_FILE", result.to_str().unwrap()),
    ]);
    host.start_keeping_answer(&ephemeral, StartOptions::default())
        .unwrap();
    let request = take_request(&host);
    host.respond(request.id, Reply::Error("no price yet".into()))
        .unwrap();
    let (finished, answer) = host.finish_with_answer().unwrap();
    assert_eq!((finished.exit_code, finished.abandoned), (1, false));
    let answer = answer.expect("the answer comes back");
    assert_eq!(answer.file, result);
    assert_eq!(answer.body, r#"{"status":"error","error":"no price yet"}"#);
    assert!(!result.exists(), "the core left the file to the host");

    // A path the core answers itself, in info mode.
    let info = snapshot(&[("THE0_QUERY_RESULT_FILE", result.to_str().unwrap())]);
    host.start_keeping_answer(&info, StartOptions::default()).unwrap();
    let (finished, answer) = host.finish_with_answer().unwrap();
    assert_eq!(finished.exit_code, 0);
    assert_eq!(
        line(&answer.unwrap().body),
        json!({"status": "ok", "data": {"available_queries": ["/echo", "/health", "/info"]}})
    );
    assert!(!result.exists());
    let failed = line(&result_write_error(&result, "Permission denied"));
    assert_eq!(
        (&failed["level"], &failed["message"]),
        (
            &json!("error"),
            &json!(format!(
                "cannot write query result {}: Permission denied",
                result.display()
            ))
        )
    );
}

#[test]
fn set_paths_makes_the_hosts_table_the_registered_paths() {
    let dir = tempfile::tempdir().unwrap();
    let result = dir.path().join("result.json");
    let host = Host::new();
    host.register("/stale").unwrap();
    assert_eq!(host.set_paths(&["fresh"]).unwrap(), ["/fresh"]);
    let env = snapshot(&[
        ("QUERY_PATH", "/stale"),
        ("THE0_QUERY_RESULT_FILE", result.to_str().unwrap()),
    ]);
    host.start(&env, StartOptions::default()).unwrap();
    assert_eq!(host.next(WAIT).unwrap(), Next::Done, "nothing for the host");
    assert_eq!(host.finish().unwrap().exit_code, 1);
    assert_eq!(
        read_json(&result),
        json!({"status": "error", "error": "No handler for path: /stale", "available": ["/fresh", "/health", "/info"]})
    );
}

#[test]
fn server_mode_binds_port_zero_reports_where_and_uses_the_worker_count() {
    let host = Host::new();
    host.register("/status").unwrap();
    let env = snapshot(&[
        ("BOT_TYPE", "realtime"),
        ("THE0_QUERY_HOST", "127.0.0.1"),
        ("THE0_QUERY_PORT", "0"),
        ("THE0_QUERY_WORKERS", "3"),
    ]);
    let options = StartOptions {
        default_workers: 8,
        ..StartOptions::default()
    };
    let started = host.start(&env, options).unwrap();
    assert_eq!((started.mode, started.workers), (Mode::Server, 3));
    let message = line(&started.stderr[0])["message"].as_str().unwrap().to_owned();
    let addr = message
        .strip_prefix("Query server started on ")
        .expect("the start line");
    assert!(addr.starts_with("127.0.0.1:") && !addr.ends_with(":0"), "{addr}");
    let again = host.start(&env, options).unwrap_err();
    assert_eq!(again.error.status(), Status::InvalidState);
    assert_eq!(
        line(&again.line)["message"],
        "query service cannot start: the query service is already running"
    );

    let client = {
        let addr = addr.to_owned();
        std::thread::spawn(move || {
            let mut stream = TcpStream::connect(&addr).unwrap();
            stream
                .write_all(b"POST /status?n=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 10\r\n\r\n{\"m\": [2]}")
                .unwrap();
            let mut text = String::new();
            stream.read_to_string(&mut text).unwrap();
            text
        })
    };
    let request = take_request(&host);
    assert_eq!(request.strings_json(), r#"{"m":"[2]","n":"1"}"#);
    host.respond(request.id, Reply::Unserializable("a BigInt".into()))
        .unwrap();
    let answer = client.join().unwrap();
    assert!(answer.starts_with("HTTP/1.1 500"), "{answer}");
    assert!(
        answer.ends_with(r#"{"status":"error","error":"handler result cannot be serialized: a BigInt"}"#),
        "{answer}"
    );
    host.stop().unwrap();
    assert_eq!(host.next(WAIT).unwrap(), Next::Done);
    assert_eq!(host.finish().unwrap().exit_code, 0);
}

#[test]
fn start_failures_carry_the_line_to_print() {
    let host = Host::new();
    for (pairs, message) in [
        (
            vec![("BOT_TYPE", "realtime"), ("THE0_QUERY_PORT", "http")],
            r#"query service cannot start: THE0_QUERY_PORT must be a non-negative integer, got "http""#,
        ),
        (
            vec![("BOT_TYPE", "realtime"), ("THE0_QUERY_WORKERS", "0")],
            "query service cannot start: THE0_QUERY_WORKERS must be at least 1",
        ),
    ] {
        let failure = host
            .start(&snapshot(&pairs), StartOptions::default())
            .unwrap_err();
        assert_eq!(failure.error.status(), Status::InvalidArgument);
        let parsed = line(&failure.line);
        assert_eq!(
            (parsed["level"].as_str(), parsed["message"].as_str()),
            (Some("error"), Some(message))
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let plain = snapshot(&[("STATE_DIR", dir.path().to_str().unwrap())]);
    assert!(
        !host.is_query_mode(&plain).unwrap(),
        "a failed start leaves state writable"
    );
}

#[test]
fn input_lines_and_results() {
    let dir = tempfile::tempdir().unwrap();
    let mount = dir.path().join("bot");
    let env = snapshot(&[
        ("BOT_ID", "b-1"),
        ("BOT_CONFIG", r#"{ "x" : 1 }"#),
        ("CODE_MOUNT_DIR", mount.to_str().unwrap()),
    ]);
    assert_eq!(
        input_parse(&env).unwrap(),
        ("b-1".to_owned(), r#"{"x":1}"#.to_owned())
    );
    assert_eq!(
        input_success(&env, "done", Some("[1]")).unwrap(),
        Vec::<String>::new()
    );
    assert_eq!(
        read_json(&mount.join("result.json")),
        json!({"status": "success", "message": "done", "data": [1]})
    );
    assert_eq!(
        input_error(&env, "done", Some("{")).unwrap_err().status(),
        Status::InvalidJson
    );
    std::fs::remove_dir_all(&mount).unwrap();
    std::fs::write(&mount, b"not a directory").unwrap();
    let lines = input_result(&env, "7").unwrap();
    assert_eq!(lines.len(), 1);
    assert!(
        line(&lines[0])["message"]
            .as_str()
            .unwrap()
            .starts_with("cannot write result file "),
        "{lines:?}"
    );
    let metric = line(&metric_line("trade", r#"{"p": 1}"#).unwrap());
    assert_eq!(
        (metric["_metric"].as_str(), metric["p"].as_i64()),
        (Some("trade"), Some(1))
    );
    assert_eq!(
        log_line("m", None, Some("loud")).unwrap_err().status(),
        Status::InvalidArgument
    );
    assert_eq!(
        unserializable(Payload::MetricData, "circular").to_string(),
        "metric data cannot be serialized: circular"
    );
}

#[test]
fn config_and_params_outside_a_handler() {
    let env = snapshot(&[("BOT_CONFIG", "nope"), ("QUERY_PARAMS", r#"{"n": 5}"#)]);
    assert_eq!(query_config(&env).unwrap(), "{}");
    assert_eq!(query_params_json(&env).unwrap(), ("{}".into(), "{}".into()));
    let env = snapshot(&[("QUERY_PATH", "/x"), ("QUERY_PARAMS", r#"{"n": 5, "a": "b"}"#)]);
    assert_eq!(
        query_params_json(&env).unwrap(),
        (r#"{"n":5,"a":"b"}"#.into(), r#"{"a":"b","n":"5"}"#.into())
    );
}
