//! Query parameters: from the URL query string, from a JSON object body, or from `QUERY_PARAMS`.
//!
//! Parameters are a JSON object so that typed values keep their types (`{"limit": 5}` stays a
//! number). Query-string values are strings. When a name appears in both the query string and the
//! body, the body wins: it is the typed, explicit source (the gateway sends params as a body).

use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// A parameter map.
pub type Params = Map<String, Value>;

/// Parameters of an HTTP request; the error is the message of a 400 answer.
pub fn from_http(query: Option<&str>, body: &[u8]) -> std::result::Result<Params, String> {
    let mut params = Params::new();
    if let Some(query) = query {
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            params.insert(name.into_owned(), Value::String(value.into_owned()));
        }
    }
    if body.iter().any(|b| !b.is_ascii_whitespace()) {
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(fields)) => params.extend(fields),
            Ok(_) => return Err("request body must be a JSON object of parameters".to_owned()),
            Err(e) => return Err(format!("request body is not valid JSON: {e}")),
        }
    }
    Ok(params)
}

/// Parameters given as JSON object text (`QUERY_PARAMS`); unset or empty means none.
pub fn from_json_text(what: &str, text: Option<&str>) -> Result<Params> {
    let Some(text) = text.filter(|t| !t.trim().is_empty()) else {
        return Ok(Params::new());
    };
    match crate::json::parse(what, text)? {
        Value::Object(fields) => Ok(fields),
        other => Err(Error::InvalidArgument(format!(
            "{what} must be a JSON object, got {}",
            json_type_name(&other)
        ))),
    }
}

/// The string form of a parameter, identical in every SDK: a string parameter as it is, any other
/// value as its JSON text (`5`, `true`, `[1,2]`, `null`).
pub fn to_param_string(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Every parameter in string form (see [`to_param_string`]).
pub fn string_view(params: &Params) -> HashMap<String, String> {
    params
        .iter()
        .map(|(k, v)| (k.clone(), to_param_string(v)))
        .collect()
}

/// Every parameter in string form as a JSON object, keys sorted, so that the same parameters
/// always give the same text: what hosts of statically typed languages hand to `get(key)`.
pub fn strings_json(params: &Params) -> String {
    let sorted: BTreeMap<&str, String> = params
        .iter()
        .map(|(k, v)| (k.as_str(), to_param_string(v)))
        .collect();
    serde_json::to_string(&sorted).expect("a map of strings always serializes")
}

fn json_type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Status;
    use serde_json::json;

    #[test]
    fn query_string_is_decoded_and_body_keeps_types() {
        let p = from_http(
            Some("symbol=BTC%2FUSD&note=a+b&limit=1"),
            br#"{"limit": 5, "live": true}"#,
        )
        .unwrap();
        assert_eq!(
            Value::Object(p.clone()),
            json!({"symbol": "BTC/USD", "note": "a b", "limit": 5, "live": true})
        );
        let strings = string_view(&p);
        assert_eq!(
            strings_json(&p),
            r#"{"limit":"5","live":"true","note":"a b","symbol":"BTC/USD"}"#
        );
        assert_eq!(strings["limit"], "5");
        assert_eq!(strings["symbol"], "BTC/USD");
        assert_eq!(strings["live"], "true");
    }

    #[test]
    fn empty_or_blank_body_means_no_body_params() {
        assert!(from_http(None, b"").unwrap().is_empty());
        assert!(from_http(None, b" \n").unwrap().is_empty());
    }

    #[test]
    fn malformed_bodies_are_named() {
        assert!(from_http(None, b"[1]").unwrap_err().contains("JSON object"));
        assert!(
            from_http(None, b"{nope")
                .unwrap_err()
                .starts_with("request body is not valid JSON")
        );
    }

    #[test]
    fn query_params_text() {
        assert!(from_json_text("QUERY_PARAMS", None).unwrap().is_empty());
        assert!(from_json_text("QUERY_PARAMS", Some("")).unwrap().is_empty());
        let p = from_json_text("QUERY_PARAMS", Some(r#"{"n": [1, {"x": null}]}"#)).unwrap();
        assert_eq!(to_param_string(&p["n"]), r#"[1,{"x":null}]"#);
        let e = from_json_text("QUERY_PARAMS", Some("[]")).unwrap_err();
        assert_eq!(e.to_string(), "QUERY_PARAMS must be a JSON object, got an array");
        assert_eq!(
            from_json_text("QUERY_PARAMS", Some("{")).unwrap_err().status(),
            Status::InvalidJson
        );
    }
}
