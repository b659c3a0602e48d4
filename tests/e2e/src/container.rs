//! Bot containers as upstream's Docker runner creates them (contract §9), and what a test reads
//! back from them: the published query port, the agent's log, the exit code.

use std::process::Command;

use serde_json::Value;

use crate::docker::{Scope, docker, try_docker};
use crate::published_port;

/// The agent's query port inside a container.
pub const QUERY_PORT: u16 = 9476;

/// The `docker run` flags of every bot container (contract §9, and §2 for the tmpfs mounts):
/// uid 1000, read-only root, tmpfs for the writable paths, no capabilities, no privilege
/// escalation, upstream's memory and CPU defaults, SIGTERM to stop, working directory /tmp.
pub fn contract_flags() -> Vec<String> {
    [
        "--user",
        "1000:1000",
        "--read-only",
        "--cap-drop",
        "ALL",
        "--security-opt",
        "no-new-privileges",
        "--tmpfs",
        "/bot:rw,exec,nosuid,nodev,uid=1000,gid=1000",
        "--tmpfs",
        "/state:rw,nosuid,nodev,uid=1000,gid=1000",
        "--tmpfs",
        "/var/the0:rw,nosuid,nodev,uid=1000,gid=1000",
        "--tmpfs",
        "/query:rw,nosuid,nodev,uid=1000,gid=1000",
        "--tmpfs",
        "/tmp:rw,nosuid,nodev,mode=1777",
        "--memory",
        "512m",
        "--cpu-shares",
        "512",
        "--stop-signal",
        "SIGTERM",
        "--workdir",
        "/tmp",
    ]
    .map(String::from)
    .into()
}

/// What to run: the image, the environment, and whether to publish the query port.
pub struct Spec {
    pub image: String,
    pub env: Vec<(String, String)>,
    /// Publish :9476 on 127.0.0.1 (a port Docker picks).
    pub publish_query: bool,
    /// Extra `docker run` arguments (mounts).
    pub extra: Vec<String>,
    /// The command, when not the image's (`/app/runtime execute`).
    pub command: Vec<String>,
}

impl Spec {
    pub fn new(image: String, env: Vec<(String, String)>) -> Spec {
        Spec {
            image,
            env,
            publish_query: false,
            extra: Vec::new(),
            command: Vec::new(),
        }
    }
}

/// A container started in a scope (removed with it).
pub struct Container {
    pub name: String,
}

impl Container {
    /// `docker run -d` of `spec` with the contract's flags on the scope's network.
    pub fn start(scope: &Scope, role: &str, spec: &Spec) -> Container {
        let name = scope.container_name(role);
        docker(&Container::run_args(scope, &name, spec, true));
        Container { name }
    }

    /// The `docker run` arguments (after `docker`) for `spec`.
    pub fn run_args(scope: &Scope, name: &str, spec: &Spec, detach: bool) -> Vec<String> {
        let mut args: Vec<String> = vec!["run".into()];
        if detach {
            args.push("-d".into());
        }
        args.extend(["--name", name, "--network", scope.network()].map(String::from));
        args.extend(scope.labels());
        args.extend(contract_flags());
        if spec.publish_query {
            args.extend(["-p".into(), format!("127.0.0.1::{QUERY_PORT}")]);
        }
        for (key, value) in &spec.env {
            args.extend(["-e".into(), format!("{key}={value}")]);
        }
        args.extend(spec.extra.iter().cloned());
        args.push(spec.image.clone());
        args.extend(spec.command.iter().cloned());
        args
    }

    /// The host port (on 127.0.0.1) Docker published the query port on.
    pub fn query_port(&self) -> u16 {
        published_port(&self.name, QUERY_PORT)
    }

    /// `docker stop -t <grace>`: SIGTERM to PID 1 (the agent), SIGKILL after `grace` seconds.
    pub fn stop(&self, grace_secs: u32) {
        docker(&["stop", "-t", &grace_secs.to_string(), &self.name]);
    }

    /// Waits for the container to exit; its exit code.
    pub fn wait(&self) -> i32 {
        docker(&["wait", &self.name])
            .trim()
            .parse()
            .expect("docker wait prints the exit code")
    }

    /// Whether Docker still sees the container running.
    pub fn is_running(&self) -> bool {
        try_docker(&["inspect", "-f", "{{.State.Running}}", &self.name]).is_ok_and(|s| s == "true")
    }

    /// The container's stdout and stderr.
    pub fn output(&self) -> (String, String) {
        let output = Command::new("docker")
            .args(["logs", &self.name])
            .output()
            .expect("run docker logs");
        (
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }

    /// The agent's log lines (JSON on stderr) whose message is `message`.
    pub fn agent_events(&self, message: &str) -> Vec<Value> {
        self.output()
            .1
            .lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter(|event| event["message"] == message)
            .collect()
    }

    /// `docker exec` of a shell command in the container; its stdout.
    pub fn exec(&self, script: &str) -> String {
        docker(&["exec", &self.name, "sh", "-c", script])
    }

    /// A readable account of the container for assertion messages: its agent's log.
    pub fn describe(&self) -> String {
        let (stdout, stderr) = self.output();
        let tail = |text: &str| {
            text.lines()
                .rev()
                .take(40)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect::<Vec<_>>()
                .join("\n")
        };
        format!(
            "container {}\n--- stderr (last lines)\n{}\n--- stdout (last lines)\n{}",
            self.name,
            tail(&stderr),
            tail(&stdout)
        )
    }
}
