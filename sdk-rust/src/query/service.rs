//! One run of the query service: started in a detected mode, polled by host threads, finished
//! with an exit code and the lines the host prints. Hosts reach it through
//! [`crate::host::Host`], which owns the process's (or the host context's) one running service:
//!
//! ```text
//! started = start()        print started.stderr
//! loop { match next(timeout) { Request(r) => respond(r.id, handler(r)), Idle => continue, Done => break } }
//! finished = finish()      print finished.stderr, exit with finished.exit_code
//! ```
//!
//! In server mode `next` yields every HTTP request for a registered path until the server stops
//! (`stop()`, or SIGTERM/SIGINT with [`StartOptions::handle_signals`]). In ephemeral and info modes
//! it yields at most one request — none when the core answers the path itself — and `finish`
//! returns once the result file is written.
//!
//! The core never prints while serving and never ends the process (unless a host asks for
//! [`StartOptions::exit_on_timeout`]): what it has to say comes back from `start` and `finish` as
//! lines, so that hosts write them through their own streams, in order with their own output.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{RecvTimeoutError, sync_channel};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use tokio::sync::{Semaphore, watch};

use crate::env;
use crate::error::{Error, Result};
use crate::fsutil::write_atomic;
use crate::input::{LogLevel, format_log, print_line};
use crate::query::dispatch::{self, Next, Queue, Reply, ReplySink};
use crate::query::envelope::{Response, status};
use crate::query::mode::{Listen, Mode, Plan, Settings};
use crate::query::params;
use crate::query::registry::{INFO_PATH, Registry, Route};
use crate::query::server::{self, App, Listener};

/// Options a host chooses when starting the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StartOptions {
    /// Stop the server on SIGTERM or SIGINT. Hosts with their own signal handling (Python, Node,
    /// the JVM, .NET) leave this off and call `stop` themselves.
    pub handle_signals: bool,
    /// In ephemeral mode, when the handler does not answer in time, write the 504 result, print
    /// the timeout line on file descriptor 2 and end the process with code 1 from the core's
    /// thread. Off by default: `finish` then reports the timeout ([`Finished::abandoned`]) and
    /// the host ends its process its own way (exit hooks, finalizers). For hosts whose only
    /// thread runs the hung handler and so can never call `finish`.
    pub exit_on_timeout: bool,
    /// Handler threads a host runs in server mode when `THE0_QUERY_WORKERS` is not set (its own
    /// sensible default: the CPU count for Rust, a few for Python...).
    pub default_workers: usize,
}

impl Default for StartOptions {
    fn default() -> Self {
        StartOptions {
            handle_signals: false,
            exit_on_timeout: false,
            default_workers: 1,
        }
    }
}

/// How a run ended: what `finish` hands back to the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finished {
    /// The code the process should exit with: 0, or 1 when the ephemeral query failed, its result
    /// could not be written, or the server failed.
    pub exit_code: i32,
    /// The ephemeral handler did not answer in time: the 504 result is written, and the handler
    /// is still running on a host thread. Do not wait for it: end the process (`exit_code` is 1).
    pub abandoned: bool,
    /// Log lines to print on the host's stderr, in order (the timeout, a result file that could
    /// not be written, a server failure).
    pub stderr: Vec<String>,
}

impl Finished {
    fn new(exit_code: i32) -> Finished {
        Finished {
            exit_code,
            abandoned: false,
            stderr: Vec::new(),
        }
    }
}

/// The ephemeral or info answer of a service that keeps it ([`crate::host::Host::start_keeping_answer`]),
/// for a host that writes it itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// Where it belongs: `THE0_QUERY_RESULT_FILE`, or `/query/result.json`.
    pub file: PathBuf,
    /// The envelope, JSON text.
    pub body: String,
}

/// Who writes the ephemeral or info answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AnswerTo {
    /// The core, atomically, to the result file.
    File,
    /// The host: the answer is kept for [`Service::answer`].
    Host,
}

/// How a run ended, with the answer when the host writes it.
#[derive(Debug, Clone)]
struct Outcome {
    finished: Finished,
    answer: Option<Answer>,
}

impl From<Finished> for Outcome {
    fn from(finished: Finished) -> Self {
        Outcome {
            finished,
            answer: None,
        }
    }
}

/// A started query service.
#[derive(Debug)]
pub struct Service {
    mode: Mode,
    queue: Queue,
    local_addr: Option<SocketAddr>,
    /// Where the server listens, for the start line (server mode only).
    listening: Option<String>,
    stop: Option<watch::Sender<bool>>,
    finisher: Mutex<Option<JoinHandle<Outcome>>>,
    outcome: OnceLock<Outcome>,
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
        Self::launch(registry, plan, settings, options, AnswerTo::File)
    }

    /// [`Service::start`], with the ephemeral or info answer written by the core
    /// ([`AnswerTo::File`]) or kept for [`Service::answer`] ([`AnswerTo::Host`]).
    pub(crate) fn launch(
        registry: Arc<Registry>,
        plan: Plan,
        settings: Settings,
        options: StartOptions,
        answer_to: AnswerTo,
    ) -> Result<Service> {
        let mode = plan.mode();
        let once = |path: String, params: Option<String>| Once {
            mode,
            path,
            params,
            settings: settings.clone(),
            options,
            answer_to,
        };
        match plan {
            Plan::Ephemeral { path, params } => Ok(Self::answer_once(&registry, once(path, params))),
            Plan::Info => Ok(Self::answer_once(&registry, once(INFO_PATH.to_owned(), None))),
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

    /// The lines a host prints when the service has started: in server mode, where it listens.
    pub fn started_lines(&self) -> Vec<String> {
        self.listening
            .iter()
            .map(|at| {
                format_log(
                    &format!("Query server started on {at}"),
                    None,
                    Some(LogLevel::Info),
                )
            })
            .collect()
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

    /// Waits until the service has finished and returns how it ended.
    pub fn finish(&self) -> Finished {
        self.outcome().finished.clone()
    }

    /// Once finished: the ephemeral or info answer of a service that keeps it (`None` in server
    /// mode, or when the core wrote it).
    pub fn answer(&self) -> Option<Answer> {
        self.outcome().answer.clone()
    }

    fn outcome(&self) -> &Outcome {
        self.outcome.get_or_init(|| {
            let handle = self.finisher.lock().expect("finisher lock").take();
            handle
                .and_then(|h| h.join().ok())
                .unwrap_or_else(|| Finished::new(1).into())
        })
    }

    fn answer_once(registry: &Registry, once: Once) -> Service {
        let (submitter, queue) = dispatch::channel();
        let mode = once.mode;
        let finisher = match params::from_json_text(env::QUERY_PARAMS, once.params.as_deref()) {
            Err(e) => {
                let response = Response::error(status::BAD_REQUEST, &e.to_string());
                thread::spawn(move || once.deliver(&response))
            }
            Ok(params) => match registry.route(&once.path) {
                Route::Answered(response) => thread::spawn(move || once.deliver(&response)),
                Route::Handler => {
                    let (tx, rx) = sync_channel(1);
                    submitter.submit(&once.path, params, ReplySink::Blocking(tx));
                    thread::spawn(move || match rx.recv_timeout(once.settings.timeout) {
                        Ok(response) => once.deliver(&response),
                        Err(RecvTimeoutError::Timeout) => once.timed_out(),
                        Err(RecvTimeoutError::Disconnected) => once.deliver(&Response::error(
                            status::UNAVAILABLE,
                            "the query service has stopped",
                        )),
                    })
                }
            },
        };
        drop(submitter); // the queue reports Done once the host has taken the request, if any
        Service {
            mode,
            queue,
            local_addr: None,
            listening: None,
            stop: None,
            finisher: Mutex::new(Some(finisher)),
            outcome: OnceLock::new(),
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
        let listening = Some(listener.describe());
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
                let shutdown = server::shutdown_signal(stopped, options.handle_signals);
                let served = runtime.block_on(server::serve(listener, app, shutdown));
                // Dropping the runtime drops the last submitter: hosts polling `next` see Done.
                drop(runtime);
                Outcome::from(match served {
                    Ok(()) => Finished::new(0),
                    Err(e) => Finished {
                        stderr: vec![error_line(&format!("query server failed: {e}"))],
                        ..Finished::new(1)
                    },
                })
            })
            .map_err(|e| Error::io("cannot start the query server thread", e))?;
        Ok(Service {
            mode: Mode::Server,
            queue,
            local_addr,
            listening,
            stop: Some(stop),
            finisher: Mutex::new(Some(finisher)),
            outcome: OnceLock::new(),
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

fn error_line(message: &str) -> String {
    format_log(message, None, Some(LogLevel::Error))
}

/// One ephemeral or info run: the path to answer and what becomes of the answer.
struct Once {
    mode: Mode,
    path: String,
    params: Option<String>,
    settings: Settings,
    options: StartOptions,
    answer_to: AnswerTo,
}

impl Once {
    /// Writes the answer (or keeps it for the host); the exit code is 1 when it is an error or
    /// cannot be written.
    fn deliver(&self, response: &Response) -> Outcome {
        match self.answer_to {
            AnswerTo::File => write_result(&self.settings.result_file, response).into(),
            AnswerTo::Host => Outcome {
                finished: Finished::new(response.exit_code()),
                answer: Some(Answer {
                    file: self.settings.result_file.clone(),
                    body: String::from_utf8_lossy(&response.body).into_owned(),
                }),
            },
        }
    }

    /// The handler did not answer in time: deliver the 504 answer so the caller gets one, and
    /// report it. The handler still holds a host thread, so the host must end the process; with
    /// [`StartOptions::exit_on_timeout`] the core does it here, after writing the answer itself.
    fn timed_out(&self) -> Outcome {
        let timeout = self.settings.timeout;
        let response = Response::timed_out(&self.path, timeout);
        let exit_now = self.options.exit_on_timeout;
        let mut outcome = if exit_now {
            write_result(&self.settings.result_file, &response).into()
        } else {
            self.deliver(&response)
        };
        let finished = &mut outcome.finished;
        finished.abandoned = true;
        finished.stderr.insert(
            0,
            error_line(&format!(
                "handler for {} timed out after {} ms",
                self.path,
                timeout.as_millis()
            )),
        );
        if exit_now {
            let mut stderr = std::io::stderr().lock();
            for line in &finished.stderr {
                print_line(&mut stderr, line);
            }
            crate::input::exit(1);
        }
        outcome
    }
}

/// Writes the ephemeral answer; the exit code is 1 when it is an error or cannot be written.
fn write_result(file: &Path, response: &Response) -> Finished {
    match write_atomic(file, &response.body) {
        Ok(()) => Finished::new(response.exit_code()),
        Err(e) => Finished {
            stderr: vec![result_write_error(file, &e.to_string())],
            ..Finished::new(1)
        },
    }
}

/// The error line of an ephemeral answer that cannot be written to `file` (`reason`: why).
pub fn result_write_error(file: &Path, reason: &str) -> String {
    error_line(&format!("cannot write query result {}: {reason}", file.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const WAIT: Duration = Duration::from_secs(10);

    fn settings(result_file: &Path) -> Settings {
        Settings {
            result_file: result_file.to_owned(),
            ..Settings::default()
        }
    }

    fn body(path: &Path) -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
    }

    #[test]
    fn a_path_the_core_answers_never_reaches_the_host() {
        let dir = tempfile::tempdir().unwrap();
        let result = dir.path().join("r.json");
        let plan = Plan::Ephemeral {
            path: "/health".into(),
            params: None,
        };
        let service =
            Service::start(Arc::default(), plan, settings(&result), StartOptions::default()).unwrap();
        assert_eq!(service.mode(), Mode::Ephemeral);
        assert_eq!(service.next(WAIT), Next::Done);
        assert_eq!(service.finish(), Finished::new(0));
        assert_eq!(service.finish(), Finished::new(0), "finish is idempotent");
        assert_eq!(
            body(&result),
            serde_json::json!({"status": "ok", "data": {"status": "ok"}})
        );
    }

    #[test]
    fn bad_params_are_a_400_answer_and_exit_code_1() {
        let dir = tempfile::tempdir().unwrap();
        let result = dir.path().join("r.json");
        let registry = Arc::new(Registry::default());
        registry.register("/p").unwrap();
        let plan = Plan::Ephemeral {
            path: "/p".into(),
            params: Some("[1]".into()),
        };
        let service = Service::start(registry, plan, settings(&result), StartOptions::default()).unwrap();
        assert_eq!(service.next(WAIT), Next::Done);
        assert_eq!(service.finish().exit_code, 1);
        assert_eq!(
            body(&result),
            serde_json::json!({"status": "error", "error": "QUERY_PARAMS must be a JSON object, got an array"})
        );
    }

    #[test]
    fn a_unix_socket_server_reports_where_it_listens_and_removes_its_socket() {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("run/q.sock");
        let plan = Plan::Server(Listen::Unix(socket.clone()));
        let service = Service::start(
            Arc::default(),
            plan,
            settings(&dir.path().join("unused")),
            StartOptions::default(),
        )
        .unwrap();
        assert_eq!((service.mode(), service.local_addr()), (Mode::Server, None));
        let line: serde_json::Value = serde_json::from_str(&service.started_lines()[0]).unwrap();
        assert_eq!(
            line["message"],
            format!("Query server started on unix:{}", socket.display())
        );
        assert!(socket.exists());
        service.stop();
        assert_eq!(service.next(WAIT), Next::Done);
        assert_eq!(service.finish(), Finished::new(0));
        assert!(!socket.exists(), "the socket file is removed");
    }

    #[test]
    fn dropping_a_running_server_stops_it() {
        let plan = Plan::Server(Listen::Tcp("127.0.0.1:0".parse().unwrap()));
        let service =
            Service::start(Arc::default(), plan, Settings::default(), StartOptions::default()).unwrap();
        let addr = service.local_addr().expect("a TCP address");
        assert_ne!(addr.port(), 0, "port 0 is read back as the bound port");
        drop(service);
        // The listener closes once the server thread has stopped: connecting eventually fails.
        let refused = (0..200).any(|_| {
            let gone = std::net::TcpStream::connect(addr).is_err();
            if !gone {
                thread::sleep(Duration::from_millis(25));
            }
            gone
        });
        assert!(refused, "the server still listens on {addr}");
    }
}
