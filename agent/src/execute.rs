//! `the0-agent execute`: the life of a bot container (contract §4, with upstream's ordering
//! bugs fixed).
//!
//! Bot mode: code → state restore → sync → (realtime) query process → bot, output tee'd to
//! `bot.log`. On SIGTERM/SIGINT: SIGTERM to the bot's process group, a grace period, SIGKILL,
//! and only then the final sync — so the bot's last state write is uploaded — all within the stop
//! budget. Upstream synced first and then SIGKILLed a bot that never saw SIGTERM.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use the0_sdk::fsutil::write_atomic;
use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::archive::AGENT_PRIVATE_PREFIX;
use crate::code::{install_code, make_executable};
use crate::config::ExecuteConfig;
use crate::process::{Spawned, Supervisor, Tee, piped, stop_group};
use crate::runtime::{Role, Runtime, child_env, command_for, install_wrappers};
use crate::store::{AnyStore, Buckets, ObjectStore};
use crate::sync::{LogSync, Restored, StateSync, Syncer, Timing, state_limits};

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

struct Execution<S> {
    config: ExecuteConfig,
    flags: ExecuteFlags,
    store: Arc<S>,
    buckets: Buckets,
}

impl<S: ObjectStore> Execution<S> {
    fn new(config: ExecuteConfig, flags: ExecuteFlags, store: Arc<S>) -> Self {
        Execution {
            config,
            flags,
            store,
            buckets: Buckets::from_env(),
        }
    }

    async fn run(self) -> i32 {
        let mut signals = match StopSignals::install() {
            Ok(signals) => signals,
            Err(e) => {
                tracing::error!(error = %e, "cannot install signal handlers");
                return 1;
            }
        };
        let supervisor = Supervisor::start();
        tracing::info!(bot_id = %self.config.bot_id, store = %self.store.describe(), "execute");
        if self.flags.query_server_only {
            self.query_server_only(&supervisor, &mut signals).await
        } else if self.config.query_path.is_some() {
            self.ephemeral_query(&supervisor).await
        } else {
            self.bot(&supervisor, &mut signals).await
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
            Ok(Restored::Extracted { files, bytes }) => tracing::info!(files, bytes, "state restored"),
            Err(e) => {
                tracing::warn!(error = %e, "cannot restore the state; the bot starts without it, and the stored state is kept aside before the first upload replaces it");
                return;
            }
        }
        if let Err(e) = std::fs::write(restored_marker(&self.config.state_path), b"") {
            tracing::warn!(error = %e, "cannot mark the state as restored");
        }
    }

    async fn bot(&self, supervisor: &Supervisor, signals: &mut StopSignals) -> i32 {
        let config = &self.config;
        let mut state = self.state_sync();
        let prepared = tokio::select! {
            prepared = async {
                self.install_code().await?;
                self.restore_state(&mut state).await;
                std::fs::create_dir_all(&config.logs_path).map_err(|e| format!("cannot create {}: {e}", config.logs_path.display()))
            } => prepared,
            signal = signals.recv() => Err(format!("{signal} before the bot started")),
        };
        if let Err(e) = prepared {
            tracing::error!("{e}");
            return 1;
        }
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

        let realtime = config.bot_type.as_deref() == Some("realtime");
        let mut query = match (
            &config.query_entrypoint,
            realtime && !self.flags.skip_query_server,
        ) {
            (Some(entry), true) => self
                .spawn(supervisor, Role::Query, entry, &Tee::console_only())
                .ok(),
            _ => None,
        };

        let (code, stop_started) = match Tee::to_file(&config.logs_path.join("bot.log")) {
            Err(e) => {
                tracing::error!(error = %e, "cannot open bot.log");
                (1, None)
            }
            Ok(tee) => match self.spawn(supervisor, Role::Bot, &config.entrypoint, &tee) {
                Err(e) => {
                    append_error_line(&config.logs_path.join("bot.log"), &e);
                    (1, None)
                }
                Ok(mut bot) => {
                    tokio::select! {
                        code = &mut bot.exit => (code.unwrap_or(1), None),
                        signal = signals.recv() => {
                            let started = Instant::now();
                            let grace = config.stop_grace.min(config.stop_budget.saturating_sub(Duration::from_secs(3)));
                            tracing::info!(signal, grace_ms = grace.as_millis() as u64, "stopping the bot");
                            (stop_group(bot.pid, &mut bot.exit, grace).await, Some(started))
                        }
                    }
                }
            },
        };
        tracing::info!(exit_code = code, "the bot exited");
        if config.is_scheduled
            && let Err(e) = write_atomic(&config.done_file, code.to_string().as_bytes())
        {
            tracing::warn!(error = %e, "cannot write the done file");
        }
        if let Some(query) = &mut query {
            stop_group(query.pid, &mut query.exit, Duration::from_secs(1)).await;
        }
        if let Some(sync) = sync {
            let deadline = stop_started.unwrap_or_else(Instant::now) + config.stop_budget;
            sync.finish(deadline).await;
        }
        code
    }

    /// Upstream's ephemeral query: run the query entrypoint once with `QUERY_PATH`, and upload
    /// the result file to `query-results/QUERY_RESULT_KEY`.
    async fn ephemeral_query(&self, supervisor: &Supervisor) -> i32 {
        if let Err(e) = self.install_code().await {
            tracing::error!("{e}");
            return 1;
        }
        self.restore_state(&mut self.state_sync()).await;
        let result_file = the0_sdk::env::query_result_file();
        if let Some(parent) = result_file.parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        let entry = self
            .config
            .query_entrypoint
            .as_ref()
            .unwrap_or(&self.config.entrypoint);
        let code = match self.spawn(supervisor, Role::Query, entry, &Tee::console_only()) {
            Ok(query) => query.exit.await.unwrap_or(1),
            Err(e) => {
                tracing::error!("{e}");
                1
            }
        };
        let Some(key) = &self.config.query_result_key else {
            return code;
        };
        let bucket = &self.buckets.query_results;
        let uploaded = match std::fs::read(&result_file) {
            Ok(body) => async {
                self.store.ensure_bucket(bucket).await?;
                self.store.put(bucket, key, body, "application/json").await
            }
            .await
            .map_err(|e| e.to_string()),
            Err(e) => Err(format!("cannot read {}: {e}", result_file.display())),
        };
        match uploaded {
            Ok(()) => code,
            Err(e) => {
                tracing::error!(error = %e, "cannot upload the query result");
                1
            }
        }
    }

    /// Upstream's query sidecar: wait up to 60 s for the query entrypoint on the shared code
    /// volume (or download the code), restore the state, and serve queries until stopped.
    async fn query_server_only(&self, supervisor: &Supervisor, signals: &mut StopSignals) -> i32 {
        let Some(entry) = &self.config.query_entrypoint else {
            tracing::error!("QUERY_ENTRYPOINT is not set");
            return 1;
        };
        let on_volume = self.config.code_path.join(entry);
        let appeared = tokio::select! {
            appeared = wait_for_file(&on_volume, Duration::from_secs(60)) => appeared,
            _ = signals.recv() => return 1,
        };
        if !appeared && let Err(e) = self.install_code().await {
            tracing::error!("{e}");
            return 1;
        }
        self.restore_state(&mut self.state_sync()).await;
        let mut query = match self.spawn(supervisor, Role::Query, entry, &Tee::console_only()) {
            Ok(query) => query,
            Err(e) => {
                tracing::error!("{e}");
                return 1;
            }
        };
        tokio::select! {
            code = &mut query.exit => code.unwrap_or(1),
            _ = signals.recv() => stop_group(query.pid, &mut query.exit, self.config.stop_grace).await,
        }
    }

    /// Starts `entry` in `role` with its output through `tee`.
    fn spawn(&self, supervisor: &Supervisor, role: Role, entry: &str, tee: &Tee) -> Result<Spawned, String> {
        let config = &self.config;
        if matches!(config.runtime, Runtime::Python311 | Runtime::Nodejs20) && role == Role::Bot {
            install_wrappers(&config.runtime_dir).map_err(|e| format!("cannot write the wrappers: {e}"))?;
        }
        let line = command_for(
            config.runtime,
            role,
            entry,
            &config.code_path,
            &config.runtime_dir,
        );
        let mut command = line.command();
        command
            .current_dir(&config.code_path)
            .env_clear()
            .envs(self.child_env(role, entry));
        piped(&mut command);
        let mut spawned = supervisor
            .spawn(&mut command)
            .map_err(|e| format!("cannot start {} ({}): {e}", entry, line.program.display()))?;
        if let Some(stdout) = spawned.stdout.take() {
            tee.attach(stdout, false);
        }
        if let Some(stderr) = spawned.stderr.take() {
            tee.attach(stderr, true);
        }
        tracing::info!(pid = spawned.pid, entry, ?role, "started");
        Ok(spawned)
    }

    /// The bot's environment (contract §1b), without the agent's own variables.
    fn child_env(&self, role: Role, entry: &str) -> Vec<(OsString, OsString)> {
        let config = &self.config;
        let mut extra: Vec<(&str, String)> = vec![
            ("BOT_ID", config.bot_id.clone()),
            ("BOT_CONFIG", config.bot_config.clone()),
            ("STATE_DIR", config.state_dir.to_string_lossy().into_owned()),
            ("CODE_MOUNT_DIR", config.code_mount_dir()),
            ("SCRIPT_PATH", entry.to_owned()),
            ("ENTRYPOINT_TYPE", "bot".to_owned()),
        ];
        if config.runtime == Runtime::Python311 {
            let code = config.code_path.to_string_lossy();
            let mut python_path = format!("{code}/vendor:{code}");
            if let Some(existing) = the0_sdk::env::non_empty("PYTHONPATH") {
                python_path = format!("{python_path}:{existing}");
            }
            extra.push(("PYTHONPATH", python_path));
        }
        if let Some(bot_type) = &config.bot_type {
            extra.push(("BOT_TYPE", bot_type.clone()));
        }
        let mut param_vars = Vec::new();
        if let (Some(path), Role::Query) = (&config.query_path, role) {
            extra.push(("QUERY_PATH", path.clone()));
            if let Some(params) = &config.query_params {
                extra.push(("QUERY_PARAMS", params.clone()));
                param_vars = query_param_vars(params);
            }
        }
        extra.extend(param_vars.iter().map(|(k, v)| (k.as_str(), v.clone())));
        child_env(&extra)
    }
}

/// Upstream's `QUERY_PARAM_<key>` variables: one per top-level parameter, in string form, with
/// the name reduced to letters, digits and `_`.
fn query_param_vars(params: &str) -> Vec<(String, String)> {
    let Ok(Value::Object(params)) = serde_json::from_str::<Value>(params) else {
        return Vec::new();
    };
    params
        .iter()
        .map(|(k, v)| {
            let name: String = k
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '_' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            (format!("QUERY_PARAM_{name}"), the0_sdk::query::to_param_string(v))
        })
        .collect()
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

impl<S: ObjectStore> RunningSync<S> {
    /// Stops the loop and runs the final sync until `deadline`.
    async fn finish(self, deadline: Instant) {
        self.stop.send_replace(true);
        let Ok(mut syncer) = self.task.await else {
            tracing::error!("the sync task failed; no final sync");
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_param_variables() {
        let vars = query_param_vars(r#"{"limit": 5, "sym-bol": "BTC", "nested": {"a": 1}}"#);
        assert_eq!(
            vars,
            [
                ("QUERY_PARAM_limit".to_owned(), "5".to_owned()),
                ("QUERY_PARAM_sym_bol".to_owned(), "BTC".to_owned()),
                ("QUERY_PARAM_nested".to_owned(), r#"{"a":1}"#.to_owned()),
            ]
        );
        assert!(query_param_vars("not json").is_empty());
    }
}
