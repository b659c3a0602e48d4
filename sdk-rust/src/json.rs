//! JSON text helpers shared by state, queries and input.
//!
//! Bindings hand the core JSON text produced by their host language (Python's `json.dumps`,
//! `JSON.stringify`, nlohmann, Newtonsoft, aeson...). The core validates that text and rewrites it
//! in one canonical form, so that every SDK stores byte-identical files for the same value.

use serde::Deserialize;
use serde_json::ser::Formatter;

use crate::error::{Error, Result};

/// Validates `text` and returns it in canonical form: compact (no insignificant whitespace),
/// object keys in their original order, strings as UTF-8 with serde_json's minimal escaping, and
/// numbers as serde_json writes them (`1e3` -> `1000.0`) whenever that keeps their value.
///
/// A number that `f64` and `i64`/`u64` cannot hold exactly (an integer beyond 64 bits, a decimal
/// with more digits than a double keeps) is kept as written: the core never rounds a value a host
/// language handed it (Python ints, C# decimals, Scala BigDecimals, Haskell Integers).
///
/// `what` names the input in the error message ("value for state key \"prices\"").
pub fn canonicalize(what: &str, text: &str) -> Result<Vec<u8>> {
    validate(text)
        .and_then(|()| compact(text))
        .map_err(|e| Error::invalid_json(what, e))
}

/// Deepest nesting of arrays and objects the core accepts, in state values and state files:
/// serde_json's own limit for a typed read, low enough that every host decodes what the core
/// hands it (Python's decoder recurses, and raised `RecursionError` on a deep state file).
pub const MAX_DEPTH: usize = 128;

/// Checks that `text` is one JSON value nested at most [`MAX_DEPTH`] deep.
pub fn validate(text: &str) -> serde_json::Result<()> {
    let mut de = serde_json::Deserializer::from_str(text);
    serde::de::IgnoredAny::deserialize(&mut de)?;
    de.end()?;
    // `IgnoredAny` walks any depth without recursion; the depth is counted here.
    let bytes = text.as_bytes();
    let (mut depth, mut at) = (0usize, 0);
    while at < bytes.len() {
        match bytes[at] {
            b'"' => {
                at = string_end(bytes, at);
                continue;
            }
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(<serde_json::Error as serde::de::Error>::custom(format!(
                        "nested deeper than {MAX_DEPTH} levels"
                    )));
                }
            }
            b']' | b'}' => depth -= 1,
            _ => {}
        }
        at += 1;
    }
    Ok(())
}

/// Rewrites valid JSON `text` in canonical form, token by token.
fn compact(text: &str) -> serde_json::Result<Vec<u8>> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(text.len());
    let mut at = 0;
    while at < bytes.len() {
        match bytes[at] {
            b' ' | b'\t' | b'\n' | b'\r' => at += 1,
            b'"' => {
                let end = string_end(bytes, at);
                let token = &text[at..end];
                if token.contains('\\') {
                    let decoded: String = serde_json::from_str(token)?;
                    serde_json::to_writer(&mut out, &decoded)?;
                } else {
                    // No escapes: already minimal (raw control characters are not valid JSON).
                    out.extend_from_slice(token.as_bytes());
                }
                at = end;
            }
            b'-' | b'0'..=b'9' => {
                let end = number_end(bytes, at);
                write_number(&mut out, &text[at..end]);
                at = end;
            }
            // Punctuation and the letters of true, false and null.
            other => {
                out.push(other);
                at += 1;
            }
        }
    }
    Ok(out)
}

/// The index just past the number token that starts at `start`.
fn number_end(bytes: &[u8], start: usize) -> usize {
    start
        + bytes[start..]
            .iter()
            .position(|b| !matches!(b, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'))
            .unwrap_or(bytes.len() - start)
}

/// The index just past the string literal that opens at `start`.
fn string_end(bytes: &[u8], start: usize) -> usize {
    let mut at = start + 1;
    while bytes[at] != b'"' {
        at += if bytes[at] == b'\\' { 2 } else { 1 };
    }
    at + 1
}

/// Writes the number `token` as serde_json would, unless that would change its value.
fn write_number(out: &mut Vec<u8>, token: &str) {
    // Integers are already canonical (JSON has no leading zeros or plus signs), and stay
    // integers at any size: `10**30` must not come back as the float `1e30`. "-0" is not an
    // integer to serde_json, which writes it "-0.0".
    if !token.contains(['.', 'e', 'E']) && token != "-0" {
        out.extend_from_slice(token.as_bytes());
        return;
    }
    let value = match token.parse::<f64>() {
        Ok(value) if value.is_finite() => value,
        _ => return out.extend_from_slice(token.as_bytes()),
    };
    let start = out.len();
    serde_json::ser::CompactFormatter
        .write_f64(out, value)
        .expect("writing to a Vec cannot fail");
    let written = std::str::from_utf8(&out[start..]).expect("a formatted f64 is ASCII");
    // Most hosts already write the shortest form (Python's repr, JavaScript): equal text is the
    // common, cheap case.
    if written != token && Decimal::of(written) != Decimal::of(token) {
        out.truncate(start);
        out.extend_from_slice(token.as_bytes());
    }
}

/// The exact value of a JSON number, compared without allocating: the digits of
/// `integer` + `fraction` between `lead` and `end` (no leading or trailing zeros), times
/// 10^`exponent`. Zero has no digits and exponent 0; its sign is kept.
#[derive(Debug)]
struct Decimal<'a> {
    negative: bool,
    integer: &'a str,
    fraction: &'a str,
    lead: usize,
    end: usize,
    exponent: i64,
}

impl<'a> Decimal<'a> {
    fn of(token: &'a str) -> Decimal<'a> {
        let (negative, unsigned) = match token.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, token),
        };
        let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
            Some(e) => (
                &unsigned[..e],
                unsigned[e + 1..].parse::<i64>().unwrap_or(i64::MAX),
            ),
            None => (unsigned, 0),
        };
        let (integer, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let mut decimal = Decimal {
            negative,
            integer,
            fraction,
            lead: 0,
            end: 0,
            exponent: 0,
        };
        let total = integer.len() + fraction.len();
        let lead = decimal.digits(0, total).take_while(|&d| d == b'0').count();
        if lead == total {
            return decimal;
        }
        let trailing = (0..total).rev().take_while(|&i| decimal.digit(i) == b'0').count();
        decimal.lead = lead;
        decimal.end = total - trailing;
        decimal.exponent = exponent
            .saturating_sub(fraction.len() as i64)
            .saturating_add(trailing as i64);
        decimal
    }

    fn digit(&self, i: usize) -> u8 {
        match self.integer.as_bytes().get(i) {
            Some(&d) => d,
            None => self.fraction.as_bytes()[i - self.integer.len()],
        }
    }

    fn digits(&self, from: usize, to: usize) -> impl Iterator<Item = u8> + '_ {
        (from..to).map(|i| self.digit(i))
    }
}

impl PartialEq for Decimal<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.negative == other.negative
            && self.exponent == other.exponent
            && self
                .digits(self.lead, self.end)
                .eq(other.digits(other.lead, other.end))
    }
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
    fn nesting_is_limited_and_strings_do_not_count() {
        let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert!(validate(&deep(MAX_DEPTH)).is_ok());
        let err = validate(&deep(MAX_DEPTH + 1)).unwrap_err();
        assert_eq!(err.to_string(), "nested deeper than 128 levels");
        assert!(validate(&deep(100_000)).is_err(), "no stack overflow either");
        assert!(validate(&format!("{{\"a\": \"{}\"}}", "[{".repeat(500))).is_ok());
        let err = canonicalize("value for state key \"d\"", &deep(200)).unwrap_err();
        assert_eq!(err.status(), Status::InvalidJson);
        assert_eq!(
            err.to_string(),
            "value for state key \"d\" is not valid JSON: nested deeper than 128 levels"
        );
    }

    #[test]
    fn canonical_form_is_compact_ordered_and_utf8() {
        let out = canonicalize("v", r#" { "b" : [1, 2.5, -0, 1e3], "a": "caf\u00e9 \"q\"\n" } "#).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"b":[1,2.5,-0.0,1000.0],"a":"café \"q\"\n"}"#
        );
    }

    #[test]
    fn numbers_a_double_cannot_hold_are_kept_as_written() {
        let cases = [
            // beyond u64 / i64
            ("1180591620717411303424", "1180591620717411303424"),
            ("-36893488147419103232", "-36893488147419103232"),
            (
                "1000000000000000000000000000000",
                "1000000000000000000000000000000",
            ),
            // more digits than a double keeps
            ("0.10000000000000000001", "0.10000000000000000001"),
            ("123456789.123456789123", "123456789.123456789123"),
            ("1e400", "1e400"),
            // exact in a double or a 64-bit integer: serde_json's form
            ("18446744073709551615", "18446744073709551615"),
            ("-9223372036854775808", "-9223372036854775808"),
            ("0.1", "0.1"),
            ("1.50", "1.5"),
            ("1E+2", "100.0"),
            ("2.5e-3", "0.0025"),
            ("0.0", "0.0"),
            ("-0.0", "-0.0"),
        ];
        for (input, canonical) in cases {
            let text = format!(r#"{{"n":{input},"in":[{input}]}}"#);
            let out = String::from_utf8(canonicalize("v", &text).unwrap()).unwrap();
            assert_eq!(
                out,
                format!(r#"{{"n":{canonical},"in":[{canonical}]}}"#),
                "{input}"
            );
        }
    }

    #[test]
    fn strings_are_unescaped_to_utf8_and_re_escaped_minimally() {
        let out = canonicalize("v", r#"["\u0041\/\t", "a\\b", "\ud83d\ude00", "1 2", "x\"y"]"#).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"["A/\t","a\\b","😀","1 2","x\"y"]"#
        );
    }

    #[test]
    fn rejects_non_json_and_trailing_text_naming_the_input() {
        for bad in [
            "",
            "{",
            "{'a':1}",
            "NaN",
            "[1] [2]",
            "tru",
            "01",
            "1.",
            "\"\\x\"",
            "\"\\ud800\"",
        ] {
            let err = canonicalize("value for state key \"x\"", bad).unwrap_err();
            assert_eq!(err.status(), Status::InvalidJson, "{bad:?}");
            assert!(
                err.to_string()
                    .starts_with("value for state key \"x\" is not valid JSON")
            );
        }
    }

    mod property {
        //! Property tests of the canonical writer over generated JSON text: whatever the spacing,
        //! escapes and number spellings, the output is valid JSON, a fixed point, equal in value,
        //! and every number keeps its exact decimal value.

        use super::*;
        use proptest::prelude::*;

        /// A JSON number token: any sign, integer digits (beyond 64 bits too), fraction and
        /// exponent, as hosts may write them.
        fn number() -> impl Strategy<Value = String> {
            (
                any::<bool>(),
                prop_oneof![Just("0".to_owned()), "[1-9][0-9]{0,30}"],
                proptest::option::of("[0-9]{1,25}"),
                proptest::option::of(("[eE]", "[+-]?", "[0-9]{1,3}")),
            )
                .prop_map(|(negative, integer, fraction, exponent)| {
                    let mut text = String::new();
                    if negative {
                        text.push('-');
                    }
                    text.push_str(&integer);
                    if let Some(fraction) = fraction {
                        text.push('.');
                        text.push_str(&fraction);
                    }
                    if let Some((e, sign, digits)) = exponent {
                        text.push_str(&format!("{e}{sign}{digits}"));
                    }
                    text
                })
        }

        /// A JSON string literal with plain text, unicode, and every kind of escape.
        fn string() -> impl Strategy<Value = String> {
            proptest::collection::vec(
                prop_oneof![
                    "[a-zA-Z0-9 é€😀]{1,4}",
                    Just("\\\"".to_owned()),
                    Just("\\\\".to_owned()),
                    Just("\\/".to_owned()),
                    Just("\\n\\t\\r\\b\\f".to_owned()),
                    Just("\\u0001\\u00e9\\ud83d\\ude00".to_owned()),
                ],
                0..6,
            )
            .prop_map(|parts| format!("\"{}\"", parts.concat()))
        }

        fn space() -> impl Strategy<Value = &'static str> {
            prop_oneof![Just(""), Just(" "), Just("\n\t "), Just("\r\n")]
        }

        fn value() -> impl Strategy<Value = String> {
            let leaf = prop_oneof![
                number(),
                string(),
                Just("true".to_owned()),
                Just("false".to_owned()),
                Just("null".to_owned()),
            ];
            leaf.prop_recursive(4, 48, 6, |inner| {
                prop_oneof![
                    (proptest::collection::vec((inner.clone(), space()), 0..6)).prop_map(|items| {
                        let items: Vec<String> =
                            items.into_iter().map(|(v, s)| format!("{s}{v}{s}")).collect();
                        format!("[{}]", items.join(","))
                    }),
                    (proptest::collection::vec((string(), inner, space()), 0..6)).prop_map(|fields| {
                        let fields: Vec<String> = fields
                            .into_iter()
                            .map(|(k, v, s)| format!("{s}{k}{s}:{s}{v}"))
                            .collect();
                        format!("{{{}}}", fields.join(","))
                    }),
                ]
            })
        }

        /// The number tokens of JSON text, in order (string literals skipped).
        fn numbers(text: &str) -> Vec<String> {
            let bytes = text.as_bytes();
            let (mut at, mut found) = (0, Vec::new());
            while at < bytes.len() {
                match bytes[at] {
                    b'"' => at = string_end(bytes, at),
                    b'-' | b'0'..=b'9' => {
                        let end = number_end(bytes, at);
                        found.push(text[at..end].to_owned());
                        at = end;
                    }
                    _ => at += 1,
                }
            }
            found
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

            #[test]
            fn canonical_text_is_valid_stable_equal_and_never_rounds(
                text in value(),
                before in space(),
                after in space(),
            ) {
                let input = format!("{before}{text}{after}");
                let out = String::from_utf8(canonicalize("v", &input).unwrap()).unwrap();
                // Valid JSON (serde's Value refuses numbers beyond a double's range, so the check
                // that matters is the syntax; values are compared where a double holds them).
                serde_json::from_str::<serde::de::IgnoredAny>(&out).expect("valid JSON");
                if let Ok(original) = serde_json::from_str::<serde_json::Value>(&input) {
                    let parsed: serde_json::Value = serde_json::from_str(&out).unwrap();
                    prop_assert_eq!(&parsed, &original);
                }
                let again = String::from_utf8(canonicalize("v", &out).unwrap()).unwrap();
                prop_assert_eq!(&again, &out, "a fixed point");
                let (ins, outs) = (numbers(&input), numbers(&out));
                prop_assert_eq!(ins.len(), outs.len());
                for (i, o) in ins.iter().zip(&outs) {
                    prop_assert_eq!(Decimal::of(i), Decimal::of(o), "{} became {}", i, o);
                }
            }
        }
    }
}
