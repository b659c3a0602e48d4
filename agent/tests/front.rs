//! The agent's query side: the :9476 front, ephemeral queries, and the query sidecar.

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use serde_json::{Value, json};

const MINUTE: Duration = Duration::from_secs(60);

/// A minimal HTTP client over loopback (one request per connection), returning status and JSON.
fn http(port: u16, method: &str, path: &str, body: Option<&str>) -> (u16, Value) {
    let mut args = vec![
        "-s".to_owned(),
        "-X".into(),
        method.into(),
        "-w".into(),
        "\n%{http_code}".into(),
    ];
    if let Some(body) = body {
        args.extend([
            "-H".into(),
            "Content-Type: application/json".into(),
            "--data-binary".into(),
            body.into(),
        ]);
    }
    args.push(format!("http://127.0.0.1:{port}{path}"));
    let out = Command::new("curl").args(&args).output().expect("curl");
    let text = String::from_utf8(out.stdout).unwrap();
    let (body, status) = text.rsplit_once('\n').unwrap_or(("", "0"));
    (
        status.parse().unwrap_or(0),
        serde_json::from_str(body).unwrap_or(Value::Null),
    )
}

/// The conformance driver (a query program on the core) copied into the sandbox's code folder,
/// so that its path is unique to the test; the entrypoint is a script running `driver query`.
fn driver_entry(sandbox: &Sandbox) -> String {
    fs::copy(example_bin("the0-driver-rust"), sandbox.code().join("driver")).unwrap();
    script(
        &sandbox.code(),
        "query.sh",
        r#"exec "$(dirname "$0")/driver" query"#,
    );
    "query.sh".to_owned()
}

/// Environment of a realtime bot (a shell script that sleeps) with `query` as its query
/// entrypoint and the front on a loopback port.
fn realtime_env(sandbox: &Sandbox, query: &str, port: u16, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    script(&sandbox.code(), "bot.sh", "exec sleep 600");
    let mut env = sandbox.execute_env("rust-stable", "bot.sh");
    env.push(sandbox.local_store_env());
    env.push(("BOT_TYPE".into(), "realtime".into()));
    env.push(("QUERY_ENTRYPOINT".into(), query.into()));
    env.push(("THE0_AGENT_QUERY_ADDR".into(), format!("127.0.0.1:{port}")));
    env.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    env
}

fn wait_query_up(port: u16) {
    eventually("the query process behind the front", MINUTE, || {
        let (status, body) = http(port, "GET", "/health", None);
        (status == 200 && body["status"] == "ok").then_some(())
    });
}

#[test]
fn the_front_forwards_to_a_query_process_on_the_core_over_its_unix_socket() {
    let sandbox = Sandbox::new("front-core");
    let port = free_port();
    let entry = driver_entry(&sandbox);
    let env = realtime_env(
        &sandbox,
        &entry,
        port,
        &[
            ("THE0_QUERY_TIMEOUT_MS", "500"),
            ("THE0_QUERY_MAX_BODY_BYTES", "1024"),
        ],
    );
    let agent = Agent::spawn(&["execute"], &env, sandbox.path("agent.log"));
    wait_query_up(port);
    assert!(
        sandbox.path("tmp/the0-agent/query.sock").exists(),
        "the core listens on the private socket"
    );
    assert_eq!(
        http(port, "GET", "/healthz", None),
        (200, json!({"status": "ok", "query_process": "up"}))
    );

    // Any method, path, query string and body reach the handler; typed body values are kept.
    let (status, body) = http(port, "POST", "/echo?symbol=BTC%2FUSD", Some(r#"{"limit": 5}"#));
    assert_eq!(status, 200);
    assert_eq!(body["data"]["params"], json!({"symbol": "BTC/USD", "limit": 5}));
    let (status, body) = http(port, "GET", "/missing", None);
    assert_eq!(
        (status, body["error"].as_str()),
        (404, Some("No handler for path: /missing"))
    );
    let (status, body) = http(port, "GET", "/fail", None);
    assert_eq!(
        (status, body),
        (500, json!({"status": "error", "error": "deliberate failure"}))
    );

    // A hanging handler is a 504, and the front keeps serving.
    let (status, body) = http(port, "GET", "/sleep?ms=5000", None);
    assert_eq!(
        (status, body),
        (
            504,
            json!({"status": "error", "error": "handler for /sleep timed out after 500 ms"})
        )
    );
    assert_eq!(http(port, "GET", "/sleep?ms=1", None).0, 200);
    // The front's own body limit.
    let big = format!(r#"{{"pad": "{}"}}"#, "x".repeat(2000));
    assert_eq!(
        http(port, "POST", "/echo", Some(&big)),
        (
            413,
            json!({"status": "error", "error": "request body exceeds 1024 bytes"})
        )
    );

    // Query output goes to bot.log, tagged.
    let log = fs::read_to_string(sandbox.logs().join("bot.log")).unwrap();
    assert!(
        log.lines()
            .any(|l| l.contains(r#""source":"query""#) && l.contains("Query server started")),
        "{log}"
    );
    drop(agent);
}

#[test]
fn a_query_process_that_only_knows_the0_query_port_still_works() {
    let sandbox = Sandbox::new("front-upstream");
    let port = free_port();
    // An upstream-style SDK server: stdlib http.server on THE0_QUERY_PORT, no socket, no timeout.
    fs::write(
        sandbox.code().join("query.py"),
        r#"import json, os, time
from http.server import BaseHTTPRequestHandler, HTTPServer
class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path.startswith("/hang"):
            time.sleep(30)
        body = json.dumps({"status": "ok", "data": {"path": self.path, "via": "port"}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
HTTPServer(("0.0.0.0", int(os.environ["THE0_QUERY_PORT"])), Handler).serve_forever()
"#,
    )
    .unwrap();
    let mut env = realtime_env(&sandbox, "query.py", port, &[("THE0_QUERY_TIMEOUT_MS", "1000")]);
    env.retain(|(k, _)| k != "RUNTIME");
    env.push(("RUNTIME".into(), "python3.11".into()));
    fs::write(
        sandbox.code().join("main.py"),
        "import time\ndef main(bot_id, config):\n    time.sleep(600)\n",
    )
    .unwrap();
    env.retain(|(k, _)| k != "ENTRYPOINT");
    env.push(("ENTRYPOINT".into(), "main.py".into()));
    let _agent = Agent::spawn(&["execute"], &env, sandbox.path("agent.log"));
    let (status, body) = eventually("the upstream-style server behind the front", MINUTE, || {
        let (status, body) = http(port, "GET", "/status?x=1", None);
        (status == 200).then_some((status, body))
    });
    assert_eq!(
        (status, body),
        (
            200,
            json!({"status": "ok", "data": {"path": "/status?x=1", "via": "port"}})
        )
    );
    // No handler timeout in that server: the front's own (1 s + 1 s) answers.
    let (status, body) = http(port, "GET", "/hang", None);
    assert_eq!(
        (status, body),
        (
            504,
            json!({"status": "error", "error": "handler for /hang timed out after 2000 ms"})
        )
    );
}

#[test]
fn five_hundred_concurrent_requests_through_the_front() {
    let sandbox = Sandbox::new("front-load");
    let port = free_port();
    let entry = driver_entry(&sandbox);
    let env = realtime_env(&sandbox, &entry, port, &[("THE0_QUERY_WORKERS", "8")]);
    let _agent = Agent::spawn(&["execute"], &env, sandbox.path("agent.log"));
    wait_query_up(port);
    let barrier = Arc::new(std::sync::Barrier::new(500));
    let clients: Vec<_> = (0..500)
        .map(|i| {
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                barrier.wait();
                let request = format!("GET /echo?i={i} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
                let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
                std::io::Write::write_all(&mut stream, request.as_bytes()).unwrap();
                let mut response = String::new();
                std::io::Read::read_to_string(&mut stream, &mut response).unwrap();
                (i, response)
            })
        })
        .collect();
    for client in clients {
        let (i, response) = client.join().unwrap();
        assert!(response.starts_with("HTTP/1.1 200"), "request {i}: {response}");
        let body: Value = serde_json::from_str(response.split("\r\n\r\n").nth(1).unwrap()).unwrap();
        assert_eq!(body["data"]["params"]["i"], i.to_string(), "request {i}");
    }
}

#[test]
fn a_killed_query_process_is_reported_and_restarted() {
    let sandbox = Sandbox::new("front-restart");
    let port = free_port();
    let entry = driver_entry(&sandbox);
    let env = realtime_env(&sandbox, &entry, port, &[]);
    let agent = Agent::spawn(&["execute"], &env, sandbox.path("agent.log"));
    wait_query_up(port);
    let driver = sandbox.code().join("driver");
    let pid = query_pid(&driver);
    // SAFETY: kill with plain integers.
    unsafe {
        libc::kill(pid, libc::SIGKILL);
    }
    eventually("/healthz to report the query process down", MINUTE, || {
        (http(port, "GET", "/healthz", None).1["query_process"] == "down").then_some(())
    });
    let (status, body) = http(port, "GET", "/echo", None);
    assert_eq!(status, 503, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .starts_with("the query process is not running"),
        "{body}"
    );
    wait_query_up(port);
    assert_eq!(http(port, "GET", "/healthz", None).1["query_process"], "up");
    assert_ne!(query_pid(&driver), pid, "a new process");
    assert!(
        agent.stderr().contains("the query process exited"),
        "{}",
        agent.stderr()
    );
}

/// Item 7: a query process whose handler threads all hang answers nothing but timeouts (its
/// built-in /health still answers); it used to be reported `up` and never restarted.
#[test]
fn a_query_process_whose_handlers_all_hang_is_restarted() {
    let sandbox = Sandbox::new("front-hung");
    let port = free_port();
    let entry = driver_entry(&sandbox);
    let env = realtime_env(
        &sandbox,
        &entry,
        port,
        &[("THE0_QUERY_WORKERS", "2"), ("THE0_QUERY_TIMEOUT_MS", "300")],
    );
    let agent = Agent::spawn(&["execute"], &env, sandbox.path("agent.log"));
    wait_query_up(port);
    let driver = sandbox.code().join("driver");
    let pid = query_pid(&driver);
    // Both handler threads sleep for ten minutes: each request answers 504 after 300 ms.
    let hung: Vec<_> = (0..2)
        .map(|_| std::thread::spawn(move || http(port, "GET", "/sleep?ms=600000", None).0))
        .collect();
    for request in hung {
        assert_eq!(request.join().unwrap(), 504);
    }
    assert_eq!(
        http(port, "GET", "/health", None).0,
        200,
        "the core still answers itself"
    );
    // Nothing can run a handler now; after a few timeouts in a row the process is replaced.
    let (status, body) = eventually("a handler answering again", MINUTE, || {
        let (status, body) = http(port, "GET", "/echo?x=1", None);
        (status == 200).then_some((status, body))
    });
    assert_eq!((status, &body["data"]["params"]["x"]), (200, &json!("1")));
    assert_ne!(query_pid(&driver), pid, "a new process");
    assert!(
        agent.stderr().contains("handlers are all hung"),
        "{}",
        agent.stderr()
    );
}

/// The pid of the process running `program`.
fn query_pid(program: &Path) -> i32 {
    eventually("the query process's pid", MINUTE, || {
        let out = Command::new("pgrep")
            .args(["-f", program.to_str().unwrap()])
            .output()
            .ok()?;
        String::from_utf8(out.stdout)
            .ok()?
            .lines()
            .next()?
            .trim()
            .parse()
            .ok()
    })
}

#[test]
fn ephemeral_queries_always_store_an_answer() {
    let sandbox = Sandbox::new("front-ephemeral");
    let minio = Minio::start(&sandbox.path("minio"));
    let view = StoreView::S3(&minio);
    let entry = driver_entry(&sandbox);
    script(
        &sandbox.code(),
        "crash.sh",
        "echo 'segfault in strategy' >&2\nexit 3",
    );
    let run = |entry: &str, path: &str, params: &str, key: &str| {
        let mut env = sandbox.execute_env("rust-stable", "bot.sh");
        env.extend(minio.env());
        env.extend([
            ("QUERY_ENTRYPOINT".to_owned(), entry.to_owned()),
            ("QUERY_PATH".to_owned(), path.to_owned()),
            ("QUERY_PARAMS".to_owned(), params.to_owned()),
            ("QUERY_RESULT_KEY".to_owned(), key.to_owned()),
        ]);
        let (status, log) = run_agent(&["execute"], &env, sandbox.path("agent.log"), MINUTE);
        let stored: Value = serde_json::from_slice(
            &view
                .get("query-results", key)
                .unwrap_or_else(|| panic!("{key} not stored: {log}")),
        )
        .unwrap();
        (status.code().unwrap(), stored)
    };
    let (code, stored) = run(
        &entry,
        "/echo",
        r#"{"limit": 5}"#,
        "front-ephemeral/1-a/result.json",
    );
    assert_eq!(code, 0);
    assert_eq!(stored["data"]["params"], json!({"limit": 5}));
    assert_eq!(stored["data"]["strings"], json!({"limit": "5"}));
    let (code, stored) = run(&entry, "/missing", "{}", "front-ephemeral/2-b/result.json");
    assert_eq!(
        (code, stored["error"].as_str()),
        (1, Some("No handler for path: /missing"))
    );
    let (code, stored) = run(&entry, "/fail", "{}", "front-ephemeral/3-c/result.json");
    assert_eq!(
        (code, stored),
        (1, json!({"status": "error", "error": "deliberate failure"}))
    );
    let (code, stored) = run("crash.sh", "/status", "{}", "front-ephemeral/4-d/result.json");
    assert_eq!(code, 3);
    assert_eq!(
        stored,
        json!({"status": "error", "error": "the query process exited with code 3 without writing a result: segfault in strategy"})
    );
}

#[test]
fn the_query_sidecar_waits_for_late_code_and_never_restores_over_local_state() {
    let sandbox = Sandbox::new("sidecar-query");
    let view = StoreView::Local(sandbox.local_store());
    // Stored state, and newer state already on the shared volume.
    let stored = state_archive(&[(".the0-state/k.json", b"\"old\"")]);
    view.put("bot-state", "sidecar-query/state.tar.gz", &stored);
    fs::create_dir_all(sandbox.state().join(".the0-state")).unwrap();
    fs::write(sandbox.state().join(".the0-state/k.json"), b"\"new\"").unwrap();

    let port = free_port();
    let mut env = sandbox.execute_env("rust-stable", "bot.sh");
    env.push(sandbox.local_store_env());
    env.extend([
        ("BOT_TYPE".to_owned(), "realtime".to_owned()),
        ("QUERY_ENTRYPOINT".to_owned(), "query.sh".to_owned()),
        ("THE0_AGENT_QUERY_ADDR".to_owned(), format!("127.0.0.1:{port}")),
    ]);
    let mut sidecar = Agent::spawn(
        &["execute", "--query-server-only"],
        &env,
        sandbox.path("agent.log"),
    );
    std::thread::sleep(Duration::from_secs(2));
    assert!(sidecar.is_running());
    driver_entry(&sandbox); // the bot container's copy of the code lands on the shared volume
    wait_query_up(port);
    let (status, body) = http(port, "GET", "/state?key=k", None);
    assert_eq!((status, &body["data"]["value"]), (200, &json!("new")), "{body}");
    assert!(
        sidecar.stderr().contains("not restoring over it"),
        "{}",
        sidecar.stderr()
    );
    sidecar.signal(libc::SIGTERM);
    assert_eq!(sidecar.wait(MINUTE).0.code(), Some(0));
}
