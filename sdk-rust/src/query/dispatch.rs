//! The poll queue between the core and the host: the core never calls into a host language.
//!
//! The server (on its own tokio threads) [`Submitter::submit`]s each request and awaits its reply;
//! host threads call [`Queue::next`] to take a request, run their handler, and call
//! [`Queue::respond`]. Requests are identified by a number, so any language can hold one.
//!
//! When every [`Submitter`] is gone (the server stopped, or the single ephemeral request was
//! queued) and the queue is drained, `next` returns [`Next::Done`].

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::query::envelope::{Response, status};
use crate::query::params::{self, Params, string_view};

/// A request taken by a host with [`Queue::next`].
#[derive(Debug, Clone, PartialEq)]
pub struct Incoming {
    /// Pass this to [`Queue::respond`].
    pub id: u64,
    /// The registered path that was requested.
    pub path: String,
    /// Parameters, typed (see [`crate::query::params`]).
    pub params: Params,
}

impl Incoming {
    /// The parameters as JSON object text.
    pub fn params_json(&self) -> String {
        Value::Object(self.params.clone()).to_string()
    }

    /// The parameters in string form, as the Rust `QueryRequest::get` returns them.
    pub fn string_params(&self) -> HashMap<String, String> {
        string_view(&self.params)
    }

    /// The parameters in string form as a JSON object of strings, keys sorted (see
    /// [`params::strings_json`]).
    pub fn strings_json(&self) -> String {
        params::strings_json(&self.params)
    }
}

/// What [`Queue::next`] found.
#[derive(Debug, Clone, PartialEq)]
pub enum Next {
    /// A request to handle.
    Request(Incoming),
    /// Nothing arrived within the timeout; call again.
    Idle,
    /// The service has finished; there will be no more requests.
    Done,
}

/// A host's answer to a request.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// The handler's result as JSON text (validated and made canonical by the core).
    Json(String),
    /// The handler's result as a value (Rust handlers).
    Value(Value),
    /// The handler failed with this message: answered 500.
    Error(String),
    /// The host could not turn the handler's result into JSON, for this reason: answered 500
    /// `handler result cannot be serialized: <reason>`.
    Unserializable(String),
}

/// Where the answer to one request goes.
#[derive(Debug)]
pub(crate) enum ReplySink {
    /// An HTTP request awaiting on a tokio task.
    Async(tokio::sync::oneshot::Sender<Response>),
    /// The ephemeral run's watchdog thread.
    Blocking(std::sync::mpsc::SyncSender<Response>),
}

impl ReplySink {
    fn send(self, response: Response) {
        // The receiver may be gone (client disconnected, request timed out): nothing to do then.
        let _ = match self {
            ReplySink::Async(tx) => tx.send(response).map_err(drop),
            ReplySink::Blocking(tx) => tx.send(response).map_err(drop),
        };
    }

    fn is_abandoned(&self) -> bool {
        match self {
            ReplySink::Async(tx) => tx.is_closed(),
            ReplySink::Blocking(_) => false,
        }
    }
}

#[derive(Debug)]
struct Pending {
    path: String,
    sink: ReplySink,
}

#[derive(Debug, Default)]
struct Shared {
    pending: Mutex<HashMap<u64, Pending>>,
    next_id: AtomicU64,
}

impl Shared {
    fn take(&self, id: u64) -> Option<Pending> {
        self.pending.lock().expect("pending lock").remove(&id)
    }
}

/// The core's side of the queue: puts requests in.
#[derive(Debug, Clone)]
pub(crate) struct Submitter {
    tx: Sender<Incoming>,
    shared: Arc<Shared>,
}

/// The host's side of the queue: takes requests out and answers them.
#[derive(Debug)]
pub struct Queue {
    rx: Receiver<Incoming>,
    shared: Arc<Shared>,
}

/// A new, empty queue.
pub(crate) fn channel() -> (Submitter, Queue) {
    let (tx, rx) = crossbeam_channel::unbounded();
    let shared = Arc::new(Shared::default());
    (
        Submitter {
            tx,
            shared: Arc::clone(&shared),
        },
        Queue { rx, shared },
    )
}

impl Submitter {
    /// Queues a request whose answer goes to `sink`, and returns its id. If no host side is left,
    /// `sink` is answered 503 at once.
    pub(crate) fn submit(&self, path: &str, params: Params, sink: ReplySink) -> u64 {
        let id = self.shared.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        self.shared.pending.lock().expect("pending lock").insert(
            id,
            Pending {
                path: path.to_owned(),
                sink,
            },
        );
        let incoming = Incoming {
            id,
            path: path.to_owned(),
            params,
        };
        if self.tx.send(incoming).is_err() {
            // The host side is gone: the service was dropped while the server still ran.
            if let Some(pending) = self.shared.take(id) {
                pending.sink.send(Response::error(
                    status::UNAVAILABLE,
                    "the query service has stopped",
                ));
            }
        }
        id
    }

    /// Forgets a request that will not be answered (timed out): a late `respond` is then
    /// [`Error::UnknownRequest`], and `next` skips it if no host has taken it yet.
    pub(crate) fn cancel(&self, id: u64) {
        self.shared.take(id);
    }
}

impl Queue {
    /// Waits up to `timeout` for a request.
    pub fn next(&self, timeout: Duration) -> Next {
        let deadline = Instant::now() + timeout;
        loop {
            let wait = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(wait) {
                Ok(incoming) if self.claim(incoming.id) => return Next::Request(incoming),
                Ok(_) => continue, // timed out or abandoned before any host took it
                Err(RecvTimeoutError::Timeout) => return Next::Idle,
                Err(RecvTimeoutError::Disconnected) => return Next::Done,
            }
        }
    }

    /// Answers request `id`. An invalid [`Reply::Json`] is answered 500 and reported as
    /// [`Error::InvalidJson`]; an id that is not pending is [`Error::UnknownRequest`].
    pub fn respond(&self, id: u64, reply: Reply) -> Result<()> {
        let Pending { path, sink } = self.shared.take(id).ok_or(Error::UnknownRequest { id })?;
        let (response, outcome) = match reply {
            Reply::Value(data) => (Response::ok(&data), Ok(())),
            Reply::Json(text) => {
                match crate::json::canonicalize(&format!("result of the handler for {path}"), &text) {
                    Ok(canonical) => (Response::ok_canonical(&canonical), Ok(())),
                    Err(e) => (Response::error(status::INTERNAL_ERROR, &e.to_string()), Err(e)),
                }
            }
            Reply::Error(message) => (Response::error(status::INTERNAL_ERROR, &message), Ok(())),
            Reply::Unserializable(reason) => (
                Response::error(
                    status::INTERNAL_ERROR,
                    &format!("handler result cannot be serialized: {reason}"),
                ),
                Ok(()),
            ),
        };
        sink.send(response);
        outcome
    }

    /// Whether request `id` still wants an answer; forgets it if its client has gone.
    fn claim(&self, id: u64) -> bool {
        let mut pending = self.shared.pending.lock().expect("pending lock");
        match pending.get(&id) {
            Some(p) if !p.sink.is_abandoned() => true,
            Some(_) => {
                pending.remove(&id);
                false
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Status;
    use serde_json::json;

    fn blocking() -> (ReplySink, std::sync::mpsc::Receiver<Response>) {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        (ReplySink::Blocking(tx), rx)
    }

    fn body(r: &Response) -> Value {
        serde_json::from_slice(&r.body).unwrap()
    }

    #[test]
    fn request_reply_round_trip() {
        let (submitter, queue) = channel();
        let (sink, answers) = blocking();
        let id = submitter.submit("/p", json!({"a": 1}).as_object().unwrap().clone(), sink);
        let Next::Request(req) = queue.next(Duration::from_secs(1)) else {
            panic!()
        };
        assert_eq!(
            (req.id, req.path.as_str(), req.params_json()),
            (id, "/p", r#"{"a":1}"#.to_owned())
        );
        queue.respond(id, Reply::Json("{ \"x\" : [1] }".into())).unwrap();
        let r = answers.recv().unwrap();
        assert_eq!(
            (r.status, r.body),
            (200, br#"{"status":"ok","data":{"x":[1]}}"#.to_vec())
        );
    }

    #[test]
    fn unknown_double_and_invalid_replies() {
        let (submitter, queue) = channel();
        assert_eq!(
            queue.respond(42, Reply::Value(json!(1))).unwrap_err().status(),
            Status::UnknownRequest
        );
        let (sink, answers) = blocking();
        let id = submitter.submit("/p", Params::new(), sink);
        let err = queue.respond(id, Reply::Json("{nope".into())).unwrap_err();
        assert_eq!(err.status(), Status::InvalidJson);
        let r = answers.recv().unwrap();
        assert_eq!(r.status, 500);
        assert!(
            body(&r)["error"]
                .as_str()
                .unwrap()
                .starts_with("result of the handler for /p is not valid JSON")
        );
        assert_eq!(
            queue.respond(id, Reply::Value(json!(1))).unwrap_err().status(),
            Status::UnknownRequest
        );
    }

    #[test]
    fn error_reply_is_500() {
        let (submitter, queue) = channel();
        let (sink, answers) = blocking();
        let id = submitter.submit("/p", Params::new(), sink);
        queue.respond(id, Reply::Error("boom".into())).unwrap();
        let r = answers.recv().unwrap();
        assert_eq!(
            (r.status, body(&r)),
            (500, json!({"status": "error", "error": "boom"}))
        );
    }

    #[test]
    fn cancelled_and_abandoned_requests_are_skipped() {
        let (submitter, queue) = channel();
        let (sink, _answers) = blocking();
        let cancelled = submitter.submit("/a", Params::new(), sink);
        submitter.cancel(cancelled);
        let (tx, rx) = tokio::sync::oneshot::channel();
        submitter.submit("/b", Params::new(), ReplySink::Async(tx));
        drop(rx);
        let (sink, _answers) = blocking();
        let live = submitter.submit("/c", Params::new(), sink);
        let Next::Request(req) = queue.next(Duration::from_secs(1)) else {
            panic!()
        };
        assert_eq!(req.id, live);
        assert_eq!(queue.next(Duration::from_millis(10)), Next::Idle);
        assert_eq!(
            queue
                .respond(cancelled, Reply::Value(json!(1)))
                .unwrap_err()
                .status(),
            Status::UnknownRequest
        );
    }

    #[test]
    fn done_after_submitters_are_gone_and_queue_drained() {
        let (submitter, queue) = channel();
        let (sink, _answers) = blocking();
        submitter.submit("/a", Params::new(), sink);
        drop(submitter);
        assert!(matches!(queue.next(Duration::from_secs(1)), Next::Request(_)));
        assert_eq!(queue.next(Duration::from_secs(1)), Next::Done);
    }
}
