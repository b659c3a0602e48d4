//! The query gateway on :9477: upstream's `POST /query` (contract §6b-§6c) in front of realtime
//! bots (proxied to their query front on a loopback address) and scheduled bots (answered by a
//! one-shot query container, warm from a pool when one is ready); plus the admin API that writes
//! bot specs, and the operational endpoints.
//!
//! Differences from upstream (§12): bot-side statuses pass through (404, 504, ...); params reach
//! the bot as a JSON body, which our SDKs read (§12.1); request bodies and answers are bounded;
//! `timeout_sec` is capped; a query that times out has its container removed (§12.16); an
//! optional bearer token guards `/query` (§12.20); bots are resolved from a cache refreshed on
//! change, not by a collection scan per request (§12.17); resolution is safe under concurrency
//! (§12.6).

pub mod admin;
pub mod client;
pub mod envelope;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use futures_util::future::BoxFuture;
use serde_json::{Map, Value};
use tokio::sync::watch;

use client::{CallError, HttpClient};
use envelope::{QueryAnswer, QueryRequest};

use crate::desired::{DesiredState, Snapshot};
use crate::metrics::Metrics;
use crate::spec::BotSpec;

/// Largest `POST /query` body.
pub const REQUEST_LIMIT: usize = 1024 * 1024;
/// Largest answer read from a bot.
pub const ANSWER_LIMIT: usize = 16 * 1024 * 1024;

/// One query for a one-shot query container.
#[derive(Debug, Clone)]
pub struct QueryJob {
    pub bot: BotSpec,
    pub path: String,
    pub params: Map<String, Value>,
    pub timeout: Duration,
}

/// A one-shot query's envelope, and whether a warm container answered it.
#[derive(Debug, Clone)]
pub struct JobAnswer {
    pub envelope: Value,
    pub warm: bool,
}

/// What the gateway needs from an engine (Docker here; Kubernetes later).
pub trait QueryBackend: Send + Sync + 'static {
    /// Where the running realtime container of `bot_id` answers, if one runs.
    fn realtime_addr(&self, bot_id: &str) -> BoxFuture<'_, Result<Option<SocketAddr>, String>>;

    /// Runs `job` in a one-shot query container within `job.timeout`; the error is the answer
    /// to give (504 on timeout, 502 when the container failed).
    fn run_job(&self, job: QueryJob) -> BoxFuture<'_, Result<JobAnswer, QueryAnswer>>;
}

/// Gateway settings.
#[derive(Debug, Clone, Default)]
pub struct GatewaySettings {
    /// Bearer token `POST /query` requires, if any.
    pub token: Option<String>,
    /// Bearer token of the admin API; without one the admin API is off.
    pub admin_token: Option<String>,
    /// Cap on `timeout_sec`.
    pub max_timeout: Duration,
}

/// The bots as last read, refreshed when the source signals a change or after `BOTS_TTL`.
struct BotCache {
    snapshot: Arc<Snapshot>,
    read_at: Instant,
    changes: watch::Receiver<u64>,
}

/// How long a read of the desired state serves queries when no change is signalled (a source
/// without change events, like MongoDB without NATS).
const BOTS_TTL: Duration = Duration::from_secs(2);

/// Shared by every request.
pub struct Gateway {
    pub source: Arc<dyn DesiredState>,
    pub backend: Arc<dyn QueryBackend>,
    pub metrics: Arc<Metrics>,
    pub settings: GatewaySettings,
    /// `/readyz`.
    pub ready: Arc<AtomicBool>,
    client: HttpClient,
    bots: tokio::sync::Mutex<Option<BotCache>>,
    addresses: Mutex<HashMap<String, SocketAddr>>,
}

impl Gateway {
    pub fn new(
        source: Arc<dyn DesiredState>,
        backend: Arc<dyn QueryBackend>,
        metrics: Arc<Metrics>,
        settings: GatewaySettings,
        ready: Arc<AtomicBool>,
    ) -> Arc<Gateway> {
        Arc::new(Gateway {
            source,
            backend,
            metrics,
            settings,
            ready,
            client: HttpClient::default(),
            bots: tokio::sync::Mutex::new(None),
            addresses: Mutex::new(HashMap::new()),
        })
    }

    /// The router: `/query`, `/health`, the admin API, and the operational endpoints.
    pub fn router(self: &Arc<Self>) -> Router {
        Router::new()
            .route("/query", any(query))
            .route(
                "/health",
                any(|| async { axum::Json(serde_json::json!({"status": "ok"})) }),
            )
            .merge(admin::router())
            .with_state(Arc::clone(self))
            .merge(ops_router(Arc::clone(&self.metrics), Arc::clone(&self.ready)))
            .layer(DefaultBodyLimit::max(REQUEST_LIMIT))
    }

    async fn find_bot(&self, id: &str) -> Result<Option<BotSpec>, String> {
        let mut cache = self.bots.lock().await;
        let stale = match cache.as_mut() {
            None => true,
            Some(c) => c.changes.has_changed().unwrap_or(true) || c.read_at.elapsed() > BOTS_TTL,
        };
        if stale {
            let mut changes = self.source.changes();
            changes.mark_unchanged();
            let snapshot = self.source.snapshot().await.map_err(|e| e.to_string())?;
            *cache = Some(BotCache {
                snapshot: Arc::new(snapshot),
                read_at: Instant::now(),
                changes,
            });
        }
        Ok(cache.as_ref().and_then(|c| c.snapshot.find(id).cloned()))
    }

    async fn answer(&self, request: QueryRequest) -> (QueryAnswer, &'static str) {
        let bot = match self.find_bot(&request.bot_id).await {
            Err(e) => {
                return (
                    QueryAnswer::error(StatusCode::SERVICE_UNAVAILABLE, e),
                    "unresolved",
                );
            }
            Ok(None) => {
                let message = format!("bot not found: {}", request.bot_id);
                return (QueryAnswer::error(StatusCode::NOT_FOUND, message), "unresolved");
            }
            Ok(Some(bot)) => bot,
        };
        if bot.entrypoints.query.is_none() {
            let message = format!("bot {} has no query entrypoint", bot.id);
            return (QueryAnswer::error(StatusCode::NOT_FOUND, message), "unresolved");
        }
        let timeout = request.timeout(self.settings.max_timeout);
        let params = request.params.unwrap_or_default();
        if bot.is_realtime()
            && bot.enabled
            && let Some(answer) = self
                .realtime(&bot.id, &request.query_path, &params, timeout)
                .await
        {
            return (answer, "realtime");
        }
        let job = QueryJob {
            bot,
            path: request.query_path,
            params,
            timeout,
        };
        match self.backend.run_job(job).await {
            Ok(answer) => (
                QueryAnswer::from_envelope(&answer.envelope, None),
                if answer.warm { "warm" } else { "cold" },
            ),
            Err(answer) => (answer, "failed"),
        }
    }

    /// Proxies to the bot's running container; `None` when none runs (the caller falls back to
    /// a one-shot container, as upstream does).
    async fn realtime(
        &self,
        bot_id: &str,
        path: &str,
        params: &Map<String, Value>,
        timeout: Duration,
    ) -> Option<QueryAnswer> {
        let body = (!params.is_empty()).then(|| Value::Object(params.clone()).to_string().into_bytes());
        for attempt in 0..2 {
            let cached = self.addresses.lock().unwrap().get(bot_id).copied();
            let addr = match cached {
                Some(addr) if attempt == 0 => addr,
                _ => match self.backend.realtime_addr(bot_id).await {
                    Ok(Some(addr)) => {
                        self.addresses.lock().unwrap().insert(bot_id.to_owned(), addr);
                        addr
                    }
                    Ok(None) => return None,
                    Err(e) => return Some(QueryAnswer::error(StatusCode::SERVICE_UNAVAILABLE, e)),
                },
            };
            let call = self
                .client
                .call(Method::POST, addr, path, body.clone(), None, ANSWER_LIMIT);
            match tokio::time::timeout(timeout, call).await {
                Err(_) => return Some(timed_out(timeout)),
                Ok(Ok((status, bytes))) => {
                    return Some(match serde_json::from_slice::<Value>(&bytes) {
                        Ok(envelope) => QueryAnswer::from_envelope(&envelope, Some(status)),
                        Err(_) => QueryAnswer::error(
                            StatusCode::BAD_GATEWAY,
                            format!("the bot answered HTTP {status} without a JSON envelope"),
                        ),
                    });
                }
                Ok(Err(CallError::Connect { .. })) => {
                    // The container moved or is gone: look it up again once.
                    self.addresses.lock().unwrap().remove(bot_id);
                }
                Ok(Err(e)) => return Some(QueryAnswer::error(StatusCode::BAD_GATEWAY, e.to_string())),
            }
        }
        None
    }
}

/// The answer for a query past its limit.
pub fn timed_out(limit: Duration) -> QueryAnswer {
    QueryAnswer::error(
        StatusCode::GATEWAY_TIMEOUT,
        format!("the query did not finish within {} s", limit.as_secs()),
    )
}

/// Whether `headers` carry `Bearer <token>`.
pub fn authorized(headers: &HeaderMap, token: &str) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|given| constant_time_eq(given.as_bytes(), token.as_bytes()))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn json_response(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

async fn query(
    State(gateway): State<Arc<Gateway>>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let started = Instant::now();
    if method != Method::POST {
        let answer = QueryAnswer::error(StatusCode::METHOD_NOT_ALLOWED, "use POST");
        return json_response(answer.status, answer.body(Duration::ZERO));
    }
    if let Some(token) = &gateway.settings.token
        && !authorized(&headers, token)
    {
        let answer = QueryAnswer::error(StatusCode::UNAUTHORIZED, "a valid bearer token is required");
        return json_response(answer.status, answer.body(Duration::ZERO));
    }
    let request = match QueryRequest::parse(&body) {
        Ok(request) => request,
        Err(e) => {
            let answer = QueryAnswer::error(StatusCode::BAD_REQUEST, e);
            return json_response(answer.status, answer.body(Duration::ZERO));
        }
    };
    let (answer, path) = gateway.answer(request).await;
    let elapsed = started.elapsed();
    let kind = match path {
        "realtime" => "realtime",
        "unresolved" => "unresolved",
        _ => "oneshot",
    };
    let outcome = match answer.status.as_u16() {
        200..=299 => "ok",
        404 => "not_found",
        504 => "timeout",
        _ => "error",
    };
    gateway.metrics.query(kind, path, outcome, elapsed.as_secs_f64());
    json_response(answer.status, answer.body(elapsed))
}

/// `/healthz` (the process answers), `/readyz` (its loops have completed a first pass) and
/// `/metrics` (Prometheus text).
pub fn ops_router(metrics: Arc<Metrics>, ready: Arc<AtomicBool>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/readyz",
            get(move || {
                let ready = ready.load(Ordering::Relaxed);
                async move {
                    match ready {
                        true => (StatusCode::OK, "ready"),
                        false => (StatusCode::SERVICE_UNAVAILABLE, "not ready"),
                    }
                }
            }),
        )
        .route(
            "/metrics",
            get(move || {
                let text = metrics.render();
                async move {
                    (
                        [(
                            header::CONTENT_TYPE,
                            "application/openmetrics-text; version=1.0.0; charset=utf-8",
                        )],
                        text,
                    )
                }
            }),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_tokens_must_match_exactly() {
        let mut headers = HeaderMap::new();
        assert!(!authorized(&headers, "s3cret"));
        headers.insert(header::AUTHORIZATION, "Bearer s3cret".parse().unwrap());
        assert!(authorized(&headers, "s3cret"));
        assert!(!authorized(&headers, "s3cre"));
        headers.insert(header::AUTHORIZATION, "Basic s3cret".parse().unwrap());
        assert!(!authorized(&headers, "s3cret"));
    }
}
