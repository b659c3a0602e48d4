//! State throughput: `state::set` (atomic write of a small value) and `state::get`.
//!
//! Targets (TARGETS.md): >= 10,000 set/s and >= 50,000 get/s for the Rust SDK.

use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde_json::json;
use the0_sdk::state::Store;

fn bench_state(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::new(dir.path());
    let value = json!({"short_sma": 101.25, "long_sma": 99.5, "signal_count": 42, "symbol": "BTC/USD"});
    store.set("position", &value).expect("seed value");

    let mut group = c.benchmark_group("state");
    group.throughput(Throughput::Elements(1));
    group.measurement_time(Duration::from_secs(5));
    group.bench_function("set (target >= 10,000/s)", |b| {
        b.iter(|| store.set("position", &value).expect("set"))
    });
    group.bench_function("set_json (target >= 10,000/s)", |b| {
        let text = value.to_string();
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

criterion_group!(benches, bench_state);
criterion_main!(benches);
