//! `the0-orchestrator gc` against a real MinIO: orphans found from the desired state, the safety
//! threshold, dry runs, and what a real sweep deletes and keeps.

mod common;

use std::process::Command;

use common::*;
use serde_json::Value;

fn gc(minio: &Minio, specs: &std::path::Path, args: &[&str]) -> (i32, Value, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_the0-orchestrator"))
        .args(["gc", "--specs", specs.to_str().unwrap()])
        .args(args)
        .envs(minio.env())
        .env_remove("MONGO_URI")
        .output()
        .unwrap();
    let report = serde_json::from_slice(&output.stdout).unwrap_or(Value::Null);
    (
        output.status.code().unwrap_or(-1),
        report,
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn gc_keeps_known_bots_refuses_mass_deletion_and_dry_runs() {
    let minio = Minio::start();
    for bot in ["a", "b", "c", "d"] {
        minio.put("bot-state", &format!("{bot}/state.tar.gz"), b"state".to_vec());
    }
    minio.put("bot-logs", "logs/a/20260101.log", b"{}\n".to_vec());
    minio.put("bot-logs", "logs/b/20260101.log", b"{}\n".to_vec());
    minio.put("bot-logs", "logs/a/.tmp-1", b"chunk".to_vec());
    minio.put("query-results", "a/1-abc/result.json", b"{}".to_vec());
    let specs = tempfile::tempdir().unwrap();
    write_spec(
        specs.path(),
        "a",
        "type: realtime\nruntime: python3.11\ncode: k\nentrypoints: {bot: main.py}\n",
    );

    // 3 of the 4 bots in the store are unknown: above the default 50 %.
    let (code, _, stderr) = gc(&minio, specs.path(), &["--dry-run"]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("refusing to delete the data of 3 of 4 bots (75% > 50%)"),
        "{stderr}"
    );

    let (code, report, stderr) = gc(
        &minio,
        specs.path(),
        &["--dry-run", "--max-share", "0.8", "--stale-after", "0s"],
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(report["orphans"], serde_json::json!(["b", "c", "d"]));
    assert_eq!(report["bots_in_store"], 4);
    assert_eq!(report["orphan_objects"], 4, "{report}");
    assert_eq!(report["stale_log_chunks"], 1);
    assert_eq!(report["stale_query_results"], 1);
    assert_eq!(report["dry_run"], true);
    assert!(
        minio.get("bot-state", "b/state.tar.gz").is_some(),
        "a dry run deletes nothing"
    );
    assert!(minio.get("query-results", "a/1-abc/result.json").is_some());

    let (code, report, stderr) = gc(
        &minio,
        specs.path(),
        &["--max-share", "0.8", "--stale-after", "0s"],
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(report["dry_run"], false);
    for (bucket, key) in [
        ("bot-state", "b/state.tar.gz"),
        ("bot-state", "c/state.tar.gz"),
        ("bot-state", "d/state.tar.gz"),
        ("bot-logs", "logs/b/20260101.log"),
        ("bot-logs", "logs/a/.tmp-1"),
        ("query-results", "a/1-abc/result.json"),
    ] {
        assert!(minio.get(bucket, key).is_none(), "{bucket}/{key} deleted");
    }
    assert!(
        minio.get("bot-state", "a/state.tar.gz").is_some(),
        "a known bot's state is kept"
    );
    assert!(
        minio.get("bot-logs", "logs/a/20260101.log").is_some(),
        "and its logs"
    );

    // --force goes past the threshold: with no bot known at all, everything goes.
    let empty = tempfile::tempdir().unwrap();
    let (code, _, _) = gc(&minio, empty.path(), &[]);
    assert_eq!(code, 1, "refused without --force");
    let (code, report, stderr) = gc(&minio, empty.path(), &["--force"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(report["orphans"], serde_json::json!(["a"]));
    assert!(minio.get("bot-state", "a/state.tar.gz").is_none());
}
