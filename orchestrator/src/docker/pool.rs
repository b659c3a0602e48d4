//! One-shot query containers for scheduled bots (and realtime bots that are not running), with
//! a warm pool.
//!
//! A standby container runs `the0-agent standby`: it starts, listens on its query port and
//! waits for exactly one job (bot, code key, query path, params), runs it as an ephemeral query,
//! answers with the envelope, and exits. The pool keeps `size` of them ready, so the container
//! start (0.4-1.2 s here) leaves the critical path; isolation is upstream's, since no container
//! serves two queries. With no warm container ready, a cold one is started for the query. The
//! answer comes back in the HTTP response, so no result object is ever left in the
//! query-results bucket (upstream leaked them on failure, §12.3), and a query that times out has
//! its container removed at once (upstream's kept running, §12.16).

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use futures_util::future::BoxFuture;
use serde_json::{Value, json};
use tokio::sync::{Notify, watch};

use super::{DockerEngine, Role};
use crate::gateway::client::{CallError, HttpClient};
use crate::gateway::envelope::QueryAnswer;
use crate::gateway::{ANSWER_LIMIT, JobAnswer, QueryBackend, QueryJob, timed_out};
use crate::metrics::Metrics;

/// A started query container waiting for its job.
#[derive(Debug, Clone)]
pub struct Standby {
    pub container: String,
    pub addr: SocketAddr,
    token: String,
}

/// The warm pool and the cold path.
pub struct WarmPool {
    engine: DockerEngine,
    size: usize,
    client: HttpClient,
    ready: Mutex<VecDeque<Standby>>,
    starting: AtomicUsize,
    /// Set at shutdown: containers started after it are removed at once.
    closed: AtomicBool,
    refill: Notify,
    metrics: Arc<Metrics>,
    /// How long a new container may take to listen.
    ready_timeout: Duration,
}

impl WarmPool {
    pub fn new(engine: DockerEngine, size: usize, metrics: Arc<Metrics>) -> Arc<WarmPool> {
        Arc::new(WarmPool {
            engine,
            size,
            client: HttpClient::default(),
            ready: Mutex::new(VecDeque::new()),
            starting: AtomicUsize::new(0),
            closed: AtomicBool::new(false),
            refill: Notify::new(),
            metrics,
            ready_timeout: Duration::from_secs(30),
        })
    }

    /// Removes standby containers a previous run of this instance left (their tokens are
    /// lost), then keeps the pool filled until `shutdown`, when its containers are removed.
    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        for container in self
            .engine
            .containers(Some(Role::Standby))
            .await
            .unwrap_or_default()
        {
            self.engine.remove(&container).await;
        }
        loop {
            while self.ready.lock().unwrap().len() + self.starting.load(Ordering::SeqCst) < self.size {
                self.starting.fetch_add(1, Ordering::SeqCst);
                let pool = Arc::clone(&self);
                tokio::spawn(async move {
                    let launched = pool.launch().await;
                    match launched {
                        Ok(standby) if pool.closed.load(Ordering::SeqCst) => {
                            pool.engine.remove(&standby.container).await;
                        }
                        Ok(standby) => {
                            pool.ready.lock().unwrap().push_back(standby);
                            pool.metrics.pool_ready.inc();
                        }
                        Err(e) => {
                            tracing::error!(error = %e, "cannot start a standby query container");
                            // Try again later rather than in a tight loop.
                            if !pool.closed.load(Ordering::SeqCst) {
                                tokio::time::sleep(Duration::from_secs(5)).await;
                            }
                        }
                    }
                    pool.starting.fetch_sub(1, Ordering::SeqCst);
                    pool.refill.notify_one();
                });
            }
            tokio::select! {
                _ = self.refill.notified() => {}
                _ = shutdown.changed() => break,
            }
        }
        // Containers still starting are removed by their own task once it sees the pool closed.
        self.closed.store(true, Ordering::SeqCst);
        let deadline = Instant::now() + self.ready_timeout;
        while self.starting.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let left: Vec<Standby> = self.ready.lock().unwrap().drain(..).collect();
        for standby in left {
            self.engine.remove(&standby.container).await;
        }
    }

    /// Starts a standby container and waits until it listens.
    async fn launch(&self) -> Result<Standby, String> {
        let token = format!("{:032x}", rand::random::<u128>());
        let started = self
            .engine
            .start(Role::Standby, None, Some(&token))
            .await
            .map_err(|e| e.to_string())?;
        let addr = started
            .query_addr
            .ok_or("the standby container has no query address")?;
        let deadline = Instant::now() + self.ready_timeout;
        loop {
            match self
                .client
                .call(Method::GET, addr, "/healthz", None, None, 1024)
                .await
            {
                Ok((status, _)) if status.is_success() => break,
                _ if Instant::now() >= deadline => {
                    let last = self.engine.last_lines(&started.container, 20).await;
                    self.engine.remove(&started.container).await;
                    return Err(format!(
                        "the standby container did not listen within {} s: {last}",
                        self.ready_timeout.as_secs()
                    ));
                }
                _ => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        }
        Ok(Standby {
            container: started.container,
            addr,
            token,
        })
    }

    fn take(&self) -> Option<Standby> {
        let standby = self.ready.lock().unwrap().pop_front();
        if standby.is_some() {
            self.metrics.pool_ready.dec();
        }
        self.refill.notify_one();
        standby
    }

    /// Removes a used container without making the caller wait.
    fn discard(&self, standby: &Standby) {
        let engine = self.engine.clone();
        let container = standby.container.clone();
        tokio::spawn(async move { engine.remove(&container).await });
    }

    async fn run_job(&self, job: QueryJob) -> Result<JobAnswer, QueryAnswer> {
        let started = Instant::now();
        let deadline = started + job.timeout;
        let body = json!({
            "bot_id": job.bot.id,
            "runtime": job.bot.runtime,
            "entrypoint": job.bot.entrypoints.bot,
            "query_entrypoint": job.bot.entrypoints.query,
            "code_file": job.bot.code,
            "bot_config": job.bot.config_json(),
            "query_path": job.path,
            "query_params": job.params,
            "timeout_secs": job.timeout.as_secs(),
        })
        .to_string()
        .into_bytes();
        let mut warm_first = true;
        loop {
            let (standby, warm) = match warm_first.then(|| self.take()).flatten() {
                Some(standby) => (standby, true),
                None => {
                    let launch = tokio::time::timeout_at(deadline.into(), self.launch());
                    match launch.await {
                        Err(_) => return Err(timed_out(job.timeout)),
                        Ok(Err(e)) => return Err(QueryAnswer::error(StatusCode::BAD_GATEWAY, e)),
                        Ok(Ok(standby)) => (standby, false),
                    }
                }
            };
            let call = self.client.call(
                Method::POST,
                standby.addr,
                "/job",
                Some(body.clone()),
                Some(&standby.token),
                ANSWER_LIMIT,
            );
            let answered = tokio::time::timeout_at(deadline.into(), call).await;
            self.discard(&standby);
            return match answered {
                Err(_) => Err(timed_out(job.timeout)),
                Ok(Ok((status, bytes))) if status.is_success() => {
                    let reply: Value = serde_json::from_slice(&bytes).map_err(|e| {
                        QueryAnswer::error(
                            StatusCode::BAD_GATEWAY,
                            format!("the query container answered badly: {e}"),
                        )
                    })?;
                    match reply.get("result") {
                        Some(envelope) => Ok(JobAnswer {
                            envelope: envelope.clone(),
                            warm,
                        }),
                        None => Err(QueryAnswer::error(
                            StatusCode::BAD_GATEWAY,
                            "the query container gave no result",
                        )),
                    }
                }
                Ok(Ok((status, bytes))) => Err(QueryAnswer::error(
                    StatusCode::BAD_GATEWAY,
                    format!(
                        "the query container refused the job (HTTP {status}): {}",
                        String::from_utf8_lossy(&bytes)
                    ),
                )),
                // A warm container that died while waiting: use a fresh one.
                Ok(Err(CallError::Connect { .. })) if warm => {
                    tracing::warn!(
                        container = standby.container,
                        "a standby container was gone; starting a cold one"
                    );
                    warm_first = false;
                    continue;
                }
                Ok(Err(e)) => Err(QueryAnswer::error(StatusCode::BAD_GATEWAY, e.to_string())),
            };
        }
    }
}

/// Docker mode's [`QueryBackend`].
pub struct DockerQueries {
    pub engine: DockerEngine,
    pub pool: Arc<WarmPool>,
}

impl QueryBackend for DockerQueries {
    fn realtime_addr(&self, bot_id: &str) -> BoxFuture<'_, Result<Option<SocketAddr>, String>> {
        let bot_id = bot_id.to_owned();
        Box::pin(async move {
            self.engine
                .realtime_addr(&bot_id)
                .await
                .map_err(|e| e.to_string())
        })
    }

    fn run_job(&self, job: QueryJob) -> BoxFuture<'_, Result<JobAnswer, QueryAnswer>> {
        Box::pin(self.pool.run_job(job))
    }
}
