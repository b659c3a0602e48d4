//! The upstream-style bot and query programs as the agent runs them: separate processes, the
//! environment upstream's runtime sets, state files and result files on disk, lines on stdout
//! and stderr, HTTP for a realtime bot.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::{json, Value};
use the0_conformance::http;
use the0_conformance::Driver;

struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Self {
        Sandbox {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn env(&self, extra: &[(&str, &str)]) -> BTreeMap<String, String> {
        let mount = self.path("bot");
        std::fs::create_dir_all(&mount).unwrap();
        let mut env: BTreeMap<String, String> = [
            ("BOT_ID", "momentum-1".to_string()),
            (
                "BOT_CONFIG",
                json!({"symbol": "ETH/USD", "price": 10.0}).to_string(),
            ),
            ("STATE_DIR", self.path("state").to_str().unwrap().to_string()),
            (
                "CODE_MOUNT_DIR",
                mount.to_str().unwrap().trim_start_matches('/').to_string(),
            ),
            (
                "THE0_QUERY_RESULT_FILE",
                self.path("query/result.json").to_str().unwrap().to_string(),
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        env
    }

    fn json_file(&self, name: &str) -> Value {
        serde_json::from_slice(&std::fs::read(self.path(name)).unwrap()).unwrap()
    }
}

fn bot() -> Driver {
    Driver::new(env!("CARGO_BIN_EXE_upstream-bot"))
}

fn query() -> Driver {
    Driver::new(env!("CARGO_BIN_EXE_upstream-query"))
}

fn lines(bytes: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(bytes)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}")))
        .collect()
}

#[test]
fn the_bot_runs_keeps_its_book_and_reports() {
    let sandbox = Sandbox::new();
    for (run, price) in [(1, 10.0), (2, 12.0)] {
        let config = json!({"symbol": "ETH/USD", "price": price}).to_string();
        let out = bot().output(&[], &sandbox.env(&[("BOT_CONFIG", &config)]));
        assert!(out.status.success(), "{out:?}");
        assert_eq!(
            sandbox.json_file("bot/result.json"),
            json!({"status": "success", "message": format!("run {run} done")})
        );
        let metrics = lines(&out.stdout);
        assert_eq!(metrics.len(), 1, "{metrics:?}");
        assert_eq!(metrics[0]["_metric"], "signal");
        assert_eq!(metrics[0]["price"], price);
        let logs = lines(&out.stderr);
        assert_eq!(logs[0]["message"], "bot starting");
        assert_eq!(logs[0]["bot_id"], "momentum-1");
        assert_eq!(logs.last().unwrap()["runs"], run);
    }
    let book = sandbox.json_file("state/book.json");
    assert_eq!(book["runs"], 2);
    assert_eq!(
        book["positions"],
        json!({"ETH/USD": 1.0}),
        "12 > average 11: one buy"
    );
    assert_eq!(sandbox.json_file("state/last_signal.json"), "buy");
}

#[test]
fn the_bot_reports_a_missing_id_through_the_parse_error() {
    let sandbox = Sandbox::new();
    let mut env = sandbox.env(&[]);
    env.remove("BOT_ID");
    let out = bot().output(&[], &env);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        sandbox.json_file("bot/result.json"),
        json!({"status": "error", "message": "no bot id"})
    );
}

#[test]
fn the_bot_reports_a_refused_write_through_the_state_error() {
    let sandbox = Sandbox::new();
    let out = bot().output(&[], &sandbox.env(&[("QUERY_PATH", "/book")]));
    assert_eq!(out.status.code(), Some(1));
    let message = sandbox.json_file("bot/result.json")["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        message,
        r#"read-only: state is read-only while this process serves queries: set("book") refused"#
    );
}

/// Runs one ephemeral query; returns the exit code and the result file.
fn ask(sandbox: &Sandbox, path: &str, params: &str) -> (Option<i32>, Option<Value>) {
    let result = sandbox.path("query/result.json");
    let _ = std::fs::remove_file(&result);
    let out = query().output(
        &[],
        &sandbox.env(&[("QUERY_PATH", path), ("QUERY_PARAMS", params)]),
    );
    let answer = std::fs::read(&result)
        .ok()
        .map(|b| serde_json::from_slice(&b).unwrap());
    (out.status.code(), answer)
}

#[test]
fn ephemeral_queries_answer_from_the_book() {
    let sandbox = Sandbox::new();
    for price in [10.0, 12.0] {
        let config = json!({"symbol": "ETH/USD", "price": price}).to_string();
        assert!(bot()
            .output(&[], &sandbox.env(&[("BOT_CONFIG", &config)]))
            .status
            .success());
    }
    assert_eq!(
        ask(&sandbox, "/book", "{}"),
        (
            Some(0),
            Some(json!({"status": "ok", "data": {"runs": 2, "positions": {"ETH/USD": 1.0}}}))
        )
    );
    let (code, answer) = ask(&sandbox, "/position", r#"{"symbol": "ETH/USD", "n": 5}"#);
    assert_eq!(code, Some(0));
    assert_eq!(
        answer.unwrap()["data"],
        json!({"symbol": "ETH/USD", "qty": 1.0, "params": {"symbol": "ETH/USD", "n": "5"}})
    );
    let (code, answer) = ask(&sandbox, "/try-write", "{}");
    assert_eq!(code, Some(0));
    assert_eq!(
        answer.unwrap()["data"],
        json!({"written": false, "why": r#"read-only: state is read-only while this process serves queries: set("book") refused"#})
    );
    assert_eq!(
        sandbox.json_file("state/book.json")["runs"],
        2,
        "the book is unchanged"
    );
}

#[test]
fn handlers_that_never_return() {
    let sandbox = Sandbox::new();
    assert_eq!(
        ask(&sandbox, "/todo", "{}"),
        (
            Some(1),
            Some(json!({"status": "error", "error": "handler for /todo panicked: not yet implemented"}))
        )
    );
    assert_eq!(
        ask(&sandbox, "/panic", "{}"),
        (
            Some(1),
            Some(json!({"status": "error", "error": "handler for /panic panicked: no book for ETH"}))
        )
    );
    assert_eq!(
        ask(&sandbox, "/exit", "{}"),
        (Some(3), None),
        "the handler ended the process"
    );
}

#[test]
fn unknown_paths_and_info_mode() {
    let sandbox = Sandbox::new();
    let (code, answer) = ask(&sandbox, "/nope", "{}");
    assert_eq!(code, Some(1));
    let answer = answer.unwrap();
    assert_eq!(answer["error"], "No handler for path: /nope");
    assert!(answer["available"].as_array().unwrap().contains(&json!("/book")));
    let out = query().output(&[], &sandbox.env(&[]));
    assert!(out.status.success());
    let queries = &sandbox.json_file("query/result.json")["data"]["available_queries"];
    for path in [
        "/book",
        "/config",
        "/exit",
        "/health",
        "/info",
        "/panic",
        "/position",
        "/todo",
        "/try-write",
    ] {
        assert!(
            queries.as_array().unwrap().contains(&json!(path)),
            "{path} in {queries}"
        );
    }
}

#[test]
fn a_realtime_bot_serves_http_until_sigterm() {
    let sandbox = Sandbox::new();
    let (mut server, target) = query().serve(&[], &sandbox.env(&[("BOT_TYPE", "realtime")]));
    let reply = http::get(&target, "/position?symbol=BTC%2FUSD").unwrap();
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["data"]["symbol"], "BTC/USD");
    let body = br#"{"symbol": "SOL", "size": 2}"#;
    let reply = http::request(&target, "POST", "/position", Some(body)).unwrap();
    assert_eq!(
        reply.json()["data"]["params"],
        json!({"symbol": "SOL", "size": "2"}),
        "body params, in string form for get_params"
    );
    let reply = http::get(&target, "/panic").unwrap();
    assert_eq!(
        (reply.status, reply.json()["error"].clone()),
        (500, json!("handler for /panic panicked: no book for ETH"))
    );
    assert_eq!(
        http::get(&target, "/config").unwrap().json()["data"]["symbol"],
        "ETH/USD"
    );
    let reply = http::get(&target, "/try-write").unwrap();
    assert_eq!(
        reply.json()["data"]["written"],
        false,
        "read-only in server mode too"
    );
    server.signal(15);
    let status = server
        .wait_timeout(Duration::from_secs(30))
        .expect("the server stops on SIGTERM");
    assert!(status.success(), "{status:?}");
}
