//! The admin API: bot specs over HTTP, written to the same source the orchestrator reads (the
//! spec directory). Every call needs the admin bearer token; without one configured the API is
//! off.
//!
//! - `GET /admin/bots`: every bot, and the entries that were rejected with why;
//! - `GET /admin/bots/{id}`: one bot;
//! - `PUT /admin/bots/{id}`: create or replace (a spec as JSON; the id comes from the path);
//! - `DELETE /admin/bots/{id}`: remove.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use super::{Gateway, authorized};
use crate::desired::SourceError;
use crate::spec::BotSpec;

pub fn router() -> Router<Arc<Gateway>> {
    Router::new()
        .route("/admin/bots", get(list))
        .route("/admin/bots/{id}", get(show).put(put).delete(delete))
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, axum::Json(json!({"error": message.into()}))).into_response()
}

/// `Some(refusal)` unless the request carries the admin token.
fn refuse(gateway: &Gateway, headers: &HeaderMap) -> Option<Response> {
    match &gateway.settings.admin_token {
        None => Some(error(
            StatusCode::FORBIDDEN,
            "the admin API is off: start the orchestrator with --admin-token",
        )),
        Some(token) if !authorized(headers, token) => Some(error(
            StatusCode::UNAUTHORIZED,
            "a valid admin bearer token is required",
        )),
        Some(_) => None,
    }
}

fn source_error(e: SourceError) -> Response {
    match e {
        SourceError::Refused(message) => error(StatusCode::UNPROCESSABLE_ENTITY, message),
        other => error(StatusCode::INTERNAL_SERVER_ERROR, other.to_string()),
    }
}

async fn list(State(gateway): State<Arc<Gateway>>, headers: HeaderMap) -> Response {
    if let Some(refusal) = refuse(&gateway, &headers) {
        return refusal;
    }
    match gateway.source.snapshot().await {
        Ok(snapshot) => axum::Json(json!({
            "bots": snapshot.bots,
            "rejected": snapshot.rejected.iter().map(|e| json!({"bot": e.bot, "error": e.problem})).collect::<Vec<_>>(),
        }))
        .into_response(),
        Err(e) => source_error(e),
    }
}

async fn show(State(gateway): State<Arc<Gateway>>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if let Some(refusal) = refuse(&gateway, &headers) {
        return refusal;
    }
    match gateway.source.snapshot().await {
        Ok(snapshot) => match snapshot.find(&id) {
            Some(bot) => axum::Json(bot).into_response(),
            None => error(StatusCode::NOT_FOUND, format!("bot not found: {id}")),
        },
        Err(e) => source_error(e),
    }
}

async fn put(
    State(gateway): State<Arc<Gateway>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    if let Some(refusal) = refuse(&gateway, &headers) {
        return refusal;
    }
    let mut value: Value = match serde_json::from_slice(&body) {
        Ok(value) => value,
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("the body is not JSON: {e}")),
    };
    let Some(object) = value.as_object_mut() else {
        return error(StatusCode::BAD_REQUEST, "a spec is a JSON object");
    };
    match object.get("id").and_then(Value::as_str) {
        Some(given) if given != id => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("the body's id {given:?} differs from the path's {id:?}"),
            );
        }
        _ => {
            object.insert("id".into(), id.clone().into());
        }
    }
    let spec: BotSpec = match serde_json::from_value(value) {
        Ok(spec) => spec,
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("invalid spec: {e}")),
    };
    match gateway.source.put(spec.clone()).await {
        Ok(()) => (StatusCode::OK, axum::Json(spec)).into_response(),
        Err(e) => source_error(e),
    }
}

async fn delete(State(gateway): State<Arc<Gateway>>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if let Some(refusal) = refuse(&gateway, &headers) {
        return refusal;
    }
    match gateway.source.delete(&id).await {
        Ok(true) => StatusCode::NO_CONTENT.into_response(),
        Ok(false) => error(StatusCode::NOT_FOUND, format!("bot not found: {id}")),
        Err(e) => source_error(e),
    }
}
