//! Upstream's `POST /query` request and response (contract §6b), with the fixes of §12.2: the
//! HTTP status follows the bot's answer (a bot-side 404 is a 404, a timeout a 504; upstream
//! answered 500 for every error), and `duration_ms` sits beside upstream's `duration`
//! (nanoseconds, kept for the0's API).

use std::time::Duration;

use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Map, Value};

/// `timeout_sec` when the request gives none (upstream's default).
pub const DEFAULT_TIMEOUT_SECS: u64 = 30;

/// The request body.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct QueryRequest {
    #[serde(default)]
    pub bot_id: String,
    #[serde(default)]
    pub query_path: String,
    #[serde(default)]
    pub params: Option<Map<String, Value>>,
    #[serde(default)]
    pub timeout_sec: Option<u64>,
}

impl QueryRequest {
    /// Parses and checks a body; the error says which field is wrong (400).
    pub fn parse(body: &[u8]) -> Result<QueryRequest, String> {
        let mut request: QueryRequest =
            serde_json::from_slice(body).map_err(|e| format!("invalid request body: {e}"))?;
        if request.bot_id.is_empty() {
            return Err("bot_id is required".into());
        }
        if request.query_path.is_empty() {
            return Err("query_path is required".into());
        }
        if !request.query_path.starts_with('/') {
            request.query_path.insert(0, '/');
        }
        Ok(request)
    }

    /// The query's time limit: the request's, capped at `max`.
    pub fn timeout(&self, max: Duration) -> Duration {
        Duration::from_secs(self.timeout_sec.unwrap_or(DEFAULT_TIMEOUT_SECS).max(1)).min(max)
    }
}

/// A finished query: the HTTP status and the body fields.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryAnswer {
    pub status: StatusCode,
    pub data: Option<Value>,
    pub error: Option<String>,
}

impl QueryAnswer {
    pub fn error(status: StatusCode, message: impl Into<String>) -> QueryAnswer {
        QueryAnswer {
            status,
            data: None,
            error: Some(message.into()),
        }
    }

    /// A bot's envelope (`{"status":"ok","data":..}` or `{"status":"error","error":..}`), with
    /// the HTTP status the bot answered with when known (realtime), else derived from it: ok is
    /// 200, an unknown path (an envelope with `available`) 404, other errors 500.
    pub fn from_envelope(envelope: &Value, http_status: Option<StatusCode>) -> QueryAnswer {
        let ok = envelope.get("status").and_then(Value::as_str) == Some("ok");
        let status = http_status.unwrap_or(if ok {
            StatusCode::OK
        } else if envelope.get("available").is_some() {
            StatusCode::NOT_FOUND
        } else {
            StatusCode::INTERNAL_SERVER_ERROR
        });
        if ok {
            return QueryAnswer {
                status,
                data: envelope.get("data").cloned(),
                error: None,
            };
        }
        let error = match envelope.get("error") {
            Some(Value::String(text)) => text.clone(),
            Some(other) => other.to_string(),
            None => "the bot answered without a status".into(),
        };
        QueryAnswer {
            status: if status.is_success() {
                StatusCode::BAD_GATEWAY
            } else {
                status
            },
            data: None,
            error: Some(error),
        }
    }

    /// Upstream's response body, plus `duration_ms`.
    pub fn body(&self, elapsed: Duration) -> Value {
        let mut body = Map::new();
        body.insert(
            "status".into(),
            if self.status.is_success() { "ok" } else { "error" }.into(),
        );
        if let Some(data) = &self.data {
            body.insert("data".into(), data.clone());
        }
        if let Some(error) = &self.error {
            body.insert("error".into(), error.clone().into());
        }
        body.insert("duration".into(), (elapsed.as_nanos() as u64).into());
        body.insert(
            "duration_ms".into(),
            serde_json::Number::from_f64((elapsed.as_micros() as f64) / 1000.0)
                .map_or(Value::Null, Value::Number),
        );
        body.insert(
            "timestamp".into(),
            chrono::Utc::now()
                .to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
                .into(),
        );
        Value::Object(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn requests_are_checked_and_paths_get_a_slash() {
        let request =
            QueryRequest::parse(br#"{"bot_id":"b","query_path":"status","params":{"n":1}}"#).unwrap();
        assert_eq!(request.query_path, "/status");
        assert_eq!(request.params.unwrap()["n"], 1);
        assert_eq!(
            QueryRequest::parse(br#"{"query_path":"/s"}"#).unwrap_err(),
            "bot_id is required"
        );
        assert_eq!(
            QueryRequest::parse(br#"{"bot_id":"b"}"#).unwrap_err(),
            "query_path is required"
        );
        assert!(
            QueryRequest::parse(b"nope")
                .unwrap_err()
                .starts_with("invalid request body")
        );
        let request =
            QueryRequest::parse(br#"{"bot_id":"b","query_path":"/s","timeout_sec":100000}"#).unwrap();
        assert_eq!(
            request.timeout(Duration::from_secs(300)),
            Duration::from_secs(300),
            "capped"
        );
        let request = QueryRequest::parse(br#"{"bot_id":"b","query_path":"/s"}"#).unwrap();
        assert_eq!(request.timeout(Duration::from_secs(300)), Duration::from_secs(30));
    }

    #[test]
    fn statuses_follow_the_bots_answer() {
        let ok = QueryAnswer::from_envelope(&json!({"status":"ok","data":{"n":1}}), None);
        assert_eq!((ok.status, ok.data), (StatusCode::OK, Some(json!({"n":1}))));
        let missing = QueryAnswer::from_envelope(
            &json!({"status":"error","error":"No handler for path: /x","available":["/a"]}),
            None,
        );
        assert_eq!(missing.status, StatusCode::NOT_FOUND);
        let failed = QueryAnswer::from_envelope(&json!({"status":"error","error":"boom"}), None);
        assert_eq!(
            (failed.status, failed.error.as_deref()),
            (StatusCode::INTERNAL_SERVER_ERROR, Some("boom"))
        );
        let realtime = QueryAnswer::from_envelope(
            &json!({"status":"error","error":"slow"}),
            Some(StatusCode::GATEWAY_TIMEOUT),
        );
        assert_eq!(realtime.status, StatusCode::GATEWAY_TIMEOUT);
    }

    #[test]
    fn the_body_is_upstreams_plus_duration_ms() {
        let answer = QueryAnswer::from_envelope(&json!({"status":"ok","data":[1]}), None);
        let body = answer.body(Duration::from_millis(12));
        assert_eq!(body["status"], "ok");
        assert_eq!(body["data"], json!([1]));
        assert_eq!(body["duration"], 12_000_000);
        assert_eq!(body["duration_ms"], 12.0);
        assert!(body.get("error").is_none());
        assert!(body["timestamp"].as_str().unwrap().ends_with('Z'));
        let error = QueryAnswer::error(StatusCode::NOT_FOUND, "bot not found: x").body(Duration::ZERO);
        assert_eq!(error["status"], "error");
        assert_eq!(error["error"], "bot not found: x");
        assert!(error.get("data").is_none());
    }
}
