//! The Docker CLI, and a [`Scope`]: the names, labels and network of one test, removed when it
//! ends — so tests never touch another test's (or another engineer's) containers.

use std::process::{Command, Output};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

/// Label every container and network of a test run carries (value: the run id).
pub const RUN_LABEL: &str = "the0.e2e.run";
/// Label naming the scope (one test) a container or network belongs to.
pub const SCOPE_LABEL: &str = "the0.e2e.scope";

/// Runs `docker args...`; the error is its stderr, with the command.
pub fn try_docker<S: AsRef<str>>(args: &[S]) -> Result<String, String> {
    let args: Vec<&str> = args.iter().map(AsRef::as_ref).collect();
    let output: Output = Command::new("docker")
        .args(&args)
        .output()
        .map_err(|e| format!("cannot run docker: {e}"))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).trim_end().to_owned())
    } else {
        Err(format!(
            "docker {} failed ({}): {}",
            args.join(" "),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}

/// Runs `docker args...`, panicking with docker's message when it fails.
pub fn docker<S: AsRef<str>>(args: &[S]) -> String {
    try_docker(args).unwrap_or_else(|e| panic!("{e}"))
}

/// The universal image under test: `THE0_E2E_RUNTIME_IMAGE`, else `the0-runtime:<version>` (what
/// `make images` builds).
pub fn runtime_image() -> String {
    image("THE0_E2E_RUNTIME_IMAGE", "the0-runtime")
}

/// The agent-only image under test: `THE0_E2E_AGENT_IMAGE`, else `the0-agent:<version>`.
pub fn agent_image() -> String {
    image("THE0_E2E_AGENT_IMAGE", "the0-agent")
}

fn image(variable: &str, name: &str) -> String {
    let image = std::env::var(variable).unwrap_or_else(|_| format!("{name}:{}", env!("CARGO_PKG_VERSION")));
    if try_docker(&["image", "inspect", "--format", "{{.Id}}", &image]).is_err() {
        panic!(
            "no image {image} in the Docker engine: `make test-images` builds one for the tests, `make images` the release tags"
        );
    }
    image
}

/// This test process's run id: `THE0_E2E_RUN` (set by tests/e2e/run.sh, which removes whatever
/// carries it at the end), else one made from the process id and the time.
pub fn run_id() -> &'static str {
    static RUN: OnceLock<String> = OnceLock::new();
    RUN.get_or_init(|| {
        std::env::var("THE0_E2E_RUN").unwrap_or_else(|_| {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .subsec_nanos();
            format!("{}-{nanos:x}", std::process::id())
        })
    })
}

/// The resources of one test: a unique name prefix, labels, and a network of its own. Dropping
/// it removes the test's containers (by label) and its network.
pub struct Scope {
    /// `the0-e2e-<run>-<test>-<n>`: prefix of every container name, and the network's name.
    pub name: String,
}

impl Scope {
    /// A scope for `test` (a short name), with its network created.
    pub fn new(test: &str) -> Scope {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "the0-e2e-{}-{test}-{}",
            run_id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let scope = Scope { name };
        let mut args = vec!["network".to_owned(), "create".to_owned()];
        args.extend(scope.labels());
        args.push(scope.name.clone());
        docker(&args);
        scope
    }

    /// `--label` arguments marking a resource as this scope's (and this run's).
    pub fn labels(&self) -> Vec<String> {
        vec![
            "--label".into(),
            format!("{RUN_LABEL}={}", run_id()),
            "--label".into(),
            format!("{SCOPE_LABEL}={}", self.name),
        ]
    }

    /// The network containers of this scope join (user-defined: they reach each other by name).
    pub fn network(&self) -> &str {
        &self.name
    }

    /// A container name in this scope.
    pub fn container_name(&self, role: &str) -> String {
        format!("{}-{role}", self.name)
    }
}

impl Drop for Scope {
    fn drop(&mut self) {
        let filter = format!("label={SCOPE_LABEL}={}", self.name);
        if let Ok(ids) = try_docker(&["ps", "-aq", "--filter", &filter]) {
            let mut args = vec!["rm", "-f", "-v"];
            args.extend(ids.lines());
            if args.len() > 3 {
                let _ = try_docker(&args);
            }
        }
        let _ = try_docker(&["network", "rm", &self.name]);
    }
}
