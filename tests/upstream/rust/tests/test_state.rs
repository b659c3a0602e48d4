//! `state`, matched on upstream's `StateError` variants; `delete` and `exists` give `bool`.

mod common;

use std::collections::HashMap;

use common::StateContext;
use serde::{Deserialize, Serialize};
use the0_sdk::state::{self, StateError};
use upstream_bot::describe_state_error;

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Portfolio {
    holdings: HashMap<String, u64>,
    cash: f64,
}

#[test]
fn a_struct_round_trips() {
    let _ctx = StateContext::new();
    let portfolio = Portfolio {
        holdings: [("AAPL".to_string(), 10), ("MSFT".to_string(), 3)].into(),
        cash: 1250.75,
    };
    state::set("portfolio", &portfolio).unwrap();
    let back: Portfolio = state::get("portfolio").unwrap();
    assert_eq!(back, portfolio);
}

#[test]
fn scalars_and_vectors_round_trip() {
    let _ctx = StateContext::new();
    state::set("count", &7i32).unwrap();
    state::set("symbol", &"BTC/USD").unwrap();
    state::set("prices", &vec![1.5, 2.25]).unwrap();
    assert_eq!(state::get::<i32>("count").unwrap(), 7);
    assert_eq!(state::get::<String>("symbol").unwrap(), "BTC/USD");
    assert_eq!(state::get::<Vec<f64>>("prices").unwrap(), vec![1.5, 2.25]);
}

#[test]
fn a_missing_key_is_an_io_not_found_error() {
    let _ctx = StateContext::new();
    let err = state::get::<i32>("nothing-here").unwrap_err();
    match &err {
        StateError::Io(e) => assert_eq!(e.kind(), std::io::ErrorKind::NotFound),
        other => panic!("expected Io, got {other:?}"),
    }
    assert!(describe_state_error(&err).starts_with("io (NotFound)"));
}

#[test]
fn get_or_falls_back_to_the_default() {
    let _ctx = StateContext::new();
    assert_eq!(state::get_or("missing", 42), 42);
    state::set("present", &5).unwrap();
    assert_eq!(state::get_or("present", 42), 5);
    assert_eq!(
        state::get_or("present", "text".to_string()),
        "text",
        "wrong type: the default"
    );
}

#[test]
fn a_value_of_the_wrong_type_is_a_json_error() {
    let _ctx = StateContext::new();
    state::set("symbol", &"BTC").unwrap();
    let err = state::get::<u64>("symbol").unwrap_err();
    assert!(matches!(err, StateError::Json(_)), "{err:?}");
}

#[test]
fn a_corrupt_file_is_a_json_error_naming_the_key() {
    let ctx = StateContext::new();
    std::fs::write(ctx.file("broken"), "{not json").unwrap();
    let err = state::get::<serde_json::Value>("broken").unwrap_err();
    assert!(matches!(err, StateError::Json(_)), "{err:?}");
    assert!(err.to_string().contains("\"broken\""), "{err}");
}

#[test]
fn exists_and_delete_give_booleans() {
    let _ctx = StateContext::new();
    assert!(!state::exists("k"));
    state::set("k", &1).unwrap();
    assert!(state::exists("k"));
    assert!(state::delete("k"));
    assert!(!state::delete("k"));
    assert!(!state::exists("k"));
    assert!(!state::delete("../k"), "a bad key deletes nothing");
    assert!(!state::exists("../k"));
}

#[test]
fn list_and_clear() {
    let _ctx = StateContext::new();
    assert!(state::list().is_empty());
    for key in ["b", "a", "c"] {
        state::set(key, &key).unwrap();
    }
    let mut keys = state::list();
    keys.sort();
    assert_eq!(keys, ["a", "b", "c"]);
    state::clear().unwrap();
    assert!(state::list().is_empty());
    state::clear().unwrap();
}

#[test]
fn an_empty_key_is_invalid_and_says_empty() {
    let _ctx = StateContext::new();
    match state::set("", &1) {
        Err(StateError::InvalidKey(msg)) => assert!(msg.to_lowercase().contains("empty"), "{msg}"),
        other => panic!("expected InvalidKey, got {other:?}"),
    }
}

#[test]
fn separators_and_traversal_are_refused_as_paths() {
    let _ctx = StateContext::new();
    for key in ["../escape", "..\\escape", "a/b", "a\\b", ".."] {
        match state::set(key, &"evil") {
            Err(StateError::InvalidKey(msg)) => {
                assert!(msg.to_lowercase().contains("path"), "{key}: {msg}")
            }
            other => panic!("{key}: expected InvalidKey, got {other:?}"),
        }
        assert!(matches!(
            state::get::<String>(key),
            Err(StateError::InvalidKey(_))
        ));
    }
}

#[test]
fn errors_convert_with_question_mark() {
    fn save(n: u32) -> Result<u32, StateError> {
        state::set("n", &n)?;
        let back: u32 = state::get("n")?;
        Ok(back)
    }
    fn save_boxed(key: &str) -> Result<(), Box<dyn std::error::Error>> {
        state::set(key, &1)?;
        Ok(())
    }
    let _ctx = StateContext::new();
    assert_eq!(save(9).unwrap(), 9);
    assert!(save_boxed("a/b")
        .unwrap_err()
        .to_string()
        .contains("path separator"));
}
