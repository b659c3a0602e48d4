//! `the0-agent standby`: a query container that waits for exactly one job.
//!
//! The orchestrator keeps a few of these started (its warm pool), so that a scheduled bot's
//! query does not wait for a container to start. The agent listens on `THE0_STANDBY_ADDR`
//! (default `0.0.0.0:9476`), answers `GET /healthz` when ready, and accepts one
//! `POST /job` carrying `THE0_STANDBY_TOKEN` as a bearer token. The job names the bot (id,
//! runtime, entrypoints, code key, configuration) and the query (path, params, time limit); the
//! agent runs it as an ephemeral query — a child `the0-agent execute` with the job in its
//! environment, so the query runs exactly as in a cold query container — answers with
//! `{"exit_code": n, "result": <the envelope>}`, and exits. No container serves two queries.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use tokio::sync::watch;

/// Environment variables of the standby agent itself, never passed to the job.
const OWN_VARS: [&str; 2] = ["THE0_STANDBY_TOKEN", "THE0_STANDBY_ADDR"];

/// One query to run.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Job {
    pub bot_id: String,
    pub runtime: String,
    pub entrypoint: String,
    #[serde(default)]
    pub query_entrypoint: Option<String>,
    #[serde(default)]
    pub code_file: Option<String>,
    /// `BOT_CONFIG` as JSON text.
    #[serde(default)]
    pub bot_config: String,
    pub query_path: String,
    #[serde(default)]
    pub query_params: Map<String, Value>,
    /// Time limit of the query process.
    #[serde(default)]
    pub timeout_secs: Option<u64>,
}

impl Job {
    /// The environment of the child `execute`, as a cold query container would have it.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        let mut env = vec![
            ("BOT_ID", self.bot_id.clone()),
            ("RUNTIME", self.runtime.clone()),
            ("ENTRYPOINT", self.entrypoint.clone()),
            ("BOT_CONFIG", self.bot_config.clone()),
            ("QUERY_PATH", self.query_path.clone()),
            (
                "QUERY_PARAMS",
                Value::Object(self.query_params.clone()).to_string(),
            ),
            ("ENTRYPOINT_TYPE", "query".into()),
        ];
        if let Some(entry) = &self.query_entrypoint {
            env.push(("QUERY_ENTRYPOINT", entry.clone()));
        }
        if let Some(key) = &self.code_file {
            env.push(("CODE_FILE", key.clone()));
        }
        if let Some(secs) = self.timeout_secs {
            env.push(("THE0_QUERY_PROCESS_TIMEOUT_SECS", secs.max(1).to_string()));
        }
        env
    }
}

struct Standby {
    token: String,
    taken: AtomicBool,
    done: watch::Sender<bool>,
}

/// Runs the standby agent; returns the exit code.
pub async fn standby() -> i32 {
    let Some(token) = the0_sdk::env::non_empty("THE0_STANDBY_TOKEN") else {
        tracing::error!("THE0_STANDBY_TOKEN is not set");
        return 1;
    };
    let addr: SocketAddr = match the0_sdk::env::non_empty("THE0_STANDBY_ADDR") {
        None => SocketAddr::from(([0, 0, 0, 0], the0_sdk::env::DEFAULT_QUERY_PORT)),
        Some(text) => match text.parse() {
            Ok(addr) => addr,
            Err(_) => {
                tracing::error!("THE0_STANDBY_ADDR must be an address like 0.0.0.0:9476, got {text:?}");
                return 1;
            }
        },
    };
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(listener) => listener,
        Err(e) => {
            tracing::error!(%addr, error = %e, "cannot listen");
            return 1;
        }
    };
    let (done, mut finished) = watch::channel(false);
    let state = Arc::new(Standby {
        token,
        taken: AtomicBool::new(false),
        done,
    });
    let router = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/job", post(job))
        .with_state(state);
    tracing::info!(%addr, "standing by for one query");
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(term) => term,
        Err(e) => {
            tracing::error!(error = %e, "cannot install the signal handler");
            return 1;
        }
    };
    let stop = async move {
        tokio::select! {
            _ = finished.wait_for(|done| *done) => {}
            _ = term.recv() => {}
        }
    };
    match axum::serve(listener, router).with_graceful_shutdown(stop).await {
        Ok(()) => 0,
        Err(e) => {
            tracing::error!(error = %e, "the standby server failed");
            1
        }
    }
}

fn refusal(status: StatusCode, message: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        json!({"error": message}).to_string(),
    )
        .into_response()
}

async fn job(State(standby): State<Arc<Standby>>, headers: HeaderMap, body: Bytes) -> Response {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if bearer != Some(standby.token.as_str()) {
        return refusal(StatusCode::UNAUTHORIZED, "a valid bearer token is required");
    }
    let job: Job = match serde_json::from_slice(&body) {
        Ok(job) => job,
        Err(e) => return refusal(StatusCode::BAD_REQUEST, &format!("invalid job: {e}")),
    };
    if standby.taken.swap(true, Ordering::SeqCst) {
        return refusal(StatusCode::CONFLICT, "this container has already taken its job");
    }
    tracing::info!(bot_id = job.bot_id, query_path = job.query_path, "job taken");
    let answer = run(&job).await;
    standby.done.send_replace(true);
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        answer.to_string(),
    )
        .into_response()
}

/// Runs the job in a child `execute` and reads its result file.
async fn run(job: &Job) -> Value {
    let result_file = the0_sdk::env::query_result_file();
    let _ = std::fs::remove_file(&result_file);
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => {
            return json!({"exit_code": 1, "result": error_envelope(&format!("cannot find the agent: {e}"))});
        }
    };
    let mut command = tokio::process::Command::new(exe);
    command.arg("execute").envs(job.env()).kill_on_drop(true);
    for name in OWN_VARS {
        command.env_remove(name);
    }
    let code = match command.status().await {
        Ok(status) => status.code().unwrap_or(1),
        Err(e) => {
            return json!({"exit_code": 1, "result": error_envelope(&format!("cannot run the query: {e}"))});
        }
    };
    let result = std::fs::read(&result_file)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
        .unwrap_or_else(|| error_envelope(&format!("the query exited with code {code} without a result")));
    json!({"exit_code": code, "result": result})
}

fn error_envelope(message: &str) -> Value {
    serde_json::from_slice(&the0_sdk::query::Response::error(500, message).body)
        .unwrap_or_else(|_| json!({"status": "error", "error": message}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_becomes_the_environment_of_a_cold_query() {
        let job: Job = serde_json::from_str(
            r#"{"bot_id":"b1","runtime":"rust-stable","entrypoint":"bot","query_entrypoint":"query",
                "code_file":"u/b1/1","bot_config":"{\"x\":1}","query_path":"/status",
                "query_params":{"n":2},"timeout_secs":7}"#,
        )
        .unwrap();
        let env: std::collections::HashMap<_, _> = job.env().into_iter().collect();
        assert_eq!(env["BOT_ID"], "b1");
        assert_eq!(env["QUERY_PATH"], "/status");
        assert_eq!(env["QUERY_PARAMS"], r#"{"n":2}"#);
        assert_eq!(env["QUERY_ENTRYPOINT"], "query");
        assert_eq!(env["CODE_FILE"], "u/b1/1");
        assert_eq!(env["BOT_CONFIG"], r#"{"x":1}"#);
        assert_eq!(env["THE0_QUERY_PROCESS_TIMEOUT_SECS"], "7");
        assert!(
            serde_json::from_str::<Job>(r#"{"bot_id":"b"}"#).is_err(),
            "fields are required"
        );
    }

    #[test]
    fn error_answers_are_the_cores_envelope() {
        let envelope = error_envelope("boom");
        assert_eq!(envelope["status"], "error");
        assert_eq!(envelope["error"], "boom");
    }
}
