//! [`Store`]: the state directory and every operation on it, with JSON text in and out.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::fsutil::write_atomic;
use crate::json;
use crate::state::key::validate_key;

const EXTENSION: &str = ".json";

/// A directory of JSON documents, one file `<key>.json` per key.
///
/// Hosts get their store from [`crate::host::Host::store`], which reads `STATE_DIR` from the
/// host's environment at every call and marks the store read-only while the host serves queries.
/// Every SDK goes through it, so the rules here hold for every SDK:
/// - keys are checked by [`validate_key`];
/// - writes are atomic (hidden temporary file + rename): a reader never sees a torn value;
/// - values are validated and stored in canonical JSON ([`json::canonicalize`]);
/// - writes fail with [`Error::ReadOnly`] while the process serves queries;
/// - a missing key reads as `None`; a corrupt file is [`Error::CorruptState`] naming the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Store {
    dir: PathBuf,
    read_only: bool,
}

impl Store {
    /// A writable store over `dir` (created on the first write).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Store {
            dir: dir.into(),
            read_only: false,
        }
    }

    /// The same store, refusing every write with [`Error::ReadOnly`] when `read_only` (the
    /// process serves queries).
    pub fn with_read_only(self, read_only: bool) -> Self {
        Store { read_only, ..self }
    }

    /// The directory holding the state files.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file that holds `key` (the key is not validated).
    pub fn path_of(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}{EXTENSION}"))
    }

    /// Stores `json` (JSON text from any language) under `key`.
    pub fn set_json(&self, key: &str, json: &str) -> Result<()> {
        self.check_writable("set", Some(key))?;
        let canonical = json::canonicalize(&format!("value for state key {}", crate::quote(key)), json)?;
        self.write(key, &canonical)
    }

    /// Stores a serializable Rust value under `key`.
    pub fn set<T: serde::Serialize + ?Sized>(&self, key: &str, value: &T) -> Result<()> {
        self.check_writable("set", Some(key))?;
        let bytes = serde_json::to_vec(value).map_err(|source| unserializable(key, source))?;
        self.write(key, &bytes)
    }

    /// The error of a `set` whose value the host language could not turn into JSON (`detail`
    /// says why): a read-only process or a bad key is reported first, as for any `set`.
    pub fn unserializable_value(&self, key: &str, detail: &str) -> Error {
        match self.check_writable("set", Some(key)) {
            Err(e) => e,
            Ok(()) => unserializable(key, serde::ser::Error::custom(detail)),
        }
    }

    /// The JSON text stored under `key`, or `None` when the key has no value.
    pub fn get_json(&self, key: &str) -> Result<Option<String>> {
        let Some(bytes) = self.read(key)? else {
            return Ok(None);
        };
        let text = String::from_utf8(bytes).map_err(|e| {
            let source = <serde_json::Error as serde::de::Error>::custom(format!("not UTF-8 text: {e}"));
            self.corrupt(key, source)
        })?;
        json::validate(&text).map_err(|e| self.corrupt(key, e))?;
        Ok(Some(text))
    }

    /// The value stored under `key` as a `T`, or `None` when the key has no value.
    pub fn get<T: serde::de::DeserializeOwned>(&self, key: &str) -> Result<Option<T>> {
        // Checked as every SDK checks it first, so a corrupt file reads the same everywhere.
        let Some(text) = self.get_json(key)? else {
            return Ok(None);
        };
        serde_json::from_str(&text).map(Some).map_err(|e| {
            if e.is_data() {
                Error::Json {
                    what: format!("state key {} does not hold the requested type", crate::quote(key)),
                    source: e,
                }
            } else {
                self.corrupt(key, e)
            }
        })
    }

    /// Whether `key` has a value.
    pub fn exists(&self, key: &str) -> Result<bool> {
        validate_key(key)?;
        let path = self.path_of(key);
        match fs::metadata(&path) {
            Ok(meta) => Ok(meta.is_file()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(Error::io(format!("cannot inspect {}", path.display()), e)),
        }
    }

    /// Removes `key`; returns whether it had a value.
    pub fn delete(&self, key: &str) -> Result<bool> {
        self.check_writable("delete", Some(key))?;
        let path = self.path_of(key);
        match fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(Error::io(format!("cannot delete {}", path.display()), e)),
        }
    }

    /// Every key with a value, sorted. Temporary files, hidden files, non-`.json` files and
    /// subdirectories are not keys.
    pub fn list(&self) -> Result<Vec<String>> {
        let entries = match fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io(format!("cannot list {}", self.dir.display()), e)),
        };
        let mut keys = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| Error::io(format!("cannot list {}", self.dir.display()), e))?;
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            let Some(key) = name.strip_suffix(EXTENSION) else {
                continue;
            };
            if key.is_empty() || key.starts_with('.') || !entry.file_type().is_ok_and(|t| t.is_file()) {
                continue;
            }
            keys.push(key.to_owned());
        }
        keys.sort_unstable();
        Ok(keys)
    }

    /// Removes every key. Files that are not keys are left alone.
    pub fn clear(&self) -> Result<()> {
        self.check_writable("clear", None)?;
        for key in self.list()? {
            let path = self.path_of(&key);
            match fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(Error::io(format!("cannot delete {}", path.display()), e)),
            }
        }
        Ok(())
    }

    /// The raw bytes of `key`, or `None` when it has no value.
    fn read(&self, key: &str) -> Result<Option<Vec<u8>>> {
        validate_key(key)?;
        let path = self.path_of(key);
        match fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io(format!("cannot read {}", path.display()), e)),
        }
    }

    fn write(&self, key: &str, bytes: &[u8]) -> Result<()> {
        let path = self.path_of(key);
        write_atomic(&path, bytes).map_err(|e| Error::io(format!("cannot write {}", path.display()), e))
    }

    /// The read-only guard, then the key rules (`clear` has no key).
    fn check_writable(&self, operation: &str, key: Option<&str>) -> Result<()> {
        if self.read_only {
            let operation = match key {
                None => format!("{operation}()"),
                Some(key) => format!("{operation}({})", crate::quote(key)),
            };
            return Err(Error::ReadOnly { operation });
        }
        key.map_or(Ok(()), validate_key)
    }

    fn corrupt(&self, key: &str, source: serde_json::Error) -> Error {
        Error::CorruptState {
            key: key.to_owned(),
            path: self.path_of(key),
            source,
        }
    }
}

fn unserializable(key: &str, source: serde_json::Error) -> Error {
    Error::Json {
        what: format!("value for state key {} cannot be serialized", crate::quote(key)),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Status;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path().join("state"));
        (dir, store)
    }

    #[test]
    fn round_trip_canonical_json() {
        let (_dir, store) = store();
        assert_eq!(store.get_json("prices").unwrap(), None);
        store
            .set_json("prices", "[1, 2.5, {\"b\": 1, \"a\": \"\\u00e9\"}]")
            .unwrap();
        assert_eq!(
            store.get_json("prices").unwrap().unwrap(),
            r#"[1,2.5,{"b":1,"a":"é"}]"#
        );
        assert_eq!(
            fs::read_to_string(store.path_of("prices")).unwrap(),
            r#"[1,2.5,{"b":1,"a":"é"}]"#
        );
        assert_eq!(
            store
                .get::<(u8, f64, serde_json::Value)>("prices")
                .unwrap()
                .unwrap()
                .0,
            1
        );
    }

    #[test]
    fn typed_set_matches_json_set_byte_for_byte() {
        let (_dir, store) = store();
        store
            .set("typed", &serde_json::json!({"b": [1, 2], "a": null}))
            .unwrap();
        store.set_json("text", r#"{ "b": [1, 2], "a": null }"#).unwrap();
        assert_eq!(
            fs::read(store.path_of("typed")).unwrap(),
            fs::read(store.path_of("text")).unwrap()
        );
    }

    #[test]
    fn floats_round_trip_exactly() {
        let (_dir, store) = store();
        // Values whose shortest representation is long, where a fast float parser is off by one ULP.
        let values = [
            99.72200000000001,
            101.68049999999998,
            0.1 + 0.2,
            1e-310,
            f64::MAX,
            2.2250738585072014e-308,
        ];
        store.set("floats", &values).unwrap();
        assert_eq!(store.get::<Vec<f64>>("floats").unwrap().unwrap(), values);
        let text = fs::read_to_string(store.path_of("floats")).unwrap();
        store.set_json("floats", &text).unwrap();
        assert_eq!(
            fs::read_to_string(store.path_of("floats")).unwrap(),
            text,
            "canonical form is stable"
        );
    }

    #[test]
    fn invalid_json_is_refused_and_the_old_value_kept() {
        let (_dir, store) = store();
        store.set_json("k", "1").unwrap();
        let err = store.set_json("k", "{oops").unwrap_err();
        assert_eq!(err.status(), Status::InvalidJson);
        assert!(err.to_string().contains(r#"value for state key "k""#), "{err}");
        assert_eq!(store.get_json("k").unwrap().as_deref(), Some("1"));
    }

    #[test]
    fn corrupt_file_is_an_error_naming_the_key() {
        let (_dir, store) = store();
        store.set_json("good", "true").unwrap();
        fs::write(store.path_of("bad"), b"{\"truncated\": [1, 2").unwrap();
        fs::write(store.path_of("binary"), b"\xff\xfe").unwrap();
        fs::write(store.path_of("deep"), "[".repeat(100_000) + &"]".repeat(100_000)).unwrap();
        for key in ["bad", "binary", "deep"] {
            let err = store.get_json(key).unwrap_err();
            assert_eq!(err.status(), Status::CorruptState);
            assert!(err.to_string().contains(&crate::quote(key)), "{err}");
            assert_eq!(
                store.get::<serde_json::Value>(key).unwrap_err().status(),
                Status::CorruptState
            );
        }
        let err = store.get::<u32>("good").unwrap_err();
        assert_eq!(
            err.status(),
            Status::InvalidJson,
            "type mismatch is not corruption: {err}"
        );
    }

    #[test]
    fn unserializable_values_report_the_key_rule_first() {
        let (_dir, store) = store();
        let err = store.unserializable_value("k", "Object of type set is not JSON serializable");
        assert_eq!(err.status(), Status::InvalidJson);
        assert_eq!(
            err.to_string(),
            r#"value for state key "k" cannot be serialized: Object of type set is not JSON serializable"#
        );
        assert_eq!(
            store.unserializable_value("a/b", "x").status(),
            Status::InvalidKey
        );
    }

    #[test]
    fn every_operation_checks_the_key() {
        let (_dir, store) = store();
        for key in ["", "a/b", "..", ".x", "a\0"] {
            assert_eq!(store.set_json(key, "1").unwrap_err().status(), Status::InvalidKey);
            assert_eq!(store.set(key, &1).unwrap_err().status(), Status::InvalidKey);
            assert_eq!(store.get_json(key).unwrap_err().status(), Status::InvalidKey);
            assert_eq!(store.exists(key).unwrap_err().status(), Status::InvalidKey);
            assert_eq!(store.delete(key).unwrap_err().status(), Status::InvalidKey);
        }
    }

    #[test]
    fn list_exists_delete_clear() {
        let (_dir, store) = store();
        assert_eq!(
            store.list().unwrap(),
            Vec::<String>::new(),
            "missing dir lists empty"
        );
        store.clear().unwrap();
        for key in ["b", "a", "c.d"] {
            store.set_json(key, "0").unwrap();
        }
        // Things that are not keys.
        fs::write(store.dir().join(".a.json.1.2.tmp"), b"0").unwrap();
        fs::write(store.dir().join(".hidden.json"), b"0").unwrap();
        fs::write(store.dir().join("notes.txt"), b"x").unwrap();
        fs::create_dir(store.dir().join("sub.json")).unwrap();
        assert_eq!(store.list().unwrap(), ["a", "b", "c.d"]);
        assert!(store.exists("a").unwrap());
        assert!(!store.exists("zz").unwrap());
        assert!(!store.exists("sub").unwrap(), "a directory is not a value");
        assert!(store.delete("a").unwrap());
        assert!(!store.delete("a").unwrap());
        store.clear().unwrap();
        assert_eq!(store.list().unwrap(), Vec::<String>::new());
        assert!(
            store.dir().join("notes.txt").exists(),
            "clear leaves other files alone"
        );
    }
}
