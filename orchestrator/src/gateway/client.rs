//! A small pooled HTTP/1 client for loopback calls: the realtime proxy and standby jobs.

use std::net::SocketAddr;

use axum::http::{Method, Request, StatusCode, header};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

/// A call failed before an answer arrived.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// Nothing listens there (the container is gone or not up yet).
    #[error("cannot connect to {addr}: {detail}")]
    Connect { addr: SocketAddr, detail: String },
    #[error("{addr}: {detail}")]
    Failed { addr: SocketAddr, detail: String },
    #[error("{addr} answered with more than {limit} bytes")]
    TooLarge { addr: SocketAddr, limit: usize },
}

/// Keep-alive connections to loopback ports.
#[derive(Clone)]
pub struct HttpClient {
    client: Client<HttpConnector, Full<Bytes>>,
}

impl Default for HttpClient {
    fn default() -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        HttpClient {
            client: Client::builder(TokioExecutor::new()).build(connector),
        }
    }
}

impl HttpClient {
    /// Sends one request and reads an answer of at most `limit` bytes.
    pub async fn call(
        &self,
        method: Method,
        addr: SocketAddr,
        path_and_query: &str,
        json_body: Option<Vec<u8>>,
        bearer: Option<&str>,
        limit: usize,
    ) -> Result<(StatusCode, Bytes), CallError> {
        let mut request = Request::builder()
            .method(method)
            .uri(format!("http://{addr}{path_and_query}"));
        if json_body.is_some() {
            request = request.header(header::CONTENT_TYPE, "application/json");
        }
        if let Some(token) = bearer {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let request = request
            .body(Full::new(Bytes::from(json_body.unwrap_or_default())))
            .map_err(|e| CallError::Failed {
                addr,
                detail: e.to_string(),
            })?;
        let response = self.client.request(request).await.map_err(|e| {
            if e.is_connect() {
                CallError::Connect {
                    addr,
                    detail: e.to_string(),
                }
            } else {
                CallError::Failed {
                    addr,
                    detail: e.to_string(),
                }
            }
        })?;
        let status = response.status();
        let body = Limited::new(response.into_body(), limit)
            .collect()
            .await
            .map_err(|e| {
                if e.is::<http_body_util::LengthLimitError>() {
                    CallError::TooLarge { addr, limit }
                } else {
                    CallError::Failed {
                        addr,
                        detail: e.to_string(),
                    }
                }
            })?
            .to_bytes();
        Ok((status, body))
    }
}
