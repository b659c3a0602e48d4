//! `query`: the query entrypoint, answering `/status` and `/signals` from the bot's state.
//!
//! Run as an ephemeral query (`QUERY_PATH=/status`), as a server for a realtime bot
//! (`BOT_TYPE=realtime`), or with neither to list the available queries.

use serde_json::json;
use sma_crossover::{Strategy, load_signals};
use the0_sdk::query::{self, HandlerResult};

fn main() {
    query::try_handler("/status", |_req| -> HandlerResult {
        let config = query::get_config();
        let strategy = Strategy::load()?;
        Ok(json!({
            "symbol": config.get("symbol").cloned().unwrap_or_else(|| json!("BTC/USD")),
            "tick": strategy.tick,
            "price": strategy.last_price(),
            "short_sma": strategy.short_sma,
            "long_sma": strategy.long_sma,
            "trend": strategy.trend,
            "signal_count": strategy.signal_count,
        }))
    });
    query::try_handler("/signals", |req| -> HandlerResult {
        let limit: usize =
            match req.get("limit") {
                None => 10,
                Some(text) => text.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                    format!("limit must be a positive integer, got {}", the0_sdk::quote(&text))
                })?,
            };
        let signals = load_signals()?;
        let newest_first: Vec<_> = signals.iter().rev().take(limit).collect();
        Ok(json!({"signals": newest_first, "count": signals.len()}))
    });
    query::run();
}
