//! The command line, compatible with upstream's `runtime` binary (contract header table).

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};

/// The agent inside every the0 bot container.
#[derive(Debug, Parser)]
#[command(name = "the0-agent", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the bot of this container: download code and state, run it, sync state and logs
    /// (configured by BOT_ID, RUNTIME, ENTRYPOINT, CODE_FILE, ... as upstream).
    Execute {
        /// Run this query path once instead of the bot (as QUERY_PATH).
        #[arg(long, value_name = "PATH")]
        query: Option<String>,
        /// Only serve queries (the Kubernetes query sidecar).
        #[arg(long)]
        query_server_only: bool,
        /// Do not sync state and logs in this process (a sidecar does).
        #[arg(long)]
        skip_sync: bool,
        /// Do not start the query server of a realtime bot.
        #[arg(long)]
        skip_query_server: bool,
    },
    /// Background helpers (Kubernetes sidecar and init container).
    Daemon {
        #[command(subcommand)]
        command: DaemonCommand,
    },
    /// Run a bot folder on this machine (local development): its bot-config.yaml, state in a
    /// local store, queries on 127.0.0.1 for a realtime bot. Stops on Ctrl-C.
    Run {
        #[command(flatten)]
        bot: DevArgs,
        /// Port of the query front.
        #[arg(long, default_value_t = 9476)]
        port: u16,
    },
    /// Answer one query for a bot folder from its stored state (after `run`); prints the answer.
    Query {
        #[command(flatten)]
        bot: DevArgs,
        /// The query path, like /status.
        path: String,
        /// A parameter, as key=value (repeat for more).
        #[arg(long = "param", value_name = "KEY=VALUE", value_parser = parse_param)]
        params: Vec<(String, String)>,
    },
    /// Wait for one query job from the orchestrator, run it, answer, exit (a warm query
    /// container; THE0_STANDBY_ADDR, THE0_STANDBY_TOKEN).
    Standby,
    /// Print the version.
    Version,
}

/// The bot folder of `run` and `query`.
#[derive(Debug, clap::Args)]
pub struct DevArgs {
    /// Folder holding bot-config.yaml and the bot's code.
    pub bot_dir: PathBuf,
    /// Configuration as JSON text or a JSON file (default: config.json in the folder, or {}).
    #[arg(long)]
    pub config: Option<String>,
    /// The local store (default: ~/.local/share/the0/store).
    #[arg(long)]
    pub store: Option<PathBuf>,
    /// Bot id (default: the name in bot-config.yaml).
    #[arg(long)]
    pub bot_id: Option<String>,
}

fn parse_param(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .filter(|(k, _)| !k.is_empty())
        .ok_or_else(|| format!("a parameter is KEY=VALUE, got {text:?}"))
}

#[derive(Debug, Subcommand)]
pub enum DaemonCommand {
    /// Sync the state directory and bot.log to the object store until stopped.
    Sync {
        /// The bot whose state and logs are synced.
        #[arg(long)]
        bot_id: String,
        #[arg(long, default_value = "/state")]
        state_path: PathBuf,
        #[arg(long, default_value = "/var/the0/logs")]
        logs_path: PathBuf,
        /// Safety interval between syncs (changes are synced within a second anyway).
        #[arg(long, default_value = "60s", value_parser = parse_duration)]
        interval: Duration,
        /// Sync one last time and exit when this file appears.
        #[arg(long, default_value = "")]
        watch_done: String,
        /// Serve /healthz and /readyz on this port (0: none).
        #[arg(long, default_value_t = 0)]
        readiness_port: u16,
    },
    /// Download the code and the state, then exit.
    Init {
        /// The bot whose state is downloaded.
        #[arg(long)]
        bot_id: String,
        #[arg(long, default_value = "/bot")]
        code_path: PathBuf,
        #[arg(long, default_value = "/state")]
        state_path: PathBuf,
        /// Object key of the code archive (nothing downloaded when absent).
        #[arg(long)]
        code_file: Option<String>,
    },
}

/// A Go-style duration, as upstream's flags take them: `60s`, `500ms`, `1m30s`, `2h`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let invalid = || format!("invalid duration {text:?}: use a number with a unit, like 60s, 500ms or 1m30s");
    let mut rest = text.trim();
    if rest.is_empty() {
        return Err(invalid());
    }
    let mut total = Duration::ZERO;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(invalid)?;
        let number: f64 = rest[..digits].parse().map_err(|_| invalid())?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let seconds = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(invalid()),
        };
        total += Duration::from_secs_f64(number * seconds);
        rest = &rest[unit_len..];
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("60s"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("1.5h"), Ok(Duration::from_secs(5400)));
        for bad in ["", "60", "s", "10x", "-1s"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn upstream_command_lines_parse() {
        for line in [
            "the0-agent execute",
            "the0-agent execute --skip-sync --skip-query-server",
            "the0-agent execute --query /status",
            "the0-agent execute --query-server-only",
            "the0-agent daemon sync --bot-id b --state-path /state --logs-path /var/the0/logs --readiness-port 8079",
            "the0-agent daemon sync --bot-id b --interval 30s --watch-done /var/the0/done",
            "the0-agent daemon init --bot-id b --code-path /bot --state-path /state --code-file u/bot/1.0",
            "the0-agent version",
            "the0-agent standby",
            "the0-agent run examples/bot --port 9500 --store /tmp/s",
            "the0-agent query examples/bot /signals --param limit=2 --param symbol=BTC/USD",
        ] {
            let parsed = Cli::try_parse_from(line.split(' '));
            assert!(parsed.is_ok(), "{line}: {parsed:?}");
        }
        assert!(
            Cli::try_parse_from(["the0-agent", "daemon", "sync"]).is_err(),
            "--bot-id is required"
        );
    }
}
