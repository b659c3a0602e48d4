//! The query front: the agent owns a realtime bot's public query port (:9476) and forwards every
//! request to the bot's query process.
//!
//! The query process gets a private Unix socket (`THE0_QUERY_SOCKET`, which the core's SDKs
//! prefer) and a private loopback port (`THE0_QUERY_PORT`, the only thing upstream's SDKs know),
//! and the front forwards to whichever it listens on. The front answers `/healthz` itself,
//! applies the same limits as the core's server (body size 413, requests in flight 503, a timeout
//! 504, with the same envelopes), keeps connections to the query process alive, and restarts a
//! query process that exits, with exponential backoff. A query process whose handlers all hang
//! answers nothing but timeouts (the core's own `/health` still answers): after
//! [`HUNG_AFTER`] timeouts in a row with no handler answer between them, it is stopped and
//! restarted the same way.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::header;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use serde_json::json;
use std::sync::Mutex;
use the0_sdk::env;
use the0_sdk::query::http::{decode_path, into_http, read_body};
use the0_sdk::query::{Response, Settings};

use tokio::sync::{Notify, Semaphore, watch};
use tokio::time::Instant;

use crate::launch::Launcher;
use crate::process::{Tee, stop_group};
use crate::runtime::Role;

/// Largest answer taken from the query process.
const MAX_RESPONSE_BYTES: usize = 64 << 20;
/// Idle connections kept to the query process.
const MAX_IDLE_CONNECTIONS: usize = 64;
/// Timeouts in a row, with no handler answering between them, after which the query process is
/// taken to be hung and restarted.
pub const HUNG_AFTER: u32 = 3;

/// Where the front listens and what it allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrontSettings {
    /// The public address (`THE0_AGENT_QUERY_ADDR`, default `0.0.0.0:9476`).
    pub listen: SocketAddr,
    /// The query process's own handler timeout plus a second: the process answers its 504 first.
    pub timeout: Duration,
    pub max_body_bytes: usize,
    pub max_in_flight: usize,
}

impl FrontSettings {
    /// The front on `listen`, with the limits of the core's server (`THE0_QUERY_*`).
    pub fn from_env(listen: SocketAddr) -> Result<FrontSettings, String> {
        let core = Settings::from_env().map_err(|e| e.to_string())?;
        Ok(FrontSettings {
            listen,
            timeout: core.timeout + Duration::from_secs(1),
            max_body_bytes: core.max_body_bytes,
            max_in_flight: core.max_in_flight,
        })
    }
}

/// The private addresses of the query process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backend {
    pub socket: PathBuf,
    pub port: u16,
}

impl Backend {
    /// A socket in `runtime_dir` and a free loopback port.
    pub fn new(runtime_dir: &std::path::Path) -> std::io::Result<Backend> {
        std::fs::create_dir_all(runtime_dir)?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        Ok(Backend {
            socket: runtime_dir.join("query.sock"),
            port,
        })
    }

    /// The variables that tell the query process where to listen.
    pub fn env(&self) -> [(&'static str, String); 3] {
        [
            (env::THE0_QUERY_SOCKET, self.socket.to_string_lossy().into_owned()),
            (env::THE0_QUERY_PORT, self.port.to_string()),
            (env::THE0_QUERY_HOST, "127.0.0.1".to_owned()),
        ]
    }
}

/// A running front.
pub struct Front {
    stop: watch::Sender<bool>,
    server: tokio::sync::oneshot::Receiver<()>,
    supervisor: tokio::task::JoinHandle<()>,
}

impl Front {
    /// Binds the public address, then serves and supervises the query process `entry` in the
    /// background. Its output goes to the container's stderr and to `bot.log`, tagged `query`.
    pub async fn start(
        settings: FrontSettings,
        launcher: Launcher,
        entry: String,
        tee: Tee,
    ) -> Result<Front, String> {
        let backend = Backend::new(&launcher.config().runtime_dir)
            .map_err(|e| format!("cannot prepare the query process's socket: {e}"))?;
        let listener = std::net::TcpListener::bind(settings.listen)
            .and_then(|listener| listener.set_nonblocking(true).map(|()| listener))
            .map_err(|e| format!("cannot listen for queries on {}: {e}", settings.listen))?;
        tracing::info!(address = %settings.listen, socket = %backend.socket.display(), port = backend.port, "query front listening");
        let (stop, stop_rx) = watch::channel(false);
        let app = Arc::new(App {
            pool: Pool {
                backend: backend.clone(),
                idle: Mutex::new(Vec::new()),
            },
            query_up: AtomicBool::new(false),
            hang: Hang::default(),
            in_flight: Semaphore::new(settings.max_in_flight),
            settings,
        });
        let supervisor = tokio::spawn(supervise(
            launcher,
            entry,
            tee,
            backend,
            Arc::clone(&app),
            stop_rx.clone(),
        ));
        let router = Router::new().fallback(forward).with_state(app);
        let server = serve_on_own_thread(listener, router, stop_rx)?;
        Ok(Front {
            stop,
            server,
            supervisor,
        })
    }

    /// Stops the query process and the front.
    pub async fn stop(self) {
        self.stop.send_replace(true);
        let _ = self.supervisor.await;
        let _ = tokio::time::timeout(Duration::from_secs(5), self.server).await;
    }
}

/// Serves the front on a thread of its own with a single-threaded runtime, until `stop`. Every
/// request crosses two connections (client, query process) whose tasks wake each other: on one
/// thread those wake-ups are function calls, not futex wake-ups between the agent's workers
/// (which took the front to half the direct throughput). Completes the returned receiver when
/// the server has stopped.
fn serve_on_own_thread(
    listener: std::net::TcpListener,
    router: Router,
    mut stop: watch::Receiver<bool>,
) -> Result<tokio::sync::oneshot::Receiver<()>, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the query front's runtime: {e}"))?;
    let (done, stopped_rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("query-front".to_owned())
        .spawn(move || {
            runtime.block_on(async move {
                let listener = match tokio::net::TcpListener::from_std(listener) {
                    Ok(listener) => listener,
                    Err(e) => return tracing::error!(error = %e, "query front failed"),
                };
                let shutdown = async move { stopped(&mut stop).await };
                if let Err(e) = axum::serve(listener, router)
                    .with_graceful_shutdown(shutdown)
                    .await
                {
                    tracing::error!(error = %e, "query front failed");
                }
            });
            let _ = done.send(());
        })
        .map_err(|e| format!("cannot start the query front's thread: {e}"))?;
    Ok(stopped_rx)
}

struct App {
    pool: Pool,
    query_up: AtomicBool,
    hang: Hang,
    in_flight: Semaphore,
    settings: FrontSettings,
}

/// Watches answers for a query process whose handler threads are all stuck.
#[derive(Default)]
struct Hang {
    timeouts_in_a_row: AtomicU32,
    detected: Notify,
}

impl Hang {
    /// Counts an answer from the query process to a request for `path`.
    fn observe(&self, path: &str, status: u16) {
        match status {
            504 if self.timeouts_in_a_row.fetch_add(1, Ordering::SeqCst) + 1 == HUNG_AFTER => {
                self.detected.notify_one();
            }
            // A handler ran. (The core answers its built-ins, 404s and limits by itself, which
            // says nothing about the handler threads.)
            200..=299 | 500 if !matches!(path, "/health" | "/info") => {
                self.timeouts_in_a_row.store(0, Ordering::SeqCst)
            }
            _ => {}
        }
    }

    fn is_hung(&self) -> bool {
        self.timeouts_in_a_row.load(Ordering::SeqCst) >= HUNG_AFTER
    }

    fn reset(&self) {
        self.timeouts_in_a_row.store(0, Ordering::SeqCst);
    }
}

/// Runs the query process, restarting it when it exits: after 1 s, doubling up to 30 s, back to
/// 1 s once it has run for a minute.
async fn supervise(
    launcher: Launcher,
    entry: String,
    tee: Tee,
    backend: Backend,
    app: Arc<App>,
    mut stop: watch::Receiver<bool>,
) {
    let mut backoff = Duration::from_secs(1);
    let grace = launcher.config().stop_grace.min(Duration::from_secs(5));
    loop {
        let _ = std::fs::remove_file(&backend.socket);
        let started = Instant::now();
        let ended = match launcher.spawn(Role::Query, &entry, &tee, &backend.env()) {
            Ok(mut query) => {
                app.hang.reset();
                app.query_up.store(true, Ordering::SeqCst);
                let ended = loop {
                    tokio::select! {
                        code = &mut query.exit => break format!("the query process exited with code {}", code.unwrap_or(1)),
                        () = stopped(&mut stop) => {
                            app.query_up.store(false, Ordering::SeqCst);
                            stop_group(query.pid, &mut query.exit, grace).await;
                            return;
                        }
                        () = app.hang.detected.notified() => {
                            if !app.hang.is_hung() {
                                continue; // counted against a process already replaced
                            }
                            app.query_up.store(false, Ordering::SeqCst);
                            tracing::warn!(timeouts = HUNG_AFTER, "the query process's handlers are all hung: every request timed out; stopping it");
                            let code = stop_group(query.pid, &mut query.exit, grace).await;
                            break format!("the hung query process was stopped (exit code {code})");
                        }
                    }
                };
                app.query_up.store(false, Ordering::SeqCst);
                app.pool.clear();
                ended
            }
            Err(e) => format!("cannot start the query process: {e}"),
        };
        if started.elapsed() >= Duration::from_secs(60) {
            backoff = Duration::from_secs(1);
        }
        tracing::warn!(restart_in_ms = backoff.as_millis() as u64, "{ended}");
        tokio::select! {
            () = tokio::time::sleep(backoff) => {}
            () = stopped(&mut stop) => return,
        }
        backoff = (backoff * 2).min(Duration::from_secs(30));
    }
}

/// Completes once `stop` turns true (or its sender is gone).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

async fn forward(State(app): State<Arc<App>>, request: Request) -> axum::response::Response {
    into_http(answer(&app, request).await)
}

async fn answer(app: &App, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let path = match decode_path(&parts.uri) {
        Ok(path) => path,
        Err(response) => return response,
    };
    if path == "/healthz" {
        let query = if app.query_up.load(Ordering::SeqCst) {
            "up"
        } else {
            "down"
        };
        return Response {
            status: 200,
            body: json!({"status": "ok", "query_process": query})
                .to_string()
                .into_bytes(),
        };
    }
    let Ok(_permit) = app.in_flight.try_acquire() else {
        return Response::overloaded(app.settings.max_in_flight);
    };
    let body = match read_body(body, &parts.headers, app.settings.max_body_bytes).await {
        Ok(body) => Bytes::from(body),
        Err(response) => return response,
    };
    let target = parts
        .uri
        .path_and_query()
        .map_or("/", |pq| pq.as_str())
        .to_owned();
    let content_type = parts.headers.get(header::CONTENT_TYPE).cloned();
    let outgoing = || {
        let mut request = hyper::Request::builder()
            .method(parts.method.clone())
            .uri(&target)
            .header(header::HOST, "localhost")
            .body(Full::new(body.clone()))
            .expect("a request from valid parts");
        if let Some(content_type) = &content_type {
            request
                .headers_mut()
                .insert(header::CONTENT_TYPE, content_type.clone());
        }
        request
    };
    match tokio::time::timeout(app.settings.timeout, app.pool.send(outgoing)).await {
        Ok(Ok(response)) => {
            app.hang.observe(&path, response.status);
            response
        }
        Ok(Err(message)) => {
            let state = if app.query_up.load(Ordering::SeqCst) {
                "is not answering"
            } else {
                "is not running"
            };
            Response::error(503, &format!("the query process {state}: {message}"))
        }
        Err(_) => {
            app.hang.observe(&path, 504);
            Response::timed_out(&path, app.settings.timeout)
        }
    }
}

/// Keep-alive HTTP/1 connections to the query process.
struct Pool {
    backend: Backend,
    idle: Mutex<Vec<SendRequest<Full<Bytes>>>>,
}

impl Pool {
    /// Sends a request (built by `make`, so that a stale pooled connection can be retried once on
    /// a new one) and reads the whole answer.
    async fn send(&self, make: impl Fn() -> hyper::Request<Full<Bytes>>) -> Result<Response, String> {
        let mut retried = false;
        loop {
            let pooled = self.idle.lock().expect("pool lock").pop();
            let reused = pooled.is_some();
            let mut sender = match pooled {
                Some(sender) => sender,
                None => self.connect().await?,
            };
            let sent = match sender.ready().await {
                Ok(()) => sender.send_request(make()).await,
                Err(e) => Err(e),
            };
            let response = match sent {
                Ok(response) => response,
                Err(_) if reused && !retried => {
                    retried = true;
                    continue;
                }
                Err(e) => return Err(e.to_string()),
            };
            let status = response.status().as_u16();
            let body = Limited::new(response.into_body(), MAX_RESPONSE_BYTES)
                .collect()
                .await
                .map_err(|e| format!("cannot read its answer: {e}"))?
                .to_bytes();
            let mut idle = self.idle.lock().expect("pool lock");
            if idle.len() < MAX_IDLE_CONNECTIONS {
                idle.push(sender);
            }
            return Ok(Response {
                status,
                body: body.to_vec(),
            });
        }
    }

    /// A new connection: the Unix socket when the process listens on it, else the loopback port.
    async fn connect(&self) -> Result<SendRequest<Full<Bytes>>, String> {
        if self.backend.socket.exists() {
            let stream = tokio::net::UnixStream::connect(&self.backend.socket)
                .await
                .map_err(|e| e.to_string())?;
            handshake(stream).await
        } else {
            let stream = tokio::net::TcpStream::connect(("127.0.0.1", self.backend.port))
                .await
                .map_err(|e| e.to_string())?;
            let _ = stream.set_nodelay(true);
            handshake(stream).await
        }
    }

    fn clear(&self) {
        self.idle.lock().expect("pool lock").clear();
    }
}

/// An HTTP/1 client connection over `stream`, driven by a background task.
async fn handshake<S>(stream: S) -> Result<SendRequest<Full<Bytes>>, String>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (sender, connection) = http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(connection);
    Ok(sender)
}
