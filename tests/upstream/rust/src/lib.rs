//! A small momentum bot written the way bots for upstream's `the0-sdk` 0.3 are written: the same
//! imports, the same call shapes, and `match`es over every variant of upstream's error types (no
//! wildcard arm), so that a change of shape in the SDK breaks this crate's build.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use the0_sdk::input::{self, LogLevel};
use the0_sdk::state::{self, StateError};
use the0_sdk::ParseError;

/// The state key of the bot's book.
pub const BOOK_KEY: &str = "book";

/// Positions and the prices seen so far, kept across runs.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct Book {
    pub runs: u64,
    pub positions: HashMap<String, f64>,
    pub last_prices: Vec<f64>,
}

/// What went wrong, in words, for every variant of upstream's `StateError`.
pub fn describe_state_error(e: &StateError) -> String {
    match e {
        StateError::InvalidKey(msg) => format!("bad key: {msg}"),
        StateError::Io(err) => format!("io ({:?}): {err}", err.kind()),
        StateError::Json(err) => format!("json: {err}"),
        StateError::ReadOnly(msg) => format!("read-only: {msg}"),
    }
}

/// What went wrong, in words, for every variant of upstream's `ParseError`.
pub fn describe_parse_error(e: &ParseError) -> String {
    match e {
        ParseError::MissingBotId => "no bot id".to_string(),
        ParseError::MissingBotConfig => "no bot config".to_string(),
        ParseError::InvalidJson(err) => format!("config is not JSON: {err}"),
    }
}

/// Loads the book; a missing key is the first run, anything else is reported and starts afresh.
pub fn load_book() -> Book {
    match state::get::<Book>(BOOK_KEY) {
        Ok(book) => book,
        Err(StateError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => Book::default(),
        Err(e) => {
            input::log(
                "cannot read the book, starting afresh",
                Some(&json!({"reason": describe_state_error(&e)})),
                Some(LogLevel::Warn),
            );
            Book::default()
        }
    }
}

/// One run: reads the config, moves the position toward the signal, saves the book.
pub fn run_once(config: &Value) -> Result<Book, StateError> {
    let symbol = config["symbol"].as_str().unwrap_or("BTC/USD").to_string();
    let price = config["price"].as_f64().unwrap_or(100.0);
    let mut book = load_book();
    book.runs += 1;
    book.last_prices.push(price);
    let average = book.last_prices.iter().sum::<f64>() / book.last_prices.len() as f64;
    let signal = if price > average { "buy" } else { "hold" };
    if signal == "buy" {
        *book.positions.entry(symbol.clone()).or_insert(0.0) += 1.0;
    }
    state::set(BOOK_KEY, &book)?;
    state::set("last_signal", &signal)?;
    input::metric(
        "signal",
        &json!({"symbol": symbol, "signal": signal, "price": price}),
    );
    input::log_info("run finished", Some(&json!({"runs": book.runs})));
    Ok(book)
}
