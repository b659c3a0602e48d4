//! Starting driver programs and waiting for them.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::http::Target;

/// How to start one SDK's driver: a program and leading arguments (for example `python3
/// driver.py`), with a clean environment plus the variables the tests set.
#[derive(Debug, Clone)]
pub struct Driver {
    program: PathBuf,
    args: Vec<OsString>,
}

/// Environment variables that would change a driver's behaviour if inherited from the test
/// runner; they are always removed so that each test states the environment it means.
const SCRUBBED: &[&str] = &[
    "BOT_ID",
    "BOT_CONFIG",
    "BOT_TYPE",
    "CODE_MOUNT_DIR",
    "STATE_DIR",
    "QUERY_PATH",
    "QUERY_PARAMS",
    "THE0_QUERY_PORT",
    "THE0_QUERY_HOST",
    "THE0_QUERY_SOCKET",
    "THE0_QUERY_RESULT_FILE",
    "THE0_QUERY_TIMEOUT_MS",
    "THE0_QUERY_MAX_BODY_BYTES",
    "THE0_QUERY_MAX_IN_FLIGHT",
    "THE0_QUERY_WORKERS",
];

impl Driver {
    /// A driver that is a single executable.
    pub fn new(program: impl Into<PathBuf>) -> Driver {
        Driver {
            program: program.into(),
            args: Vec::new(),
        }
    }

    /// A driver from a command line in `THE0_CONFORMANCE_DRIVER` (space-separated), else `default`.
    pub fn from_env_or(default: impl Into<PathBuf>) -> Driver {
        match std::env::var("THE0_CONFORMANCE_DRIVER") {
            Ok(line) if !line.trim().is_empty() => Driver::from_command_line(&line),
            _ => Driver::new(default),
        }
    }

    /// A driver from a space-separated command line (`python3 /path/driver.py`).
    pub fn from_command_line(line: &str) -> Driver {
        let mut words = line.split_whitespace();
        let program = words.next().expect("a non-empty driver command line").into();
        Driver {
            program,
            args: words.map(OsString::from).collect(),
        }
    }

    /// A command running the driver with `args` and exactly the variables in `env` (plus PATH,
    /// HOME and the like).
    pub fn command(&self, args: &[&str], env: &BTreeMap<String, String>) -> Command {
        let mut command = Command::new(&self.program);
        command.args(&self.args).args(args);
        for name in SCRUBBED {
            command.env_remove(name);
        }
        command.envs(env);
        command
    }

    /// Runs the driver to completion, capturing its output.
    pub fn output(&self, args: &[&str], env: &BTreeMap<String, String>) -> Output {
        self.command(args, env)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run driver {}: {e}", self.program.display()))
    }

    /// Starts the driver in the background; it is killed when the guard drops.
    pub fn spawn(&self, args: &[&str], env: &BTreeMap<String, String>) -> ChildGuard {
        let child = self
            .command(args, env)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start driver {}: {e}", self.program.display()));
        ChildGuard(Some(child))
    }

    /// Starts the driver as a query server (`args`, with `BOT_TYPE=realtime` in `env`) and waits
    /// for the line every SDK prints once it listens, `Query server started on <where>`: a TCP
    /// server is told to bind port 0 unless `env` names a socket or port, and the port it got is
    /// read back from that line. The driver is killed when the guard drops; its stderr is passed
    /// on to the test's.
    pub fn serve(&self, args: &[&str], env: &BTreeMap<String, String>) -> (ChildGuard, Target) {
        let mut env = env.clone();
        if !env.contains_key("THE0_QUERY_SOCKET") {
            env.entry("THE0_QUERY_HOST".into())
                .or_insert_with(|| "127.0.0.1".into());
            env.entry("THE0_QUERY_PORT".into()).or_insert_with(|| "0".into());
        }
        let mut child = self
            .command(args, &env)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start driver {}: {e}", self.program.display()));
        let stderr = child.stderr.take().expect("piped stderr");
        let guard = ChildGuard(Some(child));
        let (tx, rx) = std::sync::mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("{line}");
                if let Some(at) = started_on(&line) {
                    let _ = tx.send(at);
                }
            }
        });
        let at = rx
            .recv_timeout(STARTUP_LIMIT)
            .unwrap_or_else(|_| panic!("the driver printed no start line within {STARTUP_LIMIT:?}"));
        let target = match at.strip_prefix("unix:") {
            Some(path) => Target::Unix(PathBuf::from(path)),
            None => Target::Tcp(
                at.parse()
                    .unwrap_or_else(|e| panic!("start line address {at:?}: {e}")),
            ),
        };
        (guard, target)
    }
}

/// A child process killed on drop, so a failing test leaves no server behind.
#[derive(Debug)]
pub struct ChildGuard(Option<Child>);

impl ChildGuard {
    /// The process id.
    pub fn id(&self) -> u32 {
        self.0.as_ref().expect("child").id()
    }

    /// Sends `signal` (for example `libc::SIGTERM` = 15) with the `kill` command.
    pub fn signal(&self, signal: i32) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.id().to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{signal} failed");
    }

    /// Waits for the process to exit, at most `limit`; `None` if it is still running.
    pub fn wait_timeout(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        let child = self.0.as_mut().expect("child");
        loop {
            if let Some(status) = child.try_wait().expect("wait for child") {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// How long a driver may take to print its start line (a generous bound for a loaded machine;
/// it measures that the server starts at all).
const STARTUP_LIMIT: Duration = Duration::from_secs(60);

/// Where the server listens, from a `Query server started on <where>` log line.
fn started_on(line: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(line).ok()?;
    value["message"]
        .as_str()?
        .strip_prefix("Query server started on ")
        .map(str::to_owned)
}
