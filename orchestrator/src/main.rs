//! `the0-orchestrator`: see the library documentation (`the0_orchestrator`).

use clap::Parser;
use the0_orchestrator::app;
use the0_orchestrator::cli::{Cli, Command};

fn main() {
    let cli = Cli::parse();
    if let Command::Version = cli.command {
        println!("the0-orchestrator {}", env!("CARGO_PKG_VERSION"));
        return;
    }
    the0_agent::logging::init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("cannot start the async runtime");
    let code = runtime.block_on(app::run(cli.command));
    runtime.shutdown_timeout(std::time::Duration::from_secs(5));
    std::process::exit(code);
}
