//! The HTTP front of server mode: axum on tokio, over TCP or a Unix socket.
//!
//! One fallback handler takes every method and path: built-ins and unknown paths are answered
//! here; requests for registered paths go through the poll queue to a host thread, bounded by the
//! in-flight limit (503), the body limit (413) and the handler timeout (504).

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use tokio::sync::{Semaphore, oneshot, watch};

use crate::error::{Error, Result};
use crate::query::dispatch::{ReplySink, Submitter};
use crate::query::envelope::{Response, status};
use crate::query::http;
use crate::query::mode::{Listen, Settings};
use crate::query::params;
use crate::query::registry::{Registry, Route};

/// Connections waiting to be accepted before the kernel refuses new ones.
const LISTEN_BACKLOG: u32 = 1024;

/// Everything a request needs, shared by all connections.
pub(crate) struct App {
    pub(crate) registry: Arc<Registry>,
    pub(crate) submitter: Submitter,
    pub(crate) settings: Settings,
    pub(crate) in_flight: Semaphore,
}

/// A listening socket registered with the server's runtime.
pub(crate) enum Listener {
    Tcp(tokio::net::TcpListener),
    Unix(tokio::net::UnixListener, PathBuf),
}

impl Listener {
    /// Binds `listen`. Must be called inside the server's runtime (`Runtime::enter`).
    pub(crate) fn bind(listen: &Listen) -> Result<Listener> {
        match listen {
            Listen::Tcp(addr) => bind_tcp(*addr)
                .map(Listener::Tcp)
                .map_err(|e| Error::io(format!("cannot listen on {addr}"), e)),
            Listen::Unix(path) => bind_unix(path)
                .map(|l| Listener::Unix(l, path.clone()))
                .map_err(|e| Error::io(format!("cannot listen on Unix socket {}", path.display()), e)),
        }
    }

    /// The bound TCP address (useful with port 0), if this is a TCP listener.
    pub(crate) fn tcp_addr(&self) -> Option<SocketAddr> {
        match self {
            Listener::Tcp(l) => l.local_addr().ok(),
            Listener::Unix(..) => None,
        }
    }

    /// Human-readable address for log lines.
    pub(crate) fn describe(&self) -> String {
        match self {
            Listener::Tcp(l) => l
                .local_addr()
                .map_or_else(|_| "tcp".to_owned(), |a| a.to_string()),
            Listener::Unix(_, path) => format!("unix:{}", path.display()),
        }
    }
}

fn bind_tcp(addr: SocketAddr) -> io::Result<tokio::net::TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.set_nodelay(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// Binds a Unix socket, replacing a stale socket file left by a previous process but never a file
/// of another kind.
fn bind_unix(path: &Path) -> io::Result<tokio::net::UnixListener> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_socket() => std::fs::remove_file(path)?,
        Ok(_) => {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                "the path exists and is not a socket; refusing to replace it",
            ));
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)?;
            }
        }
        Err(e) => return Err(e),
    }
    tokio::net::UnixListener::bind(path)
}

/// Serves until `shutdown` completes, then waits for requests in flight and removes the socket
/// file of a Unix listener.
pub(crate) async fn serve(
    listener: Listener,
    app: Arc<App>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let router = Router::new().fallback(handle).with_state(app);
    match listener {
        Listener::Tcp(l) => axum::serve(l, router).with_graceful_shutdown(shutdown).await,
        Listener::Unix(l, path) => {
            let served = axum::serve(l, router).with_graceful_shutdown(shutdown).await;
            let _ = std::fs::remove_file(&path);
            served
        }
    }
}

/// Completes when `stop` turns true or, if `handle_signals`, on SIGTERM or SIGINT.
pub(crate) async fn shutdown_signal(mut stop: watch::Receiver<bool>, handle_signals: bool) {
    let stopped = async move {
        // An error means the sender is gone, which is a stop too.
        let _ = stop.wait_for(|stopped| *stopped).await;
    };
    if !handle_signals {
        return stopped.await;
    }
    use tokio::signal::unix::{SignalKind, signal};
    match (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) {
        (Ok(mut term), Ok(mut int)) => tokio::select! {
            () = stopped => {}
            _ = term.recv() => {}
            _ = int.recv() => {}
        },
        _ => stopped.await,
    }
}

async fn handle(State(app): State<Arc<App>>, request: Request) -> axum::response::Response {
    http::into_http(answer(&app, request).await)
}

async fn answer(app: &App, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let path = match http::decode_path(&parts.uri) {
        Ok(path) => path,
        Err(response) => return response,
    };
    if let Route::Answered(response) = app.registry.route(&path) {
        return response;
    }
    let Ok(_permit) = app.in_flight.try_acquire() else {
        return Response::overloaded(app.settings.max_in_flight);
    };
    let body = match http::read_body(body, &parts.headers, app.settings.max_body_bytes).await {
        Ok(body) => body,
        Err(response) => return response,
    };
    let params = match params::from_http(parts.uri.query(), &body) {
        Ok(params) => params,
        Err(message) => return Response::error(status::BAD_REQUEST, &message),
    };
    let (tx, rx) = oneshot::channel();
    let id = app.submitter.submit(&path, params, ReplySink::Async(tx));
    match tokio::time::timeout(app.settings.timeout, rx).await {
        Ok(Ok(response)) => response,
        Ok(Err(_)) => Response::error(status::UNAVAILABLE, "the query service has stopped"),
        Err(_) => {
            app.submitter.cancel(id);
            Response::timed_out(&path, app.settings.timeout)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    #[test]
    fn a_stale_socket_is_replaced_but_another_file_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let rt = runtime();
        let _entered = rt.enter();
        let socket = dir.path().join("nested/q.sock");
        let first = Listener::bind(&Listen::Unix(socket.clone())).unwrap();
        assert_eq!(first.describe(), format!("unix:{}", socket.display()));
        assert_eq!(first.tcp_addr(), None);
        drop(first); // leaves the socket file behind, as a crashed process would
        assert!(socket.exists());
        Listener::bind(&Listen::Unix(socket.clone())).expect("a stale socket is replaced");

        let plain = dir.path().join("plain");
        std::fs::write(&plain, b"keep me").unwrap();
        let err = Listener::bind(&Listen::Unix(plain.clone()))
            .err()
            .expect("refused");
        assert_eq!(err.status(), crate::Status::Io);
        assert!(
            err.to_string()
                .contains("is not a socket; refusing to replace it"),
            "{err}"
        );
        assert_eq!(std::fs::read(&plain).unwrap(), b"keep me");
    }

    #[test]
    fn tcp_port_zero_reads_back_the_bound_port() {
        let rt = runtime();
        let _entered = rt.enter();
        let listener = Listener::bind(&Listen::Tcp("127.0.0.1:0".parse().unwrap())).unwrap();
        let addr = listener.tcp_addr().unwrap();
        assert_ne!(addr.port(), 0);
        assert_eq!(listener.describe(), addr.to_string());
        let taken = Listener::bind(&Listen::Tcp(addr)).err().expect("port in use");
        assert!(
            taken.to_string().starts_with(&format!("cannot listen on {addr}")),
            "{taken}"
        );
    }

    #[test]
    fn shutdown_completes_on_stop_or_when_the_sender_is_gone() {
        let rt = runtime();
        let (stop, stopped) = watch::channel(false);
        stop.send_replace(true);
        rt.block_on(shutdown_signal(stopped, false));
        let (stop, stopped) = watch::channel(false);
        drop(stop);
        rt.block_on(shutdown_signal(stopped, true));
    }
}
