//! Cross-reading: state written by each SDK's driver is read back by every other's, and every
//! writer leaves byte-identical files.
//!
//! The drivers come from `THE0_CONFORMANCE_DRIVERS`: `name=command` pairs separated by `;`
//! (`rust=/path/driver;python=python3 /path/driver.py;...`), set by `make test-conformance`.
//! Without it, only the Rust driver takes part.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use serde_json::{Value, json};
use the0_conformance::Driver;

/// The keys and JSON texts every driver writes. Numbers stay within what every language reads
/// back exactly (the big integer is compared as a file, byte for byte, and as a double).
const VALUES: &[(&str, &str)] = &[
    ("prices", "[1, 2.5, -3, 1e-7, 123456.789]"),
    ("text", r#""café ☕ 😀 \"q\" \\ \n\t \u0001""#),
    (
        "nested",
        r#"{"z": 1, "a": {"b": [true, false, null], "c": {}}, "é": "€"}"#,
    ),
    ("empty", "{}"),
    ("flag", "false"),
    ("big", "123456789012345678901234567890"),
    ("prix_€", r#""x""#),
];

fn drivers() -> Vec<(String, Driver)> {
    match std::env::var("THE0_CONFORMANCE_DRIVERS") {
        Ok(list) if !list.trim().is_empty() => list
            .split(';')
            .filter(|entry| !entry.trim().is_empty())
            .map(|entry| {
                let (name, command) = entry.split_once('=').unwrap_or_else(|| {
                    panic!("THE0_CONFORMANCE_DRIVERS entry {entry:?} is not name=command")
                });
                (name.trim().to_owned(), Driver::from_command_line(command))
            })
            .collect(),
        _ => vec![(
            "rust".to_owned(),
            Driver::new(env!("CARGO_BIN_EXE_the0-driver-rust")),
        )],
    }
}

fn run(driver: &Driver, args: &[&str], state_dir: &Path) -> Value {
    let env = BTreeMap::from([("STATE_DIR".to_owned(), state_dir.to_str().unwrap().to_owned())]);
    let output = driver.output(args, &env);
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "{args:?}: stdout is not one JSON line ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

#[test]
fn state_written_by_each_driver_is_read_back_by_every_other() {
    let drivers = drivers();
    let mut expected_keys: Vec<&str> = VALUES.iter().map(|(k, _)| *k).collect();
    expected_keys.sort_unstable();
    let root = tempfile::tempdir().unwrap();
    let mut files: BTreeMap<&str, (String, Vec<u8>)> = BTreeMap::new();
    for (writer, write_with) in &drivers {
        let dir = root.path().join(writer);
        for (key, text) in VALUES {
            assert_eq!(
                run(write_with, &["state", "set", key, text], &dir),
                json!({"ok": null}),
                "{writer} writes {key}"
            );
            let bytes = fs::read(dir.join(format!("{key}.json"))).unwrap();
            match files.get(key) {
                None => {
                    files.insert(key, (writer.clone(), bytes));
                }
                Some((first, reference)) => assert_eq!(
                    String::from_utf8_lossy(reference),
                    String::from_utf8_lossy(&bytes),
                    "{key}: {writer} stored other bytes than {first}"
                ),
            }
        }
        for (reader, read_with) in &drivers {
            assert_eq!(
                run(read_with, &["state", "list"], &dir),
                json!({"ok": expected_keys}),
                "{reader} lists what {writer} wrote"
            );
            for (key, text) in VALUES {
                let value: Value = serde_json::from_str(text).unwrap();
                assert_eq!(
                    run(read_with, &["state", "get", key], &dir),
                    json!({"ok": {"found": true, "value": value}}),
                    "{reader} reads {key} as {writer} wrote it"
                );
            }
        }
    }
    assert!(!files.is_empty());
}
