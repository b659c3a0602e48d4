//! `the0-agent daemon`: the standalone syncer (`sync`, the Kubernetes sidecar) and the one-shot
//! downloader (`init`).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::code::install_code;
use crate::execute::{restored_marker, sync_timing};
use crate::store::{AnyStore, Buckets, ObjectStore};
use crate::sync::{LogSync, StateSync, Syncer, Timing, state_limits};

/// Options of `daemon sync`.
#[derive(Debug, Clone)]
pub struct SyncOptions {
    pub bot_id: String,
    pub state_path: PathBuf,
    pub logs_path: PathBuf,
    pub interval: Duration,
    /// When this file appears, sync one last time and exit.
    pub watch_done: Option<PathBuf>,
    /// Port of `/healthz` and `/readyz`; 0 for none.
    pub readiness_port: u16,
    /// Budget of the final sync on SIGTERM.
    pub stop_budget: Duration,
}

/// Runs the syncer until SIGTERM/SIGINT or the done file, then syncs once more.
pub async fn sync(options: SyncOptions) -> i32 {
    let ready = Arc::new(AtomicBool::new(false));
    if options.readiness_port != 0
        && let Err(e) = crate::health::serve(options.readiness_port, Arc::clone(&ready)).await
    {
        tracing::error!(port = options.readiness_port, error = %e, "cannot serve readiness");
        return 1;
    }
    let store = match AnyStore::from_env().await {
        Ok(store) => store,
        Err(e) => {
            tracing::error!("{e}");
            return 1;
        }
    };
    crate::with_store!(store, store => run_sync(options, Arc::new(store), ready).await)
}

async fn run_sync<S: ObjectStore>(options: SyncOptions, store: Arc<S>, ready: Arc<AtomicBool>) -> i32 {
    let buckets = Buckets::from_env();
    let (mut term, mut int) = match (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) {
        (Ok(term), Ok(int)) => (term, int),
        _ => {
            tracing::error!("cannot install signal handlers");
            return 1;
        }
    };
    let state = StateSync::new(
        Arc::clone(&store),
        &buckets.state,
        &options.bot_id,
        &options.state_path,
        state_limits(),
    )
    .after_restore_by_other(restored_marker(&options.state_path));
    let logs = LogSync::new(
        Arc::clone(&store),
        &buckets.logs,
        &options.bot_id,
        &options.logs_path,
    );
    let mut syncer = Syncer {
        state: Some(state),
        logs: Some(logs),
    };
    tracing::info!(bot_id = %options.bot_id, store = %store.describe(), "daemon sync");
    ready.store(true, Ordering::SeqCst);
    let (stop, stopped) = watch::channel(false);
    let watched = [options.state_path.clone(), options.logs_path.clone()];
    let timing = Timing {
        interval: options.interval,
        ..sync_timing()
    };
    let reason = tokio::select! {
        () = syncer.run(&watched, timing, stopped) => "stopped",
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
        () = wait_for_done(options.watch_done.as_deref()) => "done file",
    };
    stop.send_replace(true);
    tracing::info!(reason, "final sync");
    match syncer.final_sync(Instant::now() + options.stop_budget).await {
        Ok(()) => 0,
        Err(e) => {
            tracing::error!(error = %e, "final sync failed");
            1
        }
    }
}

/// Completes when `done` exists (checked every 500 ms); never without a file to watch.
async fn wait_for_done(done: Option<&Path>) {
    let Some(done) = done else {
        return std::future::pending().await;
    };
    while !done.exists() {
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Options of `daemon init`.
#[derive(Debug, Clone)]
pub struct InitOptions {
    pub bot_id: String,
    pub code_path: PathBuf,
    pub state_path: PathBuf,
    pub code_file: Option<String>,
}

/// Downloads the code (if a code file is given) and the state, then exits.
pub async fn init(options: InitOptions) -> i32 {
    let store = match AnyStore::from_env().await {
        Ok(store) => store,
        Err(e) => {
            tracing::error!("{e}");
            return 1;
        }
    };
    crate::with_store!(store, store => run_init(options, Arc::new(store)).await)
}

async fn run_init<S: ObjectStore>(options: InitOptions, store: Arc<S>) -> i32 {
    let buckets = Buckets::from_env();
    if let Some(key) = &options.code_file {
        match install_code(&*store, &buckets.code, key, &options.code_path).await {
            Ok(stats) => tracing::info!(files = stats.files, bytes = stats.bytes, "code installed"),
            Err(e) => {
                tracing::error!("{e}");
                return 1;
            }
        }
    }
    let mut state = StateSync::new(
        store,
        &buckets.state,
        &options.bot_id,
        &options.state_path,
        state_limits(),
    );
    match state.restore().await {
        Ok(restored) => {
            tracing::info!(?restored, "state restored");
            let _ = std::fs::write(restored_marker(&options.state_path), b"");
            0
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot restore the state");
            1
        }
    }
}
