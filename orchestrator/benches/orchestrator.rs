//! `make bench-orchestrator`: the orchestrator's figures beside their targets (TARGETS.md,
//! "Scheduled queries and orchestration"), all measured in this run on this machine:
//!
//! 1. realtime query through the gateway vs straight to the bot's query front;
//! 2. scheduled-bot query through the gateway, warm pool vs cold container;
//! 3. N realtime bots reconciled from empty (default 100, `THE0_BENCH_BOTS`), the
//!    orchestrator's RSS with them running, and spec change → new container started.
//!
//! Uses the test harness (real dockerd, MinIO, the universal image, the static test bot).

#[path = "../tests/common/mod.rs"]
mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::http::Method;
use common::*;
use serde_json::json;
use the0_orchestrator::gateway::client::HttpClient;

const CODE_KEY: &str = "bench/testbot/1.0.0";

fn realtime_spec(symbol: &str) -> String {
    format!(
        "type: realtime\nruntime: rust-stable\ncode: {CODE_KEY}\nentrypoints: {{bot: bot, query: query}}\nconfig: {{symbol: {symbol}}}\n"
    )
}

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    let index = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[index]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// Times `n` calls of `call` (after `warmup` untimed ones).
async fn time_calls<F, Fut>(n: usize, warmup: usize, mut call: F) -> Vec<Duration>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for _ in 0..warmup {
        call().await;
    }
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        let started = Instant::now();
        call().await;
        samples.push(started.elapsed());
    }
    samples
}

async fn post_ok(client: &HttpClient, addr: SocketAddr, path: &str, body: &str) {
    let (status, answer) = client
        .call(
            Method::POST,
            addr,
            path,
            Some(body.as_bytes().to_vec()),
            None,
            1 << 20,
        )
        .await
        .expect("an answer");
    assert!(
        status.is_success(),
        "{path}: HTTP {status}: {}",
        String::from_utf8_lossy(&answer)
    );
}

fn query_port(orchestrator: &Orchestrator, bot: &str) -> u16 {
    let container = orchestrator.running_bot(bot).pop().expect("a running bot");
    let output = std::process::Command::new("docker")
        .args([
            "inspect",
            "-f",
            "{{index .Config.Labels \"the0.query-port\"}}",
            &container,
        ])
        .output()
        .unwrap();
    String::from_utf8(output.stdout).unwrap().trim().parse().unwrap()
}

fn rss_mb(pid: i32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

async fn queries(minio: &Minio) {
    let specs = tempfile::tempdir().unwrap();
    write_spec(specs.path(), "rt", &realtime_spec("BTC"));
    write_spec(
        specs.path(),
        "sched",
        &format!(
            "type: scheduled\nschedule: '0 0 1 1 *'\nruntime: rust-stable\ncode: {CODE_KEY}\nentrypoints: {{bot: bot, query: query}}\n"
        ),
    );
    let client = HttpClient::default();
    let status_body = json!({"bot_id": "rt", "query_path": "/status"}).to_string();

    // 1. Realtime: direct to the front vs through the gateway.
    let warm = Orchestrator::start(
        &instance("bq"),
        minio,
        &["--specs", specs.path().to_str().unwrap(), "--warm-pool", "2"],
    );
    eventually("the realtime bot", Duration::from_secs(120), || {
        (warm.query("rt", "/status", json!({}), 10).0 == 200).then_some(())
    });
    let front = eventually("the realtime bot's container", Duration::from_secs(60), || {
        (!warm.running_bot("rt").is_empty())
            .then(|| SocketAddr::from(([127, 0, 0, 1], query_port(&warm, "rt"))))
    });
    // The first answer above may have come from a one-shot container while the bot's own
    // container was starting: wait until its query front answers.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !client
        .call(
            Method::POST,
            front,
            "/status",
            Some(b"{}".to_vec()),
            None,
            1 << 20,
        )
        .await
        .is_ok_and(|(status, _)| status.is_success())
    {
        assert!(Instant::now() < deadline, "the bot's query front never answered");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut direct = time_calls(500, 50, || post_ok(&client, front, "/status", "{}")).await;
    let mut gateway = time_calls(500, 50, || post_ok(&client, warm.gateway, "/query", &status_body)).await;
    let (direct_p50, gateway_p50) = (percentile(&mut direct, 0.5), percentile(&mut gateway, 0.5));
    println!(
        "realtime query, direct to :9476 front      p50 {}  p99 {}",
        ms(direct_p50),
        ms(percentile(&mut direct, 0.99))
    );
    println!(
        "realtime query, through the gateway        p50 {}  p99 {}  adds {} at p50 (target <= 1 ms; upstream docs 10-50 ms)",
        ms(gateway_p50),
        ms(percentile(&mut gateway, 0.99)),
        ms(gateway_p50.saturating_sub(direct_p50))
    );

    // 2. Scheduled: warm pool (a standby container ready before each query) ...
    let sched_body = json!({"bot_id": "sched", "query_path": "/status", "timeout_sec": 60}).to_string();
    let mut warm_samples = Vec::new();
    for _ in 0..15 {
        eventually("a full warm pool", Duration::from_secs(60), || {
            (warm.metric("the0_pool_ready") >= 2.0).then_some(())
        });
        let started = Instant::now();
        post_ok(&client, warm.gateway, "/query", &sched_body).await;
        warm_samples.push(started.elapsed());
    }
    drop(warm);
    // ... and cold (no pool: a container started per query), in the same run.
    let cold = Orchestrator::start(
        &instance("bc"),
        minio,
        &["--specs", specs.path().to_str().unwrap(), "--warm-pool", "0"],
    );
    let mut cold_samples = time_calls(10, 1, || post_ok(&client, cold.gateway, "/query", &sched_body)).await;
    drop(cold);
    let (warm_p50, cold_p50) = (
        percentile(&mut warm_samples, 0.5),
        percentile(&mut cold_samples, 0.5),
    );
    println!(
        "scheduled query, warm pool                 p50 {}  p99 {}  (target p50 <= 150 ms compiled bot; upstream 1-3 s)",
        ms(warm_p50),
        ms(percentile(&mut warm_samples, 0.99))
    );
    println!(
        "scheduled query, cold container            p50 {}  p99 {}  warm is {:.1}x faster (target >= 5x)",
        ms(cold_p50),
        ms(percentile(&mut cold_samples, 0.99)),
        cold_p50.as_secs_f64() / warm_p50.as_secs_f64()
    );
}

fn reconcile(minio: &Minio, bots: usize) {
    let specs = tempfile::tempdir().unwrap();
    for i in 0..bots {
        write_spec(specs.path(), &format!("b{i:04}"), &realtime_spec("BTC"));
    }
    let started = Instant::now();
    let orchestrator = Orchestrator::start(
        &instance("br"),
        minio,
        &[
            "--specs",
            specs.path().to_str().unwrap(),
            "--warm-pool",
            "0",
            "--concurrency",
            "8",
        ],
    );
    eventually("every bot running", Duration::from_secs(1800), || {
        let running = orchestrator.metric("the0_bots_running") as usize;
        (running >= bots).then_some(())
    });
    let all_running = started.elapsed();
    println!(
        "{bots} realtime bots from empty to all running  {:.1} s  ({:.0} ms per bot; target: 1,000 in <= 300 s)",
        all_running.as_secs_f64(),
        all_running.as_secs_f64() * 1000.0 / bots as f64
    );
    println!(
        "orchestrator RSS with {bots} bots running       {:.1} MB  (target <= 50 MB)",
        rss_mb(orchestrator.server.pid())
    );

    // Spec change -> the new container started (watch-driven; upstream polled every 30 s).
    let mut samples = Vec::new();
    for round in 0..10 {
        let bot = format!("b{round:04}");
        let before = orchestrator.running_bot(&bot);
        let changed = Instant::now();
        write_spec(specs.path(), &bot, &realtime_spec(&format!("R{round}")));
        eventually("the replacement", Duration::from_secs(60), || {
            let now = orchestrator.running_bot(&bot);
            (now.len() == 1 && now != before).then_some(())
        });
        samples.push(changed.elapsed());
    }
    println!(
        "spec change -> new container started        p50 {}  p99 {}  (target p99 <= 2 s; upstream polls every 30 s)",
        ms(percentile(&mut samples, 0.5)),
        ms(percentile(&mut samples, 0.99))
    );
    let mut orchestrator = orchestrator;
    let stopping = Instant::now();
    orchestrator.server.terminate(Duration::from_secs(300));
    println!(
        "clean shutdown stopping {bots} bots              {:.1} s",
        stopping.elapsed().as_secs_f64()
    );
}

fn main() {
    // `cargo bench` passes --bench; nothing else is taken.
    let bots: usize = std::env::var("THE0_BENCH_BOTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100);
    let minio = Minio::start();
    minio.put("custom-bots", CODE_KEY, code_archive());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    println!("== the0-orchestrator (Docker mode), image {}", image());
    runtime.block_on(queries(&minio));
    reconcile(&minio, bots);
}
