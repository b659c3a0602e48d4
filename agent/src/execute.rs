//! `the0-agent execute`: the life of a bot container (contract §4, with upstream's ordering
//! bugs fixed).
//!
//! - **Bot mode**: code → state restore → sync → (realtime) query front and query process → bot,
//!   output tee'd to `bot.log`. On SIGTERM/SIGINT: SIGTERM to the bot's process group, a grace
//!   period, SIGKILL, and only then the final sync — so the bot's last state write is uploaded —
//!   all within the stop budget. Upstream synced first and then SIGKILLed a bot that never saw
//!   SIGTERM.
//! - **Ephemeral query** (`QUERY_PATH` or `--query`): the query entrypoint runs once, under a
//!   timeout; its result file goes to `query-results/QUERY_RESULT_KEY`. A query process that
//!   fails without an answer gets one written by the agent, so the caller always has one.
//! - **Query server only** (the Kubernetes sidecar): the query front and its query process.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use the0_sdk::fsutil::write_atomic;
use the0_sdk::query::Response;
use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::archive::AGENT_PRIVATE_PREFIX;
use crate::code::{install_code, make_executable};
use crate::config::ExecuteConfig;
use crate::front::{Front, FrontSettings};
use crate::launch::Launcher;
use crate::process::{Supervisor, Tee, stop_group};
use crate::runtime::Role;
use crate::store::{AnyStore, Buckets, ObjectStore};
use crate::sync::{LogSync, Restored, StateSync, Syncer, Timing, holds_state, state_limits};

/// The flags of `execute` (upstream's).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecuteFlags {
    /// Run this query path once (as `QUERY_PATH`).
    pub query: Option<String>,
    /// Serve queries only (the Kubernetes sidecar).
    pub query_server_only: bool,
    /// No in-process sync (a sidecar syncs).
    pub skip_sync: bool,
    /// No query process even for a realtime bot with a query entrypoint.
    pub skip_query_server: bool,
}

/// The marker the restore leaves in the state directory, for a sync sidecar that must not upload
/// before the stored state was restored.
pub fn restored_marker(state_path: &Path) -> PathBuf {
    state_path.join(format!("{AGENT_PRIVATE_PREFIX}-restored"))
}

/// Runs `execute` and returns the process exit code.
pub async fn execute(flags: ExecuteFlags) -> i32 {
    let mut config = match ExecuteConfig::from_env() {
        Ok(config) => config,
        Err(e) => {
            tracing::error!("{e}");
            return 1;
        }
    };
    if let Some(path) = flags.query.clone() {
        config.query_path = Some(path);
    }
    let store = match AnyStore::from_env().await {
        Ok(store) => store,
        Err(e) => {
            tracing::error!("{e}");
            return 1;
        }
    };
    crate::with_store!(store, store => Execution::new(config, flags, Arc::new(store)).run().await)
}

/// SIGTERM and SIGINT.
struct StopSignals {
    term: Signal,
    int: Signal,
}

impl StopSignals {
    fn install() -> std::io::Result<StopSignals> {
        Ok(StopSignals {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
        })
    }

    async fn recv(&mut self) -> &'static str {
        tokio::select! {
            _ = self.term.recv() => "SIGTERM",
            _ = self.int.recv() => "SIGINT",
        }
    }
}

/// One run of `execute` (or of `run`, which builds its configuration from a bot folder).
pub struct Execution<S> {
    config: ExecuteConfig,
    flags: ExecuteFlags,
    store: Arc<S>,
    buckets: Buckets,
}

impl<S: ObjectStore> Execution<S> {
    pub fn new(config: ExecuteConfig, flags: ExecuteFlags, store: Arc<S>) -> Self {
        Execution {
            config,
            flags,
            store,
            buckets: Buckets::from_env(),
        }
    }

    /// Runs the mode the flags and configuration select; returns the exit code.
    pub async fn run(self) -> i32 {
        let mut signals = match StopSignals::install() {
            Ok(signals) => signals,
            Err(e) => {
                tracing::error!(error = %e, "cannot install signal handlers");
                return 1;
            }
        };
        let launcher = Launcher::new(self.config.clone(), Supervisor::start());
        tracing::info!(bot_id = %self.config.bot_id, store = %self.store.describe(), "execute");
        if self.flags.query_server_only {
            self.query_server_only(&launcher, &mut signals).await
        } else if self.config.query_path.is_some() {
            self.ephemeral_query(&launcher).await
        } else {
            self.bot(&launcher, &mut signals).await
        }
    }

    /// Downloads the code; makes native entrypoints executable.
    async fn install_code(&self) -> Result<(), String> {
        let Some(key) = &self.config.code_file else {
            return Ok(());
        };
        let stats = install_code(&*self.store, &self.buckets.code, key, &self.config.code_path).await?;
        tracing::info!(files = stats.files, bytes = stats.bytes, "code installed");
        if self.config.runtime.is_compiled() {
            for entry in [
                Some(&self.config.entrypoint),
                self.config.query_entrypoint.as_ref(),
            ]
            .into_iter()
            .flatten()
            {
                make_executable(&self.config.code_path.join(entry));
            }
        }
        Ok(())
    }

    fn state_sync(&self) -> StateSync<S> {
        StateSync::new(
            Arc::clone(&self.store),
            &self.buckets.state,
            &self.config.bot_id,
            &self.config.state_path,
            state_limits(),
        )
    }

    /// Restores the state; a failure is logged and the bot starts without it.
    async fn restore_state(&self, state: &mut StateSync<S>) {
        match state.restore().await {
            Ok(Restored::Nothing) => tracing::info!("no stored state: first run"),
            Ok(Restored::Extracted {
                files,
                bytes,
                generation,
                skipped,
            }) => {
                tracing::info!(files, bytes, generation, "state restored");
                for entry in skipped {
                    tracing::warn!(entry, "stored state entry not restored");
                }
            }
            Ok(Restored::KeptLocal { local, stored }) => tracing::info!(
                local_generation = local,
                stored_generation = stored,
                "the local state is as new as the stored state or newer; not restoring over it"
            ),
            Err(e) => {
                tracing::warn!(error = %e, "cannot restore the state; the bot starts without it, and the stored state is kept aside before the first upload replaces it");
                return;
            }
        }
        if let Err(e) = std::fs::write(restored_marker(&self.config.state_path), b"") {
            tracing::warn!(error = %e, "cannot mark the state as restored");
        }
    }

    /// Starts the query front for the query entrypoint, or logs why it cannot (the bot runs
    /// without queries rather than not at all).
    async fn start_front(&self, launcher: &Launcher, tee: Tee) -> Option<Front> {
        let entry = self.config.query_entrypoint.clone()?;
        let started = match FrontSettings::from_env(self.config.query_addr) {
            Ok(settings) => Front::start(settings, launcher.clone(), entry, tee).await,
            Err(e) => Err(e),
        };
        started
            .map_err(|e| tracing::error!("the bot runs without queries: {e}"))
            .ok()
    }

    async fn bot(&self, launcher: &Launcher, signals: &mut StopSignals) -> i32 {
        let config = &self.config;
        let mut state = self.state_sync();
        let prepared = tokio::select! {
            prepared = async {
                self.install_code().await?;
                self.restore_state(&mut state).await;
                std::fs::create_dir_all(&config.logs_path).map_err(|e| format!("cannot create {}: {e}", config.logs_path.display()))?;
                Tee::to_file(&config.logs_path.join("bot.log")).map_err(|e| format!("cannot open bot.log: {e}"))
            } => prepared,
            signal = signals.recv() => Err(format!("{signal} before the bot started")),
        };
        let tee = match prepared {
            Ok(tee) => tee,
            Err(e) => {
                tracing::error!("{e}");
                return 1;
            }
        };
        let sync = (!self.flags.skip_sync).then(|| {
            let logs = LogSync::new(
                Arc::clone(&self.store),
                &self.buckets.logs,
                &config.bot_id,
                &config.logs_path,
            );
            let watched = vec![config.state_path.clone(), config.logs_path.clone()];
            start_sync(
                Syncer {
                    state: Some(state),
                    logs: Some(logs),
                },
                watched,
                sync_timing(),
            )
        });
        let realtime = the0_sdk::env::is_realtime_type(config.bot_type.as_deref());
        let mut front = match realtime && !self.flags.skip_query_server {
            true => self.start_front(launcher, tee.tagged("query")).await,
            false => None,
        };

        let (code, stop_started) = match launcher.spawn(Role::Bot, &config.entrypoint, &tee, &[]) {
            Err(e) => {
                append_error_line(&config.logs_path.join("bot.log"), &e);
                (1, None)
            }
            Ok(mut bot) => {
                let outcome = tokio::select! {
                    code = &mut bot.exit => (code.unwrap_or(1), None),
                    signal = signals.recv() => {
                        let started = Instant::now();
                        let grace = config.stop_grace.min(config.stop_budget.saturating_sub(Duration::from_secs(3)));
                        tracing::info!(signal, grace_ms = grace.as_millis() as u64, "stopping the bot");
                        // The query process stops alongside the bot, within the same grace.
                        let (code, ()) = tokio::join!(
                            stop_group(bot.pid, &mut bot.exit, grace),
                            stop_front(front.take()),
                        );
                        (code, Some(started))
                    }
                };
                // Its last lines belong in bot.log before the final sync.
                let drain = match outcome.1 {
                    Some(started) => Duration::from_secs(2)
                        .min((started + config.stop_budget).saturating_duration_since(Instant::now()) / 4),
                    None => Duration::from_secs(2),
                };
                bot.drain_output(drain).await;
                outcome
            }
        };
        tracing::info!(exit_code = code, "the bot exited");
        if config.is_scheduled
            && let Err(e) = write_atomic(&config.done_file, code.to_string().as_bytes())
        {
            tracing::warn!(error = %e, "cannot write the done file");
        }
        stop_front(front).await;
        if let Some(sync) = sync {
            let deadline = stop_started.unwrap_or_else(Instant::now) + config.stop_budget;
            sync.finish(deadline).await;
        }
        code
    }

    /// Runs the query entrypoint (or the bot entrypoint) once for `QUERY_PATH`. The answer is
    /// the result file; when the process fails without writing one, or runs past
    /// `THE0_QUERY_PROCESS_TIMEOUT_SECS` (60), the agent writes an error answer itself. With
    /// `QUERY_RESULT_KEY` the answer is uploaded to the query-results bucket.
    async fn ephemeral_query(&self, launcher: &Launcher) -> i32 {
        if let Err(e) = self.install_code().await {
            tracing::error!("{e}");
            return 1;
        }
        self.restore_state(&mut self.state_sync()).await;
        let result_file = self.config.query_result_file.clone();
        if let Some(parent) = result_file.parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        let _ = std::fs::remove_file(&result_file);
        let entry = self
            .config
            .query_entrypoint
            .as_ref()
            .unwrap_or(&self.config.entrypoint);
        let limit =
            Duration::from_secs(the0_sdk::env::parse_or("THE0_QUERY_PROCESS_TIMEOUT_SECS", 60).unwrap_or(60));
        let tee = Tee::console_only().remembering_last_lines();
        let code = match launcher.spawn(Role::Query, entry, &tee, &[]) {
            Ok(mut query) => match tokio::time::timeout(limit, &mut query.exit).await {
                Ok(code) => {
                    query.drain_output(Duration::from_secs(2)).await;
                    code.unwrap_or(1)
                }
                Err(_) => {
                    stop_group(query.pid, &mut query.exit, Duration::from_secs(1)).await;
                    let message = format!("the query process did not finish within {} s", limit.as_secs());
                    write_error_answer(&result_file, &message);
                    1
                }
            },
            Err(e) => {
                write_error_answer(&result_file, &e);
                1
            }
        };
        let code = if is_answer(&result_file) {
            code
        } else {
            let last = tee.last_lines().join("\n");
            let message = format!(
                "the query process exited with code {code} without writing a result{}",
                if last.is_empty() {
                    String::new()
                } else {
                    format!(": {last}")
                }
            );
            write_error_answer(&result_file, &message);
            code.max(1)
        };
        match &self.config.query_result_key {
            Some(key) => match self.upload_answer(&result_file, key).await {
                Ok(()) => code,
                Err(e) => {
                    tracing::error!(error = %e, "cannot upload the query result");
                    1
                }
            },
            None => code,
        }
    }

    async fn upload_answer(&self, result_file: &Path, key: &str) -> Result<(), String> {
        let body =
            std::fs::read(result_file).map_err(|e| format!("cannot read {}: {e}", result_file.display()))?;
        let bucket = &self.buckets.query_results;
        self.store
            .ensure_bucket(bucket)
            .await
            .map_err(|e| e.to_string())?;
        self.store
            .put(bucket, key, body, "application/json")
            .await
            .map_err(|e| e.to_string())
    }

    /// The Kubernetes query sidecar: waits up to 60 s for the query entrypoint on the shared code
    /// volume (or downloads the code), restores the state only if the shared volume holds none
    /// (never over newer local state), and serves queries through the front until stopped.
    async fn query_server_only(&self, launcher: &Launcher, signals: &mut StopSignals) -> i32 {
        let Some(entry) = &self.config.query_entrypoint else {
            tracing::error!("QUERY_ENTRYPOINT is not set");
            return 1;
        };
        let on_volume = self.config.code_path.join(entry);
        let appeared = tokio::select! {
            appeared = wait_for_file(&on_volume, Duration::from_secs(60)) => appeared,
            _ = signals.recv() => return 1,
        };
        if !appeared {
            tracing::info!(path = %on_volume.display(), "the code did not appear on the shared volume; downloading it");
            if let Err(e) = self.install_code().await {
                tracing::error!("{e}");
                return 1;
            }
        }
        if holds_state(&self.config.state_path) {
            tracing::info!("the shared state volume already holds state; not restoring over it");
        } else {
            self.restore_state(&mut self.state_sync()).await;
        }
        let tee = Tee::console_only().tagged("query");
        let Some(front) = self.start_front(launcher, tee).await else {
            return 1;
        };
        let signal = signals.recv().await;
        tracing::info!(signal, "stopping the query server");
        front.stop().await;
        0
    }
}

/// Whether `file` holds a query answer (a JSON object).
fn is_answer(file: &Path) -> bool {
    std::fs::read(file)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
        .is_some_and(|value| value.is_object())
}

/// Writes an error envelope in the core's format, for a query that produced none.
fn write_error_answer(file: &Path, message: &str) {
    tracing::error!("{message}");
    if let Err(e) = write_atomic(file, &Response::error(500, message).body) {
        tracing::error!(error = %e, "cannot write the query result");
    }
}

/// The sync loop running in the background, and how to stop it.
struct RunningSync<S> {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<Syncer<S>>,
}

fn start_sync<S: ObjectStore>(
    mut syncer: Syncer<S>,
    watched: Vec<PathBuf>,
    timing: Timing,
) -> RunningSync<S> {
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(async move {
        syncer.run(&watched, timing, stopped).await;
        syncer
    });
    RunningSync { stop, task }
}

/// Stops the query front, if there is one.
async fn stop_front(front: Option<Front>) {
    if let Some(front) = front {
        front.stop().await;
    }
}

impl<S: ObjectStore> RunningSync<S> {
    /// Stops the loop (abandoning a sync in progress) and runs the final sync until `deadline`.
    async fn finish(self, deadline: Instant) {
        self.stop.send_replace(true);
        let Ok(Ok(mut syncer)) = tokio::time::timeout_at(deadline, self.task).await else {
            tracing::error!("the sync task did not stop; no final sync");
            return;
        };
        match syncer.final_sync(deadline).await {
            Ok(()) => tracing::info!("final sync done"),
            Err(e) => tracing::error!(error = %e, "final sync failed"),
        }
    }
}

/// The loop timing: `THE0_SYNC_INTERVAL_SECS` (default 60) between safety ticks.
pub fn sync_timing() -> Timing {
    let seconds = the0_sdk::env::parse_or("THE0_SYNC_INTERVAL_SECS", 60)
        .unwrap_or(60)
        .max(1);
    Timing {
        interval: Duration::from_secs(seconds),
        ..Timing::default()
    }
}

/// Waits until `path` exists, at most `limit`.
async fn wait_for_file(path: &Path, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if path.exists() {
            return true;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    path.exists()
}

/// Records in `bot.log` why the bot could not start (as upstream does).
fn append_error_line(log: &Path, error: &str) {
    use std::io::Write;
    tracing::error!("{error}");
    let line =
        serde_json::json!({"level": "error", "message": error, "timestamp": the0_sdk::time::now_rfc3339()});
    if let Ok(mut file) = std::fs::OpenOptions::new().create(true).append(true).open(log) {
        let _ = writeln!(file, "{line}");
    }
}
