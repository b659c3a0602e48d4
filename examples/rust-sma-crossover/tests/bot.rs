//! The example bot end to end: real processes, real state files, queries over the result file,
//! TCP and a Unix socket.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use the0_conformance::Driver;
use the0_conformance::http::{self, Target};

const CROSSING_PRICES: [f64; 10] = [10.0, 10.0, 10.0, 5.0, 5.0, 5.0, 20.0, 20.0, 20.0, 5.0];

struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Sandbox {
        Sandbox {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn state_dir(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    fn code_dir(&self) -> PathBuf {
        self.dir.path().join("bot")
    }

    fn query_result(&self) -> PathBuf {
        self.dir.path().join("query/result.json")
    }

    /// Environment shared by the bot and its queries, as the agent sets it.
    fn env(&self, config: &Value, extra: &[(&str, &str)]) -> BTreeMap<String, String> {
        let mut env: BTreeMap<String, String> = [
            ("BOT_ID", "sma-1".to_owned()),
            ("BOT_CONFIG", config.to_string()),
            ("STATE_DIR", self.state_dir().to_str().unwrap().to_owned()),
            (
                "CODE_MOUNT_DIR",
                self.code_dir()
                    .to_str()
                    .unwrap()
                    .trim_start_matches('/')
                    .to_owned(),
            ),
            (
                "THE0_QUERY_RESULT_FILE",
                self.query_result().to_str().unwrap().to_owned(),
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        env.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        env
    }

    fn read_json(&self, path: &Path) -> Value {
        serde_json::from_slice(&fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))).unwrap()
    }

    /// Runs the query program once for `path` with `params`; returns exit code and result file.
    fn query_once(&self, config: &Value, path: &str, params: &Value) -> (i32, Value) {
        let params = params.to_string();
        let env = self.env(config, &[("QUERY_PATH", path), ("QUERY_PARAMS", &params)]);
        let output = query().output(&[], &env);
        (
            output.status.code().unwrap(),
            self.read_json(&self.query_result()),
        )
    }
}

fn bot() -> Driver {
    Driver::new(env!("CARGO_BIN_EXE_sma-bot"))
}

fn query() -> Driver {
    Driver::new(env!("CARGO_BIN_EXE_query"))
}

fn crossing_config() -> Value {
    json!({"symbol": "TEST", "short_period": 2, "long_period": 3, "ticks": 10, "prices": CROSSING_PRICES})
}

#[test]
fn a_scheduled_run_writes_state_metrics_and_a_result_then_the_next_run_continues() {
    let sandbox = Sandbox::new();
    let config = crossing_config();
    let output = bot().output(&[], &sandbox.env(&config, &[]));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let result = sandbox.read_json(&sandbox.code_dir().join("result.json"));
    assert_eq!(
        result,
        json!({"status": "success", "message": "processed 10 ticks, 2 signals so far"})
    );
    let strategy = sandbox.read_json(&sandbox.state_dir().join("strategy.json"));
    assert_eq!(strategy["signal_count"], 2);
    assert_eq!(strategy["short_sma"], 12.5);
    assert_eq!(strategy["long_sma"], 15.0);
    assert_eq!(strategy["trend"], "below");
    let signals = sandbox.read_json(&sandbox.state_dir().join("signals.json"));
    assert_eq!(
        signals
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["side"].clone())
            .collect::<Vec<_>>(),
        ["BUY", "SELL"]
    );

    let stdout = String::from_utf8(output.stdout).unwrap();
    let metrics: Vec<Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(metrics.iter().filter(|m| m["_metric"] == "price").count(), 10);
    let sides: Vec<_> = metrics
        .iter()
        .filter(|m| m["_metric"] == "signal")
        .map(|m| m["side"].clone())
        .collect();
    assert_eq!(sides, ["BUY", "SELL"]);

    // The second run restores the state and continues the series.
    let output = bot().output(&[], &sandbox.env(&config, &[]));
    assert!(output.status.success());
    let strategy = sandbox.read_json(&sandbox.state_dir().join("strategy.json"));
    assert_eq!(strategy["tick"], 20);
    // The window carried over ([20, 20, 5]) makes the replayed 10s cross twice more (BUY at tick
    // 12, SELL at 14) before the BUY at 17 and the SELL at 20.
    assert_eq!(strategy["signal_count"], 6);
    let signals = sandbox.read_json(&sandbox.state_dir().join("signals.json"));
    let ticks: Vec<_> = signals
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["tick"].as_u64().unwrap())
        .collect();
    assert_eq!(ticks, [7, 10, 12, 14, 17, 20]);
}

#[test]
fn a_bad_configuration_is_an_error_result() {
    let sandbox = Sandbox::new();
    let config = json!({"short_period": 20, "long_period": 5});
    let output = bot().output(&[], &sandbox.env(&config, &[]));
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        sandbox.read_json(&sandbox.code_dir().join("result.json")),
        json!({"status": "error", "message": "invalid configuration: short_period (20) must be less than long_period (5)"})
    );
    assert!(!sandbox.state_dir().exists(), "nothing written");
}

#[test]
fn ephemeral_and_info_queries_read_the_state() {
    let sandbox = Sandbox::new();
    let config = crossing_config();
    assert!(bot().output(&[], &sandbox.env(&config, &[])).status.success());

    let (code, status) = sandbox.query_once(&config, "/status", &json!({}));
    assert_eq!(code, 0);
    assert_eq!(
        status,
        json!({"status": "ok", "data": {
            "symbol": "TEST", "tick": 10, "price": 5.0, "short_sma": 12.5, "long_sma": 15.0,
            "trend": "below", "signal_count": 2
        }})
    );
    let (code, signals) = sandbox.query_once(&config, "/signals", &json!({"limit": 1}));
    assert_eq!(code, 0);
    assert_eq!(signals["data"]["count"], 2);
    assert_eq!(
        signals["data"]["signals"],
        json!([{"tick": 10, "side": "SELL", "price": 5.0, "short_sma": 12.5, "long_sma": 15.0}])
    );

    let (code, bad) = sandbox.query_once(&config, "/signals", &json!({"limit": "many"}));
    assert_eq!(
        (code, bad),
        (
            1,
            json!({"status": "error", "error": "limit must be a positive integer, got \"many\""})
        )
    );
    let (code, missing) = sandbox.query_once(&config, "/trades", &json!({}));
    assert_eq!(code, 1);
    assert_eq!(missing["error"], "No handler for path: /trades");

    // Info mode: neither QUERY_PATH nor a realtime BOT_TYPE.
    let output = query().output(&[], &sandbox.env(&config, &[]));
    assert!(output.status.success());
    assert_eq!(
        sandbox.read_json(&sandbox.query_result()),
        json!({"status": "ok", "data": {"available_queries": ["/health", "/info", "/signals", "/status"]}})
    );
}

fn check_server(target: &Target) {
    let status = http::get(target, "/status").unwrap();
    assert_eq!(status.status, 200);
    assert_eq!(status.json()["data"]["signal_count"], 2);
    let by_query_string = http::get(target, "/signals?limit=1").unwrap().json();
    let by_body = http::request(target, "POST", "/signals", Some(br#"{"limit": 1}"#))
        .unwrap()
        .json();
    assert_eq!(by_query_string, by_body);
    assert_eq!(by_body["data"]["signals"][0]["side"], "SELL");
    let bad = http::get(target, "/signals?limit=0").unwrap();
    assert_eq!(
        (bad.status, bad.json()),
        (
            500,
            json!({"status": "error", "error": "limit must be a positive integer, got \"0\""})
        )
    );
}

#[test]
fn the_query_server_answers_over_tcp_and_over_a_unix_socket() {
    let sandbox = Sandbox::new();
    let config = crossing_config();
    assert!(bot().output(&[], &sandbox.env(&config, &[])).status.success());

    let tcp_env = sandbox.env(&config, &[("BOT_TYPE", "realtime")]);
    let (_tcp, tcp) = query().serve(&[], &tcp_env);
    assert!(matches!(tcp, Target::Tcp(_)), "{tcp:?}");
    check_server(&tcp);

    let socket = sandbox.dir.path().join("query.sock");
    let unix_env = sandbox.env(
        &config,
        &[
            ("BOT_TYPE", "realtime"),
            ("THE0_QUERY_SOCKET", socket.to_str().unwrap()),
        ],
    );
    let (_unix, unix) = query().serve(&[], &unix_env);
    assert_eq!(unix, Target::Unix(socket));
    check_server(&unix);
}

/// A realtime bot and its query server run side by side, as in a container: the server reads
/// state the bot keeps writing, and the bot's own writes are not blocked by the query guard.
#[test]
fn a_realtime_bot_and_its_query_server_run_side_by_side() {
    let sandbox = Sandbox::new();
    let config = json!({"symbol": "LIVE", "short_period": 2, "long_period": 4, "tick_interval_ms": 5});
    let mut running_bot = bot().spawn(&[], &sandbox.env(&config, &[("BOT_TYPE", "realtime")]));
    let server_env = sandbox.env(&config, &[("BOT_TYPE", "realtime")]);
    let (_server, target) = query().serve(&[], &server_env);

    let tick_now = || {
        http::get(&target, "/status").unwrap().json()["data"]["tick"]
            .as_u64()
            .unwrap()
    };
    let first = tick_now();
    let deadline = Instant::now() + Duration::from_secs(20);
    while tick_now() <= first {
        assert!(
            Instant::now() < deadline,
            "the bot's ticks never reached the query server"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        running_bot.wait_timeout(Duration::ZERO).is_none(),
        "the realtime bot stopped on its own"
    );
}
