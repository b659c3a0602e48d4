//! `the0-agent daemon sync` (the Kubernetes sidecar) and `daemon init`, on the local store.

mod common;

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::time::Duration;

use common::*;
use serde_json::Value;

const MINUTE: Duration = Duration::from_secs(60);

fn sync_args(sandbox: &Sandbox, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = ["daemon", "sync", "--bot-id", &sandbox.bot_id, "--state-path"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.push(sandbox.state().to_string_lossy().into_owned());
    args.push("--logs-path".into());
    args.push(sandbox.logs().to_string_lossy().into_owned());
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

fn stored_messages(sandbox: &Sandbox) -> Vec<String> {
    let dir = sandbox
        .local_store()
        .join(format!("bot-logs/logs/{}", sandbox.bot_id));
    let mut messages = Vec::new();
    for day in fs::read_dir(dir).into_iter().flatten().flatten() {
        for line in fs::read_to_string(day.path()).unwrap().lines() {
            let line: Value = serde_json::from_str(line).unwrap();
            messages.push(line["message"].as_str().unwrap().to_owned());
        }
    }
    messages
}

fn append(sandbox: &Sandbox, lines: &[&str]) {
    let mut log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(sandbox.logs().join("bot.log"))
        .unwrap();
    for line in lines {
        writeln!(log, "{line}").unwrap();
    }
}

#[test]
fn the_log_position_survives_a_sidecar_restart_without_duplicates() {
    let sandbox = Sandbox::new("sidecar-logs");
    let env = vec![sandbox.local_store_env()];
    let args = sync_args(&sandbox, &[]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    append(&sandbox, &["one", "two", "three"]);

    let mut sidecar = Agent::spawn(&args, &env, sandbox.path("sidecar-1.log"));
    eventually("three lines uploaded", MINUTE, || {
        (stored_messages(&sandbox).len() == 3).then_some(())
    });
    sidecar.signal(libc::SIGTERM);
    assert_eq!(sidecar.wait(MINUTE).0.code(), Some(0), "{}", sidecar.stderr());

    append(&sandbox, &["four", "five"]);
    let mut restarted = Agent::spawn(&args, &env, sandbox.path("sidecar-2.log"));
    eventually("five lines uploaded", MINUTE, || {
        (stored_messages(&sandbox).len() >= 5).then_some(())
    });
    restarted.signal(libc::SIGTERM);
    assert_eq!(restarted.wait(MINUTE).0.code(), Some(0));
    assert_eq!(stored_messages(&sandbox), ["one", "two", "three", "four", "five"]);
}

#[test]
fn the_sidecar_uploads_state_only_after_the_restore_and_reports_readiness() {
    let sandbox = Sandbox::new("sidecar-state");
    let view = StoreView::Local(sandbox.local_store());
    // Stored state from before; the bot container has not restored it yet.
    let stored = state_archive(&[(".the0-state/kept.json", b"1\n")]);
    view.put("bot-state", "sidecar-state/state.tar.gz", &stored);

    let port = free_port().to_string();
    let args = sync_args(&sandbox, &["--readiness-port", &port, "--interval", "1s"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut sidecar = Agent::spawn(&args, &[sandbox.local_store_env()], sandbox.path("sidecar.log"));
    let ready = format!("http://127.0.0.1:{port}/readyz");
    eventually("readiness", MINUTE, || {
        let out = std::process::Command::new("curl")
            .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", &ready])
            .output()
            .ok()?;
        (out.stdout == b"200").then_some(())
    });
    // Ticks pass with an empty state directory: the stored state must not be replaced.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        view.get("bot-state", "sidecar-state/state.tar.gz").unwrap(),
        stored
    );

    // The bot container restores (daemon init, as execute does) and writes; then it is synced.
    let (status, log) = run_agent(
        &[
            "daemon",
            "init",
            "--bot-id",
            "sidecar-state",
            "--state-path",
            sandbox.state().to_str().unwrap(),
            "--code-path",
            sandbox.code().to_str().unwrap(),
        ],
        &[sandbox.local_store_env()],
        sandbox.path("init.log"),
        MINUTE,
    );
    assert_eq!(status.code(), Some(0), "{log}");
    assert_eq!(
        fs::read(sandbox.state().join(".the0-state/kept.json")).unwrap(),
        b"1\n"
    );
    fs::write(sandbox.state().join(".the0-state/new.json"), b"2\n").unwrap();
    eventually("the new key stored next to the restored one", MINUTE, || {
        let files = view.state_files("sidecar-state")?;
        (files.len() == 2
            && files.contains_key(".the0-state/kept.json")
            && files.contains_key(".the0-state/new.json"))
        .then_some(())
    });
    sidecar.signal(libc::SIGTERM);
    assert_eq!(sidecar.wait(MINUTE).0.code(), Some(0));
}

#[test]
fn the_sidecar_stops_after_the_done_file_with_a_final_sync() {
    let sandbox = Sandbox::new("sidecar-done");
    let done = sandbox.path("var/done");
    let args = sync_args(
        &sandbox,
        &["--watch-done", done.to_str().unwrap(), "--interval", "10m"],
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut sidecar = Agent::spawn(&args, &[sandbox.local_store_env()], sandbox.path("sidecar.log"));
    sidecar.wait_for_log("daemon sync", MINUTE);
    append(&sandbox, &["last words"]);
    fs::write(&done, b"0").unwrap();
    assert_eq!(sidecar.wait(MINUTE).0.code(), Some(0), "{}", sidecar.stderr());
    assert_eq!(stored_messages(&sandbox), ["last words"]);
}

#[test]
fn init_downloads_the_code_and_refuses_a_missing_archive() {
    let sandbox = Sandbox::new("init-1");
    let view = StoreView::Local(sandbox.local_store());
    view.put(
        "custom-bots",
        "u/bot/1",
        &zip_archive(&[("main.py", b"print(1)\n", 0o644)]),
    );
    let (code, state) = (sandbox.code(), sandbox.state());
    let base = [
        "daemon",
        "init",
        "--bot-id",
        "init-1",
        "--code-path",
        code.to_str().unwrap(),
        "--state-path",
        state.to_str().unwrap(),
    ];
    let (status, log) = run_agent(
        &[&base[..], &["--code-file", "u/bot/1"]].concat(),
        &[sandbox.local_store_env()],
        sandbox.path("a.log"),
        MINUTE,
    );
    assert_eq!(status.code(), Some(0), "{log}");
    assert_eq!(fs::read(sandbox.code().join("main.py")).unwrap(), b"print(1)\n");
    let (status, log) = run_agent(
        &[&base[..], &["--code-file", "u/bot/404"]].concat(),
        &[sandbox.local_store_env()],
        sandbox.path("b.log"),
        MINUTE,
    );
    assert_eq!(status.code(), Some(1));
    assert!(
        log.contains("the code archive custom-bots/u/bot/404 does not exist"),
        "{log}"
    );
}

#[test]
fn every_command_has_help_and_version_prints_its_line() {
    for args in [
        &["--help"][..],
        &["execute", "--help"],
        &["daemon", "sync", "--help"],
        &["daemon", "init", "--help"],
    ] {
        let out = std::process::Command::new(agent_bin())
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("Usage:"),
            "{args:?}"
        );
    }
    let out = std::process::Command::new(agent_bin())
        .arg("version")
        .output()
        .unwrap();
    let line = String::from_utf8(out.stdout).unwrap();
    assert!(
        line.starts_with("the0-agent ") && line.contains("1.3.2 compatible"),
        "{line}"
    );
}
