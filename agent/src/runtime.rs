//! Runtimes: which command runs a bot or its query entrypoint, and with which environment.
//!
//! The command table is upstream's (contract §4). Two fixes: an unknown runtime id is an error
//! (upstream ran the entrypoint through a `PATH` lookup), and an entrypoint must be a relative path
//! inside the code directory. The child's environment is the agent's minus everything that is the
//! agent's business — object-store credentials above all (upstream handed MinIO root credentials
//! to every bot).

use std::ffi::OsString;
use std::path::{Component, Path, PathBuf};

/// The runtime ids of upstream's images.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runtime {
    Python311,
    Nodejs20,
    Dotnet8,
    RustStable,
    Gcc13,
    CppGcc13,
    Ghc96,
    Scala3,
}

impl Runtime {
    /// Every runtime with its id.
    pub const ALL: [(Runtime, &'static str); 8] = [
        (Runtime::Python311, "python3.11"),
        (Runtime::Nodejs20, "nodejs20"),
        (Runtime::Dotnet8, "dotnet8"),
        (Runtime::RustStable, "rust-stable"),
        (Runtime::Gcc13, "gcc13"),
        (Runtime::CppGcc13, "cpp-gcc13"),
        (Runtime::Ghc96, "ghc96"),
        (Runtime::Scala3, "scala3"),
    ];

    /// The runtime of an id, or an error listing the known ones.
    pub fn parse(id: &str) -> Result<Runtime, String> {
        Self::ALL
            .iter()
            .find(|(_, name)| *name == id)
            .map(|(r, _)| *r)
            .ok_or_else(|| {
                let known: Vec<_> = Self::ALL.iter().map(|(_, name)| *name).collect();
                format!("unknown RUNTIME {id:?}: expected one of {}", known.join(", "))
            })
    }

    /// Runtimes whose entrypoint is a native executable (made executable after extraction).
    pub fn is_compiled(self) -> bool {
        matches!(
            self,
            Runtime::RustStable | Runtime::Gcc13 | Runtime::CppGcc13 | Runtime::Ghc96
        )
    }
}

/// Checks that an entrypoint is a plain relative path inside the code directory.
pub fn check_entrypoint(name: &str, entry: &str) -> Result<(), String> {
    let path = Path::new(
        entry
            .split_once(':')
            .filter(|(jar, _)| jar.ends_with(".jar"))
            .map_or(entry, |(jar, _)| jar),
    );
    let plain = !entry.is_empty()
        && path
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
    if plain {
        Ok(())
    } else {
        Err(format!(
            "{name} {entry:?} must be a relative path inside the code directory"
        ))
    }
}

/// A program and its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandLine {
    pub program: PathBuf,
    pub args: Vec<OsString>,
}

impl CommandLine {
    fn new(program: impl Into<PathBuf>, args: impl IntoIterator<Item = impl Into<OsString>>) -> Self {
        CommandLine {
            program: program.into(),
            args: args.into_iter().map(Into::into).collect(),
        }
    }

    /// A `Command` for this line.
    pub fn command(&self) -> std::process::Command {
        let mut command = std::process::Command::new(&self.program);
        command.args(&self.args);
        command
    }
}

/// How the entrypoint is run: through a bot-mode wrapper (Python, Node) or directly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The bot entrypoint (`main(id, config)` for Python and Node, through a wrapper).
    Bot,
    /// A query entrypoint, or any script run as it is.
    Query,
}

/// The command for `entry` of `runtime` in `code_dir`. `wrappers` holds the bot-mode wrappers.
pub fn command_for(
    runtime: Runtime,
    role: Role,
    entry: &str,
    code_dir: &Path,
    wrappers: &Path,
) -> CommandLine {
    match (runtime, role) {
        (Runtime::Python311, Role::Bot) => CommandLine::new("python3", [wrappers.join(PYTHON_WRAPPER.0)]),
        (Runtime::Python311, Role::Query) => CommandLine::new("python3", [entry]),
        (Runtime::Nodejs20, Role::Bot) => CommandLine::new("node", [wrappers.join(NODE_WRAPPER.0)]),
        (Runtime::Nodejs20, Role::Query) => CommandLine::new("node", [entry]),
        (Runtime::Dotnet8, _) if entry.ends_with(".dll") => CommandLine::new("dotnet", [entry]),
        (Runtime::Dotnet8, _) => CommandLine::new("dotnet", ["run", "--project", entry]),
        (Runtime::RustStable | Runtime::Gcc13 | Runtime::CppGcc13 | Runtime::Ghc96, _) => {
            CommandLine::new(code_dir.join(entry), Vec::<OsString>::new())
        }
        (Runtime::Scala3, _) => match entry.rsplit_once(':') {
            Some((jar, main)) if !jar.is_empty() && !main.starts_with('\\') => {
                CommandLine::new("java", ["-cp", jar, main])
            }
            _ => CommandLine::new("java", ["-jar", entry]),
        },
    }
}

/// The bot-mode wrappers, embedded in the agent and written out when needed.
pub const PYTHON_WRAPPER: (&str, &str) = ("python_bot.py", include_str!("../wrappers/python_bot.py"));
pub const NODE_WRAPPER: (&str, &str) = ("node_bot.js", include_str!("../wrappers/node_bot.js"));

/// Writes the wrappers into `dir` (a writable place such as `/tmp/the0-agent`).
pub fn install_wrappers(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for (name, source) in [PYTHON_WRAPPER, NODE_WRAPPER] {
        the0_sdk::fsutil::write_atomic(&dir.join(name), source.as_bytes())?;
    }
    Ok(())
}

/// Whether a variable belongs to the agent and must not reach the bot.
pub fn is_agent_only(name: &str) -> bool {
    const PREFIXES: &[&str] = &["MINIO_", "AWS_", "THE0_AGENT_", "THE0_STOP_"];
    const NAMES: &[&str] = &[
        "THE0_STORE",
        "THE0_MAX_ARCHIVE_ENTRIES",
        "MAX_STATE_SIZE_MB",
        "MAX_STATE_FILE_SIZE_MB",
        "QUERY_RESULT_KEY",
        "NATS_URL",
        "MONGO_URI",
        "CODE_FILE",
        "LOG_LEVEL",
    ];
    PREFIXES.iter().any(|p| name.starts_with(p)) || NAMES.contains(&name)
}

/// The environment of a bot or query process: the agent's own, without agent-only variables,
/// plus `extra` (which wins).
pub fn child_env(extra: &[(&str, String)]) -> Vec<(OsString, OsString)> {
    let mut env: Vec<(OsString, OsString)> = std::env::vars_os()
        .filter(|(name, _)| !name.to_str().is_some_and(is_agent_only))
        .filter(|(name, _)| !extra.iter().any(|(k, _)| name == k))
        .collect();
    env.extend(extra.iter().map(|(k, v)| (OsString::from(k), OsString::from(v))));
    env
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtime_ids_and_commands() {
        assert_eq!(Runtime::parse("rust-stable"), Ok(Runtime::RustStable));
        assert!(Runtime::parse("python311").unwrap_err().contains("python3.11"));
        let code = Path::new("/bot");
        let wrappers = Path::new("/tmp/w");
        let cmd = |r, role, e| command_for(r, role, e, code, wrappers);
        assert_eq!(
            cmd(Runtime::Python311, Role::Bot, "main.py"),
            CommandLine::new("python3", ["/tmp/w/python_bot.py"])
        );
        assert_eq!(
            cmd(Runtime::Python311, Role::Query, "query.py"),
            CommandLine::new("python3", ["query.py"])
        );
        assert_eq!(
            cmd(Runtime::RustStable, Role::Bot, "target/release/bot"),
            CommandLine::new("/bot/target/release/bot", Vec::<OsString>::new())
        );
        assert_eq!(
            cmd(Runtime::Scala3, Role::Bot, "app.jar:com.x.Main"),
            CommandLine::new("java", ["-cp", "app.jar", "com.x.Main"])
        );
        assert_eq!(
            cmd(Runtime::Scala3, Role::Bot, "app.jar"),
            CommandLine::new("java", ["-jar", "app.jar"])
        );
        assert_eq!(
            cmd(Runtime::Dotnet8, Role::Bot, "Bot.dll"),
            CommandLine::new("dotnet", ["Bot.dll"])
        );
        assert_eq!(
            cmd(Runtime::Dotnet8, Role::Bot, "Bot.csproj"),
            CommandLine::new("dotnet", ["run", "--project", "Bot.csproj"])
        );
    }

    #[test]
    fn entrypoints_stay_inside_the_code_directory() {
        for ok in ["main.py", "target/release/bot", "./run", "app.jar:com.x.Main"] {
            assert!(check_entrypoint("ENTRYPOINT", ok).is_ok(), "{ok}");
        }
        for bad in ["", "../x", "/usr/bin/python3", "a/../../x", "../app.jar:Main"] {
            assert!(check_entrypoint("ENTRYPOINT", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn agent_variables_do_not_reach_the_bot() {
        for name in [
            "MINIO_SECRET_KEY",
            "AWS_SECRET_ACCESS_KEY",
            "THE0_STORE",
            "QUERY_RESULT_KEY",
            "THE0_STOP_TIMEOUT_SECS",
        ] {
            assert!(is_agent_only(name), "{name}");
        }
        for name in ["BOT_ID", "STATE_DIR", "PATH", "THE0_QUERY_PORT", "HOME"] {
            assert!(!is_agent_only(name), "{name}");
        }
    }
}
