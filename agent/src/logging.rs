//! The agent's own log: JSON lines on stderr (`LOG_LEVEL`: error, warn, info (default), debug).

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber.
pub fn init() {
    let level = the0_sdk::env::non_empty("LOG_LEVEL")
        .unwrap_or_else(|| "info".to_owned())
        .to_ascii_lowercase();
    let filter =
        EnvFilter::try_new(format!("{level},aws=warn,hyper=warn")).unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_target(false)
        .with_writer(std::io::stderr)
        .with_env_filter(filter)
        .init();
}
