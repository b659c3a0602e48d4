//! Test harness: a sandboxed container layout, the agent binary, a real MinIO server, and an
//! independent view of stored objects (files of the local store, or curl with SigV4 for S3).

#![allow(dead_code)] // each test binary uses part of the harness

use std::collections::BTreeMap;
use std::fs;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

pub const ACCESS_KEY: &str = "the0test";
pub const SECRET_KEY: &str = "the0test-secret";

/// The agent under test: the static build named by `THE0_AGENT_STATIC` (what ships in images,
/// so `make bench` measures it), else the one cargo built for this test run.
pub fn agent_bin() -> PathBuf {
    std::env::var_os("THE0_AGENT_STATIC")
        .map_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_the0-agent")), PathBuf::from)
}

/// A binary of the example bot, built by `cargo test --workspace` next to this test binary.
pub fn example_bin(name: &str) -> PathBuf {
    let dir = std::env::current_exe()
        .unwrap()
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf();
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is missing: build it with `cargo build -p rust-sma-crossover`",
        path.display()
    );
    path
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Polls `check` every 50 ms until it returns `Some`, at most `limit`.
pub fn eventually<T>(what: &str, limit: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {limit:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A real MinIO server on 127.0.0.1, killed on drop.
pub struct Minio {
    pub port: u16,
    data: PathBuf,
    child: Option<Child>,
}

impl Minio {
    /// The MinIO binary: `THE0_MINIO_BIN`, else the one `scripts/ensure-minio.sh` builds.
    fn binary() -> PathBuf {
        if let Ok(bin) = std::env::var("THE0_MINIO_BIN") {
            return bin.into();
        }
        let home = std::env::var("HOME").unwrap();
        let cache = std::env::var("THE0_CACHE").unwrap_or_else(|_| format!("{home}/.cache/the0-runtime"));
        let bin = PathBuf::from(cache).join("bin/minio");
        assert!(
            bin.exists(),
            "no MinIO at {}: run scripts/ensure-minio.sh (make test does)",
            bin.display()
        );
        bin
    }

    pub fn start(data: &Path) -> Minio {
        let mut minio = Minio::stopped(data);
        minio.restart();
        minio
    }

    /// A server that is not running yet (for "store down at start").
    pub fn stopped(data: &Path) -> Minio {
        Minio {
            port: free_port(),
            data: data.to_path_buf(),
            child: None,
        }
    }

    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "already running");
        fs::create_dir_all(&self.data).unwrap();
        let console = free_port();
        let child = Command::new(Minio::binary())
            .args([
                "server",
                "--quiet",
                "--address",
                &format!("127.0.0.1:{}", self.port),
            ])
            .args(["--console-address", &format!("127.0.0.1:{console}")])
            .arg(&self.data)
            .env("MINIO_ROOT_USER", ACCESS_KEY)
            .env("MINIO_ROOT_PASSWORD", SECRET_KEY)
            .env("MINIO_BROWSER", "off")
            .env("MINIO_UPDATE", "off")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start MinIO");
        self.child = Some(child);
        // Ready means answering signed S3 requests: MinIO reports itself healthy a moment before
        // its object layer is up (503 "server not initialized" until then). A bucket that does
        // not exist gives 404 once it is.
        eventually("MinIO to be ready", Duration::from_secs(60), || {
            let (status, _) = self.curl("GET", "the0-readiness-probe", "", &[]);
            (status == "404").then_some(())
        });
    }

    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Freezes the server (SIGSTOP): connections are still accepted by the kernel, and never
    /// answered — the store as a hung host or a paused VM looks.
    pub fn freeze(&self) {
        self.signal(libc::SIGSTOP);
        // Stopped once every thread is: a thread on a CPU finishes its slice first.
        let tasks = format!("/proc/{}/task", self.child.as_ref().unwrap().id());
        eventually("MinIO to be stopped", Duration::from_secs(10), || {
            fs::read_dir(&tasks)
                .ok()?
                .flatten()
                .all(|task| {
                    fs::read_to_string(task.path().join("stat"))
                        .ok()
                        .and_then(|stat| {
                            stat.rsplit_once(')')
                                .map(|(_, rest)| rest.trim_start().starts_with('T'))
                        })
                        .unwrap_or(true)
                })
                .then_some(())
        });
    }

    /// Whether a request waits, unread, in the server's sockets (a client is blocked on it).
    pub fn holds_unread_request(&self) -> bool {
        let port = format!(":{:04X}", self.port);
        fs::read_to_string("/proc/net/tcp")
            .unwrap_or_default()
            .lines()
            .skip(1)
            .filter_map(|line| {
                let fields: Vec<&str> = line.split_whitespace().collect();
                let local = fields.get(1)?;
                let queues = fields.get(4)?;
                let unread = u64::from_str_radix(queues.split(':').nth(1)?, 16).ok()?;
                local.ends_with(&port).then_some(unread)
            })
            .any(|unread| unread > 0)
    }

    /// Resumes a frozen server.
    pub fn thaw(&self) {
        self.signal(libc::SIGCONT);
    }

    fn signal(&self, signal: i32) {
        let pid = self.child.as_ref().expect("MinIO is running").id() as i32;
        // SAFETY: kill with plain integers.
        unsafe {
            libc::kill(pid, signal);
        }
    }

    /// The incomplete multipart uploads in `bucket`, as `(key, upload id)`.
    pub fn incomplete_uploads(&self, bucket: &str) -> Vec<(String, String)> {
        let (status, body) = self.curl("GET", bucket, "?uploads=", &[]);
        assert_eq!(status, "200", "list uploads: {}", String::from_utf8_lossy(&body));
        let text = String::from_utf8(body).unwrap();
        text.split("<Upload>")
            .skip(1)
            .map(|upload| {
                let field = |name: &str| {
                    upload
                        .split(&format!("<{name}>"))
                        .nth(1)
                        .and_then(|rest| rest.split(&format!("</{name}>")).next())
                        .unwrap_or_default()
                        .to_owned()
                };
                (field("Key"), field("UploadId"))
            })
            .collect()
    }

    /// The user metadata of an object (`x-amz-meta-*`, names lowercased), `None` if missing.
    pub fn metadata(&self, bucket: &str, key: &str) -> Option<BTreeMap<String, String>> {
        let url = format!("http://127.0.0.1:{}/{bucket}/{key}", self.port);
        let output = Command::new("curl")
            .args(["-s", "-I", "--aws-sigv4", "aws:amz:us-east-1:s3", "--user"])
            .arg(format!("{ACCESS_KEY}:{SECRET_KEY}"))
            .arg(&url)
            .output()
            .expect("run curl");
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        if !text.starts_with("HTTP/1.1 200") {
            return None;
        }
        Some(
            text.lines()
                .filter_map(|line| {
                    let (name, value) = line.split_once(':')?;
                    let name = name.to_ascii_lowercase();
                    let name = name.strip_prefix("x-amz-meta-")?;
                    Some((name.to_owned(), value.trim().to_owned()))
                })
                .collect(),
        )
    }

    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            ("MINIO_ENDPOINT".into(), format!("127.0.0.1:{}", self.port)),
            ("MINIO_ACCESS_KEY".into(), ACCESS_KEY.into()),
            ("MINIO_SECRET_KEY".into(), SECRET_KEY.into()),
            ("MINIO_USE_SSL".into(), "false".into()),
        ]
    }

    fn curl(&self, method: &str, bucket: &str, key: &str, extra: &[&str]) -> (String, Vec<u8>) {
        let url = format!("http://127.0.0.1:{}/{bucket}/{key}", self.port);
        let out = tempfile::NamedTempFile::new().unwrap();
        let output = Command::new("curl")
            .args([
                "-s",
                "-X",
                method,
                "--aws-sigv4",
                "aws:amz:us-east-1:s3",
                "--user",
                &format!("{ACCESS_KEY}:{SECRET_KEY}"),
            ])
            .args(["-o", out.path().to_str().unwrap(), "-w", "%{http_code}"])
            .args(extra)
            .arg(&url)
            .output()
            .expect("run curl");
        (
            String::from_utf8(output.stdout).unwrap(),
            fs::read(out.path()).unwrap(),
        )
    }
}

impl Drop for Minio {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Where objects live, read without the agent's code.
pub enum StoreView<'a> {
    Local(PathBuf),
    S3(&'a Minio),
}

impl StoreView<'_> {
    pub fn get(&self, bucket: &str, key: &str) -> Option<Vec<u8>> {
        match self {
            StoreView::Local(root) => fs::read(root.join(bucket).join(key)).ok(),
            StoreView::S3(minio) => {
                let (status, body) = minio.curl("GET", bucket, key, &[]);
                match status.as_str() {
                    "200" => Some(body),
                    "404" => None,
                    other => panic!(
                        "GET {bucket}/{key}: HTTP {other}: {}",
                        String::from_utf8_lossy(&body)
                    ),
                }
            }
        }
    }

    /// Keys under `prefix` (first page of a listing is enough for tests).
    pub fn list(&self, bucket: &str, prefix: &str) -> Vec<String> {
        match self {
            StoreView::Local(root) => {
                let bucket_dir = root.join(bucket);
                let dir = bucket_dir.join(prefix.rsplit_once('/').map_or("", |(d, _)| d));
                let mut keys = Vec::new();
                for entry in fs::read_dir(&dir).into_iter().flatten().flatten() {
                    let key = entry
                        .path()
                        .strip_prefix(&bucket_dir)
                        .unwrap()
                        .to_string_lossy()
                        .into_owned();
                    if key.starts_with(prefix) {
                        keys.push(key);
                    }
                }
                keys.sort();
                keys
            }
            StoreView::S3(minio) => {
                let (status, body) = minio.curl(
                    "GET",
                    bucket,
                    &format!("?list-type=2&prefix={}", prefix.replace('/', "%2F")),
                    &[],
                );
                assert_eq!(status, "200", "list {bucket}/{prefix}");
                let text = String::from_utf8(body).unwrap();
                text.split("<Key>")
                    .skip(1)
                    .filter_map(|s| s.split_once("</Key>"))
                    .map(|(key, _)| key.to_owned())
                    .collect()
            }
        }
    }

    pub fn put(&self, bucket: &str, key: &str, body: &[u8]) {
        match self {
            StoreView::Local(root) => {
                let path = root.join(bucket).join(key);
                fs::create_dir_all(path.parent().unwrap()).unwrap();
                fs::write(path, body).unwrap();
            }
            StoreView::S3(minio) => {
                let (status, _) = minio.curl("PUT", bucket, "", &[]);
                assert!(
                    matches!(status.as_str(), "200" | "409"),
                    "create bucket {bucket}: HTTP {status}"
                );
                let file = tempfile::NamedTempFile::new().unwrap();
                fs::write(file.path(), body).unwrap();
                let upload = [
                    "-H",
                    "x-amz-content-sha256: UNSIGNED-PAYLOAD",
                    "-T",
                    file.path().to_str().unwrap(),
                ];
                let (status, response) = minio.curl("PUT", bucket, key, &upload);
                assert_eq!(
                    status,
                    "200",
                    "PUT {bucket}/{key}: {}",
                    String::from_utf8_lossy(&response)
                );
            }
        }
    }

    /// The stored state of `bot`: file path -> content (directories and links left out).
    pub fn state_files(&self, bot: &str) -> Option<BTreeMap<String, Vec<u8>>> {
        let archive = self.get("bot-state", &format!("{bot}/state.tar.gz"))?;
        let mut files = BTreeMap::new();
        let mut tar = tar::Archive::new(flate2::read::MultiGzDecoder::new(&archive[..]));
        for entry in tar.entries().unwrap() {
            let mut entry = entry.unwrap();
            if entry.header().entry_type().is_file() {
                let path = entry.path().unwrap().to_string_lossy().into_owned();
                let mut content = Vec::new();
                entry.read_to_end(&mut content).unwrap();
                files.insert(path, content);
            }
        }
        Some(files)
    }
}

/// A container's directories in a temporary folder.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
    pub bot_id: String,
}

impl Sandbox {
    pub fn new(bot_id: &str) -> Sandbox {
        let sandbox = Sandbox {
            dir: tempfile::tempdir().unwrap(),
            bot_id: bot_id.to_owned(),
        };
        for dir in ["bot", "state", "var/logs", "tmp"] {
            fs::create_dir_all(sandbox.path(dir)).unwrap();
        }
        sandbox
    }

    pub fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    pub fn code(&self) -> PathBuf {
        self.path("bot")
    }

    /// The bot's `result.json` (in its code directory), parsed.
    pub fn bot_result(&self) -> serde_json::Value {
        let path = self.code().join("result.json");
        let bytes = fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        serde_json::from_slice(&bytes).unwrap()
    }

    pub fn state(&self) -> PathBuf {
        self.path("state")
    }

    pub fn logs(&self) -> PathBuf {
        self.path("var/logs")
    }

    pub fn local_store(&self) -> PathBuf {
        self.path("store")
    }

    /// A fresh container for the same bot (its own code, state and logs folders).
    pub fn next_container(&self) -> Sandbox {
        let next = Sandbox {
            dir: tempfile::tempdir().unwrap(),
            bot_id: self.bot_id.clone(),
        };
        for dir in ["bot", "state", "var/logs", "tmp"] {
            fs::create_dir_all(next.path(dir)).unwrap();
        }
        next
    }

    /// Upstream's container environment for `execute`, pointing at this sandbox.
    pub fn execute_env(&self, runtime: &str, entrypoint: &str) -> Vec<(String, String)> {
        let p = |s: &str| self.path(s).to_string_lossy().into_owned();
        vec![
            ("BOT_ID".into(), self.bot_id.clone()),
            ("RUNTIME".into(), runtime.into()),
            ("ENTRYPOINT".into(), entrypoint.into()),
            ("BOT_CONFIG".into(), "{}".into()),
            ("CODE_PATH".into(), p("bot")),
            ("STATE_PATH".into(), p("state")),
            ("LOGS_PATH".into(), p("var/logs")),
            ("THE0_DONE_FILE".into(), p("var/done")),
            ("THE0_AGENT_RUNTIME_DIR".into(), p("tmp/the0-agent")),
            ("THE0_QUERY_RESULT_FILE".into(), p("query/result.json")),
            ("LOG_LEVEL".into(), "debug".into()),
            ("THE0_STOP_GRACE_SECS".into(), "2".into()),
        ]
    }

    /// The local store as the agent's `THE0_STORE`.
    pub fn local_store_env(&self) -> (String, String) {
        (
            "THE0_STORE".into(),
            format!("file://{}", self.local_store().display()),
        )
    }
}

/// A zip archive of `(name, content, mode)` entries, as upstream's API stores code.
pub fn zip_archive(files: &[(&str, &[u8], u32)]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, content, mode) in files {
        let options = zip::write::SimpleFileOptions::default().unix_permissions(*mode);
        writer.start_file(*name, options).unwrap();
        writer.write_all(content).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

/// A state archive (tar.gz, as the agent stores state) holding `files` (path, content).
pub fn state_archive(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut tar = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::fast(),
    ));
    for (path, content) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(content.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        tar.append_data(&mut header, path, *content).unwrap();
    }
    tar.into_inner().unwrap().finish().unwrap()
}

/// A directory of `files` files of `size` pseudo-random (incompressible) bytes each, in 16
/// subdirectories: compressible data would make the archive, and so the upload, unrealistically
/// small.
pub fn fill_tree(root: &Path, files: usize, size: usize) {
    let mut block = vec![0u8; size];
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    for i in 0..files {
        for chunk in block.chunks_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            chunk.copy_from_slice(&x.to_le_bytes()[..chunk.len()]);
        }
        let dir = root.join(format!("d{}", i % 16));
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join(format!("f{i}.bin")), &block).unwrap();
    }
}

/// Writes an executable shell-script entrypoint into a code folder.
pub fn script(dir: &Path, name: &str, body: &str) {
    let path = dir.join(name);
    fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
}

/// A running agent; killed on drop. Its stderr is kept in a file.
pub struct Agent {
    child: Option<Child>,
    pub stderr_file: PathBuf,
    started: Instant,
}

impl Agent {
    pub fn spawn(args: &[&str], env: &[(String, String)], stderr_file: PathBuf) -> Agent {
        Agent::spawn_command(Command::new(agent_bin()), args, env, stderr_file)
    }

    /// Like [`Agent::spawn`], with the agent's address space capped at `bytes` (`RLIMIT_AS`):
    /// for tests that feed it something that once made it allocate gigabytes.
    pub fn spawn_with_address_space_cap(
        args: &[&str],
        env: &[(String, String)],
        stderr_file: PathBuf,
        bytes: u64,
    ) -> Agent {
        use std::os::unix::process::CommandExt;
        let mut command = Command::new(agent_bin());
        // SAFETY: setrlimit is async-signal-safe and touches no memory of the parent.
        unsafe {
            command.pre_exec(move || {
                let limit = libc::rlimit {
                    rlim_cur: bytes,
                    rlim_max: bytes,
                };
                if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        Agent::spawn_command(command, args, env, stderr_file)
    }

    fn spawn_command(
        mut command: Command,
        args: &[&str],
        env: &[(String, String)],
        stderr_file: PathBuf,
    ) -> Agent {
        command
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default());
        command.envs(env.iter().map(|(k, v)| (k, v)));
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(fs::File::create(&stderr_file).unwrap())
            .spawn()
            .expect("start the agent");
        Agent {
            child: Some(child),
            stderr_file,
            started: Instant::now(),
        }
    }

    pub fn pid(&self) -> i32 {
        self.child.as_ref().unwrap().id() as i32
    }

    pub fn signal(&self, signal: i32) {
        // SAFETY: kill with plain integers.
        unsafe {
            libc::kill(self.pid(), signal);
        }
    }

    pub fn stderr(&self) -> String {
        fs::read_to_string(&self.stderr_file).unwrap_or_default()
    }

    /// Waits for the agent to exit, at most `limit`; returns its status and how long it ran.
    pub fn wait(&mut self, limit: Duration) -> (ExitStatus, Duration) {
        let child = self.child.as_mut().unwrap();
        let status = eventually("the agent to exit", limit, || child.try_wait().unwrap());
        (status, self.started.elapsed())
    }

    /// Waits for the agent to exit, at most `limit`; returns its status and its peak RSS in KiB
    /// (`wait4`'s `ru_maxrss`: this process alone, not the whole test run's children).
    pub fn wait_with_peak_rss(&mut self, limit: Duration) -> (ExitStatus, u64) {
        use std::os::unix::process::ExitStatusExt;
        let pid = self.pid();
        let deadline = Instant::now() + limit;
        loop {
            let mut status = 0;
            // SAFETY: rusage is plain old data; all zeroes is a valid value.
            let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
            // SAFETY: wait4 writes the status and the usage into the locals, which outlive the call.
            let reaped = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
            assert!(reaped >= 0, "wait4: {}", std::io::Error::last_os_error());
            if reaped == pid {
                // The std handle must not wait for a reaped pid again.
                self.child = None;
                return (ExitStatus::from_raw(status), usage.ru_maxrss as u64);
            }
            assert!(
                Instant::now() < deadline,
                "the agent did not exit within {limit:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn is_running(&mut self) -> bool {
        self.child.as_mut().unwrap().try_wait().unwrap().is_none()
    }

    /// Waits for a line of the agent's log containing `text`.
    pub fn wait_for_log(&self, text: &str, limit: Duration) {
        eventually(&format!("log line {text:?}"), limit, || {
            self.stderr().contains(text).then_some(())
        });
    }
}

impl Drop for Agent {
    /// Stops the agent as an orchestrator would: SIGTERM (the agent stops its bot and syncs),
    /// then SIGKILL. A SIGKILL alone would orphan the bot, which runs in a group of its own.
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            if child.try_wait().ok().flatten().is_none() {
                // SAFETY: kill with plain integers.
                unsafe {
                    libc::kill(child.id() as i32, libc::SIGTERM);
                }
                let deadline = Instant::now() + Duration::from_secs(15);
                while child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Runs the agent to completion.
pub fn run_agent(
    args: &[&str],
    env: &[(String, String)],
    stderr_file: PathBuf,
    limit: Duration,
) -> (ExitStatus, String) {
    let mut agent = Agent::spawn(args, env, stderr_file);
    let (status, _) = agent.wait(limit);
    (status, agent.stderr())
}
