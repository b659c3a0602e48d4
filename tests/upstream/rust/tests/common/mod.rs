//! Helpers as upstream-style suites write them: a lock around environment changes (the tests of
//! one binary run on parallel threads), restored on drop.

#![allow(dead_code)] // each test binary uses part of this module

use std::env;
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};

static ENV_LOCK: Mutex<()> = Mutex::new(());

/// Sets and removes variables while it lives; restores them, in reverse order, when dropped.
pub struct EnvGuard {
    saved: Vec<(String, Option<String>)>,
    _lock: MutexGuard<'static, ()>,
}

impl EnvGuard {
    pub fn new() -> Self {
        let lock = ENV_LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut guard = EnvGuard {
            saved: Vec::new(),
            _lock: lock,
        };
        // Every test starts outside query mode, whatever an earlier test did.
        guard.remove("QUERY_PATH");
        guard.remove("QUERY_PARAMS");
        guard
    }

    pub fn set(&mut self, key: &str, value: &str) -> &mut Self {
        self.saved.push((key.to_string(), env::var(key).ok()));
        env::set_var(key, value);
        self
    }

    pub fn remove(&mut self, key: &str) -> &mut Self {
        self.saved.push((key.to_string(), env::var(key).ok()));
        env::remove_var(key);
        self
    }
}

impl Drop for EnvGuard {
    fn drop(&mut self) {
        for (key, old) in self.saved.drain(..).rev() {
            match old {
                Some(value) => env::set_var(&key, value),
                None => env::remove_var(&key),
            }
        }
    }
}

/// A temporary state directory set as `STATE_DIR`.
pub struct StateContext {
    pub dir: tempfile::TempDir,
    pub env: EnvGuard,
}

impl StateContext {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut env = EnvGuard::new();
        env.set("STATE_DIR", dir.path().to_str().unwrap());
        StateContext { dir, env }
    }

    pub fn file(&self, key: &str) -> PathBuf {
        self.dir.path().join(format!("{key}.json"))
    }
}

/// A temporary code mount set as `CODE_MOUNT_DIR` (without its leading slash: the SDK adds it).
pub struct ResultContext {
    pub dir: tempfile::TempDir,
    pub env: EnvGuard,
}

impl ResultContext {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut env = EnvGuard::new();
        let path = dir.path().to_str().unwrap();
        env.set("CODE_MOUNT_DIR", path.strip_prefix('/').unwrap_or(path));
        ResultContext { dir, env }
    }

    pub fn read_result(&self) -> serde_json::Value {
        let text = std::fs::read_to_string(self.dir.path().join("result.json")).expect("result file");
        serde_json::from_str(&text).expect("result file is JSON")
    }
}
