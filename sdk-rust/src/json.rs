//! JSON text helpers shared by state, queries and input.
//!
//! Bindings hand the core JSON text produced by their host language (Python's `json.dumps`,
//! `JSON.stringify`, nlohmann, Newtonsoft, aeson...). The core validates that text and rewrites it
//! in one canonical form, so that every SDK stores byte-identical files for the same value.

use crate::error::{Error, Result};

/// Validates `text` and returns it in canonical form: compact (no insignificant whitespace),
/// object keys in their original order, strings as UTF-8 with serde_json's minimal escaping.
///
/// `what` names the input in the error message ("value for state key \"prices\"").
pub fn canonicalize(what: &str, text: &str) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len());
    let mut de = serde_json::Deserializer::from_str(text);
    let mut ser = serde_json::Serializer::new(&mut out);
    serde_transcode::transcode(&mut de, &mut ser)
        .and_then(|()| de.end())
        .map_err(|e| Error::invalid_json(what, e))?;
    Ok(out)
}

/// `text` as a JSON string literal: how the core quotes user text (keys, paths, values) inside
/// error messages, the same in every language.
pub fn quote(text: &str) -> String {
    serde_json::Value::from(text).to_string()
}

/// Parses `text` into a [`serde_json::Value`].
pub fn parse(what: &str, text: &str) -> Result<serde_json::Value> {
    serde_json::from_str(text).map_err(|e| Error::invalid_json(what, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Status;

    #[test]
    fn canonical_form_is_compact_ordered_and_utf8() {
        let out = canonicalize("v", r#" { "b" : [1, 2.5, -0, 1e3], "a": "caf\u00e9 \"q\"\n" } "#).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"b":[1,2.5,-0.0,1000.0],"a":"café \"q\"\n"}"#
        );
    }

    #[test]
    fn rejects_non_json_and_trailing_text_naming_the_input() {
        for bad in ["", "{", "{'a':1}", "NaN", "[1] [2]", "tru"] {
            let err = canonicalize("value for state key \"x\"", bad).unwrap_err();
            assert_eq!(err.status(), Status::InvalidJson, "{bad:?}");
            assert!(
                err.to_string()
                    .starts_with("value for state key \"x\" is not valid JSON")
            );
        }
    }
}
