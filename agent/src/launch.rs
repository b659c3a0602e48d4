//! Starting a bot's processes: the command of its runtime, its environment (contract §1b, without
//! the agent's own variables), and where its output goes.

use std::ffi::OsString;
use std::sync::Arc;

use serde_json::Value;
use the0_sdk::env;

use crate::config::ExecuteConfig;
use crate::process::{Spawned, Supervisor, Tee, piped};
use crate::runtime::{Role, Runtime, child_env, command_for, install_wrappers};

/// Starts the bot and its query process; cheap to clone into background tasks.
#[derive(Clone)]
pub struct Launcher {
    config: Arc<ExecuteConfig>,
    supervisor: Supervisor,
}

impl Launcher {
    pub fn new(config: ExecuteConfig, supervisor: Supervisor) -> Launcher {
        Launcher {
            config: Arc::new(config),
            supervisor,
        }
    }

    pub fn config(&self) -> &ExecuteConfig {
        &self.config
    }

    /// Starts `entry` in `role` with its output through `tee`; `extra` variables win over the
    /// computed environment.
    pub fn spawn(
        &self,
        role: Role,
        entry: &str,
        tee: &Tee,
        extra: &[(&str, String)],
    ) -> Result<Spawned, String> {
        let config = &self.config;
        if matches!(config.runtime, Runtime::Python311 | Runtime::Nodejs20) && role == Role::Bot {
            install_wrappers(&config.runtime_dir).map_err(|e| format!("cannot write the wrappers: {e}"))?;
        }
        let line = command_for(
            config.runtime,
            role,
            entry,
            &config.code_path,
            &config.runtime_dir,
        );
        let mut command = line.command();
        command
            .current_dir(&config.code_path)
            .env_clear()
            .envs(self.child_env(role, entry, extra));
        piped(&mut command);
        let mut spawned = self
            .supervisor
            .spawn(&mut command)
            .map_err(|e| format!("cannot start {} ({}): {e}", entry, line.program.display()))?;
        if let Some(stdout) = spawned.stdout.take() {
            spawned.output.push(tee.attach(stdout, role == Role::Query));
        }
        if let Some(stderr) = spawned.stderr.take() {
            spawned.output.push(tee.attach(stderr, true));
        }
        tracing::info!(pid = spawned.pid, entry, ?role, "started");
        Ok(spawned)
    }

    fn child_env(&self, role: Role, entry: &str, overrides: &[(&str, String)]) -> Vec<(OsString, OsString)> {
        let config = &self.config;
        let mut extra: Vec<(&str, String)> = vec![
            (env::BOT_ID, config.bot_id.clone()),
            (env::BOT_CONFIG, config.bot_config.clone()),
            (env::STATE_DIR, config.state_dir.to_string_lossy().into_owned()),
            (env::CODE_MOUNT_DIR, config.code_mount_dir()),
            ("SCRIPT_PATH", entry.to_owned()),
            ("ENTRYPOINT_TYPE", "bot".to_owned()),
        ];
        if config.runtime == Runtime::Python311 {
            let code = config.code_path.to_string_lossy();
            let mut python_path = format!("{code}/vendor:{code}");
            if let Some(existing) = env::non_empty("PYTHONPATH") {
                python_path = format!("{python_path}:{existing}");
            }
            extra.push(("PYTHONPATH", python_path));
        }
        if let Some(bot_type) = &config.bot_type {
            extra.push((env::BOT_TYPE, bot_type.clone()));
        }
        let mut param_vars = Vec::new();
        if let (Some(path), Role::Query) = (&config.query_path, role) {
            extra.push((env::QUERY_PATH, path.clone()));
            extra.push((
                env::THE0_QUERY_RESULT_FILE,
                config.query_result_file.to_string_lossy().into_owned(),
            ));
            if let Some(params) = &config.query_params {
                extra.push((env::QUERY_PARAMS, params.clone()));
                param_vars = query_param_vars(params);
            }
        }
        extra.extend(param_vars.iter().map(|(k, v)| (k.as_str(), v.clone())));
        extra.retain(|(name, _)| !overrides.iter().any(|(o, _)| o == name));
        extra.extend(overrides.iter().cloned());
        child_env(&extra)
    }
}

/// Upstream's `QUERY_PARAM_<key>` variables: one per top-level parameter, in string form, with
/// the name reduced to letters, digits and `_`.
fn query_param_vars(params: &str) -> Vec<(String, String)> {
    let Ok(Value::Object(params)) = serde_json::from_str::<Value>(params) else {
        return Vec::new();
    };
    params
        .iter()
        .map(|(k, v)| {
            let name: String = k
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '_' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            (format!("QUERY_PARAM_{name}"), the0_sdk::query::to_param_string(v))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_param_variables() {
        let vars = query_param_vars(r#"{"limit": 5, "sym-bol": "BTC", "nested": {"a": 1}}"#);
        assert_eq!(
            vars,
            [
                ("QUERY_PARAM_limit".to_owned(), "5".to_owned()),
                ("QUERY_PARAM_sym_bol".to_owned(), "BTC".to_owned()),
                ("QUERY_PARAM_nested".to_owned(), r#"{"a":1}"#.to_owned()),
            ]
        );
        assert!(query_param_vars("not json").is_empty());
    }
}
