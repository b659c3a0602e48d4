//! The agent against an unlucky operator, with a real MinIO: a frozen store at stop time, kill -9
//! between a write and its upload, kill -9 in the middle of a log append or a multipart upload.

mod common;

use std::fs;
use std::time::Duration;

use common::*;

const MINUTE: Duration = Duration::from_secs(60);

fn kill(pid: i32) {
    // SAFETY: kill with plain integers.
    unsafe {
        libc::kill(pid, libc::SIGKILL);
    }
}

fn read_pid(path: &std::path::Path) -> i32 {
    eventually("the bot's pid file", MINUTE, || {
        fs::read_to_string(path).ok()?.trim().parse().ok()
    })
}

/// The stored content of `key` in the state of `bot`.
fn stored(view: &StoreView<'_>, bot: &str, key: &str) -> Option<Vec<u8>> {
    view.state_files(bot)?.remove(key)
}

/// A realtime bot writing a state key every 100 ms and printing a line each time.
fn busy_bot(sandbox: &Sandbox, minio: &Minio, budget_secs: u32) -> Vec<(String, String)> {
    script(
        &sandbox.code(),
        "bot.sh",
        r#"mkdir -p "$STATE_DIR"; i=0
while true; do i=$((i+1)); echo "$i" > "$STATE_DIR/i.json"; echo "tick $i"; sleep 0.1; done"#,
    );
    let mut env = sandbox.execute_env("rust-stable", "bot.sh");
    env.extend(minio.env());
    env.push(("BOT_TYPE".into(), "realtime".into()));
    env.push(("THE0_STOP_TIMEOUT_SECS".into(), budget_secs.to_string()));
    env
}

/// Returns once the agent waits on the frozen store: a request of its sits unread in MinIO's
/// sockets, or three seconds have passed (changes are synced within a second, so by then it
/// sent one, which MinIO may have read before it froze and will never answer).
fn waiting_on_the_frozen_store(minio: &Minio) {
    let frozen = std::time::Instant::now();
    eventually("a request to the frozen store", MINUTE, || {
        (minio.holds_unread_request() || frozen.elapsed() > Duration::from_secs(3)).then_some(())
    });
}

/// Item 1. With the store frozen (MinIO SIGSTOPped: connections accepted, never answered), a
/// SIGTERM used to leave `execute` running for minutes (three attempts of 120 s each) with no
/// final-sync line; an orchestrator kills it at 30 s and the last state is lost silently.
#[test]
fn a_frozen_store_cannot_keep_execute_past_its_stop_budget() {
    let sandbox = Sandbox::new("frozen-exec");
    let minio = Minio::start(&sandbox.path("minio"));
    let view = StoreView::S3(&minio);
    let budget = 8;
    let mut agent = Agent::spawn(
        &["execute"],
        &busy_bot(&sandbox, &minio, budget),
        sandbox.path("agent.log"),
    );
    eventually("a first upload", MINUTE, || view.state_files("frozen-exec"));
    minio.freeze();
    waiting_on_the_frozen_store(&minio);
    agent.signal(libc::SIGTERM);
    // The bound is the budget plus a generous margin for a loaded machine: the failure this
    // guards against runs for minutes.
    let waited = agent.wait(Duration::from_secs(u64::from(budget) + 20));
    minio.thaw();
    assert_eq!(waited.0.code(), Some(128 + libc::SIGTERM), "{}", agent.stderr());
    let log = agent.stderr();
    assert!(
        log.contains("the final sync did not finish") && log.contains("not_uploaded"),
        "what could not be synced is logged: {log}"
    );
}

/// Item 1, for the sidecar: `daemon sync` stops within the budget too, and says what it left.
#[test]
fn a_frozen_store_cannot_keep_daemon_sync_past_its_stop_budget() {
    let sandbox = Sandbox::new("frozen-sidecar");
    let minio = Minio::start(&sandbox.path("minio"));
    let view = StoreView::S3(&minio);
    let state = sandbox.state().join(".the0-state");
    fs::create_dir_all(&state).unwrap();
    fs::write(state.join("a.json"), b"1").unwrap();
    fs::write(sandbox.state().join(".the0-agent-restored"), b"").unwrap();
    let (state_path, logs_path) = (sandbox.state(), sandbox.logs());
    let args = [
        "daemon",
        "sync",
        "--bot-id",
        "frozen-sidecar",
        "--state-path",
        state_path.to_str().unwrap(),
        "--logs-path",
        logs_path.to_str().unwrap(),
    ];
    let mut env = minio.env();
    env.push(("THE0_STOP_TIMEOUT_SECS".into(), "6".into()));
    env.push(("LOG_LEVEL".into(), "debug".into()));
    let mut sidecar = Agent::spawn(&args, &env, sandbox.path("sidecar.log"));
    eventually("a first upload", MINUTE, || view.state_files("frozen-sidecar"));
    minio.freeze();
    fs::write(state.join("a.json"), b"2").unwrap();
    waiting_on_the_frozen_store(&minio);
    sidecar.signal(libc::SIGTERM);
    let (status, _) = sidecar.wait(Duration::from_secs(6 + 20));
    minio.thaw();
    assert_eq!(status.code(), Some(1), "{}", sidecar.stderr());
    assert!(
        sidecar.stderr().contains("the final sync did not finish"),
        "{}",
        sidecar.stderr()
    );
}

/// Item 2. A bot writes, the agent is killed before the upload, the container restarts on the
/// same state volume: the restore used to put the stored (older) archive over the newer tree.
/// Then the other way round: when the store holds newer state than an old local tree, the
/// restore replaces the whole tree, leaving nothing of the old one behind.
#[test]
fn a_restart_never_rolls_state_back_and_a_restore_never_mixes() {
    let sandbox = Sandbox::new("rollback");
    let minio = Minio::start(&sandbox.path("minio"));
    let view = StoreView::S3(&minio);
    script(
        &sandbox.code(),
        "bot.sh",
        r#"mkdir -p "$STATE_DIR"
cat "$STATE_DIR/v.json" > "$STATE_DIR/../../seen.tmp" 2>/dev/null || echo none > "$STATE_DIR/../../seen.tmp"
mv "$STATE_DIR/../../seen.tmp" "$STATE_DIR/../../seen.txt"
[ -f "$STATE_DIR/v.json" ] || echo 1 > "$STATE_DIR/v.json"
echo $$ > "$STATE_DIR/../../bot.pid"
exec sleep 600"#,
    );
    let mut env = sandbox.execute_env("rust-stable", "bot.sh");
    env.extend(minio.env());
    env.push(("BOT_TYPE".into(), "realtime".into()));
    let start = |sandbox: &Sandbox, env: &[(String, String)], log: &str| {
        let _ = fs::remove_file(sandbox.path("seen.txt"));
        let _ = fs::remove_file(sandbox.path("bot.pid"));
        Agent::spawn(&["execute"], env, sandbox.path(log))
    };
    let seen = |sandbox: &Sandbox| {
        eventually("the bot's view of the state", MINUTE, || {
            fs::read_to_string(sandbox.path("seen.txt")).ok()
        })
    };

    let mut agent = start(&sandbox, &env, "agent-1.log");
    eventually("v=1 stored", MINUTE, || {
        (stored(&view, "rollback", ".the0-state/v.json")? == b"1\n").then_some(())
    });
    // The bot writes v=2 and a new key; the store cannot take them; the agent is killed.
    minio.freeze();
    fs::write(sandbox.state().join(".the0-state/v.json"), b"2\n").unwrap();
    fs::write(sandbox.state().join(".the0-state/extra.json"), b"\"x\"\n").unwrap();
    agent.signal(libc::SIGKILL);
    agent.wait(MINUTE);
    kill(read_pid(&sandbox.path("bot.pid")));
    minio.thaw();
    assert_eq!(
        stored(&view, "rollback", ".the0-state/v.json").unwrap(),
        b"1\n",
        "the store still holds the older state"
    );

    // Restart on the same volume: the newer local value wins, and then lands in the store.
    let mut agent = start(&sandbox, &env, "agent-2.log");
    assert_eq!(
        seen(&sandbox),
        "2\n",
        "{}\nthe first agent:\n{}",
        agent.stderr(),
        fs::read_to_string(sandbox.path("agent-1.log")).unwrap_or_default()
    );
    assert!(
        sandbox.state().join(".the0-state/extra.json").exists(),
        "{}",
        agent.stderr()
    );
    eventually("v=2 and extra stored", MINUTE, || {
        let files = view.state_files("rollback")?;
        (files.get(".the0-state/v.json")? == b"2\n" && files.contains_key(".the0-state/extra.json"))
            .then_some(())
    });
    agent.signal(libc::SIGTERM);
    agent.wait(MINUTE);
    // Generations only rise (one may be skipped: the upload killed above had taken it).
    let generation: u64 = minio
        .metadata("bot-state", "rollback/state.tar.gz")
        .unwrap()
        .remove("the0-generation")
        .and_then(|g| g.parse().ok())
        .unwrap();
    assert!(generation >= 2, "generation {generation}");

    // Another container moves the bot on (v=3, extra deleted) while this volume stays behind.
    let other = sandbox.next_container();
    let mut other_env = other.execute_env("rust-stable", "bot.sh");
    other_env.extend(minio.env());
    other_env.push(("BOT_TYPE".into(), "realtime".into()));
    fs::copy(sandbox.code().join("bot.sh"), other.code().join("bot.sh")).unwrap();
    let mut other_agent = start(&other, &other_env, "agent-other.log");
    assert_eq!(seen(&other), "2\n");
    fs::write(other.state().join(".the0-state/v.json"), b"3\n").unwrap();
    fs::remove_file(other.state().join(".the0-state/extra.json")).unwrap();
    eventually("v=3 stored", MINUTE, || {
        let files = view.state_files("rollback")?;
        (files.get(".the0-state/v.json")? == b"3\n" && !files.contains_key(".the0-state/extra.json"))
            .then_some(())
    });
    other_agent.signal(libc::SIGTERM);
    other_agent.wait(MINUTE);

    // The old volume, with a leftover of its own, restarts: the stored tree replaces it whole.
    fs::write(sandbox.state().join("leftover.txt"), b"old").unwrap();
    let mut agent = start(&sandbox, &env, "agent-3.log");
    assert_eq!(seen(&sandbox), "3\n", "{}", agent.stderr());
    let mut names: Vec<_> = fs::read_dir(sandbox.state())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with(".the0-agent"))
        .collect();
    names.sort();
    assert_eq!(names, [".the0-state"], "nothing of the old tree is left");
    assert!(!sandbox.state().join(".the0-state/extra.json").exists());
    agent.signal(libc::SIGTERM);
    agent.wait(MINUTE);
}

/// A `daemon sync` of the sandbox's `bot.log` (and state) to MinIO, and what it stored.
struct LogSidecar<'a> {
    sandbox: &'a Sandbox,
    minio: &'a Minio,
    key: String,
}

impl LogSidecar<'_> {
    fn new<'a>(sandbox: &'a Sandbox, minio: &'a Minio) -> LogSidecar<'a> {
        let key = format!(
            "logs/{}/{}.log",
            sandbox.bot_id,
            the0_sdk::time::now_rfc3339()[..10].replace('-', "")
        );
        LogSidecar { sandbox, minio, key }
    }

    fn spawn(&self, log: &str) -> Agent {
        let (state, logs) = (self.sandbox.state(), self.sandbox.logs());
        let args = [
            "daemon",
            "sync",
            "--bot-id",
            &self.sandbox.bot_id,
            "--state-path",
            state.to_str().unwrap(),
            "--logs-path",
            logs.to_str().unwrap(),
        ];
        Agent::spawn(&args, &self.minio.env(), self.sandbox.path(log))
    }

    /// Appends lines `from..to` to bot.log (already stamped, so they are stored as they are).
    fn append(&self, from: usize, to: usize) -> u64 {
        use std::io::Write;
        let mut text = String::new();
        for i in from..to {
            text.push_str(&format!(
                "{{\"timestamp\":\"2026-01-01T00:00:00.000Z\",\"message\":\"line {i} {}\"}}\n",
                "x".repeat(60)
            ));
        }
        let path = self.sandbox.logs().join("bot.log");
        let mut file = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .unwrap();
        file.write_all(text.as_bytes()).unwrap();
        fs::metadata(&path).unwrap().len()
    }

    fn stored_lines(&self) -> Vec<String> {
        StoreView::S3(self.minio)
            .get("bot-logs", &self.key)
            .map(|bytes| {
                String::from_utf8(bytes)
                    .unwrap()
                    .lines()
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }

    fn position_file(&self) -> std::path::PathBuf {
        self.sandbox.logs().join(".the0-agent-log-position.json")
    }

    fn position(&self) -> serde_json::Value {
        serde_json::from_slice(&fs::read(self.position_file()).unwrap()).unwrap()
    }

    /// Runs a sidecar until its saved position reaches `offset` with no append pending, then
    /// stops it with SIGTERM.
    fn sync_to(&self, offset: u64, log: &str) -> String {
        let mut sidecar = self.spawn(log);
        // Started (its signal handlers in place) before the position is looked at.
        sidecar.wait_for_log("daemon sync", MINUTE);
        eventually(&format!("bot.log uploaded to {offset}"), MINUTE, || {
            let position =
                serde_json::from_slice::<serde_json::Value>(&fs::read(self.position_file()).ok()?).ok()?;
            (position["offset"] == offset && position["pending"].is_null()).then_some(())
        });
        sidecar.signal(libc::SIGTERM);
        assert_eq!(sidecar.wait(MINUTE).0.code(), Some(0), "{}", sidecar.stderr());
        sidecar.stderr()
    }

    /// The stored log is bot.log, line for line: nothing lost, nothing twice.
    fn assert_stored_exactly_once(&self, context: &str) {
        let expected: Vec<String> = fs::read_to_string(self.sandbox.logs().join("bot.log"))
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect();
        let stored = self.stored_lines();
        assert_eq!(stored.len(), expected.len(), "{context}");
        assert!(
            stored == expected,
            "the stored log differs from bot.log: {context}"
        );
    }
}

/// Item 6. After kill -9 the agent uploaded one 1 MiB chunk twice (14,364 duplicate lines). The
/// two moments a kill can separate are replayed exactly here: the position file is put back to
/// what it held at that moment, with the store as it was then.
#[test]
fn a_log_append_is_neither_repeated_nor_lost_whenever_the_agent_was_killed() {
    let sandbox = Sandbox::new("logs-once");
    let minio = Minio::start(&sandbox.path("minio"));
    let sidecar = LogSidecar::new(&sandbox, &minio);
    let first = sidecar.append(0, 1000);
    sidecar.sync_to(first, "sidecar-1.log");
    let second = sidecar.append(1000, 2000);
    sidecar.sync_to(second, "sidecar-2.log");
    sidecar.assert_stored_exactly_once("before any kill");

    // Killed after the append of [first, second) landed and before its position was saved: the
    // file holds the earlier offset, with the append recorded as pending.
    let mut position = sidecar.position();
    position["offset"] = first.into();
    if position.get("stream").is_some() {
        position["pending"] = serde_json::json!({"key": sidecar.key, "end": second});
    }
    fs::write(sidecar.position_file(), position.to_string()).unwrap();
    let log = sidecar.sync_to(second, "sidecar-3.log");
    sidecar.assert_stored_exactly_once(&format!("kill after the append landed: {log}"));

    // Killed after recording the append and before sending it: it must be sent.
    let third = sidecar.append(2000, 3000);
    let mut position = sidecar.position();
    if position.get("stream").is_some() {
        position["pending"] = serde_json::json!({"key": sidecar.key, "end": third});
    }
    fs::write(sidecar.position_file(), position.to_string()).unwrap();
    let log = sidecar.sync_to(third, "sidecar-4.log");
    sidecar.assert_stored_exactly_once(&format!("kill before the append was sent: {log}"));
}

/// Item 6 with real kills: SIGKILL lands at varied moments of a multi-chunk upload (request sent,
/// answered, position saved or not), ten times over; the stored log is still bot.log exactly.
#[test]
fn logs_reach_the_store_exactly_once_through_repeated_kills() {
    let sandbox = Sandbox::new("logs-kills");
    let minio = Minio::start(&sandbox.path("minio"));
    let sidecar = LogSidecar::new(&sandbox, &minio);
    // About 8 MiB: eight chunks, appended past S3's 5 MiB part size (the copy-and-add path too).
    let end = sidecar.append(0, 90_000);
    let mut progress = 0u64;
    for round in 0..10u64 {
        let mut agent = sidecar.spawn(&format!("sidecar-{round}.log"));
        let offset = |sidecar: &LogSidecar<'_>| {
            serde_json::from_slice::<serde_json::Value>(&fs::read(sidecar.position_file()).ok()?)
                .ok()?["offset"]
                .as_u64()
        };
        let reached = eventually("progress in the upload", MINUTE, || {
            offset(&sidecar).filter(|o| *o > progress || *o == end)
        });
        if reached == end {
            agent.signal(libc::SIGTERM);
            agent.wait(MINUTE);
            break;
        }
        progress = reached;
        // Spread the kill over the next append: its HEAD, GET, PUT or copy, and what follows.
        std::thread::sleep(Duration::from_millis(round * 7));
        agent.signal(libc::SIGKILL);
        agent.wait(MINUTE);
    }
    sidecar.sync_to(end, "sidecar-last.log");
    sidecar.assert_stored_exactly_once("after the kills");
}
