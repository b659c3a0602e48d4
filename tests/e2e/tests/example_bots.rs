//! Every example bot, end to end in the universal image (see `the0_e2e::example` for the steps and
//! what proves each). A bot joins with one entry below: its folder, a configuration that ticks a
//! few times a second, and where its tick counter shows (a state key, a query, a per-tick metric).
//! Its runtime needs a packager in images/packagers/ (`images/README.md`).

use the0_e2e::example::{ExampleBot, run};

macro_rules! example_bots {
    ($($test:ident: $bot:expr,)*) => {
        $(
            #[test]
            fn $test() {
                run(&$bot);
            }
        )*
    };
}

/// The SMA-crossover twins (examples/rust-sma-crossover, examples/python-sma-crossover,
/// examples/csharp-sma-crossover: runtime dotnet8,
/// examples/haskell-sma-crossover: runtime ghc96, examples/cpp-sma-crossover: runtime gcc13 and
/// its alias cpp-gcc13) share their configuration, state and queries; an entry names the folder.
const SMA_CROSSOVER: ExampleBot = ExampleBot {
    dir: "",
    config: r#"{"symbol": "BTC/USD", "short_period": 2, "long_period": 4, "tick_interval_ms": 100}"#,
    state_key: "strategy",
    state_counter: "/tick",
    query: "/status",
    query_counter: "/tick",
    tick_metric: "price",
    runtime: None,
};

example_bots! {
    rust_sma_crossover: ExampleBot { dir: "rust-sma-crossover", ..SMA_CROSSOVER },
    python_sma_crossover: ExampleBot { dir: "python-sma-crossover", ..SMA_CROSSOVER },
    csharp_sma_crossover: ExampleBot { dir: "csharp-sma-crossover", ..SMA_CROSSOVER },
    haskell_sma_crossover: ExampleBot { dir: "haskell-sma-crossover", ..SMA_CROSSOVER },
    cpp_sma_crossover_gcc13: ExampleBot { dir: "cpp-sma-crossover", ..SMA_CROSSOVER },
    cpp_sma_crossover_cpp_gcc13: ExampleBot {
        dir: "cpp-sma-crossover",
        runtime: Some("cpp-gcc13"),
        ..SMA_CROSSOVER
    },
    typescript_price_alerts: ExampleBot {
        dir: "typescript-price-alerts",
        config: r#"{"symbol": "ETH/USD", "update_interval_ms": 100, "alert_threshold": 0.1}"#,
        state_key: "bot_state",
        state_counter: "/ticks",
        query: "/statistics",
        query_counter: "/ticks",
        tick_metric: "price",
        runtime: None,
    },
    scala_momentum: ExampleBot {
        dir: "scala-momentum",
        config: r#"{"symbol": "BTC/USD", "window": 3, "tick_interval_ms": 100}"#,
        state_key: "momentum",
        state_counter: "/tick",
        query: "/status",
        query_counter: "/tick",
        tick_metric: "price",
        runtime: None,
    },
}
