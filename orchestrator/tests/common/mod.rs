//! Test harness for the orchestrator: real servers (MinIO, and for the drop-in tests FerretDB
//! and nats-server) on 127.0.0.1 ports they picked, a bot image built from the static agent and
//! the static test bot, the orchestrator as a child process, and independent views of what it
//! did (the Docker CLI, S3 reads, curl to the gateway on loopback).

#![allow(dead_code)] // each test binary uses part of the harness

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde_json::Value;
use the0_agent::store::{ObjectStore, S3Config, S3Store};

pub const ACCESS_KEY: &str = "the0orch";
pub const SECRET_KEY: &str = "the0orch-secret";

pub use the0_e2e::eventually;

fn cache_dir() -> PathBuf {
    std::env::var_os("THE0_CACHE").map_or_else(
        || PathBuf::from(std::env::var("HOME").unwrap()).join(".cache/the0-runtime"),
        PathBuf::from,
    )
}

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Runs a repository script that prints a binary's path (building it once).
pub fn ensure(script: &str) -> PathBuf {
    let output = Command::new(workspace().join("scripts").join(script))
        .stderr(Stdio::inherit())
        .output()
        .unwrap_or_else(|e| panic!("run scripts/{script}: {e}"));
    assert!(output.status.success(), "scripts/{script} failed");
    PathBuf::from(String::from_utf8(output.stdout).unwrap().trim())
}

/// A child process killed (SIGTERM, then SIGKILL) on drop, whose stdout and stderr lines are
/// collected.
pub struct Server {
    child: Option<Child>,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Server {
    pub fn spawn(mut command: Command) -> Server {
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("start a server");
        let lines = Arc::new(Mutex::new(Vec::new()));
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let lines = Arc::clone(&lines);
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    if std::env::var_os("THE0_TEST_VERBOSE").is_some() {
                        eprintln!("{line}");
                    }
                    lines.lock().unwrap().push(line);
                }
            });
        }
        Server {
            child: Some(child),
            lines,
        }
    }

    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    /// The first line containing `needle`, waiting for it.
    pub fn wait_line(&self, needle: &str, limit: Duration) -> String {
        eventually(&format!("a line with {needle:?}"), limit, || {
            self.lines().into_iter().find(|l| l.contains(needle))
        })
    }

    /// JSON log lines (the orchestrator's) whose message is `message`.
    pub fn events(&self, message: &str) -> Vec<Value> {
        self.lines()
            .iter()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v["message"] == message)
            .collect()
    }

    pub fn pid(&self) -> i32 {
        self.child.as_ref().unwrap().id() as i32
    }

    /// SIGTERM, and the exit code once it exits (within `limit`).
    pub fn terminate(&mut self, limit: Duration) -> Option<i32> {
        let mut child = self.child.take()?;
        unsafe { libc_kill(child.id() as i32, 15) };
        let deadline = Instant::now() + limit;
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return status.code();
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("the process did not stop within {limit:?} of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGKILL: the process gets no chance to clean up.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

unsafe extern "C" {
    #[link_name = "kill"]
    fn libc_kill(pid: i32, signal: i32) -> i32;
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            unsafe { libc_kill(child.id() as i32, 15) };
            let deadline = Instant::now() + Duration::from_secs(60);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A real MinIO server on 127.0.0.1.
pub struct Minio {
    pub addr: SocketAddr,
    _data: tempfile::TempDir,
    _server: Server,
}

impl Minio {
    pub fn start() -> Minio {
        let data = tempfile::tempdir().unwrap();
        let port = free_port();
        let console = free_port();
        let mut command = Command::new(ensure("ensure-minio.sh"));
        command
            .args(["server", "--quiet", "--address", &format!("127.0.0.1:{port}")])
            .args(["--console-address", &format!("127.0.0.1:{console}")])
            .arg(data.path())
            .env("MINIO_ROOT_USER", ACCESS_KEY)
            .env("MINIO_ROOT_PASSWORD", SECRET_KEY)
            .env("MINIO_BROWSER", "off")
            .env("MINIO_UPDATE", "off");
        let minio = Minio {
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            _data: data,
            _server: Server::spawn(command),
        };
        // Ready when a signed request creates a bucket (MinIO answers its health probe before
        // its object layer is up).
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let store = runtime.block_on(minio.store());
        eventually("MinIO to accept signed requests", Duration::from_secs(60), || {
            runtime.block_on(store.ensure_bucket("custom-bots")).ok()
        });
        minio
    }

    /// The variables the orchestrator (and through it, every container) uses.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            ("MINIO_ENDPOINT".into(), self.addr.to_string()),
            ("MINIO_ACCESS_KEY".into(), ACCESS_KEY.into()),
            ("MINIO_SECRET_KEY".into(), SECRET_KEY.into()),
            ("MINIO_USE_SSL".into(), "false".into()),
        ]
    }

    pub async fn store(&self) -> S3Store {
        S3Store::connect(S3Config {
            endpoint: Some(format!("http://{}", self.addr)),
            credentials: Some((ACCESS_KEY.into(), SECRET_KEY.into())),
            region: "us-east-1".into(),
        })
        .await
    }

    /// Reads an object (blocking), `None` when absent.
    pub fn get(&self, bucket: &str, key: &str) -> Option<Vec<u8>> {
        block_on(async {
            let store = self.store().await;
            store.get(bucket, key, 1 << 30).await.unwrap()
        })
    }

    /// Writes an object (blocking), creating its bucket.
    pub fn put(&self, bucket: &str, key: &str, body: Vec<u8>) {
        block_on(async {
            let store = self.store().await;
            store.ensure_bucket(bucket).await.unwrap();
            store
                .put(bucket, key, body, "application/octet-stream")
                .await
                .unwrap();
        })
    }
}

impl Minio {
    /// Every key in `bucket` (none when the bucket does not exist).
    pub fn keys(&self, bucket: &str) -> Vec<String> {
        block_on(async {
            let store = self.store().await;
            match store.client().list_objects_v2().bucket(bucket).send().await {
                Ok(page) => page
                    .contents()
                    .iter()
                    .filter_map(|o| o.key().map(str::to_owned))
                    .collect(),
                Err(e) => {
                    let code = aws_sdk_s3::error::ProvideErrorMetadata::code(&e);
                    assert_eq!(code, Some("NoSuchBucket"), "list {bucket}: {e:?}");
                    Vec::new()
                }
            }
        })
    }
}

/// Runs `future` on a runtime of its own (the harness is blocking; tests may be async).
pub fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The static agent (`make agent`): `THE0_AGENT_STATIC`, else the Makefile's output path.
fn static_agent() -> PathBuf {
    let path = std::env::var_os("THE0_AGENT_STATIC").map_or_else(
        || {
            let target = std::env::var_os("CARGO_TARGET_DIR")
                .map_or_else(|| cache_dir().join("target"), PathBuf::from);
            target.join("x86_64-unknown-linux-gnu/agent/the0-agent")
        },
        PathBuf::from,
    );
    assert!(path.exists(), "{} is missing: run `make agent`", path.display());
    path
}

/// The static test bot (`make test-orchestrator` builds it next to the agent).
fn static_testbot() -> PathBuf {
    let path = static_agent().with_file_name("the0-testbot");
    assert!(path.exists(), "{} is missing: run `make testbot`", path.display());
    path
}

/// The bot image: `THE0_TEST_IMAGE` (`make test-orchestrator` builds the universal image under a
/// tag of its run), else the universal image built here by `images/build.sh` under a tag named
/// by the agent's digest (rebuilt when the agent changes, never another engineer's tag).
pub fn image() -> String {
    static IMAGE: OnceLock<String> = OnceLock::new();
    IMAGE
        .get_or_init(|| {
            if let Ok(image) = std::env::var("THE0_TEST_IMAGE") {
                return image;
            }
            let agent = std::fs::read(static_agent()).unwrap();
            let tag = format!("orchtest-{:016x}", fnv1a(&agent));
            let image = format!("the0-runtime:{tag}");
            let present = Command::new("docker")
                .args(["image", "inspect", &image])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .unwrap()
                .success();
            if !present {
                let status = Command::new(workspace().join("images/build.sh"))
                    .arg(static_agent())
                    .env("THE0_IMAGE_TAG", &tag)
                    .stdout(Stdio::null())
                    .status()
                    .unwrap();
                assert!(status.success(), "images/build.sh failed");
            }
            image
        })
        .clone()
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf29ce484222325u64, |h, b| {
        (h ^ *b as u64).wrapping_mul(0x100000001b3)
    })
}

/// A tar.gz code archive holding the test bot as `bot` and as `query`.
pub fn code_archive() -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    for name in ["bot", "query"] {
        std::fs::copy(static_testbot(), dir.path().join(name)).unwrap();
    }
    let output = Command::new("tar")
        .args(["-C", dir.path().to_str().unwrap(), "-cz", "bot", "query"])
        .output()
        .unwrap();
    assert!(output.status.success());
    output.stdout
}

/// A unique orchestrator instance name for one test: `o<run>-<test>`, where the run is
/// `THE0_TEST_RUN` (set by `orchestrator/tests/run.sh`, which removes the run's containers at the
/// end) or this process's id.
pub fn instance(test: &str) -> String {
    let run = std::env::var("THE0_TEST_RUN").unwrap_or_else(|_| std::process::id().to_string());
    format!("o{run}-{test}")
}

/// The containers of `instance` (all states), with `filter`s like `label=runtime.id=b1`.
pub fn containers(instance: &str, filters: &[&str]) -> Vec<String> {
    let mut command = Command::new("docker");
    command.args([
        "ps",
        "-aq",
        "--no-trunc",
        "--filter",
        &format!("label=the0.instance={instance}"),
    ]);
    for filter in filters {
        command.args(["--filter", filter]);
    }
    let output = command.output().unwrap();
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Removes every container of `instance` (test cleanup).
pub fn remove_containers(instance: &str) {
    let ids = containers(instance, &[]);
    if !ids.is_empty() {
        let _ = Command::new("docker").args(["rm", "-f"]).args(&ids).output();
    }
}

/// An orchestrator under test, its spec directory and its gateway.
pub struct Orchestrator {
    pub server: Server,
    pub gateway: SocketAddr,
    pub instance: String,
}

pub const ADMIN_TOKEN: &str = "admin-secret";

impl Orchestrator {
    /// `the0-orchestrator docker` with host networking, MinIO's variables and `extra` args.
    pub fn start(instance: &str, minio: &Minio, extra: &[&str]) -> Orchestrator {
        let mut command = Command::new(env!("CARGO_BIN_EXE_the0-orchestrator"));
        command
            .args([
                "docker",
                "--network",
                "host",
                "--instance",
                instance,
                "--image",
                &image(),
            ])
            .args(["--listen", "127.0.0.1:0", "--admin-token", ADMIN_TOKEN])
            .args(["--agent-env", "THE0_SYNC_INTERVAL_SECS=1", "--stop-grace", "5s"])
            .args(extra)
            .envs(minio.env())
            .env_remove("MONGO_URI")
            .env_remove("NATS_URL");
        let server = Server::spawn(command);
        let line = server.wait_line("\"listening\"", Duration::from_secs(60));
        let event: Value = serde_json::from_str(&line).unwrap();
        let gateway = event["gateway"].as_str().unwrap().parse().unwrap();
        Orchestrator {
            server,
            gateway,
            instance: instance.to_owned(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.gateway)
    }

    /// `POST /query`: the HTTP status and the body.
    pub fn query(&self, bot: &str, path: &str, params: Value, timeout_sec: u64) -> (u16, Value) {
        let body = serde_json::json!({"bot_id": bot, "query_path": path, "params": params, "timeout_sec": timeout_sec});
        http("POST", &self.url("/query"), Some(&body.to_string()), None)
    }

    /// An admin API call with the admin token.
    pub fn admin(&self, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
        http(
            method,
            &self.url(path),
            body.map(|b| b.to_string()).as_deref(),
            Some(ADMIN_TOKEN),
        )
    }

    /// The Prometheus text.
    pub fn metrics(&self) -> String {
        let output = Command::new("curl")
            .args(["-s", &self.url("/metrics")])
            .output()
            .unwrap();
        String::from_utf8(output.stdout).unwrap()
    }

    /// A metric's value (first sample whose name and labels start with `prefix`).
    pub fn metric(&self, prefix: &str) -> f64 {
        self.metrics()
            .lines()
            .find(|l| l.starts_with(prefix))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0)
    }

    /// Waits until `/readyz` answers 200.
    pub fn wait_ready(&self) {
        eventually("the orchestrator to be ready", Duration::from_secs(60), || {
            let (status, _) = http("GET", &self.url("/readyz"), None, None);
            (status == 200).then_some(())
        });
    }

    /// Running containers of a realtime bot.
    pub fn running_bot(&self, bot: &str) -> Vec<String> {
        let output = Command::new("docker")
            .args([
                "ps",
                "-q",
                "--no-trunc",
                "--filter",
                &format!("label=the0.instance={}", self.instance),
            ])
            .args([
                "--filter",
                &format!("label=runtime.id={bot}"),
                "--filter",
                "label=the0.role=bot",
            ])
            .output()
            .unwrap();
        String::from_utf8(output.stdout)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

impl Drop for Orchestrator {
    fn drop(&mut self) {
        let _ = self.server.terminate(Duration::from_secs(90));
        remove_containers(&self.instance);
    }
}

/// One HTTP call with curl on loopback: status and JSON body (`Null` when not JSON).
pub fn http(method: &str, url: &str, body: Option<&str>, token: Option<&str>) -> (u16, Value) {
    let mut command = Command::new("curl");
    command.args(["-s", "-X", method, "-w", "\n%{http_code}", "--max-time", "120"]);
    if let Some(token) = token {
        command.args(["-H", &format!("Authorization: Bearer {token}")]);
    }
    if let Some(body) = body {
        command.args(["-H", "Content-Type: application/json", "--data-binary", body]);
    }
    let output = command.arg(url).output().unwrap();
    let text = String::from_utf8_lossy(&output.stdout).to_string();
    let (body, status) = text.rsplit_once('\n').unwrap_or(("", "0"));
    (
        status.trim().parse().unwrap_or(0),
        serde_json::from_str(body).unwrap_or(Value::Null),
    )
}

/// Writes a spec file.
pub fn write_spec(dir: &Path, id: &str, yaml: &str) {
    the0_sdk::fsutil::write_atomic(&dir.join(format!("{id}.yaml")), yaml.as_bytes()).unwrap();
}
