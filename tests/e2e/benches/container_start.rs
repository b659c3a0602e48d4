//! `make bench-images`: how long a container of the universal image takes from `docker run` to
//! the bot's process running, against a trivial `docker run` in the same run; the agent's memory
//! in the container; the image sizes. Figures are printed beside their targets (TARGETS.md);
//! nothing is asserted.
//!
//! The bot's code archive is 10 MB and its stored state 100 MB, both incompressible; MinIO runs in
//! a container on the bench's network (as in the tests). Each round starts one trivial container
//! (`sh -c 'echo bot started'`) and one bot container with the same flags, and times both to the
//! same line on stdout, read through `docker run`'s own output stream.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use the0_e2e::container::{Container, Spec};
use the0_e2e::docker::{Scope, agent_image, docker, runtime_image};
use the0_e2e::minio::Minio;
use the0_e2e::package::CodeArchive;
use the0_e2e::{eventually, scratch_dir};

const ROUNDS: usize = 5;
const CODE_BYTES: usize = 10 << 20;
const STATE_FILES: usize = 20;
const STATE_FILE_BYTES: usize = 5 << 20; // 100 MiB in all, each file under the 10 MB file limit
const BOT_ID: &str = "bench-start";
const LINE: &str = "bot started";

/// Incompressible bytes (xorshift), so neither deflate nor gzip shrinks the transfer.
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    let mut bytes = Vec::with_capacity(len + 8);
    while bytes.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        bytes.extend_from_slice(&x.to_le_bytes());
    }
    bytes.truncate(len);
    bytes
}

fn code_archive() -> CodeArchive {
    let dir = scratch_dir();
    let bot = dir.path().join("bot.sh");
    std::fs::write(&bot, format!("#!/bin/sh\necho '{LINE}'\nexec sleep 3600\n")).unwrap();
    std::fs::set_permissions(&bot, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(dir.path().join("payload.bin"), noise(CODE_BYTES, 1)).unwrap();
    CodeArchive::from_dir("gcc13", "bot.sh", dir.path())
}

fn state_archive() -> Vec<u8> {
    let mut tar = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::fast(),
    ));
    for i in 0..STATE_FILES {
        let content = noise(STATE_FILE_BYTES, i as u64 + 2);
        let mut header = tar::Header::new_gnu();
        header.set_size(content.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        tar.append_data(&mut header, format!("data/part-{i:02}.bin"), &content[..])
            .unwrap();
    }
    tar.into_inner().unwrap().finish().unwrap()
}

/// Runs container `name` (`docker <args>`, attached) until `LINE` appears on its stdout; the time
/// that took and the JSON lines of its stderr (the agent's log). Removes the container.
fn start_until_line(args: &[String], name: &str) -> (Duration, Vec<Value>) {
    let started = Instant::now();
    let mut child = Command::new("docker")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("run docker");
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let elapsed = stdout
        .lines()
        .find(|line| line.as_deref().is_ok_and(|l| l == LINE))
        .map(|_| started.elapsed())
        .unwrap_or_else(|| panic!("no {LINE:?} from docker {}", args.join(" ")));
    let events = Command::new("docker")
        .args(["logs", name])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stderr).into_owned())
        .unwrap_or_default()
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect();
    docker(&["rm", "-f", name]);
    let _ = child.wait();
    (elapsed, events)
}

/// The agent's phases from its log: code downloaded and extracted, state restored, bot started
/// after the agent's first line (seconds).
fn phases(events: &[Value]) -> Option<[f64; 3]> {
    let at = |message: &str| events.iter().find(|e| e["message"] == message).map(clock_seconds);
    let (first, code, state, bot) = (
        at("execute")?,
        at("code installed")?,
        at("state restored")?,
        at("started")?,
    );
    Some([code - first, state - code, bot - first])
}

/// Seconds since midnight of an agent log timestamp (`2026-01-02T03:04:05.678901Z`).
fn clock_seconds(event: &Value) -> f64 {
    let stamp = event["timestamp"].as_str().expect("a timestamp");
    let time = stamp.split('T').nth(1).unwrap().trim_end_matches('Z');
    time.split(':')
        .map(|part| part.parse::<f64>().unwrap())
        .fold(0.0, |total, part| total * 60.0 + part)
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

fn seconds(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

fn image_mb(image: &str) -> f64 {
    docker(&["image", "inspect", "--format", "{{.Size}}", image])
        .parse::<f64>()
        .unwrap()
        / 1e6
}

/// `VmRSS` and `VmHWM` of the container's PID 1, in MB.
fn agent_memory(container: &Container) -> (f64, f64) {
    let status = container.exec("cat /proc/1/status");
    let kb = |field: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(field))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse::<f64>().ok())
            .unwrap_or_else(|| panic!("no {field} in /proc/1/status"))
    };
    (kb("VmRSS:") / 1024.0, kb("VmHWM:") / 1024.0)
}

/// CPU ticks PID 1 has used so far.
fn agent_cpu_ticks(container: &Container) -> u64 {
    let stat = container.exec("cat /proc/1/stat");
    let after_name = stat.rsplit_once(')').unwrap().1;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo test --benches` probes benches this way
    }
    let runtime = runtime_image();
    let scope = Scope::new("bench");
    let minio = Minio::start(&scope);
    let code = code_archive();
    minio.put("custom-bots", "bench/code.zip", &code.zip);
    minio.put("bot-state", &format!("{BOT_ID}/state.tar.gz"), &state_archive());
    println!(
        "container start -> bot process started: code zip {:.1} MB, state {} MB in {STATE_FILES} files, MinIO in a container on the bench network; {ROUNDS} rounds, medians",
        code.zip.len() as f64 / 1e6,
        (STATE_FILES * STATE_FILE_BYTES) >> 20
    );

    let env = minio.bot_env(&[
        ("BOT_ID", BOT_ID),
        ("RUNTIME", "gcc13"),
        ("ENTRYPOINT", "bot.sh"),
        ("CODE_FILE", "bench/code.zip"),
        ("BOT_TYPE", "realtime"),
    ]);
    let bot_spec = Spec::new(runtime.clone(), env);
    let mut trivial_spec = Spec::new(runtime.clone(), Vec::new());
    trivial_spec.command = ["sh", "-c", "echo 'bot started'"].map(String::from).into();

    let (mut trivial, mut agent) = (Vec::new(), Vec::new());
    let mut agent_phases = Vec::new();
    for round in 0..ROUNDS {
        let name = scope.container_name(&format!("trivial-{round}"));
        let args = Container::run_args(&scope, &name, &trivial_spec, false);
        trivial.push(start_until_line(&args, &name).0);
        let name = scope.container_name(&format!("bot-{round}"));
        let (elapsed, events) =
            start_until_line(&Container::run_args(&scope, &name, &bot_spec, false), &name);
        agent.push(elapsed);
        agent_phases.extend(phases(&events));
        print!(".");
        std::io::stdout().flush().unwrap();
    }
    println!();
    let (trivial, agent) = (median(trivial), median(agent));
    let beyond = agent.saturating_sub(trivial);
    println!(
        "  docker run of a trivial command, to its line:  {}",
        seconds(trivial)
    );
    println!(
        "  the bot's container, to the bot's first line:  {}",
        seconds(agent)
    );
    println!(
        "  beyond the trivial docker run:                {} (target: <= 1 s)",
        seconds(beyond)
    );
    if !agent_phases.is_empty() {
        let median_ms = |i: usize| {
            let mut v: Vec<f64> = agent_phases.iter().map(|p: &[f64; 3]| p[i]).collect();
            v.sort_by(f64::total_cmp);
            v[v.len() / 2] * 1000.0
        };
        println!(
            "  inside the agent (its log): code downloaded and extracted {:.0} ms, state restored {:.0} ms, bot started {:.0} ms after the agent's first line",
            median_ms(0),
            median_ms(1),
            median_ms(2)
        );
    }

    // The agent's memory: a bot container left running until the agent is idle.
    let container = Container::start(&scope, "memory", &bot_spec);
    eventually("the bot to start", Duration::from_secs(120), || {
        container.output().0.contains(LINE).then_some(())
    });
    let mut last = agent_cpu_ticks(&container);
    eventually("the agent to be idle", Duration::from_secs(120), || {
        std::thread::sleep(Duration::from_secs(1));
        let now = agent_cpu_ticks(&container);
        let idle = now == last;
        last = now;
        idle.then_some(())
    });
    let (rss, peak) = agent_memory(&container);
    println!(
        "agent RSS in the container: idle {rss:.1} MB (target: <= 10 MB); peak {peak:.1} MB while restoring 100 MB of state (VmHWM; target for archiving 1 GiB: <= 64 MB)"
    );

    let agent_only = agent_image();
    println!(
        "image sizes: {agent_only} {:.1} MB (target: <= 15 MB); {runtime} {:.1} MB (target: smaller than upstream's ubuntu:24.04-based runtime image, whose size is not published and which cannot be pulled here)",
        image_mb(&agent_only),
        image_mb(&runtime)
    );
}
