//! The agent's duties as PID 1 of a universal-image container: it is PID 1, it reaps orphaned
//! processes, and `docker stop` reaches the bot as SIGTERM before the final sync. The bot is a
//! shell script (an executable entrypoint under a native runtime id), so the test controls every
//! step: when the orphan exits, and what the bot does on SIGTERM.

use serde_json::json;
use the0_e2e::container::{Container, Spec};
use the0_e2e::docker::{Scope, runtime_image};
use the0_e2e::minio::Minio;
use the0_e2e::package::CodeArchive;
use the0_e2e::{eventually, scratch_dir};

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

/// Leaves an orphan (its parent subshell exits at once) that lives until /tmp/release exists;
/// on SIGTERM records it in the state and exits 0.
const BOT: &str = r#"#!/bin/sh
( sh -c 'while [ ! -e /tmp/release ]; do sleep 0.05; done' & echo $! > /tmp/orphan.pid )
trap 'echo "{\"signal\": \"TERM\"}" > /state/stopped-by.json; exit 0' TERM
echo "bot running"
while :; do sleep 0.1; done
"#;

const PATIENCE: Duration = Duration::from_secs(60);

#[test]
fn the_agent_is_pid_1_reaps_orphans_and_stops_the_bot_with_sigterm() {
    let code = scratch_dir();
    let script = code.path().join("bot.sh");
    std::fs::write(&script, BOT).unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let archive = CodeArchive::from_dir("gcc13", "bot.sh", code.path());

    let scope = Scope::new("pid1");
    let minio = Minio::start(&scope);
    minio.put("custom-bots", "pid1/bot.zip", &archive.zip);
    let env = minio.bot_env(&[
        ("BOT_ID", "pid1"),
        ("RUNTIME", "gcc13"),
        ("ENTRYPOINT", "bot.sh"),
        ("CODE_FILE", "pid1/bot.zip"),
        ("BOT_TYPE", "realtime"),
    ]);
    let bot = Container::start(&scope, "bot", &Spec::new(runtime_image(), env));

    assert_eq!(bot.exec("tr '\\0' ' ' < /proc/1/cmdline"), "/app/runtime execute");
    let orphan: u32 = eventually("the orphan's pid", PATIENCE, || {
        bot.exec("cat /tmp/orphan.pid 2>/dev/null || true")
            .trim()
            .parse()
            .ok()
    });
    // /proc/<pid>/stat: "pid (comm) state ppid ..."; comm is `sh` here.
    let stat = bot.exec(&format!("cat /proc/{orphan}/stat"));
    let fields: Vec<&str> = stat.split_whitespace().collect();
    assert_eq!(
        (fields[2], fields[3]),
        ("S", "1"),
        "the orphan should be a child of PID 1: {stat}"
    );

    // Once it exits, PID 1 must reap it: a zombie would keep /proc/<pid> forever.
    bot.exec("touch /tmp/release");
    eventually("the orphan to be reaped", PATIENCE, || {
        let gone = bot.exec(&format!(
            "test -e /proc/{orphan} && cat /proc/{orphan}/stat || echo gone"
        ));
        (gone == "gone").then_some(())
    });

    bot.stop(30);
    assert_eq!(
        bot.wait(),
        0,
        "the bot exits 0 from its SIGTERM trap:\n{}",
        bot.describe()
    );
    let stopped_by = minio
        .state_file("pid1", "stopped-by.json")
        .unwrap_or_else(|| panic!("the bot's write on SIGTERM was not synced:\n{}", bot.describe()));
    let stopped_by: serde_json::Value = serde_json::from_slice(&stopped_by).unwrap();
    assert_eq!(stopped_by, json!({"signal": "TERM"}));
}
