//! The query service: started in the detected mode, polled by host threads, finished with an exit
//! code.
//!
//! A host (Rust's `query::run`, or a binding) does:
//!
//! ```text
//! mode = start()
//! loop { match next(timeout) { Request(r) => respond(r.id, handler(r)), Idle => continue, Done => break } }
//! exit_code = finish()
//! ```
//!
//! In server mode `next` yields every HTTP request for a registered path until the server stops
//! (`stop()`, or SIGTERM/SIGINT with [`StartOptions::handle_signals`]). In ephemeral and info modes
//! it yields at most one request — none when the core answers the path itself — and `finish`
//! returns once the result file is written.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::mpsc::{RecvTimeoutError, sync_channel};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use tokio::sync::{Semaphore, watch};

use crate::env;
use crate::error::{Error, Result};
use crate::fsutil::write_atomic;
use crate::input::{LogLevel, log};
use crate::query::dispatch::{self, Next, Queue, Reply, ReplySink};
use crate::query::envelope::{Response, status};
use crate::query::mode::{Listen, Mode, Plan, ServingGuard, Settings};
use crate::query::params;
use crate::query::registry::{INFO_PATH, Registry, Route};
use crate::query::server::{self, App, Listener};

/// Options a host chooses when starting the service.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StartOptions {
    /// Stop the server on SIGTERM or SIGINT. Hosts with their own signal handling (Python, Node)
    /// leave this off and call `stop` themselves.
    pub handle_signals: bool,
}

/// A started query service.
#[derive(Debug)]
pub struct Service {
    mode: Mode,
    queue: Queue,
    local_addr: Option<SocketAddr>,
    stop: Option<watch::Sender<bool>>,
    finisher: Mutex<Option<JoinHandle<i32>>>,
    exit_code: OnceLock<i32>,
}

impl Service {
    /// Starts serving `registry` as `plan` says. Server mode binds before returning, so a port in
    /// use is reported here.
    pub fn start(
        registry: Arc<Registry>,
        plan: Plan,
        settings: Settings,
        options: StartOptions,
    ) -> Result<Service> {
        let mode = plan.mode();
        match plan {
            Plan::Ephemeral { path, params } => Ok(Self::answer_once(
                &registry,
                mode,
                path,
                params.as_deref(),
                settings,
            )),
            Plan::Info => Ok(Self::answer_once(
                &registry,
                mode,
                INFO_PATH.to_owned(),
                None,
                settings,
            )),
            Plan::Server(listen) => Self::serve(registry, &listen, settings, options),
        }
    }

    /// The mode the service runs in.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// The bound TCP address in server mode over TCP.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.local_addr
    }

    /// Waits up to `timeout` for a request (see [`Queue::next`]).
    pub fn next(&self, timeout: Duration) -> Next {
        self.queue.next(timeout)
    }

    /// Answers a request (see [`Queue::respond`]).
    pub fn respond(&self, id: u64, reply: Reply) -> Result<()> {
        self.queue.respond(id, reply)
    }

    /// Asks the server to stop: no new connections; requests in flight still get their answer
    /// (or their timeout). A no-op in ephemeral and info modes.
    pub fn stop(&self) {
        if let Some(stop) = &self.stop {
            stop.send_replace(true);
        }
    }

    /// Waits until the service has finished and returns the process exit code: 0, or 1 when an
    /// ephemeral query failed, its result could not be written, or the server failed.
    pub fn finish(&self) -> i32 {
        *self.exit_code.get_or_init(|| {
            let handle = self.finisher.lock().expect("finisher lock").take();
            handle.map_or(1, |h| h.join().unwrap_or(1))
        })
    }

    fn answer_once(
        registry: &Registry,
        mode: Mode,
        path: String,
        params_text: Option<&str>,
        settings: Settings,
    ) -> Service {
        let (submitter, queue) = dispatch::channel();
        let result_file = settings.result_file;
        let finisher = match params::from_json_text(env::QUERY_PARAMS, params_text) {
            Err(e) => {
                let response = Response::error(status::BAD_REQUEST, &e.to_string());
                thread::spawn(move || write_result(&result_file, &response))
            }
            Ok(params) => match registry.route(&path) {
                Route::Answered(response) => thread::spawn(move || write_result(&result_file, &response)),
                Route::Handler => {
                    let (tx, rx) = sync_channel(1);
                    submitter.submit(&path, params, ReplySink::Blocking(tx));
                    let timeout = settings.timeout;
                    thread::spawn(move || {
                        let response = match rx.recv_timeout(timeout) {
                            Ok(response) => response,
                            Err(RecvTimeoutError::Timeout) => {
                                exit_after_timeout(&result_file, &path, timeout)
                            }
                            Err(RecvTimeoutError::Disconnected) => {
                                Response::error(status::UNAVAILABLE, "the query service has stopped")
                            }
                        };
                        write_result(&result_file, &response)
                    })
                }
            },
        };
        drop(submitter); // the queue reports Done once the host has taken the request, if any
        Service {
            mode,
            queue,
            local_addr: None,
            stop: None,
            finisher: Mutex::new(Some(finisher)),
            exit_code: OnceLock::new(),
        }
    }

    fn serve(
        registry: Arc<Registry>,
        listen: &Listen,
        settings: Settings,
        options: StartOptions,
    ) -> Result<Service> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(io_threads())
            .thread_name("the0-query-io")
            .enable_all()
            .build()
            .map_err(|e| Error::io("cannot start the query server runtime", e))?;
        let listener = {
            let _entered = runtime.enter();
            Listener::bind(listen)?
        };
        let local_addr = listener.tcp_addr();
        let (submitter, queue) = dispatch::channel();
        let app = Arc::new(App {
            registry,
            submitter,
            in_flight: Semaphore::new(settings.max_in_flight),
            settings,
        });
        let (stop, stopped) = watch::channel(false);
        let finisher = thread::Builder::new()
            .name("the0-query-server".to_owned())
            .spawn(move || {
                log(
                    &format!("Query server started on {}", listener.describe()),
                    None,
                    Some(LogLevel::Info),
                );
                let shutdown = server::shutdown_signal(stopped, options.handle_signals);
                let served = runtime.block_on(server::serve(listener, app, shutdown));
                // Dropping the runtime drops the last submitter: hosts polling `next` see Done.
                drop(runtime);
                match served {
                    Ok(()) => 0,
                    Err(e) => {
                        log(&format!("query server failed: {e}"), None, Some(LogLevel::Error));
                        1
                    }
                }
            })
            .map_err(|e| Error::io("cannot start the query server thread", e))?;
        Ok(Service {
            mode: Mode::Server,
            queue,
            local_addr,
            stop: Some(stop),
            finisher: Mutex::new(Some(finisher)),
            exit_code: OnceLock::new(),
        })
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Threads serving HTTP; handlers run on host threads, so a few are enough.
fn io_threads() -> usize {
    thread::available_parallelism().map_or(2, |n| n.get()).clamp(1, 4)
}

/// Writes the ephemeral answer; returns the exit code (1 if the file could not be written).
fn write_result(file: &Path, response: &Response) -> i32 {
    match write_atomic(file, &response.body) {
        Ok(()) => response.exit_code(),
        Err(e) => {
            let message = format!("cannot write query result {}: {e}", file.display());
            log(&message, None, Some(LogLevel::Error));
            1
        }
    }
}

/// An ephemeral handler that hangs holds the host's only thread: write the timeout answer so the
/// caller gets one, and end the process.
fn exit_after_timeout(file: &Path, path: &str, timeout: Duration) -> ! {
    let message = format!("handler for {path} timed out after {} ms", timeout.as_millis());
    write_result(file, &Response::error(status::TIMEOUT, &message));
    log(&message, None, Some(LogLevel::Error));
    std::process::exit(1)
}

/// The process-wide service of `start`/`next`/`respond`/`stop`/`finish`.
struct Running {
    service: Service,
    _serving: ServingGuard,
}

static CURRENT: Mutex<Option<Arc<Running>>> = Mutex::new(None);

fn current() -> Result<Arc<Running>> {
    CURRENT
        .lock()
        .expect("service lock")
        .clone()
        .ok_or_else(|| Error::InvalidState("the query service is not running; call start first".to_owned()))
}

/// Registers `path` in the global registry (a host's handler will answer it) and returns the
/// path as stored (a missing leading `/` is added).
pub fn register(path: &str) -> Result<String> {
    Registry::global().register(path)
}

/// Starts the process-wide service over the global registry, in the mode detected from the
/// environment. From now until [`finish`], state is read-only in this process.
pub fn start(options: StartOptions) -> Result<Mode> {
    let mut slot = CURRENT.lock().expect("service lock");
    if slot.is_some() {
        return Err(Error::InvalidState(
            "the query service is already running".to_owned(),
        ));
    }
    let serving = ServingGuard::new();
    let service = Service::start(
        Registry::global(),
        Plan::from_env()?,
        Settings::from_env()?,
        options,
    )?;
    let mode = service.mode();
    *slot = Some(Arc::new(Running {
        service,
        _serving: serving,
    }));
    Ok(mode)
}

/// Waits up to `timeout` for a request of the process-wide service.
pub fn next(timeout: Duration) -> Result<Next> {
    Ok(current()?.service.next(timeout))
}

/// Answers request `id` of the process-wide service.
pub fn respond(id: u64, reply: Reply) -> Result<()> {
    current()?.service.respond(id, reply)
}

/// Asks the process-wide service to stop (server mode).
pub fn stop() -> Result<()> {
    current()?.service.stop();
    Ok(())
}

/// Waits for the process-wide service to finish, releases it, and returns the exit code.
pub fn finish() -> Result<i32> {
    let running = current()?;
    let code = running.service.finish();
    CURRENT.lock().expect("service lock").take();
    Ok(code)
}
