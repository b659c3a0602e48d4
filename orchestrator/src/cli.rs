//! The command line: `docker | gateway | gc | version`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use the0_agent::cli::parse_duration;

/// Runs the0 bots in Docker: realtime containers, cron schedules, the query gateway and GC.
#[derive(Debug, Parser)]
#[command(name = "the0-orchestrator", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run realtime bots, schedules and the query gateway on the local Docker engine.
    Docker {
        #[command(flatten)]
        source: SourceArgs,
        #[command(flatten)]
        engine: EngineArgs,
        #[command(flatten)]
        gateway: GatewayArgs,
        #[command(flatten)]
        runner: RunnerArgs,
    },
    /// Run only the query gateway (and its warm pool) against the bots another orchestrator runs.
    Gateway {
        #[command(flatten)]
        source: SourceArgs,
        #[command(flatten)]
        engine: EngineArgs,
        #[command(flatten)]
        gateway: GatewayArgs,
    },
    /// Run realtime bots as Pods, scheduled bots as CronJobs and the query gateway (queries
    /// as Jobs) in a Kubernetes cluster.
    K8s {
        #[command(flatten)]
        source: SourceArgs,
        #[command(flatten)]
        gateway: GatewayArgs,
        #[command(flatten)]
        kube: KubeArgs,
    },
    /// Delete the stored state and logs of bots that no longer exist, stale log chunks and
    /// query results.
    Gc {
        #[command(flatten)]
        source: SourceArgs,
        #[command(flatten)]
        gc: GcArgs,
    },
    /// Print the version.
    Version,
}

/// Where desired state comes from.
#[derive(Debug, Clone, Args)]
pub struct SourceArgs {
    /// Directory of bot spec files (one YAML or JSON file per bot). Used unless --mongo-uri
    /// is given.
    #[arg(long, env = "THE0_SPECS_DIR", default_value = "/etc/the0/bots")]
    pub specs: PathBuf,
    /// Read upstream's MongoDB collections instead (drop-in for upstream's services).
    #[arg(long, env = "MONGO_URI")]
    pub mongo_uri: Option<String>,
    /// NATS server whose `the0.bot.*` and `the0.bot-schedule.*` events update MongoDB and
    /// trigger an immediate reconcile; also handed to bots for live logs.
    #[arg(long, env = "NATS_URL")]
    pub nats_url: Option<String>,
}

/// The containers.
#[derive(Debug, Clone, Args)]
pub struct EngineArgs {
    /// Name of this orchestrator: it manages only containers labelled with it.
    #[arg(long, env = "THE0_INSTANCE", default_value = "default")]
    pub instance: String,
    /// Image of every bot container.
    #[arg(long, env = "RUNTIME_IMAGE", default_value = concat!("the0-runtime:", env!("CARGO_PKG_VERSION")))]
    pub image: String,
    /// Docker network: `host` (query ports bound on 127.0.0.1 with ports the orchestrator
    /// picks) or a network name (query port published on --publish-ip).
    #[arg(long, env = "DOCKER_NETWORK", default_value = "bridge")]
    pub network: String,
    /// Host address the query port is published on (non-host networks).
    #[arg(long, default_value = "127.0.0.1")]
    pub publish_ip: String,
    /// Memory limit of a bot container (MiB) unless its spec sets one.
    #[arg(long, env = "BOT_MEMORY_LIMIT_MB", default_value_t = 512)]
    pub memory_mb: u64,
    /// CPU shares of a bot container unless its spec sets them.
    #[arg(long, env = "BOT_CPU_SHARES", default_value_t = 512)]
    pub cpu_shares: i64,
    /// Most processes a bot container may run.
    #[arg(long, default_value_t = 1024)]
    pub pids_limit: i64,
    /// How long a container has after SIGTERM before it is killed.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    pub stop_grace: Duration,
    /// A setting for the agent in every container, as KEY=VALUE (THE0_* variables; repeat).
    #[arg(long = "agent-env", value_name = "KEY=VALUE", value_parser = parse_agent_env)]
    pub agent_env: Vec<(String, String)>,
}

/// The query gateway.
#[derive(Debug, Clone, Args)]
pub struct GatewayArgs {
    /// Address of the gateway (`POST /query`, admin API, /healthz, /readyz, /metrics).
    #[arg(long, env = "THE0_GATEWAY_ADDR", default_value = "0.0.0.0:9477")]
    pub listen: SocketAddr,
    /// Bearer token `POST /query` requires (none: open, as upstream).
    #[arg(long, env = "THE0_GATEWAY_TOKEN")]
    pub token: Option<String>,
    /// Bearer token of the admin API (none: the admin API is off).
    #[arg(long, env = "THE0_ADMIN_TOKEN")]
    pub admin_token: Option<String>,
    /// Standby query containers kept ready (0: every scheduled query starts a container).
    #[arg(long, default_value_t = 2)]
    pub warm_pool: usize,
    /// Cap on a query's `timeout_sec`.
    #[arg(long, default_value = "300s", value_parser = parse_duration)]
    pub max_query_timeout: Duration,
}

/// The realtime loop and the scheduler.
#[derive(Debug, Clone, Args)]
pub struct RunnerArgs {
    /// Longest time between reconcile passes (changes are acted on at once).
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    pub reconcile_interval: Duration,
    /// Delay before restarting a bot after its first exit (doubling per exit).
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    pub crash_backoff_base: Duration,
    /// Longest delay before restarting a crash-looping bot.
    #[arg(long, default_value = "5m", value_parser = parse_duration)]
    pub crash_backoff_max: Duration,
    /// A container running this long clears its bot's crash record.
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    pub crash_stable_after: Duration,
    /// Default time limit of a scheduled run.
    #[arg(long, default_value = "1h", value_parser = parse_duration)]
    pub run_timeout: Duration,
    /// Containers started or stopped at once.
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// Leave the bots running at shutdown (the next orchestrator adopts them).
    #[arg(long)]
    pub leave_bots_running: bool,
}

/// Kubernetes mode (the cluster comes from KUBECONFIG, or the in-cluster ServiceAccount).
#[derive(Debug, Clone, Args)]
pub struct KubeArgs {
    /// Namespace of the bots' Pods, CronJobs and query Jobs (and of the Lease).
    #[arg(long, env = "NAMESPACE", default_value = "the0")]
    pub namespace: String,
    /// Name of this controller: it manages only objects labelled with it.
    #[arg(long, env = "THE0_INSTANCE", default_value = "default")]
    pub instance: String,
    /// Image of every bot Pod.
    #[arg(long, env = "RUNTIME_IMAGE", default_value = concat!("the0-runtime:", env!("CARGO_PKG_VERSION")))]
    pub image: String,
    /// Image pull policy of bot Pods.
    #[arg(long, env = "RUNTIME_IMAGE_PULL_POLICY", default_value = "IfNotPresent")]
    pub pull_policy: String,
    /// Secret with MINIO_ENDPOINT, MINIO_ACCESS_KEY, MINIO_SECRET_KEY (and optionally
    /// MINIO_USE_SSL): bot Pods read them through secretKeyRef, never as plain values.
    #[arg(long, env = "THE0_STORE_SECRET", default_value = "the0-object-store")]
    pub store_secret: String,
    /// Create or update that Secret from this process's MINIO_* variables (needs the right to
    /// write Secrets; by default the controller only names it).
    #[arg(long)]
    pub create_secret: bool,
    /// Largest memory limit a bot's config may ask for (MiB).
    #[arg(long, default_value_t = 2048)]
    pub max_memory_mb: u64,
    /// Largest CPU limit a bot's config may ask for (millicores).
    #[arg(long, default_value_t = 2000)]
    pub max_cpu_millis: u64,
    /// Default deadline of one scheduled run (the Job's activeDeadlineSeconds).
    #[arg(long, default_value = "1h", value_parser = parse_duration)]
    pub run_timeout: Duration,
    /// Grace period of bot Pods after SIGTERM.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    pub stop_grace: Duration,
    /// API calls at once.
    #[arg(long, default_value_t = 16)]
    pub concurrency: usize,
    /// Full reconcile at least this often (changes are acted on at once, through watches).
    #[arg(long, default_value = "5m", value_parser = parse_duration)]
    pub resync: Duration,
    /// Elect a leader through a Lease: only the leader reconciles (run two replicas).
    #[arg(long)]
    pub leader_elect: bool,
    /// Name of that Lease.
    #[arg(long, default_value = "the0-orchestrator")]
    pub lease_name: String,
    /// How long a Lease holds without renewal.
    #[arg(long, default_value = "15s", value_parser = parse_duration)]
    pub lease_duration: Duration,
    /// This replica's name in the Lease (default: POD_NAME, else host name and pid).
    #[arg(long, env = "POD_NAME")]
    pub identity: Option<String>,
    /// A setting for the agent in every Pod, as KEY=VALUE (THE0_* variables; repeat).
    #[arg(long = "agent-env", value_name = "KEY=VALUE", value_parser = parse_agent_env)]
    pub agent_env: Vec<(String, String)>,
}

/// Garbage collection.
#[derive(Debug, Clone, Args)]
pub struct GcArgs {
    /// Only report what would be deleted.
    #[arg(long)]
    pub dry_run: bool,
    /// Refuse to delete the data of more than this share of the bots found in the store
    /// (a wrong or empty database must not wipe everything).
    #[arg(long, default_value_t = 0.5)]
    pub max_share: f64,
    /// Delete even past --max-share.
    #[arg(long)]
    pub force: bool,
    /// Query results and log chunks older than this are stale.
    #[arg(long, default_value = "1h", value_parser = parse_duration)]
    pub stale_after: Duration,
    /// Sweep every interval instead of once (0: once).
    #[arg(long, default_value = "0s", value_parser = parse_duration)]
    pub interval: Duration,
    /// With --interval: address of /healthz, /readyz and /metrics.
    #[arg(long, default_value = "127.0.0.1:8084")]
    pub health_addr: SocketAddr,
}

fn parse_agent_env(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if key.starts_with("THE0_") => Ok((key.to_owned(), value.to_owned())),
        _ => Err(format!("--agent-env takes THE0_KEY=VALUE, got {text:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_lines_parse() {
        for line in [
            "the0-orchestrator docker --specs /tmp/bots --network host --instance t1 --warm-pool 0",
            "the0-orchestrator docker --mongo-uri mongodb://127.0.0.1:1 --nats-url nats://127.0.0.1:2 --agent-env THE0_SYNC_INTERVAL_SECS=1",
            "the0-orchestrator gateway --listen 127.0.0.1:0 --token t",
            "the0-orchestrator gc --dry-run --max-share 0.2",
            "the0-orchestrator version",
            "the0-orchestrator k8s --specs /tmp/bots --namespace t --leader-elect --lease-duration 3s --max-memory-mb 512",
        ] {
            let parsed = Cli::try_parse_from(line.split(' '));
            assert!(parsed.is_ok(), "{line}: {parsed:?}");
        }
        let bad = Cli::try_parse_from(["the0-orchestrator", "docker", "--agent-env", "PATH=/x"]);
        assert!(bad.unwrap_err().to_string().contains("THE0_KEY=VALUE"));
    }
}
