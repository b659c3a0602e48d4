//! The scheduler of Docker mode: each enabled scheduled bot runs in a fresh container at every
//! tick of its cron schedule.
//!
//! Rules (shared with Kubernetes mode through [`Cron`] and [`next_run`]):
//! - at most one run per schedule in flight; a tick that comes due while the previous run is
//!   still going is skipped (counted as `skipped`), never queued;
//! - every run has a timeout (the spec's `timeout_secs`, else `--run-timeout`): a run past it is
//!   stopped and counted as `timeout` (upstream waited forever, §12.15);
//! - missed runs: the next tick is always computed from now, so ticks missed while the
//!   orchestrator was down are not replayed one by one. A source that persists next run times
//!   (MongoDB's `next_execution_time`) gets one catch-up run at start for a tick missed while
//!   down, as upstream did; the spec directory starts every schedule afresh from now.

mod cron;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use cron::Cron;

use crate::desired::DesiredState;
use crate::docker::{DockerEngine, Role, RunOutcome};
use crate::metrics::Metrics;
use crate::spec::{BotKind, BotSpec};

/// Scheduler settings.
#[derive(Debug, Clone)]
pub struct SchedulerSettings {
    /// Longest sleep between looks at the desired state.
    pub tick: Duration,
    /// A run's timeout when its spec sets none.
    pub run_timeout: Duration,
    /// How long a timed-out run has to stop before it is killed.
    pub stop_grace: Duration,
    /// At shutdown, how long runs in flight may finish before they are stopped.
    pub shutdown_budget: Duration,
}

/// When a schedule runs next: a remembered time (persisted by the source) if there is one,
/// else the first tick after `now`.
pub fn next_run(cron: &Cron, remembered: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    remembered.or_else(|| cron.next_after(now))
}

struct Entry {
    /// The schedule text and zone the entry was computed for.
    key: (String, Option<String>),
    cron: Cron,
    next: DateTime<Utc>,
}

/// The cron loop of one orchestrator.
pub struct Scheduler {
    pub engine: DockerEngine,
    pub source: Arc<dyn DesiredState>,
    pub metrics: Arc<Metrics>,
    pub settings: SchedulerSettings,
}

impl Scheduler {
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let mut entries: HashMap<String, Entry> = HashMap::new();
        let mut in_flight: HashMap<String, JoinHandle<()>> = HashMap::new();
        let mut changes = self.source.changes();
        loop {
            in_flight.retain(|_, task| !task.is_finished());
            match self.source.snapshot().await {
                Ok(snapshot) => {
                    let scheduled: Vec<&BotSpec> = snapshot
                        .bots
                        .iter()
                        .filter(|b| b.enabled && !b.is_realtime())
                        .collect();
                    entries.retain(|id, _| scheduled.iter().any(|b| &b.id == id));
                    for bot in scheduled {
                        self.visit(
                            bot,
                            snapshot.next_runs.get(&bot.id).copied(),
                            &mut entries,
                            &mut in_flight,
                        )
                        .await;
                    }
                }
                Err(e) => tracing::error!(error = %e, "cannot read the schedules"),
            }
            let now = Utc::now();
            let soonest = entries
                .values()
                .map(|e| (e.next - now).to_std().unwrap_or_default())
                .min()
                .unwrap_or(self.settings.tick)
                .min(self.settings.tick);
            tokio::select! {
                _ = tokio::time::sleep(soonest) => {}
                _ = changes.changed() => {}
                _ = shutdown.changed() => break,
            }
        }
        self.finish(in_flight).await;
    }

    async fn visit(
        &self,
        bot: &BotSpec,
        remembered: Option<DateTime<Utc>>,
        entries: &mut HashMap<String, Entry>,
        in_flight: &mut HashMap<String, JoinHandle<()>>,
    ) {
        let BotKind::Scheduled(schedule) = &bot.kind else {
            return;
        };
        let key = (schedule.schedule.clone(), schedule.timezone.clone());
        let now = Utc::now();
        if entries.get(&bot.id).is_none_or(|e| e.key != key) {
            let Ok(cron) = Cron::parse(schedule) else {
                return; // validated by the source; never reached
            };
            let Some(next) = next_run(&cron, remembered, now) else {
                tracing::warn!(bot_id = bot.id, "the schedule never runs again");
                return;
            };
            tracing::info!(bot_id = bot.id, next = %next, "schedule armed");
            entries.insert(bot.id.clone(), Entry { key, cron, next });
        }
        let entry = entries.get_mut(&bot.id).expect("inserted above");
        if entry.next > now {
            return;
        }
        let Some(following) = entry.cron.next_after(now) else {
            entries.remove(&bot.id);
            return;
        };
        entry.next = following;
        if let Err(e) = self.source.record_next_run(&bot.id, following).await {
            tracing::warn!(bot_id = bot.id, error = %e, "cannot record the next run time");
        }
        if in_flight.contains_key(&bot.id) {
            self.metrics.schedule_run("skipped");
            tracing::warn!(
                bot_id = bot.id,
                "the previous run is still going: this tick is skipped"
            );
            return;
        }
        let timeout = schedule
            .timeout_secs
            .map(Duration::from_secs)
            .unwrap_or(self.settings.run_timeout);
        in_flight.insert(
            bot.id.clone(),
            tokio::spawn(run_once(
                self.engine.clone(),
                Arc::clone(&self.metrics),
                bot.clone(),
                timeout,
                self.settings.stop_grace,
            )),
        );
    }

    /// Lets runs in flight finish within the budget, then stops what is left.
    async fn finish(&self, in_flight: HashMap<String, JoinHandle<()>>) {
        let all = futures_util::future::join_all(in_flight.into_values());
        if tokio::time::timeout(self.settings.shutdown_budget, all)
            .await
            .is_err()
        {
            tracing::warn!("scheduled runs still going at shutdown are stopped");
            for container in self.engine.containers(Some(Role::Run)).await.unwrap_or_default() {
                let _ = self.engine.stop(&container, self.settings.stop_grace).await;
            }
        }
    }
}

async fn run_once(
    engine: DockerEngine,
    metrics: Arc<Metrics>,
    bot: BotSpec,
    timeout: Duration,
    grace: Duration,
) {
    let started = std::time::Instant::now();
    tracing::info!(bot_id = bot.id, "scheduled run started");
    let outcome = engine.run_to_completion(&bot, timeout, grace).await;
    let seconds = started.elapsed().as_secs_f64();
    metrics.schedule_run_seconds.observe(seconds);
    match outcome {
        Ok(RunOutcome::Exited { code: 0, .. }) => {
            metrics.schedule_run("ok");
            tracing::info!(bot_id = bot.id, seconds, "scheduled run finished");
        }
        Ok(RunOutcome::Exited { code, last_lines }) => {
            metrics.schedule_run("failed");
            tracing::warn!(
                bot_id = bot.id,
                exit_code = code,
                seconds,
                last_lines,
                "scheduled run failed"
            );
        }
        Ok(RunOutcome::TimedOut { last_lines }) => {
            metrics.schedule_run("timeout");
            tracing::warn!(
                bot_id = bot.id,
                timeout_secs = timeout.as_secs(),
                last_lines,
                "scheduled run timed out and was stopped"
            );
        }
        Err(e) => {
            metrics.schedule_run("error");
            tracing::error!(bot_id = bot.id, error = %e, "cannot run the scheduled bot");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Schedule;
    use chrono::TimeZone;

    #[test]
    fn a_remembered_time_wins_else_the_next_tick() {
        let cron = Cron::parse(&Schedule {
            schedule: "0 * * * *".into(),
            timezone: None,
            timeout_secs: None,
        })
        .unwrap();
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 10, 30, 0).unwrap();
        let missed = Utc.with_ymd_and_hms(2026, 1, 1, 9, 0, 0).unwrap();
        assert_eq!(
            next_run(&cron, Some(missed), now),
            Some(missed),
            "one catch-up run"
        );
        assert_eq!(
            next_run(&cron, None, now),
            Some(Utc.with_ymd_and_hms(2026, 1, 1, 11, 0, 0).unwrap())
        );
    }
}
