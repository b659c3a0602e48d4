//! Realtime bots end to end: a real Docker engine, MinIO, the static agent and test bot, the
//! orchestrator as a process, its gateway on 127.0.0.1.

mod common;

use std::time::Duration;

use common::*;
use serde_json::json;

const CODE_KEY: &str = "tests/testbot/1.0.0";

fn realtime_spec(extra_config: &str) -> String {
    format!(
        "type: realtime\nruntime: rust-stable\ncode: {CODE_KEY}\nversion: 1.0.0\nentrypoints: {{bot: bot, query: query}}\nconfig: {{{extra_config}}}\n"
    )
}

/// Waits until the bot answers `/status` through the gateway with `runs == want_runs`.
fn wait_status(orchestrator: &Orchestrator, bot: &str, want_runs: u64) -> serde_json::Value {
    eventually(
        &format!("{bot} to answer with runs={want_runs}"),
        Duration::from_secs(120),
        || {
            let (status, body) = orchestrator.query(bot, "/status", json!({}), 10);
            (status == 200 && body["data"]["runs"] == want_runs).then_some(body)
        },
    )
}

#[test]
fn create_update_query_disable_and_delete_a_realtime_bot() {
    let minio = Minio::start();
    minio.put("custom-bots", CODE_KEY, code_archive());
    let specs = tempfile::tempdir().unwrap();
    let instance = instance("rt");
    let orchestrator = Orchestrator::start(
        &instance,
        &minio,
        &["--specs", specs.path().to_str().unwrap(), "--warm-pool", "1"],
    );

    // Create: a spec file appears, the bot runs, its query front answers through the gateway.
    write_spec(specs.path(), "rt1", &realtime_spec("symbol: BTC"));
    let body = wait_status(&orchestrator, "rt1", 1);
    assert_eq!(body["status"], "ok");
    assert_eq!(body["data"]["bot_config"]["symbol"], "BTC");
    assert!(body["duration"].as_u64().unwrap() > 0, "{body}");
    assert!(body["duration_ms"].as_f64().is_some(), "{body}");
    let first = orchestrator.running_bot("rt1");
    assert_eq!(first.len(), 1);

    // Params reach the bot as typed JSON (upstream lost them, §12.1).
    let (status, body) = orchestrator.query("rt1", "echo", json!({"n": 1, "s": "x"}), 10);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"], json!({"n": "1", "s": "x"}));

    // A bot-side 404 stays a 404 with the bot's message (upstream: 500, §12.2).
    let (status, body) = orchestrator.query("rt1", "/nope", json!({}), 10);
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["status"], "error");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("No handler for path: /nope"),
        "{body}"
    );

    // A handler slower than the query's limit: 504.
    let (status, body) = orchestrator.query("rt1", "/sleep", json!({"ms": 5000}), 1);
    assert_eq!(status, 504, "{body}");

    // Unknown bot: 404.
    let (status, body) = orchestrator.query("nobody", "/status", json!({}), 10);
    assert_eq!(
        (status, body["error"].as_str()),
        (404, Some("bot not found: nobody"))
    );

    // Update through the admin API: the container is replaced and the new one restores the
    // state the old one synced on its way out (runs goes 1 -> 2).
    let spec = json!({"type": "realtime", "runtime": "rust-stable", "code": CODE_KEY, "version": "1.0.0",
        "entrypoints": {"bot": "bot", "query": "query"}, "config": {"symbol": "ETH"}});
    let (status, body) = orchestrator.admin("PUT", "/admin/bots/rt1", Some(&spec));
    assert_eq!(status, 200, "{body}");
    let body = wait_status(&orchestrator, "rt1", 2);
    assert_eq!(body["data"]["bot_config"]["symbol"], "ETH");
    let second = orchestrator.running_bot("rt1");
    assert_eq!(second.len(), 1);
    assert_ne!(second, first, "a new container runs the new spec");

    // Disable: the container stops; the bot still answers queries from its stored state
    // through a one-shot query container.
    let mut disabled = spec.clone();
    disabled["enabled"] = json!(false);
    let (status, _) = orchestrator.admin("PUT", "/admin/bots/rt1", Some(&disabled));
    assert_eq!(status, 200);
    eventually("the disabled bot to stop", Duration::from_secs(60), || {
        orchestrator.running_bot("rt1").is_empty().then_some(())
    });
    let (status, body) = orchestrator.query("rt1", "/status", json!({}), 60);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["runs"], 2);
    assert_eq!(body["data"]["bot_config"]["symbol"], "ETH");

    // Delete: gone from the admin API, from the gateway, and no container is left.
    let (status, _) = orchestrator.admin("DELETE", "/admin/bots/rt1", None);
    assert_eq!(status, 204);
    let (status, _) = orchestrator.admin("GET", "/admin/bots/rt1", None);
    assert_eq!(status, 404);
    eventually(
        "the deleted bot to be unknown to the gateway",
        Duration::from_secs(10),
        || (orchestrator.query("rt1", "/status", json!({}), 10).0 == 404).then_some(()),
    );
    eventually("no bot container left", Duration::from_secs(30), || {
        containers(&instance, &["label=the0.role=bot"])
            .is_empty()
            .then_some(())
    });
    assert!(orchestrator.metric("the0_bot_starts_total") >= 2.0);
}

#[test]
fn the_admin_api_needs_its_token_and_refuses_bad_specs() {
    let minio = Minio::start();
    let specs = tempfile::tempdir().unwrap();
    let instance = instance("admin");
    let orchestrator = Orchestrator::start(
        &instance,
        &minio,
        &[
            "--specs",
            specs.path().to_str().unwrap(),
            "--warm-pool",
            "0",
            "--token",
            "query-secret",
        ],
    );
    // With --token, POST /query needs it (upstream's gateway was open, §12.20).
    let ask = r#"{"bot_id":"nobody","query_path":"/status"}"#;
    let (status, _) = http("POST", &orchestrator.url("/query"), Some(ask), None);
    assert_eq!(status, 401);
    let (status, body) = http(
        "POST",
        &orchestrator.url("/query"),
        Some(ask),
        Some("query-secret"),
    );
    assert_eq!(
        (status, body["error"].as_str()),
        (404, Some("bot not found: nobody"))
    );
    let (status, _) = http("GET", &orchestrator.url("/admin/bots"), None, None);
    assert_eq!(status, 401);
    let (status, _) = http("GET", &orchestrator.url("/admin/bots"), None, Some("wrong"));
    assert_eq!(status, 401);
    let bad = json!({"type": "realtime", "runtime": "cobol", "code": "k", "entrypoints": {"bot": "b"}});
    let (status, body) = orchestrator.admin("PUT", "/admin/bots/x1", Some(&bad));
    assert_eq!(status, 422, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("runtime \"cobol\""),
        "{body}"
    );
    assert!(!specs.path().join("x1.json").exists(), "nothing written");
    std::fs::write(specs.path().join("broken.yaml"), "type: [").unwrap();
    let (status, body) = orchestrator.admin("GET", "/admin/bots", None);
    assert_eq!(status, 200);
    assert_eq!(body["rejected"][0]["bot"], "broken", "{body}");
    let (status, _) = http("GET", &orchestrator.url("/query"), None, None);
    assert_eq!(status, 405);
    let (status, body) = http(
        "POST",
        &orchestrator.url("/query"),
        Some(r#"{"query_path":"/x"}"#),
        Some("query-secret"),
    );
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("bot_id is required"))
    );
}

#[test]
fn a_crash_looping_bot_backs_off() {
    let minio = Minio::start();
    minio.put("custom-bots", CODE_KEY, code_archive());
    let specs = tempfile::tempdir().unwrap();
    write_spec(specs.path(), "crasher", &realtime_spec("mode: crash"));
    let instance = instance("crash");
    let orchestrator = Orchestrator::start(
        &instance,
        &minio,
        &[
            "--specs",
            specs.path().to_str().unwrap(),
            "--warm-pool",
            "0",
            "--crash-backoff-base",
            "1s",
        ],
    );
    let exits = eventually("three crashes", Duration::from_secs(120), || {
        let exits = orchestrator
            .server
            .events("the bot exited; restarting it after a backoff");
        (exits.len() >= 3).then_some(exits)
    });
    let delays: Vec<u64> = exits.iter().map(|e| e["delay_ms"].as_u64().unwrap()).collect();
    assert_eq!(delays[..3], [1000, 2000, 4000], "delays double: {delays:?}");
    assert!(
        exits
            .iter()
            .all(|e| e["exit_code"] == 3 && e["bot_id"] == "crasher"),
        "{exits:?}"
    );
    assert!(
        exits[0]["last_lines"]
            .as_str()
            .unwrap()
            .contains("crashing on purpose"),
        "the crash's last lines are kept: {:?}",
        exits[0]
    );
    assert!(orchestrator.metric("the0_crash_backoffs_total") >= 3.0);
}

#[test]
fn a_restarted_orchestrator_adopts_its_running_bots() {
    let minio = Minio::start();
    minio.put("custom-bots", CODE_KEY, code_archive());
    let specs = tempfile::tempdir().unwrap();
    write_spec(specs.path(), "keeper", &realtime_spec("symbol: BTC"));
    let instance = instance("adopt");
    let args = ["--specs", specs.path().to_str().unwrap(), "--warm-pool", "0"];
    let mut first = Orchestrator::start(&instance, &minio, &args);
    wait_status(&first, "keeper", 1);
    let before = first.running_bot("keeper");
    assert_eq!(before.len(), 1);
    // SIGKILL: no chance to stop anything.
    first.server.kill();

    let second = Orchestrator::start(&instance, &minio, &args);
    second.wait_ready();
    assert_eq!(second.running_bot("keeper"), before, "the same container runs on");
    assert_eq!(second.metric("the0_bot_starts_total"), 0.0, "nothing was started");
    let (status, body) = second.query("keeper", "/status", json!({}), 10);
    assert_eq!((status, &body["data"]["runs"]), (200, &json!(1)), "{body}");
    // The first orchestrator's handle must not remove the adopted containers.
    std::mem::forget(first);
}

#[test]
fn a_clean_shutdown_stops_the_bots() {
    let minio = Minio::start();
    minio.put("custom-bots", CODE_KEY, code_archive());
    let specs = tempfile::tempdir().unwrap();
    write_spec(specs.path(), "stopper", &realtime_spec(""));
    let instance = instance("stop");
    let mut orchestrator = Orchestrator::start(
        &instance,
        &minio,
        &["--specs", specs.path().to_str().unwrap(), "--warm-pool", "1"],
    );
    wait_status(&orchestrator, "stopper", 1);
    assert_eq!(orchestrator.server.terminate(Duration::from_secs(60)), Some(0));
    assert!(
        containers(&instance, &[]).is_empty(),
        "bots and standby containers are gone"
    );
    // Its last state was synced on the way out: a new run starts from it.
    let archive = minio.get("bot-state", "stopper/state.tar.gz");
    assert!(archive.is_some(), "the state was uploaded");
}
