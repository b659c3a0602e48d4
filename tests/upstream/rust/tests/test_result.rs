//! `success`, `result` (the result file) as upstream-style tests check them.

mod common;

use common::ResultContext;
use serde_json::json;
use the0_sdk::input;

#[test]
fn success_writes_status_and_message() {
    let ctx = ResultContext::new();
    input::success("all good");
    assert_eq!(
        ctx.read_result(),
        json!({"status": "success", "message": "all good"})
    );
}

#[test]
fn success_keeps_quotes_backslashes_and_control_characters() {
    let ctx = ResultContext::new();
    let message = "said \"hi\" at C:\\bots\tthen\nleft \u{1}";
    input::success(message);
    assert_eq!(ctx.read_result()["message"], message);
}

#[test]
fn result_writes_the_value_as_it_is() {
    let ctx = ResultContext::new();
    let value = json!({"status": "success", "trades": [{"id": 1, "qty": 0.5}], "pnl": -3.25});
    input::result(&value);
    assert_eq!(ctx.read_result(), value);
}

#[test]
fn a_later_result_replaces_the_earlier() {
    let ctx = ResultContext::new();
    input::success("first");
    input::result(&json!({"second": true}));
    assert_eq!(ctx.read_result(), json!({"second": true}));
}
