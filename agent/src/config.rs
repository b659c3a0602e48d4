//! The configuration of `execute`, from upstream's environment variables (contract §1a).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use the0_sdk::env::{self, non_empty};

use crate::runtime::{Runtime, check_entrypoint};

/// Everything `execute` needs to know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecuteConfig {
    pub bot_id: String,
    pub runtime: Runtime,
    pub entrypoint: String,
    /// `CODE_FILE`: object key of the code archive; `None` skips the download.
    pub code_file: Option<String>,
    pub bot_config: String,
    pub bot_type: Option<String>,
    pub query_entrypoint: Option<String>,
    pub query_path: Option<String>,
    pub query_params: Option<String>,
    pub query_result_key: Option<String>,
    /// `IS_SCHEDULED=true`: write the done file with the exit code.
    pub is_scheduled: bool,
    pub code_path: PathBuf,
    pub state_path: PathBuf,
    pub logs_path: PathBuf,
    /// `STATE_DIR` for the bot: inherited, or `<STATE_PATH>/.the0-state`.
    pub state_dir: PathBuf,
    /// `THE0_DONE_FILE`, default `/var/the0/done`.
    pub done_file: PathBuf,
    /// `THE0_STOP_TIMEOUT_SECS` (default 25): from SIGTERM to exit, final sync included; below
    /// Docker's and Kubernetes' 30 s.
    pub stop_budget: Duration,
    /// `THE0_STOP_GRACE_SECS` (default 10): how long the bot has to exit after SIGTERM.
    pub stop_grace: Duration,
    /// `THE0_AGENT_RUNTIME_DIR` (default `/tmp/the0-agent`): where the wrappers and the query
    /// process's socket go.
    pub runtime_dir: PathBuf,
    /// `THE0_AGENT_QUERY_ADDR` (default `0.0.0.0:9476`): the public address of the query front.
    pub query_addr: SocketAddr,
    /// `THE0_QUERY_RESULT_FILE` (default `/query/result.json`): the ephemeral query's answer.
    pub query_result_file: PathBuf,
}

impl ExecuteConfig {
    /// Reads the environment; the error names the variable at fault.
    pub fn from_env() -> Result<ExecuteConfig, String> {
        let required = |name: &str| non_empty(name).ok_or_else(|| format!("{name} is not set"));
        let path =
            |name: &str, default: &str| PathBuf::from(non_empty(name).unwrap_or_else(|| default.to_owned()));
        let seconds = |name: &str, default: u64| -> Result<Duration, String> {
            the0_sdk::env::parse_or(name, default)
                .map(Duration::from_secs)
                .map_err(|e| e.to_string())
        };
        let runtime = Runtime::parse(&required("RUNTIME")?)?;
        let entrypoint = required("ENTRYPOINT")?;
        check_entrypoint("ENTRYPOINT", &entrypoint)?;
        let query_entrypoint = non_empty("QUERY_ENTRYPOINT");
        if let Some(entry) = &query_entrypoint {
            check_entrypoint("QUERY_ENTRYPOINT", entry)?;
        }
        let state_path = path("STATE_PATH", "/state");
        let stop_budget = seconds("THE0_STOP_TIMEOUT_SECS", 25)?;
        let stop_grace = seconds("THE0_STOP_GRACE_SECS", 10)?.min(stop_budget);
        Ok(ExecuteConfig {
            bot_id: required(env::BOT_ID)?,
            runtime,
            entrypoint,
            code_file: non_empty("CODE_FILE"),
            bot_config: bot_config()?,
            bot_type: non_empty(env::BOT_TYPE),
            query_entrypoint,
            query_path: non_empty(env::QUERY_PATH),
            query_params: non_empty(env::QUERY_PARAMS),
            query_result_key: non_empty("QUERY_RESULT_KEY"),
            is_scheduled: std::env::var("IS_SCHEDULED").is_ok_and(|v| v == "true"),
            code_path: path("CODE_PATH", "/bot"),
            logs_path: path("LOGS_PATH", "/var/the0/logs"),
            state_dir: non_empty(env::STATE_DIR)
                .map_or_else(|| env::state_dir_in(&state_path), PathBuf::from),
            state_path,
            done_file: path("THE0_DONE_FILE", "/var/the0/done"),
            stop_budget,
            stop_grace,
            runtime_dir: path("THE0_AGENT_RUNTIME_DIR", "/tmp/the0-agent"),
            query_addr: match non_empty("THE0_AGENT_QUERY_ADDR") {
                None => SocketAddr::from(([0, 0, 0, 0], env::DEFAULT_QUERY_PORT)),
                Some(text) => text.parse().map_err(|_| {
                    format!("THE0_AGENT_QUERY_ADDR must be an address like 0.0.0.0:9476, got {text:?}")
                })?,
            },
            query_result_file: env::query_result_file(),
        })
    }

    /// `CODE_MOUNT_DIR` for the SDKs: the code path without its leading slash.
    pub fn code_mount_dir(&self) -> String {
        self.code_path
            .to_string_lossy()
            .trim_start_matches('/')
            .to_owned()
    }
}

/// `BOT_CONFIG` (optional, as upstream): checked by the core's own rule before the bot starts, so
/// a configuration that is not a JSON object, or not UTF-8, is an error that says so rather than
/// a bot that fails later, or runs with none.
fn bot_config() -> Result<String, String> {
    use the0_sdk::input::{config_text, parse_config};
    let text = match config_text() {
        Ok(text) => text,
        Err(e) if e.status() == the0_sdk::Status::MissingEnv => return Ok(String::new()),
        Err(e) => return Err(e.to_string()),
    };
    parse_config(&text).map_err(|e| e.to_string())?;
    Ok(text)
}
