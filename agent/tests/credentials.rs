//! Item 3: the bot cannot read the store's credentials. The bot's own environment was always
//! clean, but it runs as the agent's user and could read them all from
//! `/proc/<agent pid>/environ`.
//!
//! Each run is a container's process tree: a new PID namespace with its own `/proc` (`unshare`,
//! as root), the agent as PID 1, a `daemon sync` sidecar beside it. A bot, a query process and an
//! ephemeral query process each read every `/proc/*/environ` and `/proc/*/cmdline` they can and
//! look for every secret the agent was given.

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::*;

const MINUTE: Duration = Duration::from_secs(60);

/// Secrets the agent gets besides MinIO's (whose value the harness fixes).
const OTHER_SECRETS: [(&str, &str); 4] = [
    ("AWS_SECRET_ACCESS_KEY", "aws-secret-5b1e0c"),
    ("AWS_SESSION_TOKEN", "aws-token-9d4f27"),
    ("NATS_URL", "nats://user:nats-pass-3a8e@127.0.0.1:4222"),
    ("MONGO_URI", "mongodb://root:mongo-pass-c61b@127.0.0.1:27017"),
];

fn secrets() -> Vec<&'static str> {
    let mut all = vec![SECRET_KEY, "nats-pass-3a8e", "mongo-pass-c61b"];
    all.extend(OTHER_SECRETS.iter().take(2).map(|(_, value)| *value));
    all
}

/// A script that scans what it can read under /proc and writes its findings to `out`, then runs
/// `then`.
fn scanner(dir: &Path, name: &str, out: &Path, before: &str, then: &str) {
    let patterns: String = secrets().iter().map(|s| format!(" -e '{s}'")).collect();
    script(
        dir,
        name,
        &format!(
            r#"{before}
out='{out}'
: > "$out.tmp"
for f in /proc/[0-9]*/environ /proc/[0-9]*/cmdline; do
  if tr '\0' '\n' < "$f" > "$out.read" 2>/dev/null; then
    echo "read $f" >> "$out.tmp"
    if grep -q -F{patterns} "$out.read"; then echo "hit $f: $(cat "$out.read" | tr '\n' ' ')" >> "$out.tmp"; fi
  fi
done
if tr '\0' '\n' < /proc/1/environ 2>/dev/null | grep -q '^BOT_ID='; then echo "agent environ read" >> "$out.tmp"; fi
mv "$out.tmp" "$out"
{then}"#,
            out = out.display()
        ),
    );
}

/// What a scanner found: it read the agent's environment block (so it could have found the
/// secrets there), read at least `min_read` files, and found no secret.
fn assert_clean(findings: &Path, min_read: usize, context: &str) {
    let text = eventually(&format!("{} to be written", findings.display()), MINUTE, || {
        fs::read_to_string(findings).ok()
    });
    let hits: Vec<_> = text.lines().filter(|l| l.starts_with("hit ")).collect();
    assert!(hits.is_empty(), "{context}: credentials readable: {hits:#?}");
    assert!(
        text.lines().any(|l| l == "agent environ read"),
        "{context}: the scan could not read the agent's environ at all:\n{text}"
    );
    let read = text.lines().filter(|l| l.starts_with("read ")).count();
    assert!(read >= min_read, "{context}: only {read} files read:\n{text}");
}

/// Runs `command` (a shell line) as PID 1 of a new PID namespace with its own /proc.
fn in_pid_namespace(line: &str, env: &[(String, String)], log: &Path) -> std::process::Child {
    assert!(
        Command::new("unshare")
            .args(["--pid", "--fork", "--mount-proc", "true"])
            .status()
            .is_ok_and(|s| s.success()),
        "these tests need `unshare --pid --mount-proc` (root, util-linux)"
    );
    let mut command = Command::new("unshare");
    command
        .args([
            "--pid",
            "--fork",
            "--mount-proc",
            "--kill-child",
            "sh",
            "-c",
            line,
        ])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdout(std::process::Stdio::null())
        .stderr(fs::File::create(log).unwrap());
    command.spawn().expect("run unshare")
}

fn agent_env(sandbox: &Sandbox, minio: &Minio) -> Vec<(String, String)> {
    let mut env = sandbox.execute_env("rust-stable", "bot.sh");
    env.extend(minio.env());
    env.extend(
        OTHER_SECRETS
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    env
}

#[test]
fn no_process_of_the_container_can_read_the_store_credentials() {
    let sandbox = Sandbox::new("creds");
    let minio = Minio::start(&sandbox.path("minio"));
    let agent = agent_bin();
    let found = |name: &str| sandbox.path(&format!("{name}.found"));

    // The query process scans at start, then idles; the bot waits for it and for the sidecar,
    // scans, and exits, which ends the container.
    scanner(&sandbox.code(), "query.sh", &found("query"), "", "exec sleep 600");
    let sidecar_log = sandbox.path("sidecar.log");
    scanner(
        &sandbox.code(),
        "bot.sh",
        &found("bot"),
        &format!(
            "i=0; while [ ! -f '{q}' ] || ! grep -q 'daemon sync' '{s}'; do i=$((i+1)); [ $i -gt 600 ] && break; sleep 0.1; done",
            q = found("query").display(),
            s = sidecar_log.display()
        ),
        "exit 0",
    );
    let mut env = agent_env(&sandbox, &minio);
    env.push(("BOT_TYPE".into(), "realtime".into()));
    env.push(("QUERY_ENTRYPOINT".into(), "query.sh".into()));
    env.push((
        "THE0_AGENT_QUERY_ADDR".into(),
        format!("127.0.0.1:{}", free_port()),
    ));
    let line = format!(
        "'{agent}' daemon sync --bot-id creds --state-path '{state}' --logs-path '{logs}' 2>'{sidecar}' & exec '{agent}' execute",
        agent = agent.display(),
        state = sandbox.state().display(),
        logs = sandbox.logs().display(),
        sidecar = sidecar_log.display(),
    );
    let log = sandbox.path("agent.log");
    let mut container = in_pid_namespace(&line, &env, &log);
    let status = eventually("the container to end", MINUTE, || container.try_wait().unwrap());
    let context = fs::read_to_string(&log).unwrap_or_default();
    assert!(status.success(), "{context}");
    // Agent, sidecar, query process, bot: each has an environ and a cmdline.
    assert_clean(&found("query"), 6, &format!("query process: {context}"));
    assert_clean(&found("bot"), 8, &format!("bot: {context}"));

    // An ephemeral query process (a scheduled bot's query) under its own agent.
    scanner(
        &sandbox.code(),
        "once.sh",
        &found("ephemeral"),
        "",
        r#"echo '{"status":"ok","data":{}}' > "$THE0_QUERY_RESULT_FILE""#,
    );
    let mut env = agent_env(&sandbox, &minio);
    env.push(("QUERY_ENTRYPOINT".into(), "once.sh".into()));
    let line = format!("exec '{}' execute --query /scan", agent.display());
    let log = sandbox.path("ephemeral.log");
    let mut container = in_pid_namespace(&line, &env, &log);
    let status = eventually("the query to end", MINUTE, || container.try_wait().unwrap());
    let context = fs::read_to_string(&log).unwrap_or_default();
    assert!(status.success(), "{context}");
    assert_clean(&found("ephemeral"), 4, &format!("ephemeral query: {context}"));
}
