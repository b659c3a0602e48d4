//! State throughput: `state::set` (atomic write of a small value) and `state::get`.
//!
//! Targets (TARGETS.md): >= 10,000 set/s and >= 50,000 get/s for the Rust SDK. Measured on tmpfs
//! (`/dev/shm`: what bot containers mount at `/state` in Docker mode) and on the disk of the
//! machine running the bench (a Kubernetes `emptyDir` without `medium: Memory`). An atomic write
//! renames over the previous file, so on a file system that discards freed blocks online the disk
//! figure is bound by the device, not by the core.

use std::path::Path;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde_json::json;
use the0_sdk::state::Store;

fn bench_on(c: &mut Criterion, backing: &str, parent: &Path) {
    let dir = tempfile::tempdir_in(parent).expect("temp dir");
    let store = Store::new(dir.path());
    let value = json!({"short_sma": 101.25, "long_sma": 99.5, "signal_count": 42, "symbol": "BTC/USD"});
    store.set("position", &value).expect("seed value");
    let text = value.to_string();

    let mut group = c.benchmark_group(format!("state on {backing}"));
    group.throughput(Throughput::Elements(1));
    group.measurement_time(Duration::from_secs(5));
    group.bench_function("set (target >= 10,000/s)", |b| {
        b.iter(|| store.set("position", &value).expect("set"))
    });
    group.bench_function("set_json (target >= 10,000/s)", |b| {
        b.iter(|| store.set_json("position", &text).expect("set_json"))
    });
    group.bench_function("get (target >= 50,000/s)", |b| {
        b.iter(|| {
            store
                .get::<serde_json::Value>("position")
                .expect("get")
                .expect("present")
        })
    });
    group.bench_function("get_json (target >= 50,000/s)", |b| {
        b.iter(|| store.get_json("position").expect("get_json").expect("present"))
    });
    group.finish();
}

fn bench_state(c: &mut Criterion) {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        bench_on(c, "tmpfs", shm);
    }
    bench_on(c, "disk", &std::env::temp_dir());
}

criterion_group!(benches, bench_state);
criterion_main!(benches);
