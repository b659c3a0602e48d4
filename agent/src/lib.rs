//! # the0-agent
//!
//! The statically linked agent inside every the0 bot container. It replaces upstream's
//! `/app/runtime` for `execute` and `daemon`, keeping its environment, paths, buckets and keys:
//!
//! - [`execute`]: download code ([`code`]) and state, run the bot as a proper PID 1
//!   ([`process`], [`runtime`]), sync state and logs ([`sync`]) to the object store ([`store`]),
//!   and stop in the right order within a budget;
//! - [`front`]: the query front on :9476 in front of the bot's query process;
//! - [`daemon`]: the same sync as a standalone sidecar, and a one-shot downloader;
//! - [`dev`]: `run` and `query`, a bot folder on a developer's machine;
//! - [`standby`]: a warm query container waiting for one job from the orchestrator.

pub mod archive;
pub mod cli;
pub mod code;
pub mod config;
pub mod daemon;
pub mod dev;
pub mod environ;
pub mod execute;
pub mod front;
mod health;
pub mod launch;
pub mod logging;
pub mod process;
pub mod runtime;
pub mod standby;
pub mod store;
pub mod sync;
