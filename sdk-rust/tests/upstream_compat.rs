//! A bot written against the upstream `the0-sdk` call shapes compiles and runs unchanged.
//!
//! This file is its own test binary (its own process), so the one test may set environment
//! variables without racing other tests.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use the0_sdk::input::{self, LogLevel};
use the0_sdk::query::{self, QueryRequest};
use the0_sdk::state::{self, StateError};

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Portfolio {
    holdings: HashMap<String, u64>,
}

/// Upstream-style code: every call below has the upstream signature.
fn upstream_style_bot() -> Result<(String, Value), the0_sdk::ParseError> {
    let (bot_id, config) = input::parse()?;
    let (_, as_map): (String, HashMap<String, Value>) = input::parse_as_map()?;
    assert_eq!(as_map.get("symbol"), config.get("symbol"));

    let trade_count: i32 = state::get_or("trade_count", 0);
    state::set("trade_count", &(trade_count + 1)).expect("save");
    state::set(
        "portfolio",
        &Portfolio {
            holdings: [("AAPL".to_owned(), 100)].into(),
        },
    )
    .expect("save");
    let portfolio: Option<Portfolio> = state::get("portfolio").ok();
    assert_eq!(portfolio.unwrap().holdings["AAPL"], 100);
    let missing: Result<i32, StateError> = state::get("nonexistent");
    assert!(missing.is_err());
    if state::exists("portfolio") {
        let keys: Vec<String> = state::list();
        assert_eq!(keys, ["portfolio", "trade_count"]);
    }
    state::clear().ok();

    input::metric("trade", &json!({"symbol": "AAPL", "qty": 1}));
    input::log("Starting trade execution", None, None);
    input::log("Connection lost", None, Some(LogLevel::Warn));
    input::log("Order placed", Some(&json!({"order_id": "12345"})), None);
    input::log_info("info", None);
    input::log_warn("warn", Some(&json!({"n": 1})));
    input::log_error("error", None);
    input::result(&json!({"status": "success", "trades": 1}));
    input::success("Bot executed successfully");
    Ok((bot_id, config))
}

/// Upstream-style query registration: infallible closures returning `Value`.
fn upstream_style_queries() {
    query::handler("/portfolio", |_req| {
        let positions: Vec<String> = state::get_or("positions", vec![]);
        json!({ "positions": positions, "count": positions.len() })
    });
    query::handler("/status", |req| {
        let symbol = req.get("symbol").unwrap_or("BTC/USD".to_string());
        let interval = req.get_or("interval", "1m");
        json!({ "symbol": symbol, "interval": interval, "active": true })
    });
    let params: HashMap<String, String> = query::get_params();
    let config: Value = query::get_config();
    let request = QueryRequest::new("/status", params);
    assert_eq!(request.get_or("symbol", "X"), "X");
    assert!(config.is_object());
    assert!(!query::is_query_mode());
}

#[test]
fn an_upstream_style_bot_compiles_and_runs() {
    let dir = tempfile::tempdir().unwrap();
    let mount = dir.path().join("bot");
    // SAFETY: this test binary runs this single test; no other thread reads the environment.
    unsafe {
        std::env::set_var("BOT_ID", "bot-7");
        std::env::set_var("BOT_CONFIG", r#"{"symbol": "AAPL"}"#);
        std::env::set_var("STATE_DIR", dir.path().join("state"));
        std::env::set_var("CODE_MOUNT_DIR", mount.to_str().unwrap().trim_start_matches('/'));
        std::env::remove_var("QUERY_PATH");
    }
    let (bot_id, config) = upstream_style_bot().expect("parse");
    assert_eq!((bot_id.as_str(), &config), ("bot-7", &json!({"symbol": "AAPL"})));
    let result: Value = serde_json::from_slice(&std::fs::read(mount.join("result.json")).unwrap()).unwrap();
    assert_eq!(
        result,
        json!({"status": "success", "message": "Bot executed successfully"})
    );
    assert!(state::list().is_empty(), "clear() removed every key");
    upstream_style_queries();

    // The one deliberate shape change: `delete` reports failures instead of returning false.
    state::set("old_data", &1).unwrap();
    assert!(state::delete("old_data").unwrap());
    assert!(!state::delete("old_data").unwrap());
    assert!(state::delete("../escape").is_err());
}
