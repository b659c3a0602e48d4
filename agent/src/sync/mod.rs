//! Keeping the object store up to date with the state directory and the bot's log.
//!
//! A recursive file watch (changes only, never reads: see [`changes`]) triggers a sync after a
//! trailing debounce (quiet for 200 ms, or at most 1 s after the first change, so a bot writing
//! continuously is still synced every second); a periodic tick (`--interval`, default 60 s)
//! catches anything the watch missed. A failed sync is retried with exponential backoff. On stop,
//! one final sync runs within a deadline.

pub mod changes;
pub mod live;
mod logs;
mod state;
pub mod tree;

pub use logs::{LogSync, format_chunk, format_line};
pub use state::{Restored, StateOutcome, StateSync, state_limits};

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
    /// Quiet time after the last change before syncing.
    pub debounce: Duration,
    /// Longest wait after the first change.
    pub max_delay: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            interval: Duration::from_secs(60),
            debounce: Duration::from_millis(200),
            max_delay: Duration::from_secs(1),
        }
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
                StateOutcome::Uploaded { bytes, entries } => tracing::info!(bytes, entries, "state uploaded"),
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
    /// until `stop` turns true. Does not do the final sync (see [`Syncer::final_sync`]).
    pub async fn run(&mut self, watched: &[PathBuf], timing: Timing, mut stop: watch::Receiver<bool>) {
        let (on_change, mut changed) = mpsc::unbounded_channel();
        let _watch = changes::watch_changes(watched, on_change);
        // The first pass runs at once: a restarted sidecar catches up with what changed while it
        // was down.
        let mut tick = Instant::now();
        let mut first_change: Option<Instant> = None;
        let mut last_change = Instant::now();
        let mut retry: Option<(Instant, Duration)> = None;
        loop {
            let due = [
                Some(tick),
                first_change.map(|first| (last_change + timing.debounce).min(first + timing.max_delay)),
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
            match self.sync_once(false).await {
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

    /// The last sync before exit, abandoned at `deadline`.
    pub async fn final_sync(&mut self, deadline: Instant) -> Result<(), SyncError> {
        match timeout_at(deadline, self.sync_once(true)).await {
            Ok(outcome) => outcome,
            Err(_) => Err(SyncError::io(
                "final sync",
                std::io::Error::new(std::io::ErrorKind::TimedOut, "the stop budget ran out"),
            )),
        }
    }
}
