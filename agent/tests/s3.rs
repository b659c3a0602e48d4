//! The agent against a real S3 server (MinIO, what the0 deployments run).

mod common;

use std::fs;
use std::time::Duration;

use common::*;
use serde_json::{Value, json};

const MINUTE: Duration = Duration::from_secs(60);

fn tick_of(view: &StoreView<'_>, bot: &str) -> Option<u64> {
    let files = view.state_files(bot)?;
    let strategy: Value = serde_json::from_slice(files.get(".the0-state/strategy.json")?).ok()?;
    strategy["tick"].as_u64()
}

/// A realtime example bot ticking every 20 ms, with its code on the code volume already
/// (`CODE_FILE` unset), so that it can start while the store is down.
fn realtime_sma(sandbox: &Sandbox, minio: &Minio) -> Vec<(String, String)> {
    let bot_dir = sandbox.code().join("target/release");
    fs::create_dir_all(&bot_dir).unwrap();
    fs::copy(example_bin("sma-bot"), bot_dir.join("sma-bot")).unwrap();
    let mut env = sandbox.execute_env("rust-stable", "target/release/sma-bot");
    env.extend(minio.env());
    env.push(("BOT_TYPE".into(), "realtime".into()));
    env.push((
        "BOT_CONFIG".into(),
        json!({"short_period": 2, "long_period": 4, "tick_interval_ms": 20}).to_string(),
    ));
    env
}

#[test]
fn code_state_and_logs_round_trip_through_s3_and_state_follows_writes() {
    let sandbox = Sandbox::new("s3-sma");
    let minio = Minio::start(&sandbox.path("minio"));
    let view = StoreView::S3(&minio);
    let bot = fs::read(example_bin("sma-bot")).unwrap();
    view.put(
        "custom-bots",
        "user/sma/1.0.0",
        &zip_archive(&[("sma-bot", &bot, 0o644)]),
    );
    let mut env = sandbox.execute_env("rust-stable", "sma-bot");
    env.extend(minio.env());
    env.push(("CODE_FILE".into(), "user/sma/1.0.0".into()));
    env.push(("BOT_TYPE".into(), "realtime".into()));
    env.push((
        "BOT_CONFIG".into(),
        json!({"short_period": 2, "long_period": 4, "tick_interval_ms": 20}).to_string(),
    ));
    let mut agent = Agent::spawn(&["execute"], &env, sandbox.path("agent.log"));

    // set -> the stored object follows, within about a second of each change.
    let first = eventually("the first state upload", MINUTE, || tick_of(&view, "s3-sma"));
    let later = eventually("a later state upload", MINUTE, || {
        tick_of(&view, "s3-sma").filter(|t| *t > first + 10)
    });
    assert!(later > first);
    let log_key = format!(
        "logs/s3-sma/{}.log",
        the0_sdk::time::now_rfc3339()[..10].replace('-', "")
    );
    eventually("log lines in the logs bucket", MINUTE, || {
        let log = view.get("bot-logs", &log_key)?;
        String::from_utf8(log)
            .ok()?
            .contains(r#""_metric":"price""#)
            .then_some(())
    });

    agent.signal(libc::SIGTERM);
    let (status, _) = agent.wait(MINUTE);
    assert_eq!(
        status.code(),
        Some(128 + libc::SIGTERM),
        "the bot has no TERM handler: {}",
        agent.stderr()
    );
    let stopped_at = tick_of(&view, "s3-sma").unwrap();
    let on_disk: Value =
        serde_json::from_slice(&fs::read(sandbox.state().join(".the0-state/strategy.json")).unwrap())
            .unwrap();
    assert_eq!(
        on_disk["tick"], stopped_at,
        "the final sync uploaded the last state"
    );

    // A new container restores it from S3 and continues.
    let next = sandbox.next_container();
    let mut env = next.execute_env("rust-stable", "sma-bot");
    env.extend(minio.env());
    env.push(("CODE_FILE".into(), "user/sma/1.0.0".into()));
    env.push((
        "BOT_CONFIG".into(),
        json!({"short_period": 2, "long_period": 4, "ticks": 5}).to_string(),
    ));
    let (status, log) = run_agent(&["execute"], &env, next.path("agent.log"), MINUTE);
    assert_eq!(status.code(), Some(0), "{log}");
    assert_eq!(tick_of(&view, "s3-sma"), Some(stopped_at + 5));
}

#[test]
fn with_s3_down_at_start_the_bot_runs_and_its_state_lands_once_s3_is_back() {
    let sandbox = Sandbox::new("s3-late");
    let mut minio = Minio::start(&sandbox.path("minio"));
    let view = StoreView::S3(&minio);
    // State stored by an earlier container, which this one will not be able to restore.
    let earlier = state_archive(&[(".the0-state/old.json", b"\"old\"\n")]);
    view.put("bot-state", "s3-late/state.tar.gz", &earlier);
    minio.stop();

    let env = realtime_sma(&sandbox, &minio);
    let mut agent = Agent::spawn(&["execute"], &env, sandbox.path("agent.log"));
    agent.wait_for_log("cannot restore the state", MINUTE);
    agent.wait_for_log("\"started\"", MINUTE);
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        agent.is_running(),
        "the bot runs while the store is down: {}",
        agent.stderr()
    );

    minio.restart();
    let view = StoreView::S3(&minio);
    eventually("the new state in S3", MINUTE, || tick_of(&view, "s3-late"));
    // The state that could not be restored was kept, not overwritten and lost.
    let kept = eventually("the kept copy", MINUTE, || {
        view.list("bot-state", "s3-late/")
            .into_iter()
            .find(|k| k.starts_with("s3-late/state.unrestored-"))
    });
    assert_eq!(view.get("bot-state", &kept).unwrap(), earlier);
    assert!(agent.is_running());
}

#[test]
fn with_s3_down_mid_run_the_bot_keeps_running_and_the_state_lands_after_recovery() {
    let sandbox = Sandbox::new("s3-flap");
    let mut minio = Minio::start(&sandbox.path("minio"));
    let env = realtime_sma(&sandbox, &minio);
    let mut agent = Agent::spawn(&["execute"], &env, sandbox.path("agent.log"));
    let before = eventually("a first upload", MINUTE, || {
        tick_of(&StoreView::S3(&minio), "s3-flap")
    });

    minio.stop();
    agent.wait_for_log("sync failed", MINUTE);
    assert!(agent.is_running(), "{}", agent.stderr());
    let ticking: Value =
        serde_json::from_slice(&fs::read(sandbox.state().join(".the0-state/strategy.json")).unwrap())
            .unwrap();

    minio.restart();
    let view = StoreView::S3(&minio);
    let after = eventually("an upload after recovery", MINUTE, || {
        tick_of(&view, "s3-flap").filter(|t| *t > ticking["tick"].as_u64().unwrap())
    });
    assert!(after > before);
    assert!(agent.is_running());
}

#[test]
fn killing_the_agent_mid_upload_leaves_the_stored_state_intact_and_the_upload_is_aborted_later() {
    let sandbox = Sandbox::new("s3-kill");
    let minio = Minio::start(&sandbox.path("minio"));
    let view = StoreView::S3(&minio);
    script(
        &sandbox.code(),
        "bot.sh",
        r#"mkdir -p "$STATE_DIR" && echo 1 > "$STATE_DIR/small.json"; echo $$ > "$STATE_DIR/../../bot.pid"; exec sleep 600"#,
    );
    let mut env = sandbox.execute_env("rust-stable", "bot.sh");
    env.extend(minio.env());
    env.push(("BOT_TYPE".into(), "realtime".into()));
    env.push(("MAX_STATE_FILE_SIZE_MB".into(), "200".into()));
    let mut agent = Agent::spawn(&["execute"], &env, sandbox.path("agent.log"));
    let small = eventually("the small state stored", MINUTE, || {
        view.state_files("s3-kill")
            .filter(|f| f.contains_key(".the0-state/small.json"))?;
        view.get("bot-state", "s3-kill/state.tar.gz")
    });

    // 96 MiB of incompressible state: a multipart upload of a dozen parts, killed in the middle.
    let mut big = vec![0u8; 96 << 20];
    let mut x = 0x2545_f491_4f6c_dd1du64;
    for chunk in big.chunks_mut(8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        chunk.copy_from_slice(&x.to_le_bytes()[..chunk.len()]);
    }
    // Written beside the tree and moved in whole: the agent syncs a change within milliseconds,
    // and a file caught half-written would be a small upload that completes.
    fs::write(sandbox.path("big.bin"), &big).unwrap();
    fs::rename(sandbox.path("big.bin"), sandbox.state().join("big.bin")).unwrap();
    let left = eventually("the multipart upload to start", MINUTE, || {
        minio
            .incomplete_uploads("bot-state")
            .into_iter()
            .find(|(key, _)| key == "s3-kill/state.tar.gz")
    });
    agent.signal(libc::SIGKILL);
    agent.wait(MINUTE);
    let bot_pid: i32 = fs::read_to_string(sandbox.path("bot.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // SAFETY: kill with plain integers; the orphaned bot is not needed any more.
    unsafe {
        libc::kill(bot_pid, libc::SIGKILL);
    }
    assert_eq!(
        view.get("bot-state", "s3-kill/state.tar.gz").unwrap(),
        small,
        "the stored state changed"
    );

    // Item 7 of issue 14: the upload the kill left incomplete is aborted at the next start.
    assert!(
        minio.incomplete_uploads("bot-state").contains(&left),
        "the kill left it incomplete"
    );
    let next = Agent::spawn(&["execute"], &env, sandbox.path("agent-2.log"));
    eventually("the leftover upload aborted", MINUTE, || {
        (!minio.incomplete_uploads("bot-state").contains(&left)).then_some(())
    });
    eventually("the big state stored", MINUTE, || {
        view.state_files("s3-kill")?.remove("big.bin")
    });
    drop(next);
}

#[test]
fn an_ephemeral_query_result_is_uploaded_to_its_key() {
    let sandbox = Sandbox::new("s3-query");
    let minio = Minio::start(&sandbox.path("minio"));
    let view = StoreView::S3(&minio);
    let bot_dir = sandbox.code().join("target/release");
    fs::create_dir_all(&bot_dir).unwrap();
    fs::copy(example_bin("query"), bot_dir.join("query")).unwrap();
    let mut env = sandbox.execute_env("rust-stable", "target/release/sma-bot");
    env.extend(minio.env());
    env.push(("QUERY_ENTRYPOINT".into(), "target/release/query".into()));
    env.push(("QUERY_RESULT_KEY".into(), "s3-query/123-abc/result.json".into()));
    let (status, log) = run_agent(
        &["execute", "--query", "/status"],
        &env,
        sandbox.path("agent.log"),
        MINUTE,
    );
    assert_eq!(status.code(), Some(0), "{log}");
    let result: Value =
        serde_json::from_slice(&view.get("query-results", "s3-query/123-abc/result.json").unwrap()).unwrap();
    assert_eq!(result["status"], "ok");
    assert_eq!(result["data"]["tick"], 0);
}
