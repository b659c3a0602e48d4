//! `make bench-k8s`: Kubernetes mode against a real control plane (scripts/k8s/with-cluster.sh),
//! figures beside their targets (TARGETS.md):
//!
//! 1. N realtime bots reconciled from empty (default 1,000, `THE0_BENCH_K8S_BOTS`): the time
//!    until all their Pods exist, the API requests the controller made (counted in its client),
//!    and its RSS;
//! 2. a spec change -> the new Pod created, p50/p99 over `THE0_BENCH_K8S_CHANGES` (default 50).
//!
//! Pods are made real by the API server; kwok is the node, so nothing runs in them.

#[path = "../tests/common/mod.rs"]
mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::{Server, write_spec};
use futures_util::TryStreamExt;
use k8s_openapi::api::core::v1::{Pod, ServiceAccount};
use kube::runtime::wait::{await_condition, conditions};
use kube::runtime::watcher;
use kube::{Api, Client, ResourceExt};

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn spec(id: &str, version: usize) -> String {
    format!(
        "type: realtime\nruntime: python3.11\ncode: bench/{id}/1.0.0\nentrypoints: {{bot: main.py, query: query.py}}\nconfig: {{symbol: BTC, v: {version}}}\n"
    )
}

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    samples[((samples.len() as f64 - 1.0) * p).round() as usize]
}

fn metric(gateway: &str, name: &str) -> f64 {
    let output = Command::new("curl")
        .args(["-s", &format!("http://{gateway}/metrics")])
        .output()
        .unwrap();
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .find(|l| l.starts_with(name))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

fn rss_mib(pid: i32, field: &str) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .unwrap_or(0.0)
        / 1024.0
}

fn main() {
    if std::env::var_os("KUBECONFIG").is_none() {
        eprintln!("bench k8s: no KUBECONFIG; run it through scripts/k8s/with-cluster.sh (make bench-k8s)");
        return;
    }
    let bots = env_number("THE0_BENCH_K8S_BOTS", 1000);
    let changes = env_number("THE0_BENCH_K8S_CHANGES", 50);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let client = rt.block_on(Client::try_default()).unwrap();
    let ns = "bench";
    let out = Command::new("kubectl")
        .args(["create", "namespace", ns])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    rt.block_on(await_condition(
        Api::<ServiceAccount>::namespaced(client.clone(), ns),
        "default",
        conditions::is_created(),
    ))
    .unwrap();
    let specs = tempfile::tempdir().unwrap();
    for i in 0..bots {
        write_spec(specs.path(), &format!("b{i}"), &spec(&format!("b{i}"), 0));
    }
    let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
    // Watch first, so that no Pod is missed.
    let (seen_tx, seen_rx) = std::sync::mpsc::channel::<(String, String, Instant)>();
    let watch_pods = pods.clone();
    rt.spawn(async move {
        let stream = watcher(
            watch_pods,
            watcher::Config::default().labels("the0.app/managed-by=the0-bot-controller"),
        );
        let mut stream = std::pin::pin!(stream);
        while let Ok(Some(event)) = stream.try_next().await {
            let objects: Vec<Pod> = match event {
                watcher::Event::Apply(pod) | watcher::Event::InitApply(pod) => vec![pod],
                _ => vec![],
            };
            for pod in objects {
                if pod.metadata.deletion_timestamp.is_none() {
                    let _ = seen_tx.send((pod.name_any(), pod.uid().unwrap_or_default(), Instant::now()));
                }
            }
        }
    });

    let gateway = format!("127.0.0.1:{}", common::free_port());
    let mut command = Command::new(env!("CARGO_BIN_EXE_the0-orchestrator"));
    command
        .args(["k8s", "--specs", specs.path().to_str().unwrap()])
        .args(["--namespace", ns, "--instance", ns, "--listen", &gateway])
        .args(["--concurrency", "32"])
        .env("LOG_LEVEL", "warn");
    let started = Instant::now();
    let server = Server::spawn(command);
    let mut uids: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    let mut all_at = None;
    while uids.len() < bots {
        let (name, uid, at) = seen_rx
            .recv_timeout(Duration::from_secs(300))
            .expect("all Pods within 5 min");
        uids.insert(name, uid);
        all_at = Some(at);
    }
    let all = all_at.unwrap().duration_since(started);
    let requests = metric(&gateway, "the0_k8s_api_requests_total");
    let rss = rss_mib(server.pid(), "VmRSS:");
    let peak = rss_mib(server.pid(), "VmHWM:");
    println!(
        "k8s: {bots} bots reconciled from empty, all Pods exist after {:.2} s   (target: <= 60 s)",
        all.as_secs_f64()
    );
    println!(
        "k8s: API requests for them: {requests:.0}   ({:.2} per bot)",
        requests / bots as f64
    );
    println!("k8s: controller RSS with {bots} bots: {rss:.1} MiB (peak {peak:.1} MiB)   (target: <= 50 MB)");

    // Spec change -> new Pod.
    while seen_rx.try_recv().is_ok() {}
    let mut samples = Vec::with_capacity(changes);
    for round in 0..changes {
        let id = format!("b{}", round * (bots / changes.max(1)).max(1) % bots);
        let name = format!("bot-{id}");
        let old = uids.get(&name).cloned().unwrap_or_default();
        let t0 = Instant::now();
        write_spec(specs.path(), &id, &spec(&id, round + 1));
        loop {
            let (seen, uid, at) = seen_rx
                .recv_timeout(Duration::from_secs(60))
                .expect("the new Pod within 60 s");
            if seen == name && uid != old {
                samples.push(at.duration_since(t0));
                uids.insert(name.clone(), uid);
                break;
            }
        }
    }
    let p50 = percentile(&mut samples, 0.5);
    let p99 = percentile(&mut samples, 0.99);
    println!(
        "k8s: spec change -> new Pod created: p50 {:.0} ms, p99 {:.0} ms over {} changes   (target: p99 <= 2 s; upstream polls every 30 s)",
        p50.as_secs_f64() * 1000.0,
        p99.as_secs_f64() * 1000.0,
        samples.len()
    );
    drop(server);
    let _ = Command::new("kubectl")
        .args(["delete", "namespace", ns, "--wait=false"])
        .output();
}
