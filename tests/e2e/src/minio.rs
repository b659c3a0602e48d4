//! A real MinIO server for one test, in a container on the test's network, and a view of the
//! objects it stores that does not use the agent's code (curl with SigV4).
//!
//! Containers reach it by name (`<container>:9000`, Docker's DNS on the user-defined network), the
//! way the0's compose deployment reaches its `minio` service; the test reaches it on the port
//! Docker publishes on 127.0.0.1 — so test traffic from the host stays on loopback. MinIO is the
//! static binary `scripts/ensure-minio.sh` builds, mounted read-only into the agent-only image
//! (an empty root) and run like a bot: uid 1000, read-only root, no capabilities.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::docker::{Scope, agent_image, docker};
use crate::{eventually, published_port};

pub const ACCESS_KEY: &str = "the0e2e";
pub const SECRET_KEY: &str = "the0e2e-secret";

/// A MinIO container; removed with its scope.
pub struct Minio {
    name: String,
    /// The S3 port published on 127.0.0.1.
    pub host_port: u16,
}

impl Minio {
    /// The MinIO binary: `THE0_MINIO_BIN`, else `$THE0_CACHE/bin/minio` (scripts/ensure-minio.sh).
    fn binary() -> PathBuf {
        let bin = std::env::var_os("THE0_MINIO_BIN").map_or_else(
            || {
                let cache = std::env::var_os("THE0_CACHE").map_or_else(
                    || PathBuf::from(std::env::var("HOME").unwrap()).join(".cache/the0-runtime"),
                    PathBuf::from,
                );
                cache.join("bin/minio")
            },
            PathBuf::from,
        );
        assert!(
            bin.exists(),
            "no MinIO at {}: run scripts/ensure-minio.sh (make test does)",
            bin.display()
        );
        bin
    }

    /// Starts MinIO in `scope` and waits until it answers signed S3 requests.
    pub fn start(scope: &Scope) -> Minio {
        let name = scope.container_name("minio");
        let mut args: Vec<String> = ["run", "-d", "--name", &name, "--network", scope.network()]
            .map(String::from)
            .into();
        args.extend(scope.labels());
        args.extend(
            [
                "--read-only",
                "--cap-drop",
                "ALL",
                "--security-opt",
                "no-new-privileges",
                "--user",
                "1000:1000",
                "--tmpfs",
                "/data:rw,uid=1000,gid=1000",
                "--tmpfs",
                "/tmp:rw,mode=1777",
                "-e",
                "HOME=/tmp",
                "-e",
                "MINIO_BROWSER=off",
                "-e",
                "MINIO_UPDATE=off",
                "-p",
                "127.0.0.1::9000",
                "--entrypoint",
                "/usr/local/bin/minio",
            ]
            .map(String::from),
        );
        args.extend([
            "-e".into(),
            format!("MINIO_ROOT_USER={ACCESS_KEY}"),
            "-e".into(),
            format!("MINIO_ROOT_PASSWORD={SECRET_KEY}"),
            "-v".into(),
            format!("{}:/usr/local/bin/minio:ro", Minio::binary().display()),
        ]);
        args.push(agent_image());
        args.extend(["server", "--quiet", "--address", ":9000", "/data"].map(String::from));
        docker(&args);
        let minio = Minio {
            host_port: published_port(&name, 9000),
            name,
        };
        // Ready means answering signed requests (MinIO says it is healthy a moment before its
        // object layer is up): a bucket that does not exist gives 404 once it is.
        eventually("MinIO to answer S3 requests", Duration::from_secs(60), || {
            (minio.s3("GET", "the0-readiness-probe/", None).0 == 404).then_some(())
        });
        minio
    }

    /// The S3 endpoint as containers on the scope's network reach it.
    pub fn container_endpoint(&self) -> String {
        format!("{}:9000", self.name)
    }

    /// A bot container's environment: `vars`, and the agent's object-store variables for this
    /// MinIO (as containers of the scope reach it).
    pub fn bot_env(&self, vars: &[(&str, &str)]) -> Vec<(String, String)> {
        let endpoint = self.container_endpoint();
        let store = [
            ("MINIO_ENDPOINT", endpoint.as_str()),
            ("MINIO_ACCESS_KEY", ACCESS_KEY),
            ("MINIO_SECRET_KEY", SECRET_KEY),
            ("MINIO_USE_SSL", "false"),
        ];
        vars.iter()
            .chain(&store)
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect()
    }

    /// One signed request to `http://127.0.0.1:<port>/<path>`: status and body.
    fn s3(&self, method: &str, path: &str, upload: Option<&std::path::Path>) -> (u16, Vec<u8>) {
        let body = tempfile::NamedTempFile::new().unwrap();
        let mut curl = Command::new("curl");
        curl.args(["-sS", "-X", method, "--aws-sigv4", "aws:amz:us-east-1:s3"])
            .args(["--user", &format!("{ACCESS_KEY}:{SECRET_KEY}")])
            .args(["-o", body.path().to_str().unwrap(), "-w", "%{http_code}"]);
        if let Some(file) = upload {
            curl.args(["-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD", "-T"])
                .arg(file);
        }
        let output = curl
            .arg(format!("http://127.0.0.1:{}/{path}", self.host_port))
            .output()
            .expect("run curl");
        let status = String::from_utf8_lossy(&output.stdout).parse().unwrap_or(0);
        (status, std::fs::read(body.path()).unwrap_or_default())
    }

    /// Stores `body` at `bucket/key`, creating the bucket.
    pub fn put(&self, bucket: &str, key: &str, body: &[u8]) {
        let (status, _) = self.s3("PUT", &format!("{bucket}/"), None);
        assert!(
            matches!(status, 200 | 409),
            "create bucket {bucket}: HTTP {status}"
        );
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), body).unwrap();
        let (status, response) = self.s3("PUT", &format!("{bucket}/{key}"), Some(file.path()));
        assert_eq!(
            status,
            200,
            "PUT {bucket}/{key}: {}",
            String::from_utf8_lossy(&response)
        );
    }

    /// The object at `bucket/key`, or `None` when there is none.
    pub fn get(&self, bucket: &str, key: &str) -> Option<Vec<u8>> {
        match self.s3("GET", &format!("{bucket}/{key}"), None) {
            (200, body) => Some(body),
            (404, _) => None,
            (status, body) => panic!(
                "GET {bucket}/{key}: HTTP {status}: {}",
                String::from_utf8_lossy(&body)
            ),
        }
    }

    /// The keys under `prefix` (one listing page: tests store few objects).
    pub fn keys(&self, bucket: &str, prefix: &str) -> Vec<String> {
        // SigV4 signs the query string percent-encoded.
        let prefix = prefix.replace('/', "%2F");
        let (status, body) = self.s3("GET", &format!("{bucket}/?list-type=2&prefix={prefix}"), None);
        match status {
            200 => String::from_utf8_lossy(&body)
                .split("<Key>")
                .skip(1)
                .filter_map(|part| part.split_once("</Key>").map(|(key, _)| key.to_owned()))
                .collect(),
            404 => Vec::new(),
            _ => panic!(
                "list {bucket}/{prefix}: HTTP {status}: {}",
                String::from_utf8_lossy(&body)
            ),
        }
    }

    /// The content of `path` (relative to /state) in `bot`'s stored state archive, if stored.
    pub fn state_file(&self, bot: &str, path: &str) -> Option<Vec<u8>> {
        let archive = self.get("bot-state", &format!("{bot}/state.tar.gz"))?;
        let mut tar = tar::Archive::new(flate2::read::MultiGzDecoder::new(&archive[..]));
        let mut entries = tar.entries().expect("a tar.gz state archive");
        let mut entry = entries
            .find(|entry| {
                entry
                    .as_ref()
                    .is_ok_and(|e| e.path().is_ok_and(|p| p == Path::new(path)))
            })?
            .unwrap();
        let mut content = Vec::new();
        entry.read_to_end(&mut content).expect("a readable state file");
        Some(content)
    }

    /// The value of state key `key` in `bot`'s stored state, if stored.
    pub fn state_value(&self, bot: &str, key: &str) -> Option<serde_json::Value> {
        let content = self.state_file(bot, &format!(".the0-state/{key}.json"))?;
        Some(serde_json::from_slice(&content).expect("a state file holds JSON"))
    }

    /// Every line of `bot`'s stored logs (`bot-logs/logs/<bot>/<day>.log`, days in order), parsed.
    pub fn log_lines(&self, bot: &str) -> Vec<serde_json::Value> {
        let mut keys = self.keys("bot-logs", &format!("logs/{bot}/"));
        keys.retain(|key| key.ends_with(".log"));
        keys.sort();
        keys.iter()
            .filter_map(|key| self.get("bot-logs", key))
            .flat_map(|day| {
                String::from_utf8(day)
                    .expect("logs are UTF-8")
                    .lines()
                    .map(|line| {
                        serde_json::from_str(line).unwrap_or_else(|e| panic!("log line {line:?}: {e}"))
                    })
                    .collect::<Vec<_>>()
            })
            .collect()
    }
}
