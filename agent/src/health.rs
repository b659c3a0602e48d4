//! The readiness server of `daemon sync --readiness-port`: `/healthz` answers while the process
//! lives, `/readyz` once the syncer is set up (Kubernetes' startup probe waits for it).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;

/// Serves `/healthz` and `/readyz` on `0.0.0.0:port` in the background.
pub async fn serve(port: u16, ready: Arc<AtomicBool>) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([0, 0, 0, 0], port))).await?;
    let router = Router::new()
        .route(
            "/healthz",
            get(|| async { (StatusCode::OK, r#"{"status":"ok"}"#) }),
        )
        .route(
            "/readyz",
            get(move || {
                let ready = ready.load(Ordering::SeqCst);
                async move {
                    if ready {
                        (StatusCode::OK, r#"{"status":"ready"}"#)
                    } else {
                        (StatusCode::SERVICE_UNAVAILABLE, r#"{"status":"starting"}"#)
                    }
                }
            }),
        );
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router).await {
            tracing::error!(error = %e, "readiness server failed");
        }
    });
    Ok(())
}
