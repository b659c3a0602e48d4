//! Bot input and output: configuration, the result file, metric lines and log lines.
//!
//! - [`parse`] reads `BOT_ID` and `BOT_CONFIG`.
//! - [`success`], [`error`] and [`result`] write `/<CODE_MOUNT_DIR>/result.json`.
//! - [`metric`] prints one JSON line on stdout; [`log`] prints one JSON line on stderr.
//!
//! Every line is built by serde_json (control characters and non-ASCII text are escaped
//! correctly) and stamped with [`crate::time::now_rfc3339`]. The `format_*` functions return the
//! line without printing it, for bindings that print through their own streams.

use std::collections::HashMap;
use std::io::Write;
use std::str::FromStr;

use serde_json::{Map, Value};

use crate::env::{self, Env};
use crate::error::{Error, Result};
use crate::fsutil::write_atomic;
use crate::time::now_rfc3339;

/// Why [`parse`] failed (upstream's type and variants). `Display` is the core's message.
///
/// Each variant maps to one error of the core ([`Error::MissingEnv`] naming `BOT_ID` or
/// `BOT_CONFIG`, [`Error::InvalidJson`] / [`Error::Json`] naming `BOT_CONFIG`) and back, and so to
/// the same status as in every SDK ([`ParseError::status`]).
#[derive(Debug)]
pub enum ParseError {
    /// `BOT_ID` is not set (or empty).
    MissingBotId,
    /// `BOT_CONFIG` is not set.
    MissingBotConfig,
    /// `BOT_CONFIG` is not JSON, or (for [`parse_as_map`]) not a JSON object.
    InvalidJson(serde_json::Error),
}

impl ParseError {
    /// The core's status: `MISSING_ENV` or `INVALID_JSON`.
    pub fn status(&self) -> crate::Status {
        match self {
            ParseError::MissingBotId | ParseError::MissingBotConfig => crate::Status::MissingEnv,
            ParseError::InvalidJson(_) => crate::Status::InvalidJson,
        }
    }
}

/// The core's error for a `BOT_CONFIG` that is not JSON, or (a data error: valid JSON of the wrong
/// shape) not the JSON object [`parse_as_map`] needs.
fn config_error(source: serde_json::Error, data: bool) -> Error {
    if data {
        Error::Json {
            what: format!("{} must be a JSON object", env::BOT_CONFIG),
            source,
        }
    } else {
        Error::invalid_json(env::BOT_CONFIG, source)
    }
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The core's message for the same error.
        match self {
            ParseError::MissingBotId => Error::MissingEnv { name: env::BOT_ID }.fmt(f),
            ParseError::MissingBotConfig => Error::MissingEnv {
                name: env::BOT_CONFIG,
            }
            .fmt(f),
            ParseError::InvalidJson(e) => config_error(serde::de::Error::custom(e), e.is_data()).fmt(f),
        }
    }
}

impl std::error::Error for ParseError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ParseError::InvalidJson(e) => Some(e),
            ParseError::MissingBotId | ParseError::MissingBotConfig => None,
        }
    }
}

impl From<ParseError> for Error {
    fn from(e: ParseError) -> Self {
        match e {
            ParseError::MissingBotId => Error::MissingEnv { name: env::BOT_ID },
            ParseError::MissingBotConfig => Error::MissingEnv {
                name: env::BOT_CONFIG,
            },
            ParseError::InvalidJson(source) => {
                let data = source.is_data();
                config_error(source, data)
            }
        }
    }
}

impl From<Error> for ParseError {
    /// The errors [`parse_from`] reports; any other error (none with the process environment)
    /// is kept as an invalid configuration with its message.
    fn from(e: Error) -> Self {
        match e {
            Error::MissingEnv { name } if name == env::BOT_ID => ParseError::MissingBotId,
            Error::MissingEnv { .. } => ParseError::MissingBotConfig,
            Error::InvalidJson { source, .. } | Error::Json { source, .. } => ParseError::InvalidJson(source),
            other => ParseError::InvalidJson(serde::de::Error::custom(other)),
        }
    }
}

/// Reads the bot id (`BOT_ID`) and configuration (`BOT_CONFIG`, a JSON object) from the process
/// environment (see [`parse_from`]).
pub fn parse() -> Result<(String, Value), ParseError> {
    Ok(parse_from(&Env::Native)?)
}

/// Reads the bot id (`BOT_ID`) and configuration (`BOT_CONFIG`, a JSON object) from `env`.
///
/// A missing `BOT_ID` or `BOT_CONFIG` is [`Error::MissingEnv`]; the configuration text is read by
/// [`parse_config`].
pub fn parse_from(env: &Env) -> Result<(String, Value)> {
    let id = env
        .non_empty(env::BOT_ID)?
        .ok_or(Error::MissingEnv { name: env::BOT_ID })?;
    let text = match env {
        Env::Native => config_text()?,
        Env::Snapshot(_) => env.var(env::BOT_CONFIG)?.ok_or(Error::MissingEnv {
            name: env::BOT_CONFIG,
        })?,
    };
    Ok((id, parse_config(&text)?))
}

/// The text of `BOT_CONFIG` in the process environment: [`Error::MissingEnv`] when it is not set,
/// [`Error::InvalidJson`] when it is not UTF-8 text.
pub fn config_text() -> Result<String> {
    match std::env::var(env::BOT_CONFIG) {
        Ok(text) => Ok(text),
        Err(std::env::VarError::NotPresent) => Err(Error::MissingEnv {
            name: env::BOT_CONFIG,
        }),
        Err(std::env::VarError::NotUnicode(_)) => Err(Error::InvalidJson {
            what: env::BOT_CONFIG.to_owned(),
            source: <serde_json::Error as serde::de::Error>::custom("the value is not UTF-8 text"),
        }),
    }
}

/// The configuration in `BOT_CONFIG` text: empty (or blank) means none (`{}`); anything else must
/// be a JSON object. Text that is not JSON is [`Error::InvalidJson`], other JSON [`Error::Json`],
/// both naming `BOT_CONFIG`. The agent checks a bot's configuration with this before it starts.
pub fn parse_config(text: &str) -> Result<Value> {
    if text.trim().is_empty() {
        return Ok(Value::Object(Map::new()));
    }
    let value = crate::json::parse(env::BOT_CONFIG, text)?;
    let kind = match &value {
        Value::Object(_) => return Ok(value),
        Value::Array(_) => "an array",
        Value::String(_) => "a string",
        Value::Number(_) => "a number",
        Value::Bool(_) => "a boolean",
        Value::Null => "null",
    };
    Err(Error::Json {
        what: format!("{} must be a JSON object", env::BOT_CONFIG),
        source: <serde_json::Error as serde::de::Error>::custom(format!("it is {kind}")),
    })
}

/// Like [`parse`], with the configuration as a map; a configuration that is not a JSON object is
/// [`ParseError::InvalidJson`].
pub fn parse_as_map() -> Result<(String, HashMap<String, Value>), ParseError> {
    let (id, config) = parse()?;
    let map = serde_json::from_value(config).map_err(ParseError::InvalidJson)?;
    Ok((id, map))
}

/// Writes `{"status":"success","message":...}` to the result file.
pub fn success(message: &str) {
    print_report(&status_result("success", message, None));
}

/// Writes `{"status":"success","message":...,"data":...}` to the result file.
pub fn success_with_data(message: &str, data: &Value) {
    print_report(&status_result("success", message, Some(data)));
}

/// Writes `{"status":"error","message":...}` to the result file and exits with code 1.
pub fn error(message: &str) -> ! {
    print_report(&status_result("error", message, None));
    exit(1)
}

/// Writes `{"status":"error","message":...,"data":...}` to the result file and exits with code 1.
pub fn error_with_data(message: &str, data: &Value) -> ! {
    print_report(&status_result("error", message, Some(data)));
    exit(1)
}

/// Writes `data` as it is to the result file.
pub fn result(data: &Value) {
    print_report(data);
}

/// The result object of [`success`] and [`error`]: `status`, `message`, and `data` when given.
pub fn status_result(status: &str, message: &str, data: Option<&Value>) -> Value {
    let mut object = Map::new();
    object.insert("status".into(), status.into());
    object.insert("message".into(), message.into());
    if let Some(data) = data {
        object.insert("data".into(), data.clone());
    }
    Value::Object(object)
}

/// Writes `value` to `/<CODE_MOUNT_DIR>/result.json` (atomically), `CODE_MOUNT_DIR` from `env`.
pub fn write_result(env: &Env, value: &Value) -> Result<()> {
    let path = env.bot_result_file()?;
    let bytes = serde_json::to_vec(value).expect("a Value always serializes");
    write_atomic(&path, &bytes)
        .map_err(|e| Error::io(format!("cannot write result file {}", path.display()), e))
}

/// Writes `value` to the result file and returns the error log line to print on stderr when the
/// file cannot be written: upstream's `success`, `error` and `result` have no error to return, so
/// the failure is reported, not raised. An `Err` is a problem with `env` itself.
pub fn report_result(env: &Env, value: &Value) -> Result<Option<String>> {
    match write_result(env, value) {
        Ok(()) => Ok(None),
        Err(e @ Error::Io { .. }) => Ok(Some(format_log(&e.to_string(), None, Some(LogLevel::Error)))),
        Err(e) => Err(e),
    }
}

/// The Rust host's [`report_result`]: the process environment, the line on Rust's stderr.
fn print_report(value: &Value) {
    match report_result(&Env::Native, value) {
        Ok(None) => {}
        Ok(Some(line)) => print_line(&mut std::io::stderr().lock(), &line),
        Err(e) => log(&e.to_string(), None, Some(LogLevel::Error)),
    }
}

/// Flushes stdout (a `metric` line may be buffered) and exits with `code`.
pub fn exit(code: i32) -> ! {
    let _ = std::io::stdout().flush();
    std::process::exit(code)
}

/// Prints a metric line on stdout (see [`format_metric`]).
pub fn metric(metric_type: &str, data: &Value) {
    print_line(&mut std::io::stdout().lock(), &format_metric(metric_type, data));
}

/// A metric line: `{"_metric":<type>, <data fields>, "timestamp":<RFC 3339>}`.
///
/// `_metric` and `timestamp` win over data fields of the same name; data that is not an object is
/// kept under `data`.
pub fn format_metric(metric_type: &str, data: &Value) -> String {
    let mut line = Map::new();
    line.insert("_metric".into(), metric_type.into());
    merge_data(&mut line, Some(data));
    line.insert("_metric".into(), metric_type.into());
    line.insert("timestamp".into(), now_rfc3339().into());
    Value::Object(line).to_string()
}

/// Log levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum LogLevel {
    /// Normal operation.
    #[default]
    Info,
    /// Something unexpected that the bot survives.
    Warn,
    /// A failure.
    Error,
}

impl LogLevel {
    /// The level as written in log lines: `info`, `warn`, `error`.
    pub const fn as_str(self) -> &'static str {
        match self {
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
        }
    }
}

impl FromStr for LogLevel {
    type Err = Error;

    /// Parses `info`, `warn` (or `warning`) and `error`, in any case.
    fn from_str(text: &str) -> Result<Self> {
        match text.to_ascii_lowercase().as_str() {
            "info" => Ok(LogLevel::Info),
            "warn" | "warning" => Ok(LogLevel::Warn),
            "error" => Ok(LogLevel::Error),
            _ => Err(Error::InvalidArgument(format!(
                "unknown log level {}: expected info, warn or error",
                crate::quote(text)
            ))),
        }
    }
}

/// Prints a log line on stderr (see [`format_log`]).
pub fn log(message: &str, data: Option<&Value>, level: Option<LogLevel>) {
    print_line(&mut std::io::stderr().lock(), &format_log(message, data, level));
}

/// Logs at info level.
pub fn log_info(message: &str, data: Option<&Value>) {
    log(message, data, Some(LogLevel::Info));
}

/// Logs at warn level.
pub fn log_warn(message: &str, data: Option<&Value>) {
    log(message, data, Some(LogLevel::Warn));
}

/// Logs at error level.
pub fn log_error(message: &str, data: Option<&Value>) {
    log(message, data, Some(LogLevel::Error));
}

/// A log line: `{"level":..., "message":..., <data fields>, "timestamp":<RFC 3339>}`.
///
/// `level`, `message` and `timestamp` win over data fields of the same name; data that is not an
/// object is kept under `data`.
pub fn format_log(message: &str, data: Option<&Value>, level: Option<LogLevel>) -> String {
    let level = level.unwrap_or_default().as_str();
    let mut line = Map::new();
    line.insert("level".into(), level.into());
    line.insert("message".into(), message.into());
    merge_data(&mut line, data);
    line.insert("level".into(), level.into());
    line.insert("message".into(), message.into());
    line.insert("timestamp".into(), now_rfc3339().into());
    Value::Object(line).to_string()
}

fn merge_data(line: &mut Map<String, Value>, data: Option<&Value>) {
    match data {
        None | Some(Value::Null) => {}
        Some(Value::Object(fields)) => line.extend(fields.iter().map(|(k, v)| (k.clone(), v.clone()))),
        Some(other) => {
            line.insert("data".into(), other.clone());
        }
    }
}

/// Writes `line` and a newline in one call, so lines from concurrent threads do not interleave.
pub(crate) fn print_line(out: &mut impl Write, line: &str) {
    let mut bytes = Vec::with_capacity(line.len() + 1);
    bytes.extend_from_slice(line.as_bytes());
    bytes.push(b'\n');
    let _ = out.write_all(&bytes).and_then(|()| out.flush());
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_configuration_is_a_json_object() {
        assert_eq!(parse_config("").unwrap(), json!({}));
        assert_eq!(parse_config(" {\"a\": 1} ").unwrap(), json!({"a": 1}));
        for (text, message) in [
            ("[1, 2]", "BOT_CONFIG must be a JSON object: it is an array"),
            ("\"x\"", "BOT_CONFIG must be a JSON object: it is a string"),
            ("null", "BOT_CONFIG must be a JSON object: it is null"),
            (
                "{",
                "BOT_CONFIG is not valid JSON: EOF while parsing an object at line 1 column 1",
            ),
        ] {
            let err = parse_config(text).unwrap_err();
            assert_eq!(err.to_string(), message, "{text}");
            assert_eq!(err.status(), crate::error::Status::InvalidJson);
        }
    }

    fn parsed(line: &str) -> Value {
        serde_json::from_str(line).unwrap()
    }

    #[test]
    fn metric_line_reserved_fields_win_and_keep_their_places() {
        let line = format_metric("trade", &json!({"price": 1.5, "_metric": "x", "timestamp": 0}));
        assert!(
            line.starts_with(r#"{"_metric":"trade","price":1.5,"timestamp":""#),
            "{line}"
        );
        let v = parsed(&line);
        assert!(v["timestamp"].as_str().unwrap().ends_with('Z'));
        assert_eq!(parsed(&format_metric("n", &json!(42)))["data"], 42);
    }

    #[test]
    fn log_line_escapes_and_merges() {
        let line = format_log(
            "tab\there \"q\" é\u{1}",
            Some(&json!({"order": 7, "level": "bogus"})),
            Some(LogLevel::Warn),
        );
        let v = parsed(&line);
        assert_eq!(v["level"], "warn");
        assert_eq!(v["message"], "tab\there \"q\" é\u{1}");
        assert_eq!(v["order"], 7);
        assert!(line.contains(r"\t") && line.contains(r"\u0001"), "{line}");
        assert_eq!(parsed(&format_log("m", None, None))["level"], "info");
        assert_eq!(
            parsed(&format_log("m", Some(&json!([1])), None))["data"],
            json!([1])
        );
    }

    #[test]
    fn levels_parse() {
        assert_eq!("WARNING".parse::<LogLevel>().unwrap(), LogLevel::Warn);
        assert_eq!("error".parse::<LogLevel>().unwrap(), LogLevel::Error);
        assert!(
            "loud"
                .parse::<LogLevel>()
                .unwrap_err()
                .to_string()
                .contains("\"loud\"")
        );
    }

    #[test]
    fn parse_errors_have_the_cores_message_and_status_both_ways() {
        let bad = crate::json::parse(env::BOT_CONFIG, "{oops").unwrap_err();
        let not_object = serde_json::from_value::<HashMap<String, Value>>(Value::from(1)).unwrap_err();
        let cases = [
            Error::MissingEnv { name: env::BOT_ID },
            Error::MissingEnv {
                name: env::BOT_CONFIG,
            },
            bad,
            config_error(not_object, true),
        ];
        for core in cases {
            let (message, status) = (core.to_string(), core.status());
            let upstream = ParseError::from(core);
            assert_eq!(upstream.to_string(), message);
            assert_eq!(upstream.status(), status);
            let back = Error::from(upstream);
            assert_eq!((back.to_string(), back.status()), (message, status));
        }
        assert!(matches!(
            ParseError::from(Error::MissingEnv { name: env::BOT_ID }),
            ParseError::MissingBotId
        ));
    }

    #[test]
    fn status_result_shape() {
        assert_eq!(
            status_result("success", "ok", None),
            json!({"status": "success", "message": "ok"})
        );
        assert_eq!(
            status_result("error", "bad", Some(&json!({"n": 1}))),
            json!({"status": "error", "message": "bad", "data": {"n": 1}})
        );
    }
}
