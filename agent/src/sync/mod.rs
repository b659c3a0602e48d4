//! Keeping the object store up to date with the state directory and the bot's log.
//!
//! A recursive file watch (changes only, never reads: see [`changes`]) triggers a sync. An
//! isolated change is synced as soon as the tree has been quiet for a moment (`settle`, 10 ms: the
//! few events of one write); a change that follows a sync within `debounce` (200 ms) is part of a
//! burst, and waits for 200 ms of quiet, at most 1 s after its first change, so a bot writing
//! continuously is synced about once a second. A periodic tick (`--interval`, default 60 s)
//! catches anything the watch missed. A failed sync is retried with exponential backoff. Stopping
//! abandons a sync in progress; one final sync then runs within the stop budget, and what it
//! could not upload is logged.

pub mod changes;
pub mod generation;
pub mod live;
mod logs;
mod restore;
mod state;
pub mod tree;
pub mod upload;

pub use logs::{LogSync, format_chunk, format_line};
pub use state::{Restored, StateOutcome, StateSync, holds_state, state_limits};

use std::path::PathBuf;
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::time::{Instant, sleep_until, timeout_at};

use crate::archive::ArchiveError;
use crate::store::{ObjectStore, StoreError};

/// Why a sync failed.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

impl SyncError {
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        SyncError::Io {
            context: context.into(),
            source,
        }
    }
}

/// Timing of the sync loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// Safety tick.
    pub interval: Duration,
    /// Quiet time after an isolated change before syncing.
    pub settle: Duration,
    /// A change within this time after a sync belongs to a burst; a burst is synced after this
    /// much quiet.
    pub debounce: Duration,
    /// Longest wait after the first change.
    pub max_delay: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            interval: Duration::from_secs(60),
            settle: Duration::from_millis(10),
            debounce: Duration::from_millis(200),
            max_delay: Duration::from_secs(1),
        }
    }
}

impl Timing {
    /// When to sync changes that started at `first` and last came at `last`, the previous sync
    /// having ended at `synced`.
    fn due(&self, first: Instant, last: Instant, synced: Option<Instant>) -> Instant {
        let in_burst = synced.is_some_and(|synced| first.saturating_duration_since(synced) < self.debounce);
        let quiet = if in_burst { self.debounce } else { self.settle };
        (last + quiet).min(first + self.max_delay)
    }
}

/// The state and log syncers of one bot.
pub struct Syncer<S> {
    pub state: Option<StateSync<S>>,
    pub logs: Option<LogSync<S>>,
}

impl<S: ObjectStore> Syncer<S> {
    /// One pass: state, then logs. `final_pass` also uploads a trailing partial log line.
    pub async fn sync_once(&mut self, final_pass: bool) -> Result<(), SyncError> {
        if let Some(state) = &mut self.state {
            match state.sync().await? {
                StateOutcome::Unchanged | StateOutcome::AwaitingRestore => {}
                StateOutcome::Uploaded {
                    bytes,
                    entries,
                    generation,
                    sent,
                } => tracing::info!(bytes, entries, generation, sent, "state uploaded"),
                StateOutcome::OverLimit(message) => tracing::error!("{message}"),
            }
        }
        if let Some(logs) = &mut self.logs {
            let bytes = logs.sync(final_pass).await?;
            if bytes > 0 {
                tracing::debug!(bytes, "logs uploaded");
            }
        }
        Ok(())
    }

    /// Syncs at start, on changes under `watched`, on every tick, and with backoff after failures,
    /// until `stop` turns true; a pass in progress then is abandoned. Does not do the final sync
    /// (see [`Syncer::final_sync`]).
    pub async fn run(&mut self, watched: &[PathBuf], timing: Timing, mut stop: watch::Receiver<bool>) {
        let (on_change, mut changed) = mpsc::unbounded_channel();
        let _watch = changes::watch_changes(watched, on_change);
        // The first pass runs at once: a restarted sidecar catches up with what changed while it
        // was down.
        let mut tick = Instant::now();
        let mut first_change: Option<Instant> = None;
        let mut last_change = Instant::now();
        let mut synced: Option<Instant> = None;
        let mut retry: Option<(Instant, Duration)> = None;
        loop {
            let due = [
                Some(tick),
                first_change.map(|first| timing.due(first, last_change, synced)),
                retry.map(|(at, _)| at),
            ]
            .into_iter()
            .flatten()
            .min()
            .expect("the tick is always due");
            tokio::select! {
                _ = stop.wait_for(|stopped| *stopped) => return,
                Some(()) = changed.recv() => {
                    last_change = Instant::now();
                    first_change.get_or_insert(last_change);
                    continue;
                }
                () = sleep_until(due) => {}
            }
            first_change = None;
            tick = Instant::now() + timing.interval;
            let outcome = tokio::select! {
                biased;
                _ = stop.wait_for(|stopped| *stopped) => {
                    tracing::info!("stopping: the sync in progress is abandoned for the final sync");
                    return;
                }
                outcome = self.sync_once(false) => outcome,
            };
            synced = Some(Instant::now());
            match outcome {
                Ok(()) => retry = None,
                Err(e) => {
                    let wait = retry.map_or(Duration::from_secs(1), |(_, last)| {
                        (last * 2).min(Duration::from_secs(30))
                    });
                    tracing::warn!(error = %e, retry_in_ms = wait.as_millis() as u64, "sync failed");
                    retry = Some((Instant::now() + wait, wait));
                }
            }
        }
    }

    /// The last sync before exit, abandoned at `deadline`: every store call it makes runs inside
    /// the budget. What could not be uploaded is logged.
    pub async fn final_sync(&mut self, deadline: Instant) -> Result<(), SyncError> {
        // A moment is kept to say what was left behind.
        let margin = Duration::from_millis(300).min(deadline.saturating_duration_since(Instant::now()) / 4);
        let outcome = match timeout_at(deadline - margin, self.sync_once(true)).await {
            Ok(outcome) => outcome,
            Err(_) => Err(SyncError::io(
                "final sync",
                std::io::Error::new(std::io::ErrorKind::TimedOut, "the stop budget ran out"),
            )),
        };
        if outcome.is_err()
            && let Ok(left) = timeout_at(deadline, self.not_uploaded()).await
        {
            tracing::error!(not_uploaded = %left, "the final sync did not finish; not uploaded");
        }
        outcome
    }

    /// What is not in the store yet.
    async fn not_uploaded(&mut self) -> String {
        let mut left = Vec::new();
        if let Some(state) = &mut self.state
            && let Some(pending) = state.pending().await
        {
            left.push(pending);
        }
        if let Some(logs) = &self.logs {
            let bytes = logs.pending_bytes();
            if bytes > 0 {
                left.push(format!("{bytes} bytes of bot.log"));
            }
        }
        if left.is_empty() {
            "nothing (the store may hold the last upload)".to_owned()
        } else {
            left.join("; ")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_isolated_change_is_synced_at_once_and_a_burst_waits_for_quiet() {
        let timing = Timing::default();
        let now = Instant::now();
        // Nothing synced yet, or long ago: the change goes as soon as the tree is quiet.
        assert_eq!(timing.due(now, now, None), now + timing.settle);
        let long_ago = now - Duration::from_secs(5);
        assert_eq!(timing.due(now, now, Some(long_ago)), now + timing.settle);
        // A change 50 ms after a sync is part of a burst: it waits for 200 ms of quiet...
        let first = now + Duration::from_millis(50);
        assert_eq!(timing.due(first, first, Some(now)), first + timing.debounce);
        // ...and a bot writing without pause is still synced within a second.
        let last = first + Duration::from_millis(900);
        assert_eq!(timing.due(first, last, Some(now)), first + timing.max_delay);
    }
}
