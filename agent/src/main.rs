//! `the0-agent`: see the library documentation (`the0_agent`).

use clap::Parser;
use the0_agent::cli::{Cli, Command, DaemonCommand};
use the0_agent::daemon::{InitOptions, SyncOptions};
use the0_agent::dev::{self, DevOptions};
use the0_agent::execute::{ExecuteFlags, execute};
use the0_agent::{daemon, logging};

/// The version of upstream's runtime this agent replaces.
const UPSTREAM_RUNTIME_VERSION: &str = "1.3.2";

fn main() {
    the0_agent::environ::protect_secrets();
    let cli = Cli::parse();
    if let Command::Version = cli.command {
        println!(
            "the0-agent {} (the0 runtime {UPSTREAM_RUNTIME_VERSION} compatible)",
            env!("CARGO_PKG_VERSION")
        );
        return;
    }
    logging::init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("cannot start the async runtime");
    let code = runtime.block_on(async {
        match cli.command {
            Command::Execute {
                query,
                query_server_only,
                skip_sync,
                skip_query_server,
            } => {
                execute(ExecuteFlags {
                    query,
                    query_server_only,
                    skip_sync,
                    skip_query_server,
                })
                .await
            }
            Command::Daemon {
                command:
                    DaemonCommand::Sync {
                        bot_id,
                        state_path,
                        logs_path,
                        interval,
                        watch_done,
                        readiness_port,
                    },
            } => {
                let stop_budget = std::time::Duration::from_secs(
                    the0_sdk::env::parse_or("THE0_STOP_TIMEOUT_SECS", 25).unwrap_or(25),
                );
                daemon::sync(SyncOptions {
                    bot_id,
                    state_path,
                    logs_path,
                    interval,
                    watch_done: (!watch_done.is_empty()).then(|| watch_done.into()),
                    readiness_port,
                    stop_budget,
                })
                .await
            }
            Command::Daemon {
                command:
                    DaemonCommand::Init {
                        bot_id,
                        code_path,
                        state_path,
                        code_file,
                    },
            } => {
                daemon::init(InitOptions {
                    bot_id,
                    code_path,
                    state_path,
                    code_file,
                })
                .await
            }
            Command::Run { bot, port } => dev::run(dev_options(bot), port).await,
            Command::Query { bot, path, params } => dev::query(dev_options(bot), path, params).await,
            Command::Standby => the0_agent::standby::standby().await,
            Command::Version => unreachable!("handled above"),
        }
    });
    // Blocking tasks still running (a file copy into a frozen store's socket) must not hold the
    // exit past the stop budget.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    std::process::exit(code);
}

fn dev_options(args: the0_agent::cli::DevArgs) -> DevOptions {
    DevOptions {
        bot_dir: args.bot_dir,
        config: args.config,
        store: args.store,
        bot_id: args.bot_id,
    }
}
