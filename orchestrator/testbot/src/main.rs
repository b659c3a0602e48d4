//! The orchestrator's test bot. One binary, shipped in the code archive twice: as `bot` (the bot
//! entrypoint) and as `query` (the query entrypoint); it acts on the name it was started as.
//!
//! As `bot`, by `mode` in its configuration:
//! - absent: count the run in state (`runs`), keep the configuration (`config`); a realtime bot
//!   then stays up until stopped, a scheduled one exits 0;
//! - `crash`: exit 3 at once (a crash loop);
//! - `hang`: never finish (a scheduled run past its timeout).
//!
//! As `query`: `/status` (the state and configuration), `/echo` (the params), `/sleep?ms=N`.

use std::thread;
use std::time::Duration;

use serde_json::{Value, json};
use the0_sdk::query::{self, HandlerResult};
use the0_sdk::{input, state};

fn main() {
    let name = std::env::args()
        .next()
        .and_then(|arg0| arg0.rsplit('/').next().map(str::to_owned))
        .unwrap_or_default();
    if name == "query" {
        serve_queries();
    } else {
        run_bot();
    }
}

fn run_bot() {
    let (bot_id, config) = input::parse().unwrap_or_else(|e| input::error(&e.to_string()));
    match config.get("mode").and_then(Value::as_str) {
        Some("crash") => {
            eprintln!("testbot {bot_id}: crashing on purpose");
            std::process::exit(3);
        }
        Some("hang") => loop {
            thread::sleep(Duration::from_secs(3600));
        },
        _ => {}
    }
    let runs: u64 = state::get_or("runs", 0);
    let written = state::set("runs", &(runs + 1)).and_then(|()| state::set("config", &config));
    if let Err(e) = written {
        input::error(&format!("cannot write state: {e}"));
    }
    println!("testbot {bot_id}: run {} started", runs + 1);
    if the0_sdk::env::is_realtime() {
        loop {
            thread::sleep(Duration::from_secs(3600));
        }
    }
    input::success("done");
}

fn serve_queries() {
    query::try_handler("/status", |_req| -> HandlerResult {
        Ok(json!({
            "runs": state::get_or::<u64>("runs", 0),
            "config": state::get_or::<Value>("config", Value::Null),
            "bot_config": query::get_config(),
        }))
    });
    query::try_handler("/echo", |req| -> HandlerResult { Ok(json!(req.params)) });
    query::try_handler("/sleep", |req| -> HandlerResult {
        let ms: u64 = req.get("ms").and_then(|ms| ms.parse().ok()).unwrap_or(0);
        thread::sleep(Duration::from_millis(ms));
        Ok(json!({"slept_ms": ms}))
    });
    query::run();
}
