//! Prometheus metrics (`/metrics`): bots desired and running, starts, crash-loop backoffs,
//! schedule runs and their durations, gateway queries by outcome and their latency.

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

type Labels = Vec<(&'static str, String)>;

fn latency_histogram() -> Histogram {
    // 1 ms .. ~65 s
    Histogram::new(exponential_buckets(0.001, 2.0, 17))
}

/// Every metric of one orchestrator process.
pub struct Metrics {
    registry: Registry,
    pub bots_desired: Gauge,
    pub bots_running: Gauge,
    pub bot_starts: Counter,
    pub crash_backoffs: Counter,
    pub reconcile_seconds: Histogram,
    pub schedule_runs: Family<Labels, Counter>,
    pub schedule_run_seconds: Histogram,
    pub queries: Family<Labels, Counter>,
    pub query_seconds: Family<Labels, Histogram, fn() -> Histogram>,
    pub pool_ready: Gauge,
    /// Requests made to the Kubernetes API (counted in the client).
    pub api_requests: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("the0");
        let metrics = Metrics {
            bots_desired: Gauge::default(),
            bots_running: Gauge::default(),
            bot_starts: Counter::default(),
            crash_backoffs: Counter::default(),
            reconcile_seconds: latency_histogram(),
            schedule_runs: Family::default(),
            schedule_run_seconds: latency_histogram(),
            queries: Family::default(),
            query_seconds: Family::new_with_constructor(latency_histogram as fn() -> Histogram),
            pool_ready: Gauge::default(),
            api_requests: Counter::default(),
            registry: Registry::default(),
        };
        registry.register(
            "bots_desired",
            "Enabled realtime bots wanted",
            metrics.bots_desired.clone(),
        );
        registry.register(
            "bots_running",
            "Realtime bot containers running",
            metrics.bots_running.clone(),
        );
        registry.register(
            "bot_starts",
            "Realtime bot containers started",
            metrics.bot_starts.clone(),
        );
        registry.register(
            "crash_backoffs",
            "Bot container exits that put the bot in crash-loop backoff",
            metrics.crash_backoffs.clone(),
        );
        registry.register(
            "reconcile_seconds",
            "Duration of one reconcile pass",
            metrics.reconcile_seconds.clone(),
        );
        registry.register(
            "schedule_runs",
            "Scheduled runs by outcome (ok, failed, timeout, error, skipped)",
            metrics.schedule_runs.clone(),
        );
        registry.register(
            "schedule_run_seconds",
            "Duration of scheduled runs",
            metrics.schedule_run_seconds.clone(),
        );
        registry.register(
            "gateway_queries",
            "Gateway queries by kind (realtime, scheduled) and outcome",
            metrics.queries.clone(),
        );
        registry.register(
            "gateway_query_seconds",
            "Gateway query latency by kind and path (warm, cold, realtime)",
            metrics.query_seconds.clone(),
        );
        registry.register(
            "pool_ready",
            "Standby query containers ready in the warm pool",
            metrics.pool_ready.clone(),
        );
        registry.register(
            "k8s_api_requests",
            "Requests made to the Kubernetes API",
            metrics.api_requests.clone(),
        );
        Metrics { registry, ..metrics }
    }
}

impl Metrics {
    /// The OpenMetrics text of every metric.
    pub fn render(&self) -> String {
        let mut text = String::new();
        encode(&mut text, &self.registry).expect("writing to a String cannot fail");
        text
    }

    pub fn schedule_run(&self, outcome: &str) {
        self.schedule_runs
            .get_or_create(&vec![("outcome", outcome.to_owned())])
            .inc();
    }

    pub fn query(&self, kind: &str, path: &str, outcome: &str, seconds: f64) {
        self.queries
            .get_or_create(&vec![("kind", kind.to_owned()), ("outcome", outcome.to_owned())])
            .inc();
        self.query_seconds
            .get_or_create(&vec![("kind", kind.to_owned()), ("path", path.to_owned())])
            .observe(seconds);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_family() {
        let metrics = Metrics::default();
        metrics.bot_starts.inc();
        metrics.query("scheduled", "warm", "ok", 0.05);
        metrics.schedule_run("timeout");
        let text = metrics.render();
        for needle in [
            "the0_bot_starts_total 1",
            "the0_gateway_queries_total{kind=\"scheduled\",outcome=\"ok\"} 1",
            "the0_schedule_runs_total{outcome=\"timeout\"} 1",
            "the0_gateway_query_seconds_count{kind=\"scheduled\",path=\"warm\"} 1",
            "the0_bots_desired 0",
        ] {
            assert!(text.contains(needle), "{needle} missing in\n{text}");
        }
    }
}
