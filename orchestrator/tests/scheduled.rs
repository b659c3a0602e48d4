//! Scheduled bots end to end: cron runs in fresh containers, their state lands in the store,
//! a run past its timeout is stopped, and queries are answered by one-shot query containers
//! (warm from the pool, or cold).

mod common;

use std::time::Duration;

use common::*;
use serde_json::json;

const CODE_KEY: &str = "tests/testbot/1.0.0";

fn scheduled_spec(schedule: &str, extra: &str) -> String {
    format!(
        "type: scheduled\nschedule: '{schedule}'\ntimezone: Europe/London\nruntime: rust-stable\ncode: {CODE_KEY}\nentrypoints: {{bot: bot, query: query}}\n{extra}"
    )
}

#[test]
fn a_schedule_runs_on_time_and_its_state_lands() {
    let minio = Minio::start();
    minio.put("custom-bots", CODE_KEY, code_archive());
    let specs = tempfile::tempdir().unwrap();
    // Every 2 seconds (6 fields: seconds first).
    write_spec(
        specs.path(),
        "ticker",
        &scheduled_spec("*/2 * * * * *", "config: {symbol: BTC}\n"),
    );
    let instance = instance("cron");
    let orchestrator = Orchestrator::start(
        &instance,
        &minio,
        &["--specs", specs.path().to_str().unwrap(), "--warm-pool", "1"],
    );
    // Two runs, each counted in the state the previous one left in the store.
    let body = eventually("two scheduled runs", Duration::from_secs(120), || {
        let (status, body) = orchestrator.query("ticker", "/status", json!({}), 60);
        (status == 200 && body["data"]["runs"].as_u64().unwrap_or(0) >= 2).then_some(body)
    });
    assert_eq!(body["data"]["config"]["symbol"], "BTC");
    assert!(minio.get("bot-state", "ticker/state.tar.gz").is_some());
    // A run is counted once its container is gone, a moment after its state was uploaded.
    eventually("two runs counted", Duration::from_secs(30), || {
        (orchestrator.metric("the0_schedule_runs_total{outcome=\"ok\"}") >= 2.0).then_some(())
    });
    let armed = orchestrator.server.events("schedule armed");
    assert_eq!(armed.len(), 1, "armed once: {armed:?}");
    // Once the schedule no longer comes due, no run container is left behind.
    let (status, _) = orchestrator.admin(
        "PUT",
        "/admin/bots/ticker",
        Some(
            &json!({"type": "scheduled", "schedule": "0 0 1 1 *", "runtime": "rust-stable",
            "code": CODE_KEY, "entrypoints": {"bot": "bot", "query": "query"}}),
        ),
    );
    assert_eq!(status, 200);
    eventually("run containers to be removed", Duration::from_secs(60), || {
        containers(&instance, &["label=the0.role=run"])
            .is_empty()
            .then_some(())
    });
}

#[test]
fn a_run_past_its_timeout_is_stopped() {
    let minio = Minio::start();
    minio.put("custom-bots", CODE_KEY, code_archive());
    let specs = tempfile::tempdir().unwrap();
    write_spec(
        specs.path(),
        "hanger",
        &scheduled_spec("*/2 * * * * *", "config: {mode: hang}\ntimeout_secs: 2\n"),
    );
    let instance = instance("hang");
    let orchestrator = Orchestrator::start(
        &instance,
        &minio,
        &["--specs", specs.path().to_str().unwrap(), "--warm-pool", "0"],
    );
    let timeouts = eventually("a run to time out", Duration::from_secs(120), || {
        let events = orchestrator
            .server
            .events("scheduled run timed out and was stopped");
        (!events.is_empty()).then_some(events)
    });
    assert_eq!(timeouts[0]["bot_id"], "hanger");
    assert!(orchestrator.metric("the0_schedule_runs_total{outcome=\"timeout\"}") >= 1.0);
    // While a run hangs, later ticks are skipped rather than piling up runs.
    eventually("a skipped tick", Duration::from_secs(60), || {
        (orchestrator.metric("the0_schedule_runs_total{outcome=\"skipped\"}") >= 1.0).then_some(())
    });
    assert!(
        containers(&instance, &["label=the0.role=run"]).len() <= 1,
        "at most one run in flight"
    );
}

#[test]
fn scheduled_queries_warm_cold_timeouts_and_errors() {
    let minio = Minio::start();
    minio.put("custom-bots", CODE_KEY, code_archive());
    let specs = tempfile::tempdir().unwrap();
    // A schedule that never comes due in this test: queries read the stored state.
    write_spec(
        specs.path(),
        "quiet",
        &scheduled_spec("0 0 1 1 *", "config: {symbol: SOL}\n"),
    );
    let instance = instance("q");
    let orchestrator = Orchestrator::start(
        &instance,
        &minio,
        &["--specs", specs.path().to_str().unwrap(), "--warm-pool", "1"],
    );
    eventually("a warm container", Duration::from_secs(60), || {
        (orchestrator.metric("the0_pool_ready") >= 1.0).then_some(())
    });
    let (status, body) = orchestrator.query("quiet", "/status", json!({}), 60);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["runs"], 0, "no run yet: empty state");
    assert_eq!(body["data"]["bot_config"]["symbol"], "SOL");
    assert!(orchestrator.metric("the0_gateway_query_seconds_count{kind=\"oneshot\",path=\"warm\"}") >= 1.0);

    let (status, body) = orchestrator.query("quiet", "/echo", json!({"limit": 5}), 60);
    assert_eq!((status, &body["data"]), (200, &json!({"limit": "5"})), "{body}");
    let (status, body) = orchestrator.query("quiet", "/missing", json!({}), 60);
    assert_eq!(status, 404, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("No handler for path: /missing")
    );

    // A query past its limit: 504, and its container is removed at once (upstream's kept
    // running, §12.16).
    let (status, body) = orchestrator.query("quiet", "/sleep", json!({"ms": 20000}), 2);
    assert_eq!(status, 504, "{body}");
    eventually(
        "the timed-out query container to go",
        Duration::from_secs(30),
        || {
            let standby = containers(&instance, &["label=the0.role=standby"]);
            // Only the pool's fresh container (at most one) may remain.
            (standby.len() <= 1).then_some(())
        },
    );

    // No result object is ever left in the query-results bucket (§12.3).
    assert_eq!(minio.keys("query-results"), Vec::<String>::new());
}

#[test]
fn without_a_pool_queries_start_a_cold_container() {
    let minio = Minio::start();
    minio.put("custom-bots", CODE_KEY, code_archive());
    let specs = tempfile::tempdir().unwrap();
    write_spec(specs.path(), "cold", &scheduled_spec("0 0 1 1 *", ""));
    let instance = instance("cold");
    let orchestrator = Orchestrator::start(
        &instance,
        &minio,
        &["--specs", specs.path().to_str().unwrap(), "--warm-pool", "0"],
    );
    let (status, body) = orchestrator.query("cold", "/status", json!({}), 60);
    assert_eq!(status, 200, "{body}");
    assert!(orchestrator.metric("the0_gateway_query_seconds_count{kind=\"oneshot\",path=\"cold\"}") >= 1.0);
    eventually(
        "the cold container to be removed",
        Duration::from_secs(30),
        || {
            containers(&instance, &["label=the0.role=standby"])
                .is_empty()
                .then_some(())
        },
    );
}
