//! The bot entrypoint, upstream style: parse, run, report.

use the0_sdk::input;
use upstream_bot::{describe_parse_error, describe_state_error, run_once};

fn main() {
    let (bot_id, config) = match input::parse() {
        Ok(parsed) => parsed,
        Err(e) => input::error(&describe_parse_error(&e)),
    };
    input::log("bot starting", Some(&serde_json::json!({"bot_id": bot_id})), None);
    match run_once(&config) {
        Ok(book) => input::success(&format!("run {} done", book.runs)),
        Err(e) => input::error(&describe_state_error(&e)),
    }
}
