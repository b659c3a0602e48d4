//! `sma-bot`: the bot entrypoint. A scheduled bot processes `ticks` prices per run; a realtime bot
//! (`BOT_TYPE=realtime`) ticks until it is stopped.

use std::thread;
use std::time::Duration;

use serde_json::json;
use sma_crossover::{Config, MAX_SIGNALS, PriceFeed, SIGNALS_KEY, STRATEGY_KEY, Strategy, load_signals};
use the0_sdk::{env, input, state};

fn main() {
    let (bot_id, config) = input::parse().unwrap_or_else(|e| input::error(&e.to_string()));
    let config: Config = serde_json::from_value(config)
        .unwrap_or_else(|e| input::error(&format!("invalid configuration: {e}")));
    if let Err(message) = config.validate() {
        input::error(&format!("invalid configuration: {message}"));
    }
    match run(&bot_id, &config) {
        Ok(strategy) => input::success(&format!(
            "processed {} ticks, {} signals so far",
            strategy.tick, strategy.signal_count
        )),
        Err(e) => input::error(&e.to_string()),
    }
}

fn run(bot_id: &str, config: &Config) -> the0_sdk::Result<Strategy> {
    let mut strategy = Strategy::load()?;
    let mut signals = load_signals()?;
    let feed = PriceFeed::new(config);
    let realtime = env::is_realtime();
    input::log_info(
        &format!("bot {bot_id} starting at tick {}", strategy.tick),
        Some(&json!({"symbol": config.symbol, "realtime": realtime})),
    );
    let mut ticks_this_run = 0;
    while realtime || ticks_this_run < config.ticks {
        let price = feed.price_at(strategy.tick, strategy.last_price());
        input::metric("price", &json!({"symbol": config.symbol, "price": price}));
        if let Some(signal) = strategy.step(config, price) {
            input::metric(
                "signal",
                &json!({"symbol": config.symbol, "side": signal.side, "price": price}),
            );
            signals.push(signal);
            let excess = signals.len().saturating_sub(MAX_SIGNALS);
            signals.drain(..excess);
            state::try_set(SIGNALS_KEY, &signals)?;
        }
        state::try_set(STRATEGY_KEY, &strategy)?;
        ticks_this_run += 1;
        if config.tick_interval_ms > 0 {
            thread::sleep(Duration::from_millis(config.tick_interval_ms));
        }
    }
    Ok(strategy)
}
