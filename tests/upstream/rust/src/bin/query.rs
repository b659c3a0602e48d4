//! The query entrypoint, upstream style: closures returning `Value`, including ones that never
//! return (they compile against upstream's `Fn(&QueryRequest) -> Value` bound, and here too).

use serde_json::json;
use the0_sdk::query::{self, QueryRequest};
use the0_sdk::state;
use upstream_bot::{describe_state_error, load_book, BOOK_KEY};

fn book(_req: &QueryRequest) -> serde_json::Value {
    let book = load_book();
    json!({"runs": book.runs, "positions": book.positions})
}

fn main() {
    query::handler("/book", book);
    query::handler("/position", |req| {
        let symbol = req.get("symbol").unwrap_or("BTC/USD".to_string());
        let qty = load_book().positions.get(&symbol).copied().unwrap_or(0.0);
        json!({ "symbol": symbol, "qty": qty, "params": query::get_params() })
    });
    query::handler("/try-write", |_req| match state::set(BOOK_KEY, &json!({})) {
        Ok(()) => json!({"written": true}),
        Err(e) => json!({"written": false, "why": describe_state_error(&e)}),
    });
    query::handler("/config", |_req| query::get_config());
    query::handler("/todo", |_req| todo!());
    query::handler("/panic", |_req| panic!("no book for {}", "ETH"));
    query::handler("/exit", |_req| std::process::exit(3));
    query::run();
}
