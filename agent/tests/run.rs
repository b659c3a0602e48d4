//! `the0-agent run` and `the0-agent query` with the Rust example bot, end to end.

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::*;
use serde_json::Value;

const MINUTE: Duration = Duration::from_secs(60);

/// The example bot as a bot folder: its bot-config.yaml and its binaries where the entrypoints say.
fn example_folder(dir: &Path) {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/rust-sma-crossover");
    fs::create_dir_all(dir.join("target/release")).unwrap();
    fs::copy(example.join("bot-config.yaml"), dir.join("bot-config.yaml")).unwrap();
    fs::write(
        dir.join("config.json"),
        r#"{"symbol": "DEV", "short_period": 2, "long_period": 4, "tick_interval_ms": 20}"#,
    )
    .unwrap();
    for bin in ["sma-bot", "query"] {
        fs::copy(example_bin(bin), dir.join("target/release").join(bin)).unwrap();
    }
}

fn status(port: u16) -> Option<Value> {
    let out = Command::new("curl")
        .args(["-sf", &format!("http://127.0.0.1:{port}/status")])
        .output()
        .ok()?;
    serde_json::from_slice::<Value>(&out.stdout).ok()
}

#[test]
fn run_serves_queries_through_the_front_and_query_answers_from_the_stored_state() {
    let sandbox = Sandbox::new("dev-run");
    let folder = sandbox.path("sma");
    example_folder(&folder);
    let store = sandbox.path("store");
    let port = free_port().to_string();
    let args = [
        "run",
        folder.to_str().unwrap(),
        "--store",
        store.to_str().unwrap(),
        "--port",
        &port,
    ];
    let mut running = Agent::spawn(&args, &[], sandbox.path("run.log"));
    let port: u16 = port.parse().unwrap();
    let first = eventually("a status answer through the front", MINUTE, || {
        status(port)?["data"]["tick"].as_u64()
    });
    let later = eventually("the bot to keep ticking", MINUTE, || {
        status(port)?["data"]["tick"].as_u64().filter(|t| *t > first + 5)
    });
    assert_eq!(
        status(port).unwrap()["data"]["symbol"],
        "DEV",
        "the folder's config.json"
    );

    running.signal(libc::SIGINT);
    let (exit, _) = running.wait(MINUTE);
    assert_eq!(
        exit.code(),
        Some(128 + libc::SIGTERM),
        "Ctrl-C stops the bot with SIGTERM: {}",
        running.stderr()
    );
    assert!(
        store.join("bot-state/rust-sma-crossover/state.tar.gz").exists(),
        "state kept in the local store"
    );

    let out = Command::new(agent_bin())
        .args([
            "query",
            folder.to_str().unwrap(),
            "/signals",
            "--param",
            "limit=1",
            "--store",
            store.to_str().unwrap(),
        ])
        .env("LOG_LEVEL", "warn")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answer["status"], "ok", "{answer}");
    assert!(answer["data"]["signals"].as_array().unwrap().len() <= 1);
    let out = Command::new(agent_bin())
        .args([
            "query",
            folder.to_str().unwrap(),
            "/status",
            "--store",
            store.to_str().unwrap(),
        ])
        .env("LOG_LEVEL", "warn")
        .output()
        .unwrap();
    let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        answer["data"]["tick"].as_u64().unwrap() >= later,
        "the stored state is the last one: {answer}"
    );
}

#[test]
fn a_folder_without_a_bot_definition_is_a_clear_error() {
    let sandbox = Sandbox::new("dev-bad");
    let (status, log) = run_agent(
        &["run", sandbox.code().to_str().unwrap()],
        &[],
        sandbox.path("run.log"),
        MINUTE,
    );
    assert_eq!(status.code(), Some(1));
    assert!(
        log.contains("bot-config.yaml") && log.contains("No such file"),
        "{log}"
    );
}
