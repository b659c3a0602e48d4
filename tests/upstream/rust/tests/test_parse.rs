//! `input::parse` and `parse_as_map`, matched on upstream's `ParseError` variants.

mod common;

use common::EnvGuard;
use serde_json::json;
use the0_sdk::input;
use the0_sdk::ParseError;
use upstream_bot::describe_parse_error;

#[test]
fn parse_gives_the_id_and_typed_config() {
    let mut env = EnvGuard::new();
    env.set("BOT_ID", "momentum-1");
    env.set(
        "BOT_CONFIG",
        r#"{"symbol":"ETH/USD","price":101.5,"live":false,"tags":["a"]}"#,
    );
    let (id, config) = input::parse().unwrap();
    assert_eq!(id, "momentum-1");
    assert_eq!(config["symbol"], "ETH/USD");
    assert_eq!(config["price"], 101.5);
    assert_eq!(config["live"], false);
    assert_eq!(config["tags"][0], "a");
}

#[test]
fn a_missing_bot_id_is_missing_bot_id() {
    let mut env = EnvGuard::new();
    env.remove("BOT_ID");
    env.set("BOT_CONFIG", "{}");
    let err = input::parse().unwrap_err();
    assert!(matches!(err, ParseError::MissingBotId));
    assert_eq!(describe_parse_error(&err), "no bot id");
    assert!(err.to_string().contains("BOT_ID"), "{err}");
}

#[test]
fn a_missing_config_is_missing_bot_config() {
    let mut env = EnvGuard::new();
    env.set("BOT_ID", "b");
    env.remove("BOT_CONFIG");
    let err = input::parse().unwrap_err();
    assert!(matches!(err, ParseError::MissingBotConfig));
    assert!(err.to_string().contains("BOT_CONFIG"), "{err}");
}

#[test]
fn a_config_that_is_not_json_is_invalid_json() {
    let mut env = EnvGuard::new();
    env.set("BOT_ID", "b");
    env.set("BOT_CONFIG", "{symbol: BTC}");
    match input::parse() {
        Err(ParseError::InvalidJson(e)) => assert!(e.is_syntax(), "{e}"),
        other => panic!("expected InvalidJson, got {other:?}"),
    }
    let err = input::parse().unwrap_err();
    assert!(err.to_string().contains("JSON"), "{err}");
    assert!(
        std::error::Error::source(&err).is_some(),
        "the serde error is the source"
    );
}

#[test]
fn parse_as_map_gives_a_hash_map() {
    let mut env = EnvGuard::new();
    env.set("BOT_ID", "b");
    env.set("BOT_CONFIG", r#"{"symbol":"ETH/USD","risk":{"max":2}}"#);
    let (_, config) = input::parse_as_map().unwrap();
    assert_eq!(config.len(), 2);
    assert_eq!(config["risk"], json!({"max": 2}));
}

#[test]
fn parse_as_map_of_a_non_object_is_invalid_json() {
    let mut env = EnvGuard::new();
    env.set("BOT_ID", "b");
    env.set("BOT_CONFIG", "[1, 2]");
    let err = input::parse_as_map().unwrap_err();
    assert!(matches!(err, ParseError::InvalidJson(_)));
    assert!(err.to_string().contains("BOT_CONFIG"), "{err}");
}

#[test]
fn parse_errors_convert_with_question_mark_into_boxed_errors() {
    fn start() -> Result<String, Box<dyn std::error::Error>> {
        let (id, _) = input::parse()?;
        Ok(id)
    }
    let mut env = EnvGuard::new();
    env.remove("BOT_ID");
    assert!(start().unwrap_err().to_string().contains("BOT_ID"));
    env.set("BOT_ID", "b");
    env.set("BOT_CONFIG", "{}");
    assert_eq!(start().unwrap(), "b");
}
