//! Runs the shared vectors, and the behaviours that need more than one request, against an SDK
//! driver: the Rust driver by default, or the command in `THE0_CONFORMANCE_DRIVER`.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

use serde_json::{Value, json};
use the0_conformance::http::{self, Target};
use the0_conformance::vectors::{self, EphemeralSuite, ServerSuite, Step, StepSuite};
use the0_conformance::{Driver, matches};
use the0_sdk::state::Store;

fn driver() -> Driver {
    Driver::from_env_or(env!("CARGO_BIN_EXE_the0-driver-rust"))
}

fn env_of(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn seed_state(dir: &Path, seed: &BTreeMap<String, Value>) {
    let store = Store::new(dir);
    for (key, value) in seed {
        store.set(key, value).expect("seed state");
    }
}

/// Starts the driver's query server with the suite's environment, once it listens.
fn start_server(
    suite: &ServerSuite,
    state_dir: &Path,
    listen: &[(&str, &str)],
) -> (the0_conformance::ChildGuard, Target) {
    seed_state(state_dir, &suite.seed);
    let mut env = suite.env.clone();
    env.extend(env_of(&[
        ("BOT_TYPE", "realtime"),
        ("STATE_DIR", state_dir.to_str().unwrap()),
    ]));
    env.extend(env_of(listen));
    driver().serve(&["query"], &env)
}

fn run_http_vectors(target: &Target, suite: &ServerSuite, state_dir: &str) {
    for case in &suite.cases {
        let response = http::request(target, &case.method, &case.path, case.body_bytes().as_deref())
            .unwrap_or_else(|e| panic!("{}: request failed: {e}", case.name));
        let body = response.json();
        assert_eq!(
            response.status, case.status,
            "{}: status (body {body})",
            case.name
        );
        assert!(
            matches(&case.response, &body, state_dir),
            "{}:\n expected {}\n   actual {body}",
            case.name,
            case.response
        );
        assert_eq!(
            response.content_type.as_deref(),
            Some("application/json"),
            "{}",
            case.name
        );
    }
}

#[test]
fn http_vectors_over_tcp() {
    let suite: ServerSuite = vectors::load("query-server.json");
    let dir = tempfile::tempdir().unwrap();
    let (_server, target) = start_server(&suite, dir.path(), &[]);
    assert!(matches!(target, Target::Tcp(_)), "{target:?}");
    run_http_vectors(&target, &suite, dir.path().to_str().unwrap());
}

#[test]
fn http_vectors_over_a_unix_socket() {
    let suite: ServerSuite = vectors::load("query-server.json");
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("run/query.sock");
    let (mut server, target) = start_server(
        &suite,
        &dir.path().join("state"),
        &[("THE0_QUERY_SOCKET", socket.to_str().unwrap())],
    );
    assert_eq!(target, Target::Unix(socket.clone()));
    run_http_vectors(&target, &suite, dir.path().join("state").to_str().unwrap());

    // SIGTERM stops the server cleanly: exit code 0 and the socket file is removed.
    server.signal(15);
    let status = server
        .wait_timeout(Duration::from_secs(10))
        .expect("driver exits after SIGTERM");
    assert!(status.success(), "exit status after SIGTERM: {status}");
    assert!(!socket.exists(), "socket file left behind");
}

#[test]
fn ephemeral_and_info_vectors() {
    let suite: EphemeralSuite = vectors::load("ephemeral.json");
    for case in &suite.cases {
        let dir = tempfile::tempdir().unwrap();
        seed_state(&dir.path().join("state"), &suite.seed);
        let result_file = dir.path().join("query/result.json");
        let mut env = case.env.clone();
        env.insert(
            "STATE_DIR".into(),
            dir.path().join("state").to_str().unwrap().into(),
        );
        env.insert(
            "THE0_QUERY_RESULT_FILE".into(),
            result_file.to_str().unwrap().into(),
        );
        let mut args = vec!["query"];
        args.extend(case.args.iter().map(String::as_str));
        let output = driver().output(&args, &env);
        assert_eq!(
            output.status.code(),
            Some(case.exit_code),
            "{}: exit code; stderr: {}",
            case.name,
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            output.stdout.is_empty(),
            "{}: printed to stdout: {}",
            case.name,
            String::from_utf8_lossy(&output.stdout)
        );
        let result: Value = serde_json::from_slice(
            &fs::read(&result_file).unwrap_or_else(|e| panic!("{}: no result file: {e}", case.name)),
        )
        .unwrap();
        assert!(
            matches(&case.result, &result, ""),
            "{}:\n expected {}\n   actual {result}",
            case.name,
            case.result
        );
    }
}

fn run_step_suite(file: &str) {
    let suite: StepSuite = vectors::load(file);
    for case in &suite.cases {
        let dir = tempfile::tempdir().unwrap();
        let state_dir = dir.path().join("state");
        fs::create_dir_all(&state_dir).unwrap();
        let mount = dir.path().join("bot");
        for (i, step) in case.steps.iter().enumerate() {
            let what = format!("{} (step {})", case.name, i + 1);
            match step {
                Step::Run {
                    args,
                    env,
                    stdout,
                    stderr,
                    exit_code,
                    result_file,
                } => {
                    let mut env = env.clone();
                    env.insert("STATE_DIR".into(), state_dir.to_str().unwrap().into());
                    env.insert(
                        "CODE_MOUNT_DIR".into(),
                        mount.to_str().unwrap().trim_start_matches('/').into(),
                    );
                    let args: Vec<&str> = args.iter().map(String::as_str).collect();
                    let output = driver().output(&args, &env);
                    assert_eq!(
                        output.status.code(),
                        Some(*exit_code),
                        "{what}: exit code; stderr: {}",
                        String::from_utf8_lossy(&output.stderr)
                    );
                    check_lines(&what, "stdout", stdout, &output.stdout, &state_dir);
                    if let Some(stderr) = stderr {
                        check_lines(&what, "stderr", stderr, &output.stderr, &state_dir);
                    }
                    if let Some(expected) = result_file {
                        let actual: Value =
                            serde_json::from_slice(&fs::read(mount.join("result.json")).unwrap()).unwrap();
                        assert_eq!(&actual, expected, "{what}: result file");
                    }
                }
                Step::WriteFile { write_file, content } => {
                    fs::write(state_dir.join(write_file), content).unwrap()
                }
                Step::ExpectFile { expect_file, content } => {
                    assert_eq!(
                        &fs::read_to_string(state_dir.join(expect_file)).unwrap(),
                        content,
                        "{what}"
                    )
                }
            }
        }
    }
}

fn check_lines(what: &str, stream: &str, expected: &[Value], actual: &[u8], state_dir: &Path) {
    let text = String::from_utf8_lossy(actual);
    let lines: Vec<Value> = text
        .lines()
        .map(|l| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("{what}: {stream} line is not JSON ({e}): {l}"))
        })
        .collect();
    assert_eq!(lines.len(), expected.len(), "{what}: {stream} lines: {text}");
    for (e, a) in expected.iter().zip(&lines) {
        assert!(
            matches(e, a, state_dir.to_str().unwrap()),
            "{what}: {stream}\n expected {e}\n   actual {a}"
        );
    }
}

#[test]
fn state_vectors() {
    run_step_suite("state.json");
}

#[test]
fn input_vectors() {
    run_step_suite("input.json");
}

/// The driver's query server on a loopback port with an empty state directory and `extra`
/// settings, once it answers.
fn serve_on_loopback(extra: &[(&str, &str)]) -> (tempfile::TempDir, the0_conformance::ChildGuard, Target) {
    let dir = tempfile::tempdir().unwrap();
    let mut env = env_of(&[
        ("BOT_TYPE", "realtime"),
        ("STATE_DIR", dir.path().to_str().unwrap()),
    ]);
    env.extend(env_of(extra));
    let (server, target) = driver().serve(&["query"], &env);
    (dir, server, target)
}

#[test]
fn two_hundred_concurrent_requests_each_get_their_own_answer() {
    let (_dir, _server, target) = serve_on_loopback(&[("THE0_QUERY_WORKERS", "8")]);
    let barrier = Arc::new(std::sync::Barrier::new(200));
    let clients: Vec<_> = (0..200)
        .map(|i| {
            let (target, barrier) = (target.clone(), Arc::clone(&barrier));
            thread::spawn(move || {
                barrier.wait();
                let (path, body) = if i % 2 == 0 {
                    (format!("/params?i={i}"), None)
                } else {
                    ("/echo".to_owned(), Some(format!(r#"{{"i": {i}}}"#)))
                };
                let r = http::request(&target, "POST", &path, body.as_deref().map(str::as_bytes))
                    .expect("request");
                (i, r.status, r.json())
            })
        })
        .collect();
    for client in clients {
        let (i, status, body) = client.join().unwrap();
        assert_eq!(status, 200, "request {i}: {body}");
        let expected = if i % 2 == 0 {
            json!({"status": "ok", "data": {"i": i.to_string()}})
        } else {
            json!({"status": "ok", "data": {"path": "/echo", "params": {"i": i}, "strings": {"i": i.to_string()}}})
        };
        assert_eq!(body, expected, "request {i}");
    }
}

#[test]
fn requests_over_the_in_flight_limit_get_503() {
    let (_dir, _server, target) = serve_on_loopback(&[("THE0_QUERY_MAX_IN_FLIGHT", "1")]);
    // While a slow request holds the only slot, other requests are refused at once. A probe that
    // happens to hold the slot when the slow request arrives makes the slow one the refused one:
    // then the precondition did not hold and the scenario is tried again.
    for _attempt in 0..5 {
        let slow = {
            let target = target.clone();
            thread::spawn(move || http::get(&target, "/sleep?ms=2000").unwrap())
        };
        thread::sleep(Duration::from_millis(200));
        let mut refused = None;
        while !slow.is_finished() {
            let r = http::get(&target, "/echo").unwrap();
            if r.status == 503 {
                refused = Some(r);
                break;
            }
            thread::sleep(Duration::from_millis(20));
        }
        let slow = slow.join().unwrap();
        if slow.status == 503 {
            continue;
        }
        assert_eq!(slow.status, 200, "{}", slow.json());
        let refused = refused.expect("no request was refused while the slot was held");
        assert_eq!(
            refused.json(),
            json!({"status": "error", "error": "too many queries in flight (limit 1)"})
        );
        assert_eq!(
            http::get(&target, "/health").unwrap().status,
            200,
            "built-ins are not limited"
        );
        assert_eq!(
            http::get(&target, "/echo").unwrap().status,
            200,
            "the slot is released"
        );
        return;
    }
    panic!("the slow request never got the slot in 5 attempts");
}

#[test]
fn a_port_in_use_is_a_clear_startup_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let env = env_of(&[
        ("BOT_TYPE", "realtime"),
        ("THE0_QUERY_HOST", "127.0.0.1"),
        ("THE0_QUERY_PORT", &port),
    ]);
    let output = driver().output(&["query"], &env);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("cannot listen on 127.0.0.1:{port}")),
        "{stderr}"
    );
}

#[test]
fn bad_settings_are_clear_startup_errors() {
    for (name, value, message) in [
        (
            "THE0_QUERY_PORT",
            "http",
            r#"THE0_QUERY_PORT must be a non-negative integer, got \"http\""#,
        ),
        (
            "THE0_QUERY_TIMEOUT_MS",
            "0",
            "THE0_QUERY_TIMEOUT_MS must be at least 1",
        ),
        (
            "THE0_QUERY_HOST",
            "localhost",
            r#"THE0_QUERY_HOST must be an IP address, got \"localhost\""#,
        ),
    ] {
        let env = env_of(&[("BOT_TYPE", "realtime"), (name, value)]);
        let output = driver().output(&["query"], &env);
        assert_eq!(output.status.code(), Some(1), "{name}={value}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(message), "{name}={value}: {stderr}");
    }
}

/// A writer hammers one key with alternating large values while another process reads it in a
/// loop: with atomic writes the reader never sees a torn (partial) file.
#[test]
fn a_reader_in_another_process_never_sees_a_torn_value() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path());
    let big = |fill: u32| json!({"fill": fill, "prices": vec![fill as f64 + 0.5; 20_000]});
    let values = [big(1).to_string(), big(2).to_string()];
    store.set_json("book", &values[0]).unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (stop, store) = (Arc::clone(&stop), store.clone());
        thread::spawn(move || {
            let mut writes = 0u64;
            while !stop.load(Ordering::Relaxed) {
                store.set_json("book", &values[(writes % 2) as usize]).unwrap();
                writes += 1;
            }
            writes
        })
    };
    let env = env_of(&[("STATE_DIR", dir.path().to_str().unwrap())]);
    let output = driver().output(&["read-loop", "book", "3000"], &env);
    stop.store(true, Ordering::Relaxed);
    let writes = writer.join().unwrap();
    let report: Value = serde_json::from_slice(&output.stdout).expect("read-loop report");
    assert!(writes > 10, "the writer barely ran ({writes} writes)");
    assert_eq!(
        report,
        json!({"reads": 3000, "missing": 0, "torn": 0, "failed": 0}),
        "after {writes} writes"
    );
}
