//! The shared scenario vectors (`vectors/*.json`) and how expected values are matched.
//!
//! Expected JSON is compared exactly, with two placeholders for values that differ per run:
//! the string `"<timestamp>"` matches any RFC 3339 UTC timestamp with milliseconds, and
//! `{STATE_DIR}` inside an expected string is replaced by the run's state directory.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// The folder of the shared vectors.
pub fn vectors_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/vectors"))
}

/// Loads `vectors/<file>`.
pub fn load<T: DeserializeOwned>(file: &str) -> T {
    let path = vectors_dir().join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parse {}: {e}", path.display()))
}

/// `query-server.json`: requests to a driver in server mode.
#[derive(Debug, Deserialize)]
pub struct ServerSuite {
    /// Environment of the driver (besides the listen address and state directory).
    pub env: BTreeMap<String, String>,
    /// State keys written before the driver starts.
    pub seed: BTreeMap<String, Value>,
    pub cases: Vec<HttpCase>,
}

/// One request and the exact answer expected.
#[derive(Debug, Deserialize)]
pub struct HttpCase {
    pub name: String,
    pub method: String,
    pub path: String,
    /// Body text, sent as is.
    #[serde(default)]
    pub body: Option<String>,
    /// A body of this many `x` bytes (for the size limit).
    #[serde(default)]
    pub body_size: Option<usize>,
    pub status: u16,
    pub response: Value,
}

impl HttpCase {
    /// The body to send, if any.
    pub fn body_bytes(&self) -> Option<Vec<u8>> {
        match (&self.body, self.body_size) {
            (Some(text), _) => Some(text.clone().into_bytes()),
            (None, Some(n)) => Some(vec![b'x'; n]),
            (None, None) => None,
        }
    }
}

/// `ephemeral.json`: one-shot runs of the driver's query program.
#[derive(Debug, Deserialize)]
pub struct EphemeralSuite {
    pub seed: BTreeMap<String, Value>,
    pub cases: Vec<EphemeralCase>,
}

/// One run: arguments after `query`, environment, expected exit code and result file.
#[derive(Debug, Deserialize)]
pub struct EphemeralCase {
    pub name: String,
    #[serde(default)]
    pub args: Vec<String>,
    pub env: BTreeMap<String, String>,
    pub exit_code: i32,
    pub result: Value,
}

/// `state.json` and `input.json`: sequences of driver invocations, each printing one JSON line.
#[derive(Debug, Deserialize)]
pub struct StepSuite {
    pub cases: Vec<StepCase>,
}

/// A sequence of steps sharing one fresh state directory.
#[derive(Debug, Deserialize)]
pub struct StepCase {
    pub name: String,
    pub steps: Vec<Step>,
}

/// One step: run the driver, or write a raw file into the state directory, or check one.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Step {
    /// Run the driver with `args` and `env`; compare its stdout lines and exit code.
    Run {
        args: Vec<String>,
        #[serde(default)]
        env: BTreeMap<String, String>,
        /// Expected stdout, one JSON value per line.
        stdout: Vec<Value>,
        /// Expected stderr, one JSON value per line (unchecked when absent).
        #[serde(default)]
        stderr: Option<Vec<Value>>,
        #[serde(default)]
        exit_code: i32,
        /// Expected content of the result file (`<CODE_MOUNT_DIR>/result.json`), if checked.
        #[serde(default)]
        result_file: Option<Value>,
    },
    /// Write `content` to `<state dir>/<name>` byte for byte.
    WriteFile { write_file: String, content: String },
    /// The file `<state dir>/<name>` holds exactly `content`.
    ExpectFile { expect_file: String, content: String },
}

/// Whether `actual` matches `expected`, with the placeholders described above.
pub fn matches(expected: &Value, actual: &Value, state_dir: &str) -> bool {
    match (expected, actual) {
        (Value::String(e), Value::String(a)) if e == "<timestamp>" => is_rfc3339_millis(a),
        (Value::String(e), Value::String(a)) => &e.replace("{STATE_DIR}", state_dir) == a,
        (Value::Array(e), Value::Array(a)) => {
            e.len() == a.len() && e.iter().zip(a).all(|(e, a)| matches(e, a, state_dir))
        }
        (Value::Object(e), Value::Object(a)) => {
            e.len() == a.len()
                && e.iter()
                    .all(|(k, e)| a.get(k).is_some_and(|a| matches(e, a, state_dir)))
        }
        (e, a) => e == a,
    }
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ`.
fn is_rfc3339_millis(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 24
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'.',
            23 => *c == b'Z',
            _ => c.is_ascii_digit(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn placeholders() {
        assert!(matches(
            &json!({"t": "<timestamp>"}),
            &json!({"t": "2026-11-23T07:24:00.123Z"}),
            ""
        ));
        assert!(!matches(
            &json!({"t": "<timestamp>"}),
            &json!({"t": "2026-11-23T07:24:00Z"}),
            ""
        ));
        assert!(!matches(&json!({"t": "<timestamp>"}), &json!({"t": 1}), ""));
        assert!(matches(
            &json!("at {STATE_DIR}/k.json"),
            &json!("at /tmp/s/k.json"),
            "/tmp/s"
        ));
        assert!(!matches(&json!({"a": 1}), &json!({"a": 1, "b": 2}), ""));
        assert!(!matches(&json!([1]), &json!([1, 1]), ""));
    }
}
