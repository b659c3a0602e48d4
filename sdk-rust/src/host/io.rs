//! The input side of the host API: `parse`, the result file, and the metric and log lines the
//! host prints. JSON text in and out; the lines come back without a trailing newline.

use serde_json::Value;

use crate::env::Env;
use crate::error::{Error, Result};
use crate::input::{self, LogLevel};

/// `(bot_id, config_json)` from `BOT_ID` and `BOT_CONFIG` (canonical JSON; `{}` when empty).
pub fn input_parse(env: &Env) -> Result<(String, String)> {
    let (id, config) = input::parse_from(env)?;
    Ok((id, config.to_string()))
}

/// Writes `{"status":"success","message":...[,"data":...]}` to the result file. Returns the
/// lines to print on stderr: an error line when the file cannot be written (reported, not raised,
/// as upstream).
pub fn input_success(env: &Env, message: &str, data_json: Option<&str>) -> Result<Vec<String>> {
    let data = optional(Payload::ResultData, data_json)?;
    report(env, &input::status_result("success", message, data.as_ref()))
}

/// Writes `{"status":"error","message":...[,"data":...]}` to the result file; the host then ends
/// its process with code 1 (its own way: `sys.exit`, `process.exit`...). Returns the lines to
/// print on stderr first.
pub fn input_error(env: &Env, message: &str, data_json: Option<&str>) -> Result<Vec<String>> {
    let data = optional(Payload::ResultData, data_json)?;
    report(env, &input::status_result("error", message, data.as_ref()))
}

/// Writes the JSON value `json` as it is to the result file; returns the lines to print on stderr.
pub fn input_result(env: &Env, json: &str) -> Result<Vec<String>> {
    report(env, &Payload::Result.parse(json)?)
}

/// The metric line for stdout: `{"_metric":<type>, <data fields>, "timestamp":...}`.
pub fn metric_line(metric_type: &str, data_json: &str) -> Result<String> {
    Ok(input::format_metric(
        metric_type,
        &Payload::MetricData.parse(data_json)?,
    ))
}

/// The log line for stderr: `{"level":..., "message":..., <data fields>, "timestamp":...}`.
/// `level` is `info` (default), `warn`/`warning` or `error`, in any case.
pub fn log_line(message: &str, data_json: Option<&str>, level: Option<&str>) -> Result<String> {
    let level = level.map(str::parse::<LogLevel>).transpose()?;
    let data = optional(Payload::LogData, data_json)?;
    Ok(input::format_log(message, data.as_ref(), level))
}

/// A value a host hands the core as JSON text; names it in error messages.
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Payload {
    /// The data of `metric`.
    MetricData = 1,
    /// The data of `log`.
    LogData = 2,
    /// The data of `success` and `error`.
    ResultData = 3,
    /// The value of `result`.
    Result = 4,
}

impl Payload {
    /// Every payload, in code order (the C ABI's `THE0_PAYLOAD_*`).
    pub const ALL: [Payload; 4] = [
        Payload::MetricData,
        Payload::LogData,
        Payload::ResultData,
        Payload::Result,
    ];

    /// The payload for a numeric code.
    pub fn from_code(code: i32) -> Option<Payload> {
        Self::ALL.into_iter().find(|p| *p as i32 == code)
    }

    /// How messages name it.
    pub const fn name(self) -> &'static str {
        match self {
            Payload::MetricData => "metric data",
            Payload::LogData => "log data",
            Payload::ResultData => "result data",
            Payload::Result => "result",
        }
    }

    fn parse(self, json: &str) -> Result<Value> {
        crate::json::parse(self.name(), json)
    }
}

/// The error of a value the host could not turn into JSON (`detail`: its serializer's reason),
/// the same in every SDK: `INVALID_JSON`, `"<payload> cannot be serialized: <detail>"`. (State
/// values: [`super::Host::state_set_unserializable`]; handler results:
/// [`super::Reply::Unserializable`].)
pub fn unserializable(payload: Payload, detail: &str) -> Error {
    Error::Json {
        what: format!("{} cannot be serialized", payload.name()),
        source: serde::ser::Error::custom(detail),
    }
}

fn optional(payload: Payload, json: Option<&str>) -> Result<Option<Value>> {
    json.map(|text| payload.parse(text)).transpose()
}

fn report(env: &Env, value: &Value) -> Result<Vec<String>> {
    Ok(input::report_result(env, value)?.into_iter().collect())
}
