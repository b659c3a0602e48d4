//! Desired state: which bots should exist, behind one trait with two sources.
//!
//! - [`SpecDir`]: a directory of bot spec files (YAML or JSON, one per bot), watched for changes;
//!   the gateway's admin API writes the same files. The embedded default.
//! - [`MongoSource`]: upstream's MongoDB collections (`bot_runner.bots`,
//!   `bot_scheduler.bot_schedules`), kept up to date from upstream's NATS subjects, where an event
//!   also triggers an immediate reconcile (upstream only polled).
//!
//! Both Docker and Kubernetes mode read desired state only through [`DesiredState`].

mod mongo;
mod spec_dir;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use tokio::sync::watch;

pub use mongo::{MongoSettings, MongoSource};
pub use spec_dir::SpecDir;

use crate::spec::{BotSpec, SpecError};

/// A source could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("{path}: {error}")]
    Io { path: String, error: std::io::Error },
    #[error("MongoDB: {0}")]
    Mongo(String),
    #[error("{0}")]
    Refused(String),
}

/// Everything a source holds at one moment.
#[derive(Debug, Default, Clone)]
pub struct Snapshot {
    /// Valid bots, enabled or not.
    pub bots: Vec<BotSpec>,
    /// Entries that could not be read, each naming the bot or file and what is wrong; they are
    /// logged and skipped, never half-applied.
    pub rejected: Vec<SpecError>,
    /// Next run times the source remembers across orchestrator restarts (upstream's
    /// `next_execution_time`).
    pub next_runs: HashMap<String, DateTime<Utc>>,
}

impl Snapshot {
    pub fn find(&self, id: &str) -> Option<&BotSpec> {
        self.bots.iter().find(|bot| bot.id == id)
    }
}

/// The desired-state source of an orchestrator.
pub trait DesiredState: Send + Sync + 'static {
    /// Reads the current desired state.
    fn snapshot(&self) -> BoxFuture<'_, Result<Snapshot, SourceError>>;

    /// A counter that moves whenever the desired state may have changed (a file changed, a
    /// NATS event arrived, the admin API wrote a spec): reconcile without waiting for the tick.
    fn changes(&self) -> watch::Receiver<u64>;

    /// Remembers when a schedule runs next, for sources that persist it.
    fn record_next_run(&self, _bot_id: &str, _at: DateTime<Utc>) -> BoxFuture<'_, Result<(), SourceError>> {
        Box::pin(async { Ok(()) })
    }

    /// Writes or replaces a bot (the admin API); `Refused` for read-only sources.
    fn put(&self, spec: BotSpec) -> BoxFuture<'_, Result<(), SourceError>>;

    /// Removes a bot (the admin API); `Ok(false)` when there was none.
    fn delete(&self, id: &str) -> BoxFuture<'_, Result<bool, SourceError>>;

    /// For log lines: `spec-dir /etc/the0/bots`, `mongodb + nats`.
    fn describe(&self) -> String;
}

/// A counter to bump on change, and receivers for it.
#[derive(Debug, Clone)]
pub struct ChangeSignal(watch::Sender<u64>);

impl Default for ChangeSignal {
    fn default() -> Self {
        ChangeSignal(watch::channel(0).0)
    }
}

impl ChangeSignal {
    pub fn bump(&self) {
        self.0.send_modify(|n| *n += 1);
    }

    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.0.subscribe()
    }
}
