//! `the0-agent run` and `the0-agent query`: a bot folder run on this machine the way a container
//! runs it — the same agent, the same lifecycle and store layout — with a local directory store
//! instead of S3, and the folder itself as the code.
//!
//! `run` runs the bot (a realtime bot until Ctrl-C, with queries on `127.0.0.1:9476`; a scheduled
//! bot once). Its state is restored from the store at start and synced back, so the next `run`,
//! or `query`, sees it. `query` answers one query from the stored state, as the platform answers
//! queries for scheduled bots.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::config::ExecuteConfig;
use crate::execute::{ExecuteFlags, Execution};
use crate::runtime::{Runtime, check_entrypoint};
use crate::store::LocalStore;

/// The fields of `bot-config.yaml` the agent needs (upstream's format; others are ignored).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct BotDefinition {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: BotKind,
    pub runtime: String,
    pub entrypoints: Entrypoints,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BotKind {
    Realtime,
    Scheduled,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Entrypoints {
    pub bot: String,
    pub query: Option<String>,
}

impl BotDefinition {
    /// Reads `<bot_dir>/bot-config.yaml`; the error names the file and what is wrong.
    pub fn load(bot_dir: &Path) -> Result<BotDefinition, String> {
        let file = bot_dir.join("bot-config.yaml");
        let text =
            std::fs::read_to_string(&file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        serde_yaml::from_str(&text).map_err(|e| format!("{}: {e}", file.display()))
    }
}

/// What `run` and `query` share.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DevOptions {
    pub bot_dir: PathBuf,
    /// Configuration: JSON text, or a file holding it; default `<bot_dir>/config.json` or `{}`.
    pub config: Option<String>,
    /// The local store; default `$XDG_DATA_HOME/the0/store` (`~/.local/share/the0/store`).
    pub store: Option<PathBuf>,
    pub bot_id: Option<String>,
}

/// Runs the bot of a folder; returns its exit code.
pub async fn run(options: DevOptions, port: u16) -> i32 {
    let outcome = async {
        let (mut config, store, work) = prepare(&options)?;
        config.query_addr = SocketAddr::from(([127, 0, 0, 1], port));
        let kind = if config.is_scheduled {
            "scheduled"
        } else {
            the0_sdk::env::REALTIME
        };
        tracing::info!(bot = %config.bot_id, kind, store = %store.root().display(), "running the bot folder {}", options.bot_dir.display());
        if !config.is_scheduled && config.query_entrypoint.is_some() {
            tracing::info!("queries: http://127.0.0.1:{port}/<path>");
        }
        let code = Execution::new(config, ExecuteFlags::default(), Arc::new(store))
            .run()
            .await;
        let _ = std::fs::remove_dir_all(&work);
        Ok::<i32, String>(code)
    };
    outcome.await.unwrap_or_else(|e| {
        tracing::error!("{e}");
        1
    })
}

/// Answers `path` with `params` from the stored state; prints the answer; returns the exit code.
pub async fn query(options: DevOptions, path: String, params: Vec<(String, String)>) -> i32 {
    let outcome = async {
        let (mut config, store, work) = prepare(&options)?;
        let params: Map<String, Value> = params.into_iter().map(|(k, v)| (k, Value::String(v))).collect();
        config.query_path = Some(path);
        config.query_params = Some(Value::Object(params).to_string());
        let code = Execution::new(config.clone(), ExecuteFlags::default(), Arc::new(store))
            .run()
            .await;
        let answer = std::fs::read_to_string(&config.query_result_file);
        let _ = std::fs::remove_dir_all(&work);
        println!("{}", answer.map_err(|e| format!("no answer: {e}"))?);
        Ok::<i32, String>(code)
    };
    outcome.await.unwrap_or_else(|e| {
        tracing::error!("{e}");
        1
    })
}

/// The configuration of a container for the folder, a fresh working directory, and the store.
fn prepare(options: &DevOptions) -> Result<(ExecuteConfig, LocalStore, PathBuf), String> {
    let bot_dir =
        std::fs::canonicalize(&options.bot_dir).map_err(|e| format!("{}: {e}", options.bot_dir.display()))?;
    let definition = BotDefinition::load(&bot_dir)?;
    let runtime = Runtime::parse(&definition.runtime).map_err(|e| format!("bot-config.yaml: {e}"))?;
    check_entrypoint("entrypoints.bot", &definition.entrypoints.bot)?;
    if let Some(query) = &definition.entrypoints.query {
        check_entrypoint("entrypoints.query", query)?;
    }
    let bot_id = options.bot_id.clone().unwrap_or_else(|| definition.name.clone());
    let work = std::env::temp_dir().join(format!("the0-run-{bot_id}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).map_err(|e| format!("cannot create {}: {e}", work.display()))?;
    let state_path = work.join("state");
    let config = ExecuteConfig {
        bot_id,
        runtime,
        entrypoint: definition.entrypoints.bot.clone(),
        code_file: None,
        bot_config: bot_config(&bot_dir, options.config.as_deref())?,
        bot_type: Some(match definition.kind {
            BotKind::Realtime => the0_sdk::env::REALTIME.to_owned(),
            BotKind::Scheduled => "scheduled".to_owned(),
        }),
        query_entrypoint: definition.entrypoints.query.clone(),
        query_path: None,
        query_params: None,
        query_result_key: None,
        is_scheduled: definition.kind == BotKind::Scheduled,
        code_path: bot_dir,
        state_dir: the0_sdk::env::state_dir_in(&state_path),
        state_path,
        logs_path: work.join("logs"),
        done_file: work.join("done"),
        stop_budget: Duration::from_secs(25),
        stop_grace: Duration::from_secs(10),
        runtime_dir: work.join("runtime"),
        query_addr: SocketAddr::from(([127, 0, 0, 1], the0_sdk::env::DEFAULT_QUERY_PORT)),
        query_result_file: work.join("query/result.json"),
    };
    let store = LocalStore::new(options.store.clone().unwrap_or_else(default_store));
    Ok((config, store, work))
}

/// `$XDG_DATA_HOME/the0/store`, or `~/.local/share/the0/store`.
fn default_store() -> PathBuf {
    let data = the0_sdk::env::non_empty("XDG_DATA_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".local/share"));
    data.join("the0/store")
}

/// The bot configuration as JSON text: `option` (JSON text, or the path of a file holding it),
/// else `<bot_dir>/config.json`, else `{}`.
fn bot_config(bot_dir: &Path, option: Option<&str>) -> Result<String, String> {
    let (text, origin) = match option {
        Some(text) if text.trim_start().starts_with('{') => (text.to_owned(), "--config".to_owned()),
        Some(file) => (
            std::fs::read_to_string(file).map_err(|e| format!("cannot read {file}: {e}"))?,
            file.to_owned(),
        ),
        None => match std::fs::read_to_string(bot_dir.join("config.json")) {
            Ok(text) => (text, bot_dir.join("config.json").display().to_string()),
            Err(_) => return Ok("{}".to_owned()),
        },
    };
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(_)) => Ok(text),
        Ok(_) => Err(format!("the configuration in {origin} must be a JSON object")),
        Err(e) => Err(format!("the configuration in {origin} is not valid JSON: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bot_definitions_and_configurations() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("bot-config.yaml"),
            "name: sma\ndescription: x\nversion: 1.0.0\ntype: realtime\nruntime: rust-stable\nentrypoints:\n  bot: target/release/bot\n  query: target/release/query\nschema:\n  bot: s.json\n",
        )
        .unwrap();
        let definition = BotDefinition::load(dir.path()).unwrap();
        assert_eq!(
            (definition.name.as_str(), definition.kind),
            ("sma", BotKind::Realtime)
        );
        assert_eq!(
            definition.entrypoints.query.as_deref(),
            Some("target/release/query")
        );

        assert_eq!(bot_config(dir.path(), None).unwrap(), "{}");
        std::fs::write(dir.path().join("config.json"), r#"{"a": 1}"#).unwrap();
        assert_eq!(bot_config(dir.path(), None).unwrap(), r#"{"a": 1}"#);
        assert_eq!(
            bot_config(dir.path(), Some(r#"{"b": 2}"#)).unwrap(),
            r#"{"b": 2}"#
        );
        assert!(bot_config(dir.path(), Some("[1]")).is_err());
        std::fs::write(dir.path().join("bad.json"), "{").unwrap();
        let err = bot_config(dir.path(), Some(dir.path().join("bad.json").to_str().unwrap())).unwrap_err();
        assert!(err.contains("bad.json is not valid JSON"), "{err}");

        std::fs::write(
            dir.path().join("bot-config.yaml"),
            "name: x\ntype: sometimes\nruntime: r\nentrypoints: {bot: b}\n",
        )
        .unwrap();
        let err = BotDefinition::load(dir.path()).unwrap_err();
        assert!(
            err.contains("bot-config.yaml") && err.contains("sometimes"),
            "{err}"
        );
    }
}
