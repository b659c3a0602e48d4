//! Child processes: spawning, reaping, signalling, and the output tee.
//!
//! The agent is PID 1 in its container, so every orphaned grandchild becomes its child; it also
//! declares itself a *subreaper*, so the same holds when it is not PID 1 (tests, `run`). One task
//! reaps every exited child with `waitpid(-1)`. Exit statuses of the children the agent started
//! are routed to whoever waits for them; orphans are reaped and forgotten.
//!
//! Spawning and reaping share one lock: a child that exits at once cannot be reaped before its
//! pid is registered (which would lose its status), and the standard library's own `waitpid`
//! inside `Command::spawn` never races the reaper.

use std::collections::{HashMap, VecDeque};
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::oneshot;

use crate::sync::format_line;

/// Reaps children and hands out their exit codes.
#[derive(Clone)]
pub struct Supervisor {
    children: Arc<Mutex<HashMap<i32, oneshot::Sender<i32>>>>,
}

/// A started child.
pub struct Spawned {
    pub pid: i32,
    /// Resolves to the exit code: the process's own, or 128 + the signal that killed it.
    pub exit: oneshot::Receiver<i32>,
    /// The child's stdout and stderr, when they were piped.
    pub stdout: Option<std::process::ChildStdout>,
    pub stderr: Option<std::process::ChildStderr>,
    /// The threads copying its output ([`Tee::attach`]).
    pub output: Vec<JoinHandle<()>>,
}

impl Spawned {
    /// Waits, at most `limit`, until everything the process wrote has been copied: its output
    /// threads end when the last writer of its pipes exits.
    pub async fn drain_output(&mut self, limit: Duration) {
        let deadline = tokio::time::Instant::now() + limit;
        for thread in self.output.drain(..) {
            while !thread.is_finished() && tokio::time::Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
}

impl Supervisor {
    /// Becomes the subreaper of this process's descendants and starts reaping. Must be called
    /// inside a tokio runtime, before the first child is spawned.
    pub fn start() -> Supervisor {
        // SAFETY: prctl with PR_SET_CHILD_SUBREAPER takes plain integer arguments.
        if unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) } != 0 {
            tracing::warn!(error = %io::Error::last_os_error(), "cannot become a subreaper; orphans are reaped only as PID 1");
        }
        let supervisor = Supervisor {
            children: Arc::default(),
        };
        let reaper = supervisor.clone();
        let mut sigchld = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::child()).ok();
        tokio::spawn(async move {
            loop {
                match &mut sigchld {
                    // A missed signal is caught by the next tick.
                    Some(signal) => {
                        let _ = tokio::time::timeout(Duration::from_secs(1), signal.recv()).await;
                    }
                    None => tokio::time::sleep(Duration::from_millis(100)).await,
                }
                reaper.reap();
            }
        });
        supervisor
    }

    /// Starts `command` in a process group of its own (so that signals reach its descendants).
    pub fn spawn(&self, command: &mut Command) -> io::Result<Spawned> {
        command.process_group(0);
        let mut children = self.children.lock().expect("children lock");
        let mut child = command.spawn()?;
        let pid = child.id() as i32;
        let (tx, exit) = oneshot::channel();
        children.insert(pid, tx);
        Ok(Spawned {
            pid,
            exit,
            stdout: child.stdout.take(),
            stderr: child.stderr.take(),
            output: Vec::new(),
        })
        // `child` is dropped without waiting: the reaper owns its exit status.
    }

    /// Collects every exited child.
    fn reap(&self) {
        let mut children = self.children.lock().expect("children lock");
        loop {
            let mut status = 0;
            // SAFETY: waitpid writes the status into the local integer.
            let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
            if pid <= 0 {
                return;
            }
            match children.remove(&pid) {
                Some(tx) => {
                    let _ = tx.send(exit_code(status));
                }
                None => tracing::debug!(pid, "reaped an orphaned process"),
            }
        }
    }
}

/// The shell convention: the exit status, or 128 + the signal number.
fn exit_code(status: i32) -> i32 {
    if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else if libc::WIFSIGNALED(status) {
        128 + libc::WTERMSIG(status)
    } else {
        1
    }
}

/// Sends `signal` to the process group `pgid` (a child started by [`Supervisor::spawn`] leads
/// its own group).
pub fn signal_group(pgid: i32, signal: i32) {
    // SAFETY: kill takes plain integers; a group that is gone is not an error worth reporting.
    unsafe {
        libc::kill(-pgid, signal);
    }
}

/// Asks a process group to stop: SIGTERM, then SIGKILL if it is still running after `grace`.
/// Returns the leader's exit code.
pub async fn stop_group(pid: i32, exit: &mut oneshot::Receiver<i32>, grace: Duration) -> i32 {
    signal_group(pid, libc::SIGTERM);
    if let Ok(code) = tokio::time::timeout(grace, &mut *exit).await {
        return code.unwrap_or(1);
    }
    tracing::warn!(
        pid,
        grace_ms = grace.as_millis() as u64,
        "still running after SIGTERM; sending SIGKILL"
    );
    signal_group(pid, libc::SIGKILL);
    tokio::time::timeout(Duration::from_secs(5), exit)
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or(128 + libc::SIGKILL)
}

/// Where a child's output goes: the container's own stream and, if set, the log file.
#[derive(Clone)]
pub struct Tee {
    log: Option<Arc<Mutex<File>>>,
    /// `source` of this output's lines in the log file (`query`); none for the bot.
    tag: Option<&'static str>,
    /// The last lines seen, when asked for ([`Tee::remembering_last_lines`]).
    last: Option<Arc<Mutex<VecDeque<String>>>>,
}

/// Lines kept by [`Tee::remembering_last_lines`].
pub const LAST_LINES: usize = 5;

/// Longest line kept whole; a longer one is split (a bot printing without newlines must not make
/// the agent buffer without bound).
const MAX_LINE_BYTES: usize = 64 << 10;

impl Tee {
    /// A tee that also appends to `log_file` (created if needed).
    pub fn to_file(log_file: &Path) -> io::Result<Tee> {
        let file = OpenOptions::new().create(true).append(true).open(log_file)?;
        Ok(Tee {
            log: Some(Arc::new(Mutex::new(file))),
            tag: None,
            last: None,
        })
    }

    /// A tee to the container's streams only.
    pub fn console_only() -> Tee {
        Tee {
            log: None,
            tag: None,
            last: None,
        }
    }

    /// The same destinations, with log lines marked `"source": tag`.
    pub fn tagged(&self, tag: &'static str) -> Tee {
        Tee {
            tag: Some(tag),
            ..self.clone()
        }
    }

    /// The same destinations, also keeping the last [`LAST_LINES`] lines (to explain a failure).
    pub fn remembering_last_lines(self) -> Tee {
        Tee {
            last: Some(Arc::default()),
            ..self
        }
    }

    /// The last lines seen (oldest first); empty unless remembering.
    pub fn last_lines(&self) -> Vec<String> {
        self.last.as_ref().map_or_else(Vec::new, |last| {
            last.lock().expect("last lines lock").iter().cloned().collect()
        })
    }

    /// Copies `stream` line by line to the agent's stdout (or stderr) and, as NDJSON stamped
    /// with the time of emission, to the log file. The thread ends when the stream closes.
    pub fn attach(&self, stream: impl Read + Send + 'static, to_stderr: bool) -> JoinHandle<()> {
        let (log, tag, last) = (self.log.clone(), self.tag, self.last.clone());
        std::thread::spawn(move || {
            let mut reader = BufReader::with_capacity(MAX_LINE_BYTES, stream);
            let mut line = Vec::with_capacity(256);
            loop {
                line.clear();
                match read_line_capped(&mut reader, &mut line) {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
                let _ = if to_stderr {
                    io::stderr().lock().write_all(&line)
                } else {
                    io::stdout().lock().write_all(&line)
                };
                let text = String::from_utf8_lossy(&line);
                if let Some(last) = &last {
                    let mut last = last.lock().expect("last lines lock");
                    if last.len() == LAST_LINES {
                        last.pop_front();
                    }
                    last.push_back(text.trim_end().to_owned());
                }
                if let Some(log) = &log
                    && let Some(mut entry) = format_line(&text, &the0_sdk::time::now_rfc3339(), tag)
                {
                    entry.push('\n');
                    let _ = log.lock().expect("log lock").write_all(entry.as_bytes());
                }
            }
        })
    }
}

/// Reads up to and including a newline, or [`MAX_LINE_BYTES`], whichever comes first.
fn read_line_capped(reader: &mut impl BufRead, line: &mut Vec<u8>) -> io::Result<usize> {
    loop {
        let available = reader.fill_buf()?;
        if available.is_empty() {
            return Ok(line.len());
        }
        let room = MAX_LINE_BYTES - line.len();
        let (take, done) = match available.iter().take(room).position(|b| *b == b'\n') {
            Some(newline) => (newline + 1, true),
            None => (available.len().min(room), available.len() >= room),
        };
        line.extend_from_slice(&available[..take]);
        reader.consume(take);
        if done {
            return Ok(line.len());
        }
    }
}

/// Standard streams for a child whose output is tee'd.
pub fn piped(command: &mut Command) -> &mut Command {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_capped() {
        let mut reader = BufReader::with_capacity(
            16,
            io::Cursor::new([b"short\n".to_vec(), vec![b'x'; MAX_LINE_BYTES + 5]].concat()),
        );
        let mut line = Vec::new();
        assert_eq!(read_line_capped(&mut reader, &mut line).unwrap(), 6);
        line.clear();
        assert_eq!(read_line_capped(&mut reader, &mut line).unwrap(), MAX_LINE_BYTES);
        line.clear();
        assert_eq!(read_line_capped(&mut reader, &mut line).unwrap(), 5);
        line.clear();
        assert_eq!(read_line_capped(&mut reader, &mut line).unwrap(), 0);
    }

    #[test]
    fn exit_codes_and_orphans_are_reaped() {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let supervisor = Supervisor::start();
            let spawned = supervisor
                .spawn(Command::new("sh").args(["-c", "exit 7"]))
                .unwrap();
            assert_eq!(spawned.exit.await.unwrap(), 7);
            // A grandchild orphaned by its parent is reaped by us (not left as a zombie).
            let spawned = supervisor
                .spawn(
                    Command::new("sh")
                        .args(["-c", "sleep 0.2 & echo $! ; exit 0"])
                        .stdout(Stdio::piped()),
                )
                .unwrap();
            let mut orphan = String::new();
            spawned.stdout.unwrap().read_to_string(&mut orphan).unwrap();
            let orphan: i32 = orphan.trim().parse().unwrap();
            assert_eq!(spawned.exit.await.unwrap(), 0);
            let deadline = std::time::Instant::now() + Duration::from_secs(5);
            while Path::new(&format!("/proc/{orphan}")).exists() {
                assert!(
                    std::time::Instant::now() < deadline,
                    "orphan {orphan} never reaped"
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            // A signal is reported as 128 + its number, and reaches the whole group.
            let mut spawned = supervisor
                .spawn(Command::new("sh").args(["-c", "trap '' TERM; sleep 30 & sleep 30"]))
                .unwrap();
            tokio::time::sleep(Duration::from_millis(200)).await;
            let code = stop_group(spawned.pid, &mut spawned.exit, Duration::from_millis(300)).await;
            assert_eq!(code, 128 + libc::SIGKILL);
        });
    }
}
