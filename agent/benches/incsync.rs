//! Incremental state sync (issue 21), each figure printed beside its target (TARGETS.md) and
//! beside the full upload of the same tree in the same run. Nothing is asserted.
//!
//! Against MinIO on loopback, in-process (the agent's own `StateSync` on the S3 store):
//! - 1 GiB of state in ~1,000 files, one 1 KiB file changed: bytes sent, CPU time of the process
//!   (getrusage: packing, compression, hashing, the SDK), time until the new object is visible
//!   (from the start of the sync to a HEAD that returns the ETag its stored manifest names),
//!   for the incremental upload and for a full upload (local manifest removed);
//! - cold start (restore into an empty directory) of 100 MB and 1 GiB of state: parallel
//!   (ranged GETs of the segments, decompressed on both cores) and single stream (the same
//!   object under a key without a manifest), best of two each.
//!
//! `THE0_BENCH_QUICK=1` uses 64 MiB and 16 MiB trees, for a smoke test of the bench itself.

use std::fs;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use the0_agent::archive::segmented::Manifest;
use the0_agent::store::{ObjectStore, S3Config, S3Store};
use the0_agent::sync::{Restored, StateOutcome, StateSync, state_limits};

#[path = "../tests/common/mod.rs"]
mod common;

use common::{ACCESS_KEY, Minio, SECRET_KEY, fill_tree};

const BUCKET: &str = "bot-state";
const MIB: u64 = 1 << 20;

fn quick() -> bool {
    std::env::var_os("THE0_BENCH_QUICK").is_some()
}

fn main() {
    let work = tempfile::tempdir().expect("temp dir");
    let minio = Minio::start(&work.path().join("minio"));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let store = Arc::new(rt.block_on(S3Store::connect(S3Config {
        endpoint: Some(format!("http://127.0.0.1:{}", minio.port)),
        credentials: Some((ACCESS_KEY.to_owned(), SECRET_KEY.to_owned())),
        region: "us-east-1".to_owned(),
    })));
    rt.block_on(store.ensure_bucket(BUCKET)).expect("bucket");
    // The state limits must allow the tree.
    // SAFETY: set before any other thread reads the environment (the runtime's threads do not).
    unsafe {
        std::env::set_var("MAX_STATE_SIZE_MB", "4096");
        std::env::set_var("MAX_STATE_FILE_SIZE_MB", "64");
    }

    let (large, small) = if quick() { (64, 16) } else { (1024, 100) };
    let bench = Bench {
        rt,
        store,
        work: work.path(),
    };
    bench.upload_after_one_change(large);
    bench.cold_start("large", large);
    bench.cold_start("small", small);
}

struct Bench<'a> {
    rt: tokio::runtime::Runtime,
    store: Arc<S3Store>,
    work: &'a Path,
}

/// What one sync cost.
struct Figures {
    sent: u64,
    size: u64,
    cpu: Duration,
    visible: Duration,
}

impl Bench<'_> {
    fn syncer(&self, bot: &str, root: &Path) -> StateSync<S3Store> {
        StateSync::new(Arc::clone(&self.store), BUCKET, bot, root, state_limits())
    }

    /// One sync, measured.
    fn sync(&self, bot: &str, syncer: &mut StateSync<S3Store>) -> Figures {
        let cpu = cpu_time();
        let start = Instant::now();
        let outcome = self.rt.block_on(syncer.sync()).expect("sync");
        let StateOutcome::Uploaded { bytes, sent, .. } = outcome else {
            panic!("nothing uploaded: {outcome:?}");
        };
        let cpu = cpu_time() - cpu;
        // Visible: the stored manifest names the object the store serves.
        loop {
            let manifest = self
                .rt
                .block_on(
                    self.store
                        .get(BUCKET, &format!("{bot}/state.manifest.json"), 64 << 20),
                )
                .expect("get manifest")
                .and_then(|m| Manifest::parse(&m).ok());
            let etag = self
                .rt
                .block_on(self.store.head(BUCKET, &format!("{bot}/state.tar.gz")))
                .expect("head")
                .map(|i| i.etag);
            if manifest.is_some_and(|m| Some(m.etag) == etag) {
                break;
            }
            assert!(start.elapsed() < Duration::from_secs(600), "never visible");
            std::thread::sleep(Duration::from_millis(5));
        }
        Figures {
            sent,
            size: bytes,
            cpu,
            visible: start.elapsed(),
        }
    }

    fn upload_after_one_change(&self, mib: usize) {
        let root = self.work.join("state-upload");
        fill_tree(&root, mib - 1, MIB as usize);
        fs::write(root.join("config.json"), vec![b'a'; 1024]).unwrap();
        let mut syncer = self.syncer("upload", &root);
        self.sync("upload", &mut syncer); // the first upload: the base of the next
        fs::write(root.join("config.json"), vec![b'b'; 1024]).unwrap();
        let incremental = self.sync("upload", &mut syncer);
        fs::remove_file(root.join(".the0-agent-manifest.json")).unwrap();
        fs::write(root.join("config.json"), vec![b'c'; 1024]).unwrap();
        let full = self.sync("upload", &mut syncer);
        let files = mib;
        println!(
            "state upload after one 1 KiB change, {} MiB of state in {files} files, MinIO on loopback:",
            incremental.size / MIB
        );
        println!(
            "  bytes sent: {:.1} MiB (target <= 16 MiB); full upload {:.1} MiB",
            incremental.sent as f64 / MIB as f64,
            full.sent as f64 / MIB as f64
        );
        println!(
            "  CPU time: {:.0} ms; full upload {:.0} ms: {:.1}x less (target >= 10x)",
            ms(incremental.cpu),
            ms(full.cpu),
            full.cpu.as_secs_f64() / incremental.cpu.as_secs_f64().max(1e-9)
        );
        println!(
            "  time until the new object is visible: {:.0} ms (target <= 1000 ms); full upload {:.0} ms",
            ms(incremental.visible),
            ms(full.visible)
        );
        println!(
            "  object: {:.1} MiB incremental, {:.1} MiB full",
            incremental.size as f64 / MIB as f64,
            full.size as f64 / MIB as f64
        );
    }

    fn cold_start(&self, name: &str, mib: usize) {
        let bot = format!("cold-{name}");
        let root = self.work.join(format!("state-{bot}"));
        fill_tree(&root, mib, MIB as usize);
        let mut syncer = self.syncer(&bot, &root);
        self.sync(&bot, &mut syncer);
        fs::remove_dir_all(&root).unwrap();
        // The same object under a key without a manifest: the single-stream restore.
        let single = format!("{bot}-single");
        self.rt
            .block_on(self.store.copy(
                BUCKET,
                &format!("{bot}/state.tar.gz"),
                &format!("{single}/state.tar.gz"),
            ))
            .expect("copy");
        let restore = |bot: &str| {
            let dest = self.work.join(format!("restored-{bot}"));
            let _ = fs::remove_dir_all(&dest);
            let mut syncer = self.syncer(bot, &dest);
            let start = Instant::now();
            let restored = self.rt.block_on(syncer.restore()).expect("restore");
            let took = start.elapsed();
            assert!(matches!(restored, Restored::Extracted { .. }), "{restored:?}");
            fs::remove_dir_all(&dest).unwrap();
            took
        };
        let mut parallel = Duration::MAX;
        let mut stream = Duration::MAX;
        for _ in 0..2 {
            stream = stream.min(restore(&single));
            parallel = parallel.min(restore(&bot));
        }
        println!(
            "cold start (restore) of {mib} MiB of state: parallel {:.0} ms, single stream {:.0} ms: {:.2}x (target <= 0.5x)",
            ms(parallel),
            ms(stream),
            parallel.as_secs_f64() / stream.as_secs_f64()
        );
    }
}

/// User and system CPU time of the whole process (every thread the sync uses).
fn cpu_time() -> Duration {
    // SAFETY: getrusage fills the zeroed struct it is given.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
