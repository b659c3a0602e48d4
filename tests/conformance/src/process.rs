//! Starting driver programs and waiting for them.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::http::{self, Target};

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

/// A TCP port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// Polls `GET /health` until it answers 200 or `limit` passes.
pub fn wait_for_health(target: &Target, limit: Duration) {
    let deadline = Instant::now() + limit;
    loop {
        match http::get(target, "/health") {
            Ok(r) if r.status == 200 => return,
            result => {
                if Instant::now() >= deadline {
                    panic!("server at {target:?} not healthy after {limit:?}: {result:?}");
                }
                thread::sleep(Duration::from_millis(25));
            }
        }
    }
}
