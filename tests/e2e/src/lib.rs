//! End-to-end tests of the images (`make test-images`): example bots packaged as code archives and
//! run in containers of the universal image — the agent as PID 1 — with a real MinIO and a real
//! Docker engine. Test traffic from the host goes to ports Docker publishes on 127.0.0.1 only.
//!
//! - [`docker`]: the Docker CLI and [`docker::Scope`], one test's containers and network;
//! - [`minio`]: a MinIO container per test and an independent view of its objects;
//! - [`container`]: bot containers with upstream's flags (contract §9);
//! - [`package`]: a bot folder → its code archive (`images/package-bot.sh`);
//! - [`example`]: the life of an example bot in the universal image, step by step;
//! - [`probe`]: a small program per runtime id without an example bot yet.

pub mod container;
pub mod docker;
pub mod example;
pub mod minio;
pub mod package;
pub mod probe;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The repository's root.
pub fn repo_root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// Asks `probe` every 100 ms until it returns `Some`, for at most `limit`; panics naming `what`.
pub fn eventually<T>(what: &str, limit: Duration, mut probe: impl FnMut() -> Option<T>) -> T {
    let started = Instant::now();
    loop {
        if let Some(found) = probe() {
            return found;
        }
        if started.elapsed() > limit {
            panic!("gave up after {limit:?} waiting for {what}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The port on 127.0.0.1 that Docker published `port` of container `name` on.
pub fn published_port(name: &str, port: u16) -> u16 {
    let mapping = docker::docker(&["port", name, &format!("{port}/tcp")]);
    mapping
        .lines()
        .find_map(|line| line.strip_prefix("127.0.0.1:"))
        .and_then(|port| port.trim().parse().ok())
        .unwrap_or_else(|| panic!("{name}: port {port} is not published on 127.0.0.1: {mapping:?}"))
}

/// A temporary directory for a test's files.
pub fn scratch_dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temporary directory")
}

/// Nanoseconds since the epoch (unique object keys, as upstream's query keys).
pub fn unix_nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

/// A path as a `String` (paths here are ASCII).
pub fn path_text(path: &Path) -> String {
    path.to_str().expect("a UTF-8 path").to_owned()
}

/// `examples/<name>`.
pub fn example_dir(name: &str) -> PathBuf {
    repo_root().join("examples").join(name)
}
