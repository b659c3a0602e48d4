//! # the0-orchestrator
//!
//! Runs the0 bots. One binary replaces upstream's bot-runner, bot-scheduler, query-server and
//! GC services, and also runs with nothing but Docker on a developer's laptop.
//!
//! - [`spec`]: a bot as the orchestrators want it;
//! - [`desired`]: the desired-state trait and its two sources (a spec directory with an admin
//!   API, or upstream's MongoDB + NATS);
//! - [`reconcile`] and [`backoff`]: the realtime rules as a pure function, and crash-loop backoff;
//! - [`scheduler`]: cron schedules;
//! - [`gateway`]: `POST /query` on :9477, the admin API, `/healthz`, `/readyz`, `/metrics`;
//! - [`docker`]: everything that talks to the Docker Engine (bollard): containers, the realtime
//!   loop, the warm query pool;
//! - [`k8s`]: Kubernetes mode (kube-rs): Pods, CronJobs, query Jobs, leader election;
//! - [`gc`]: orphaned state and logs, stale query results;
//! - [`app`]: the commands, wiring the parts together.
//!
//! Kubernetes mode shares `spec`, `desired`, `scheduler::Cron`, `gateway` and `gc`.

pub mod app;
pub mod backoff;
pub mod cli;
pub mod desired;
pub mod docker;
pub mod gateway;
pub mod gc;
pub mod k8s;
pub mod metrics;
pub mod reconcile;
pub mod scheduler;
pub mod spec;
