//! The realtime loop of Docker mode: reconcile on a tick, at once when the desired state changes
//! or a bot container dies, and when a backing-off bot may start again. Each pass reads desired
//! and observed state, asks [`crate::reconcile::plan`] what to do, and does it — stops first,
//! then starts, a bounded number at a time, all within the pass, so a slow start can never make
//! the next pass start a duplicate (upstream started asynchronously, §12.14).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::{DockerEngine, Role};
use crate::backoff::CrashBackoff;
use crate::desired::DesiredState;
use crate::metrics::Metrics;
use crate::reconcile::{Action, plan};

/// How the loop behaves.
#[derive(Debug, Clone)]
pub struct RunnerSettings {
    /// Longest time between passes (upstream: 30 s).
    pub interval: Duration,
    /// How long a bot has to stop before it is killed.
    pub stop_grace: Duration,
    /// Containers started or stopped at once.
    pub concurrency: usize,
    /// Stop every bot when the orchestrator stops (otherwise they keep running and the next
    /// orchestrator adopts them).
    pub stop_bots_on_exit: bool,
    /// Total time allowed for stopping the bots at shutdown.
    pub shutdown_budget: Duration,
}

/// The realtime reconciler of one orchestrator.
pub struct Runner {
    pub engine: DockerEngine,
    pub source: Arc<dyn DesiredState>,
    pub backoff: CrashBackoff,
    pub metrics: Arc<Metrics>,
    pub settings: RunnerSettings,
    /// Set after the first complete pass (`/readyz`).
    pub ready: Arc<AtomicBool>,
}

impl Runner {
    /// Runs until `shutdown` turns true, then stops the bots if configured to.
    pub async fn run(mut self, mut shutdown: watch::Receiver<bool>) {
        let mut changes = self.source.changes();
        let (exit_tx, mut exits) = mpsc::unbounded_channel();
        self.engine.watch_exits(exit_tx);
        loop {
            if let Err(e) = self.pass().await {
                tracing::error!(error = %e, "reconcile failed; retrying at the next tick");
            }
            let tick = Instant::now() + self.settings.interval;
            let wake = self
                .backoff
                .next_due()
                .map_or(tick, |due| Instant::from_std(due).min(tick));
            tokio::select! {
                _ = tokio::time::sleep_until(wake) => {}
                _ = changes.changed() => {}
                Some(()) = exits.recv() => {}
                _ = shutdown.changed() => break,
            }
            // Several events at once make one pass.
            while exits.try_recv().is_ok() {}
            changes.mark_unchanged();
        }
        if self.settings.stop_bots_on_exit {
            self.stop_all().await;
        }
    }

    /// One reconcile pass; returns the number of actions taken.
    pub async fn pass(&mut self) -> Result<usize, String> {
        let started = std::time::Instant::now();
        let snapshot = self.source.snapshot().await.map_err(|e| e.to_string())?;
        for rejected in &snapshot.rejected {
            tracing::warn!(error = %rejected, "bot spec skipped");
        }
        let observed = self.engine.observe_bots().await.map_err(|e| e.to_string())?;
        let actions = plan(
            &snapshot.bots,
            &observed,
            &self.backoff,
            std::time::Instant::now(),
        );
        let count = actions.len();
        self.backoff
            .retain(|id| snapshot.bots.iter().any(|b| b.id == id && b.enabled));
        let (starts, others): (Vec<Action>, Vec<Action>) =
            actions.into_iter().partition(|a| matches!(a, Action::Start(_)));
        for (bot_id, config_hash, exit_code, last_lines) in
            self.execute_all(others).await.into_iter().flatten()
        {
            let delay = self
                .backoff
                .record_exit(&bot_id, &config_hash, std::time::Instant::now());
            self.metrics.crash_backoffs.inc();
            tracing::warn!(
                bot_id,
                exit_code,
                delay_ms = delay.as_millis() as u64,
                last_lines,
                "the bot exited; restarting it after a backoff"
            );
        }
        self.execute_all(starts).await;
        let desired = snapshot
            .bots
            .iter()
            .filter(|b| b.enabled && b.is_realtime())
            .count();
        self.metrics.bots_desired.set(desired as i64);
        if let Ok(now) = self.engine.observe_bots().await {
            self.metrics
                .bots_running
                .set(now.iter().filter(|o| o.running).count() as i64);
        }
        self.metrics
            .reconcile_seconds
            .observe(started.elapsed().as_secs_f64());
        self.ready.store(true, Ordering::Relaxed);
        Ok(count)
    }

    /// Runs actions, `concurrency` at a time. A crash reaped yields its details for the
    /// backoff book (which only this task touches).
    async fn execute_all(
        &mut self,
        actions: Vec<Action>,
    ) -> Vec<Option<(String, String, Option<i64>, String)>> {
        let engine = &self.engine;
        let metrics = &self.metrics;
        let grace = self.settings.stop_grace;
        let mut forgiven = Vec::new();
        let outcomes = stream::iter(actions)
            .map(|action| {
                if let Action::Forgive { bot_id } = &action {
                    forgiven.push(bot_id.clone());
                }
                execute(engine, metrics, grace, action)
            })
            .buffer_unordered(self.settings.concurrency.max(1))
            .collect::<Vec<_>>()
            .await;
        for bot_id in forgiven {
            tracing::info!(
                bot_id,
                "the bot has run long enough: its crash backoff is cleared"
            );
            self.backoff.clear(&bot_id);
        }
        outcomes
    }

    /// Stops every bot container of this instance within the shutdown budget.
    async fn stop_all(&self) {
        let Ok(containers) = self.engine.containers(Some(Role::Bot)).await else {
            return;
        };
        tracing::info!(count = containers.len(), "stopping the bots");
        let grace = self.settings.stop_grace.min(self.settings.shutdown_budget);
        let stops = stream::iter(containers)
            .map(|c| {
                let engine = self.engine.clone();
                async move {
                    if let Err(e) = engine.stop(&c, grace).await {
                        tracing::warn!(container = c, error = %e, "cannot stop the bot");
                    }
                }
            })
            .buffer_unordered(self.settings.concurrency.max(1))
            .collect::<Vec<()>>();
        if tokio::time::timeout(self.settings.shutdown_budget, stops)
            .await
            .is_err()
        {
            tracing::error!("the bots did not all stop within the shutdown budget");
        }
    }
}

async fn execute(
    engine: &DockerEngine,
    metrics: &Metrics,
    grace: Duration,
    action: Action,
) -> Option<(String, String, Option<i64>, String)> {
    match action {
        Action::Start(spec) => match engine.start(Role::Bot, Some(&spec), None).await {
            Ok(started) => {
                metrics.bot_starts.inc();
                tracing::info!(bot_id = spec.id, container = started.container, "bot started");
            }
            Err(e) => tracing::error!(bot_id = spec.id, error = %e, "cannot start the bot"),
        },
        Action::Stop {
            container,
            bot_id,
            reason,
        } => {
            tracing::info!(bot_id, container, reason = reason.as_str(), "stopping the bot");
            if let Err(e) = engine.stop(&container, grace).await {
                tracing::error!(bot_id, container, error = %e, "cannot stop the bot");
            }
        }
        Action::Reap {
            container,
            bot_id,
            config_hash,
            exit_code,
            crashed,
        } => {
            let last_lines = engine.last_lines(&container, 20).await;
            engine.remove(&container).await;
            if crashed {
                return Some((bot_id, config_hash, exit_code, last_lines));
            }
            tracing::info!(
                bot_id,
                container,
                exit_code,
                "removed the exited container of a bot no longer wanted"
            );
        }
        Action::Forgive { .. } => {}
    }
    None
}
