//! Query responses: the JSON envelope, its HTTP status, and the exit code of ephemeral runs.
//!
//! Every answer any SDK gives is built here:
//! - 200 `{"status":"ok","data":<handler result>}`
//! - 404 `{"status":"error","error":"No handler for path: /x","available":[...]}`
//! - 400 malformed request, 413 body too large, 500 handler error, 503 overloaded,
//!   504 handler timeout: `{"status":"error","error":"<message>"}`

use serde_json::Value;

/// The HTTP status and body of one answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// HTTP status code (200, 400, 404, 413, 500, 503 or 504).
    pub status: u16,
    /// The JSON envelope.
    pub body: Vec<u8>,
}

/// Statuses the core answers with.
pub mod status {
    pub const OK: u16 = 200;
    pub const BAD_REQUEST: u16 = 400;
    pub const NOT_FOUND: u16 = 404;
    pub const PAYLOAD_TOO_LARGE: u16 = 413;
    pub const INTERNAL_ERROR: u16 = 500;
    pub const UNAVAILABLE: u16 = 503;
    pub const TIMEOUT: u16 = 504;
}

const OK_PREFIX: &[u8] = br#"{"status":"ok","data":"#;

impl Response {
    /// 200 with `data` in the envelope.
    pub fn ok(data: &Value) -> Response {
        let mut body = OK_PREFIX.to_vec();
        serde_json::to_writer(&mut body, data).expect("a Value always serializes");
        body.push(b'}');
        Response {
            status: status::OK,
            body,
        }
    }

    /// 200 with `data`, already canonical JSON text, in the envelope.
    pub fn ok_canonical(data: &[u8]) -> Response {
        let mut body = Vec::with_capacity(OK_PREFIX.len() + data.len() + 1);
        body.extend_from_slice(OK_PREFIX);
        body.extend_from_slice(data);
        body.push(b'}');
        Response {
            status: status::OK,
            body,
        }
    }

    /// An error envelope with `status`.
    pub fn error(status: u16, message: &str) -> Response {
        let body = serde_json::to_vec(&serde_json::json!({"status": "error", "error": message}))
            .expect("a Value always serializes");
        Response { status, body }
    }

    /// 404 for `path`, listing the paths that would have answered.
    pub fn not_found(path: &str, available: &[String]) -> Response {
        let body = serde_json::to_vec(&serde_json::json!({
            "status": "error",
            "error": format!("No handler for path: {path}"),
            "available": available,
        }))
        .expect("a Value always serializes");
        Response {
            status: status::NOT_FOUND,
            body,
        }
    }

    /// 413: a request body over `limit` bytes.
    pub fn too_large(limit: usize) -> Response {
        Response::error(
            status::PAYLOAD_TOO_LARGE,
            &format!("request body exceeds {limit} bytes"),
        )
    }

    /// 503: `limit` queries are already in flight.
    pub fn overloaded(limit: usize) -> Response {
        Response::error(
            status::UNAVAILABLE,
            &format!("too many queries in flight (limit {limit})"),
        )
    }

    /// 504: the handler for `path` did not answer within `timeout`.
    pub fn timed_out(path: &str, timeout: std::time::Duration) -> Response {
        let message = format!("handler for {path} timed out after {} ms", timeout.as_millis());
        Response::error(status::TIMEOUT, &message)
    }

    /// Exit code of an ephemeral run that produced this answer (upstream: 0 ok, 1 otherwise).
    pub fn exit_code(&self) -> i32 {
        if self.status == status::OK { 0 } else { 1 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parsed(r: &Response) -> Value {
        serde_json::from_slice(&r.body).unwrap()
    }

    #[test]
    fn envelopes() {
        let ok = Response::ok(&json!({"b": 1, "a": [true]}));
        assert_eq!(ok.body, br#"{"status":"ok","data":{"b":1,"a":[true]}}"#);
        assert_eq!(ok.exit_code(), 0);
        assert_eq!(
            Response::ok_canonical(b"[1]").body,
            br#"{"status":"ok","data":[1]}"#
        );
        let err = Response::error(500, "boom \"quoted\"\n");
        assert_eq!(
            parsed(&err),
            json!({"status": "error", "error": "boom \"quoted\"\n"})
        );
        assert_eq!(err.exit_code(), 1);
        let nf = Response::not_found("/x", &["/a".into(), "/health".into()]);
        assert_eq!(nf.status, 404);
        assert_eq!(
            parsed(&nf),
            json!({"status": "error", "error": "No handler for path: /x", "available": ["/a", "/health"]})
        );
    }
}
