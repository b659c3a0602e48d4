//! `the0-agent execute` end to end on the local store: real processes, real files.

mod common;

use std::fs;
use std::time::Duration;

use common::*;
use serde_json::{Value, json};

const MINUTE: Duration = Duration::from_secs(60);

/// The Rust example bot's code archive (bot binary + query binary), as upstream's API stores it.
fn sma_code() -> Vec<u8> {
    let bot = fs::read(example_bin("sma-bot")).unwrap();
    let query = fs::read(example_bin("query")).unwrap();
    // Mode 0o644: the agent must make the entrypoints executable (zip tools often drop the bit).
    zip_archive(&[
        ("target/release/sma-bot", &bot, 0o644),
        ("target/release/query", &query, 0o644),
    ])
}

fn sma_env(sandbox: &Sandbox, store: &(String, String), config: Value) -> Vec<(String, String)> {
    let mut env = sandbox.execute_env("rust-stable", "target/release/sma-bot");
    env.push(store.clone());
    env.push(("CODE_FILE".into(), "user-1/sma/1.0.0".into()));
    env.push(("BOT_CONFIG".into(), config.to_string()));
    env.push(("QUERY_ENTRYPOINT".into(), "target/release/query".into()));
    env
}

fn crossing_config() -> Value {
    json!({"symbol": "TEST", "short_period": 2, "long_period": 3, "ticks": 10, "prices": [10, 10, 10, 5, 5, 5, 20, 20, 20, 5]})
}

#[test]
fn first_run_then_a_restored_run_continues_from_the_stored_state() {
    let first = Sandbox::new("sma-1");
    let store = first.local_store_env();
    let view = StoreView::Local(first.local_store());
    view.put("custom-bots", "user-1/sma/1.0.0", &sma_code());

    let mut env = sma_env(&first, &store, crossing_config());
    env.push(("IS_SCHEDULED".into(), "true".into()));
    let (status, log) = run_agent(&["execute"], &env, first.path("agent.log"), MINUTE);
    assert_eq!(status.code(), Some(0), "{log}");
    assert!(log.contains("no stored state: first run"), "{log}");
    assert_eq!(
        fs::read_to_string(first.path("var/done")).unwrap(),
        "0",
        "done file holds the exit code"
    );
    let stored = view.state_files("sma-1").expect("state uploaded");
    let strategy: Value = serde_json::from_slice(&stored[".the0-state/strategy.json"]).unwrap();
    assert_eq!(
        (strategy["tick"].clone(), strategy["signal_count"].clone()),
        (json!(10), json!(2))
    );
    assert!(
        !stored.keys().any(|k| k.contains(".the0-agent")),
        "agent files are not state: {:?}",
        stored.keys()
    );

    // bot.log holds the bot's output as NDJSON, and the log object holds the same lines.
    let bot_log = fs::read_to_string(first.logs().join("bot.log")).unwrap();
    let lines: Vec<Value> = bot_log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines.iter().filter(|l| l["_metric"] == "signal").count(),
        2,
        "{bot_log}"
    );
    assert!(lines.iter().all(|l| l["timestamp"].is_string()));
    let log_dir = first.local_store().join("bot-logs/logs/sma-1");
    let day = fs::read_dir(&log_dir).unwrap().next().unwrap().unwrap().path();
    assert_eq!(
        fs::read_to_string(day).unwrap(),
        bot_log,
        "uploaded log = bot.log"
    );

    // A new container restores the state: the bot continues at tick 10.
    let second = first.next_container();
    let (status, log) = run_agent(
        &["execute"],
        &sma_env(&second, &store, crossing_config()),
        second.path("agent.log"),
        MINUTE,
    );
    assert_eq!(status.code(), Some(0), "{log}");
    assert!(log.contains("state restored"), "{log}");
    let strategy: Value =
        serde_json::from_slice(&view.state_files("sma-1").unwrap()[".the0-state/strategy.json"]).unwrap();
    assert_eq!(strategy["tick"], 20);
    let result = second.bot_result();
    assert_eq!(result["message"], "processed 20 ticks, 6 signals so far");
}

#[test]
fn deleting_every_key_is_propagated_and_survives_a_restart() {
    let first = Sandbox::new("clear-1");
    let store = first.local_store_env();
    let view = StoreView::Local(first.local_store());
    let run = |sandbox: &Sandbox, body: &str| {
        script(&sandbox.code(), "bot.sh", body);
        let mut env = sandbox.execute_env("rust-stable", "bot.sh");
        env.push(store.clone());
        let (status, log) = run_agent(&["execute"], &env, sandbox.path("agent.log"), MINUTE);
        assert_eq!(status.code(), Some(0), "{log}");
    };
    run(
        &first,
        r#"mkdir -p "$STATE_DIR" && echo 1 > "$STATE_DIR/a.json" && echo 2 > "$STATE_DIR/b.json""#,
    );
    assert_eq!(view.state_files("clear-1").unwrap().len(), 2);

    let second = first.next_container();
    run(
        &second,
        r#"ls "$STATE_DIR" > "$STATE_DIR/../seen.txt"; rm -f "$STATE_DIR"/*.json"#,
    );
    assert_eq!(
        fs::read_to_string(second.state().join("seen.txt")).unwrap(),
        "a.json\nb.json\n",
        "restored first"
    );
    let stored = view.state_files("clear-1").unwrap();
    assert_eq!(
        stored.keys().collect::<Vec<_>>(),
        ["seen.txt"],
        "the deletions were uploaded"
    );

    let third = first.next_container();
    run(&third, "true");
    let keys: Vec<_> = fs::read_dir(third.state().join(".the0-state")).unwrap().collect();
    assert!(keys.is_empty(), "deleted keys came back: {keys:?}");
}

#[test]
fn sigterm_reaches_the_bot_and_its_last_write_is_uploaded() {
    let sandbox = Sandbox::new("term-1");
    let view = StoreView::Local(sandbox.local_store());
    script(
        &sandbox.code(),
        "bot.sh",
        r#"mkdir -p "$STATE_DIR"
echo '{"phase":"running"}' > "$STATE_DIR/phase.json"
trap 'echo "{\"phase\":\"stopped\"}" > "$STATE_DIR/phase.json"; exit 0' TERM
while true; do sleep 0.05; done"#,
    );
    let mut env = sandbox.execute_env("rust-stable", "bot.sh");
    env.push(sandbox.local_store_env());
    env.push(("BOT_TYPE".into(), "realtime".into()));
    let mut agent = Agent::spawn(&["execute"], &env, sandbox.path("agent.log"));
    eventually("the running state to be uploaded", MINUTE, || {
        let files = view.state_files("term-1")?;
        (files.get(".the0-state/phase.json")? == b"{\"phase\":\"running\"}\n").then_some(())
    });
    agent.signal(libc::SIGTERM);
    let (status, _) = agent.wait(MINUTE);
    assert_eq!(
        status.code(),
        Some(0),
        "the bot's own exit code: {}",
        agent.stderr()
    );
    let files = view.state_files("term-1").unwrap();
    assert_eq!(
        files[".the0-state/phase.json"], b"{\"phase\":\"stopped\"}\n",
        "written in the bot's TERM handler, after the signal"
    );
}

#[test]
fn a_bot_that_ignores_sigterm_is_killed_within_the_budget() {
    let sandbox = Sandbox::new("stubborn-1");
    script(
        &sandbox.code(),
        "bot.sh",
        "trap '' TERM\nwhile true; do sleep 1; done",
    );
    let mut env = sandbox.execute_env("rust-stable", "bot.sh");
    env.push(sandbox.local_store_env());
    env.push(("THE0_STOP_GRACE_SECS".into(), "1".into()));
    env.push(("THE0_STOP_TIMEOUT_SECS".into(), "6".into()));
    let mut agent = Agent::spawn(&["execute"], &env, sandbox.path("agent.log"));
    agent.wait_for_log("\"started\"", MINUTE);
    let signalled = std::time::Instant::now();
    agent.signal(libc::SIGTERM);
    let (status, _) = agent.wait(MINUTE);
    assert_eq!(status.code(), Some(128 + libc::SIGKILL), "{}", agent.stderr());
    assert!(agent.stderr().contains("sending SIGKILL"), "{}", agent.stderr());
    // Generous bound: the budget is 6 s; a hung agent would run until the 60 s wait above.
    assert!(
        signalled.elapsed() < Duration::from_secs(20),
        "took {:?}",
        signalled.elapsed()
    );
}

#[test]
fn store_credentials_and_agent_settings_do_not_reach_the_bot() {
    let sandbox = Sandbox::new("env-1");
    script(
        &sandbox.code(),
        "bot.sh",
        r#"mkdir -p "$STATE_DIR" && env > "$STATE_DIR/../env.txt""#,
    );
    let mut env = sandbox.execute_env("rust-stable", "bot.sh");
    env.push(sandbox.local_store_env());
    env.extend([
        ("MINIO_ACCESS_KEY".to_owned(), "leak-me".to_owned()),
        ("AWS_SECRET_ACCESS_KEY".to_owned(), "leak-me".to_owned()),
        ("NATS_URL".to_owned(), "nats://secret".to_owned()),
        ("QUERY_RESULT_KEY".to_owned(), "x".to_owned()),
        ("BOT_TYPE".to_owned(), "scheduled".to_owned()),
    ]);
    let (status, log) = run_agent(&["execute"], &env, sandbox.path("agent.log"), MINUTE);
    assert_eq!(status.code(), Some(0), "{log}");
    let seen = fs::read_to_string(sandbox.state().join("env.txt")).unwrap();
    assert!(
        !seen.contains("leak-me") && !seen.contains("THE0_STORE") && !seen.contains("NATS_URL"),
        "{seen}"
    );
    let has = |line: String| seen.lines().any(|l| l == line);
    assert!(has("BOT_ID=env-1".into()), "{seen}");
    assert!(
        has(format!(
            "STATE_DIR={}",
            sandbox.state().join(".the0-state").display()
        )),
        "{seen}"
    );
    assert!(
        has(format!(
            "CODE_MOUNT_DIR={}",
            sandbox.code().display().to_string().trim_start_matches('/')
        )),
        "{seen}"
    );
    assert!(
        has("BOT_TYPE=scheduled".into()) && has("SCRIPT_PATH=bot.sh".into()),
        "{seen}"
    );
}

#[test]
fn a_crafted_code_archive_is_refused_and_nothing_is_written_outside() {
    let sandbox = Sandbox::new("evil-1");
    let view = StoreView::Local(sandbox.local_store());
    view.put(
        "custom-bots",
        "evil",
        &zip_archive(&[
            ("bot.sh", b"#!/bin/sh\n", 0o755),
            ("../../escaped.txt", b"x", 0o644),
        ]),
    );
    let mut env = sandbox.execute_env("rust-stable", "bot.sh");
    env.push(sandbox.local_store_env());
    env.push(("CODE_FILE".into(), "evil".into()));
    let (status, log) = run_agent(&["execute"], &env, sandbox.path("agent.log"), MINUTE);
    assert_eq!(status.code(), Some(1));
    assert!(
        log.contains(r#"refusing archive entry \"../../escaped.txt\""#),
        "{log}"
    );
    assert!(
        !sandbox.path("escaped.txt").exists()
            && !sandbox.dir.path().parent().unwrap().join("escaped.txt").exists()
    );
    assert!(
        !sandbox.code().join("bot.sh").exists(),
        "a refused archive installs nothing"
    );
}

#[test]
fn configuration_errors_name_what_is_wrong() {
    let sandbox = Sandbox::new("cfg-1");
    for (name, value, message) in [
        ("RUNTIME", "cobol", r#"unknown RUNTIME \"cobol\""#),
        (
            "ENTRYPOINT",
            "../../bin/sh",
            "must be a relative path inside the code directory",
        ),
        ("BOT_ID", "", "BOT_ID is not set"),
        ("THE0_STORE", "s3://nope", "THE0_STORE must be a file:// URL"),
        (
            "BOT_CONFIG",
            r#"["BTC", "ETH"]"#,
            "BOT_CONFIG must be a JSON object: it is an array",
        ),
        (
            "BOT_CONFIG",
            "symbol=BTC",
            "BOT_CONFIG is not valid JSON: expected value at line 1 column 1",
        ),
    ] {
        let mut env: Vec<_> = sandbox
            .execute_env("rust-stable", "bot.sh")
            .into_iter()
            .filter(|(k, _)| k != name)
            .collect();
        env.push((name.into(), value.into()));
        let (status, log) = run_agent(&["execute"], &env, sandbox.path("agent.log"), MINUTE);
        assert_eq!(status.code(), Some(1), "{name}={value}");
        assert!(log.contains(message), "{name}={value}: {log}");
    }
}

/// Item 7: a configuration that is not UTF-8 was read as no configuration at all.
#[test]
fn a_bot_config_that_is_not_utf8_is_an_error_that_says_so() {
    use std::os::unix::ffi::OsStrExt;
    let sandbox = Sandbox::new("cfg-utf8");
    script(&sandbox.code(), "bot.sh", "true");
    let mut env = sandbox.execute_env("rust-stable", "bot.sh");
    env.push(sandbox.local_store_env());
    env.retain(|(k, _)| k != "BOT_CONFIG");
    let out = std::process::Command::new(agent_bin())
        .arg("execute")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env.iter().map(|(k, v)| (k, v)))
        .env(
            "BOT_CONFIG",
            std::ffi::OsStr::from_bytes(b"{\"symbol\": \"\xff\"}"),
        )
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{log}");
    assert!(
        log.contains("BOT_CONFIG is not valid JSON: the value is not UTF-8 text"),
        "{log}"
    );
}

/// The wrapper tests run real interpreters: a missing one is a failure, not a skip.
fn require_tool(name: &str) {
    if std::process::Command::new(name)
        .arg("--version")
        .output()
        .is_err()
    {
        panic!("{name} is required for the wrapper tests");
    }
}

#[test]
fn a_python_bot_that_raises_is_an_error_result_and_a_nonzero_exit() {
    require_tool("python3");
    let sandbox = Sandbox::new("py-1");
    fs::write(
        sandbox.code().join("main.py"),
        "def main(bot_id, config):\n    raise RuntimeError(f'boom {bot_id} {config[\"x\"]}')\n",
    )
    .unwrap();
    let mut env = sandbox.execute_env("python3.11", "main.py");
    env.push(sandbox.local_store_env());
    env.push(("BOT_CONFIG".into(), r#"{"x": 7}"#.into()));
    let (status, log) = run_agent(&["execute"], &env, sandbox.path("agent.log"), MINUTE);
    assert_eq!(status.code(), Some(1), "{log}");
    let result = sandbox.bot_result();
    assert_eq!(
        result,
        json!({"status": "error", "message": "RuntimeError: boom py-1 7"})
    );
    let bot_log = fs::read_to_string(sandbox.logs().join("bot.log")).unwrap();
    assert!(
        bot_log.contains("Traceback"),
        "the traceback is in bot.log: {bot_log}"
    );

    fs::write(
        sandbox.code().join("main.py"),
        "import asyncio\nasync def main(bot_id, config):\n    await asyncio.sleep(0)\n",
    )
    .unwrap();
    let (status, log) = run_agent(&["execute"], &env, sandbox.path("agent.log"), MINUTE);
    assert_eq!(status.code(), Some(0), "{log}");
    let result = sandbox.bot_result();
    assert_eq!(result["status"], "success");
}

#[test]
fn a_node_bot_that_rejects_is_an_error_result_and_a_nonzero_exit() {
    require_tool("node");
    let sandbox = Sandbox::new("node-1");
    fs::write(
        sandbox.code().join("main.js"),
        "exports.main = async (id, config) => { throw new Error(`nope ${id} ${config.x}`); };\n",
    )
    .unwrap();
    let mut env = sandbox.execute_env("nodejs20", "main.js");
    env.push(sandbox.local_store_env());
    env.push(("BOT_CONFIG".into(), r#"{"x": 3}"#.into()));
    let (status, log) = run_agent(&["execute"], &env, sandbox.path("agent.log"), MINUTE);
    assert_eq!(status.code(), Some(1), "{log}");
    let result = sandbox.bot_result();
    assert_eq!(result, json!({"status": "error", "message": "nope node-1 3"}));
}
