//! HTTP plumbing shared by the core's query server and the agent's query front on :9476, so that
//! both decode, limit and refuse requests the same way.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use http_body_util::BodyExt;
use percent_encoding::percent_decode_str;

use crate::query::envelope::{Response, status};

/// The request path, percent-decoded; a path that is not UTF-8 then is a 400.
pub fn decode_path(uri: &Uri) -> Result<String, Response> {
    percent_decode_str(uri.path())
        .decode_utf8()
        .map(|path| path.into_owned())
        .map_err(|_| {
            Response::error(
                status::BAD_REQUEST,
                "request path is not UTF-8 after percent-decoding",
            )
        })
}

/// Reads a request body of at most `limit` bytes: refused at once when `Content-Length` says
/// more, and by counting otherwise (a 413 either way).
pub async fn read_body(mut body: Body, headers: &HeaderMap, limit: usize) -> Result<Vec<u8>, Response> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(Response::too_large(limit));
    }
    let mut bytes = Vec::with_capacity(declared.unwrap_or(0).min(limit as u64) as usize);
    while let Some(frame) = body.frame().await {
        let frame = frame
            .map_err(|e| Response::error(status::BAD_REQUEST, &format!("cannot read request body: {e}")))?;
        if let Ok(data) = frame.into_data() {
            if bytes.len() + data.len() > limit {
                return Err(Response::too_large(limit));
            }
            bytes.extend_from_slice(&data);
        }
    }
    Ok(bytes)
}

/// An answer as an HTTP response with `Content-Type: application/json`.
pub fn into_http(response: Response) -> axum::response::Response {
    let mut http = axum::response::Response::new(Body::from(response.body));
    *http.status_mut() = StatusCode::from_u16(response.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    http.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    http
}
