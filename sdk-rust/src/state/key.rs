//! State key rules, identical for every SDK because every SDK calls this function.

use crate::error::{Error, KeyRule, Result};

/// Longest accepted key, in bytes of UTF-8. Keeps `<key>.json` and the core's temporary file
/// names below the 255-byte file-name limit of common file systems.
pub const MAX_KEY_BYTES: usize = 200;

/// Checks `key` against every rule, in a fixed order so that a key breaking several rules always
/// reports the same one.
///
/// Upstream rules: not empty; no `/`, `\` or `..`. Added: at most [`MAX_KEY_BYTES`] bytes, no NUL or
/// other control characters, no leading `.` (hidden names belong to the core's temporary files).
pub fn validate_key(key: &str) -> Result<()> {
    let rule = if key.is_empty() {
        KeyRule::Empty
    } else if key.len() > MAX_KEY_BYTES {
        KeyRule::TooLong
    } else if key.chars().any(char::is_control) {
        KeyRule::ControlCharacter
    } else if key.contains(['/', '\\']) {
        KeyRule::PathSeparator
    } else if key.contains("..") {
        KeyRule::DotDot
    } else if key.starts_with('.') {
        KeyRule::LeadingDot
    } else {
        return Ok(());
    };
    Err(Error::InvalidKey {
        key: key.to_owned(),
        rule,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule_of(key: &str) -> Option<KeyRule> {
        match validate_key(key) {
            Ok(()) => None,
            Err(Error::InvalidKey { rule, .. }) => Some(rule),
            Err(other) => panic!("unexpected {other}"),
        }
    }

    #[test]
    fn each_rule() {
        assert_eq!(rule_of(""), Some(KeyRule::Empty));
        assert_eq!(rule_of(&"k".repeat(201)), Some(KeyRule::TooLong));
        assert_eq!(
            rule_of(&"é".repeat(101)),
            Some(KeyRule::TooLong),
            "bytes, not chars"
        );
        assert_eq!(rule_of("a\0b"), Some(KeyRule::ControlCharacter));
        assert_eq!(rule_of("a\nb"), Some(KeyRule::ControlCharacter));
        assert_eq!(rule_of("a\u{7f}"), Some(KeyRule::ControlCharacter));
        assert_eq!(rule_of("a/b"), Some(KeyRule::PathSeparator));
        assert_eq!(rule_of("a\\b"), Some(KeyRule::PathSeparator));
        assert_eq!(rule_of("a..b"), Some(KeyRule::DotDot));
        assert_eq!(rule_of(".."), Some(KeyRule::DotDot));
        assert_eq!(rule_of(".hidden"), Some(KeyRule::LeadingDot));
    }

    #[test]
    fn accepts_ordinary_keys() {
        for key in [
            "prices",
            "BTC-USD_1m",
            "a.b",
            "k".repeat(200).as_str(),
            "prix_€",
            "trailing.",
        ] {
            assert_eq!(rule_of(key), None, "{key:?}");
        }
    }
}
