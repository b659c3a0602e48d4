//! `query` in-process: the mode check, parameters, configuration, and the read-only guard as
//! upstream's tests see it (`QUERY_PATH` set in the environment).

mod common;

use std::collections::HashMap;

use common::{EnvGuard, StateContext};
use serde_json::json;
use the0_sdk::query::{self, QueryRequest, ReadOnlyStateError};
use the0_sdk::state::{self, StateError};

#[test]
fn query_mode_follows_query_path() {
    let mut env = EnvGuard::new();
    assert!(!query::is_query_mode());
    env.set("QUERY_PATH", "/book");
    assert!(query::is_query_mode());
}

#[test]
fn params_and_config_outside_a_query() {
    let mut env = EnvGuard::new();
    assert!(query::get_params().is_empty());
    env.set("QUERY_PATH", "/book");
    env.set("QUERY_PARAMS", r#"{"symbol":"ETH"}"#);
    assert_eq!(query::get_params().get("symbol").map(String::as_str), Some("ETH"));
    env.remove("BOT_CONFIG");
    assert_eq!(query::get_config(), json!({}));
    env.set("BOT_CONFIG", r#"{"symbol":"SOL"}"#);
    assert_eq!(query::get_config()["symbol"], "SOL");
}

#[test]
fn a_request_built_by_hand() {
    let params: HashMap<String, String> = [("symbol".to_string(), "ETH".to_string())].into();
    let req = QueryRequest::new("/position", params.clone());
    assert_eq!(req.get("symbol"), Some("ETH".to_string()));
    assert_eq!(req.get("missing"), None);
    assert_eq!(req.get_or("missing", "BTC"), "BTC");
    // The struct is upstream's: two public fields, built and taken apart like any struct.
    let literal = QueryRequest {
        path: "/position".to_string(),
        params,
    };
    let QueryRequest { path, params } = literal.clone();
    assert_eq!((path.as_str(), params.len()), ("/position", 1));
    assert_eq!(literal, req);
}

#[test]
fn registering_does_not_call_the_handler() {
    let _env = EnvGuard::new();
    query::handler("/never-called", |_req| panic!("called at registration"));
    query::handler("/status", |req| json!({"symbol": req.get_or("symbol", "BTC")}));
}

#[test]
fn writes_are_read_only_errors_in_query_mode() {
    let mut ctx = StateContext::new();
    state::set("kept", &1).unwrap();
    ctx.env.set("QUERY_PATH", "/book");
    match state::set("kept", &2) {
        Err(StateError::ReadOnly(msg)) => assert!(msg.contains("read-only"), "{msg}"),
        other => panic!("expected ReadOnly, got {other:?}"),
    }
    assert!(matches!(state::clear(), Err(StateError::ReadOnly(_))));
    assert!(!state::delete("kept"), "delete is false in query mode");
    assert_eq!(
        state::get::<i32>("kept").unwrap(),
        1,
        "reads are allowed and nothing changed"
    );
    assert!(state::exists("kept"));
    assert_eq!(state::list(), ["kept"]);
}

#[test]
fn reads_of_missing_keys_are_not_read_only_errors() {
    let mut ctx = StateContext::new();
    ctx.env.set("QUERY_PATH", "/book");
    let err = state::get::<String>("nothing").unwrap_err();
    assert!(!matches!(err, StateError::ReadOnly(_)));
    assert_eq!(state::get_or("nothing", "default".to_string()), "default");
    assert!(!state::exists("nothing"));
}

#[test]
fn the_query_module_read_only_error_type() {
    let e = ReadOnlyStateError::new("no writes in queries");
    assert_eq!(e.message, "no writes in queries");
    assert_eq!(e.to_string(), "no writes in queries");
    let boxed: Box<dyn std::error::Error> = Box::new(e.clone());
    assert_eq!(boxed.to_string(), "no writes in queries");
    assert!(matches!(StateError::from(e), StateError::ReadOnly(m) if m == "no writes in queries"));
}
