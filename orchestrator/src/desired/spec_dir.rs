//! The embedded desired-state source: a directory of bot spec files, one per bot
//! (`<id>.yaml`, `<id>.yml` or `<id>.json`), watched for changes.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures_util::future::BoxFuture;
use the0_sdk::fsutil::write_atomic;
use tokio::sync::{mpsc, watch};

use super::{ChangeSignal, DesiredState, Snapshot, SourceError};
use crate::spec::{BotSpec, SpecError, check_id};

const EXTENSIONS: &[&str] = &["yaml", "yml", "json"];

/// A watched directory of spec files.
pub struct SpecDir {
    dir: PathBuf,
    changes: ChangeSignal,
    /// Keeps the inotify watch alive.
    _watch: Option<the0_agent::sync::changes::ChangeWatch>,
}

impl SpecDir {
    /// Opens (creating it if needed) and watches `dir`. Must run inside a tokio runtime.
    pub fn open(dir: &Path) -> Result<Arc<SpecDir>, SourceError> {
        std::fs::create_dir_all(dir).map_err(|error| SourceError::Io {
            path: dir.display().to_string(),
            error,
        })?;
        let changes = ChangeSignal::default();
        let (tx, mut rx) = mpsc::unbounded_channel();
        let watch = the0_agent::sync::changes::watch_changes(&[dir.to_path_buf()], tx);
        if watch.is_none() {
            tracing::warn!(dir = %dir.display(), "cannot watch the spec directory; changes are seen at the next tick");
        }
        let signal = changes.clone();
        tokio::spawn(async move {
            while rx.recv().await.is_some() {
                signal.bump();
            }
        });
        Ok(Arc::new(SpecDir {
            dir: dir.to_path_buf(),
            changes,
            _watch: watch,
        }))
    }

    /// Reads every spec file; a file that cannot be read or is invalid is rejected alone.
    pub fn read(&self) -> Result<Snapshot, SourceError> {
        let io = |error| SourceError::Io {
            path: self.dir.display().to_string(),
            error,
        };
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .map_err(io)?
            .flatten()
            .map(|entry| entry.path())
            .filter(|path| is_spec_file(path))
            .collect();
        paths.sort();
        let mut snapshot = Snapshot::default();
        let mut seen: HashMap<String, PathBuf> = HashMap::new();
        for path in paths {
            match read_spec(&path) {
                Ok(spec) => {
                    if let Some(first) = seen.get(&spec.id) {
                        snapshot.rejected.push(SpecError::new(
                            &spec.id,
                            format!("{} repeats the id of {}", path.display(), first.display()),
                        ));
                        continue;
                    }
                    seen.insert(spec.id.clone(), path);
                    snapshot.bots.push(spec);
                }
                Err(e) => snapshot.rejected.push(e),
            }
        }
        Ok(snapshot)
    }

    fn files_of(&self, id: &str) -> Vec<PathBuf> {
        EXTENSIONS
            .iter()
            .map(|ext| self.dir.join(format!("{id}.{ext}")))
            .filter(|path| path.exists())
            .collect()
    }
}

fn is_spec_file(path: &Path) -> bool {
    let visible = path
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| !n.starts_with('.'));
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    visible && EXTENSIONS.contains(&ext) && path.is_file()
}

/// One spec file. The id defaults to the file name; if the file names one, they must agree.
fn read_spec(path: &Path) -> Result<BotSpec, SpecError> {
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default()
        .to_owned();
    let fail = |problem: String| SpecError::new(&stem, format!("{}: {problem}", path.display()));
    let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
    let mut value: serde_json::Value = match path.extension().and_then(|e| e.to_str()) {
        Some("json") => serde_json::from_str(&text).map_err(|e| fail(e.to_string()))?,
        _ => serde_yaml::from_str(&text).map_err(|e| fail(e.to_string()))?,
    };
    let object = value
        .as_object_mut()
        .ok_or_else(|| fail("a spec is a mapping of fields".into()))?;
    match object.get("id").and_then(|id| id.as_str()) {
        Some(id) if id != stem => {
            return Err(fail(format!("the id {id:?} differs from the file name {stem:?}")));
        }
        Some(_) => {}
        None => {
            object.insert("id".into(), stem.clone().into());
        }
    }
    let spec: BotSpec = serde_json::from_value(value).map_err(|e| fail(e.to_string()))?;
    spec.validate()?;
    Ok(spec)
}

impl DesiredState for SpecDir {
    fn snapshot(&self) -> BoxFuture<'_, Result<Snapshot, SourceError>> {
        Box::pin(async move { self.read() })
    }

    fn changes(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }

    /// Writes `<id>.json` atomically and removes other files of the same bot.
    fn put(&self, spec: BotSpec) -> BoxFuture<'_, Result<(), SourceError>> {
        Box::pin(async move {
            spec.validate().map_err(|e| SourceError::Refused(e.to_string()))?;
            let path = self.dir.join(format!("{}.json", spec.id));
            let mut text = serde_json::to_vec_pretty(&spec).expect("a spec serializes");
            text.push(b'\n');
            write_atomic(&path, &text).map_err(|error| SourceError::Io {
                path: path.display().to_string(),
                error,
            })?;
            for other in self.files_of(&spec.id).into_iter().filter(|p| *p != path) {
                let _ = std::fs::remove_file(other);
            }
            self.changes.bump();
            Ok(())
        })
    }

    fn delete(&self, id: &str) -> BoxFuture<'_, Result<bool, SourceError>> {
        let id = id.to_owned();
        Box::pin(async move {
            check_id(&id).map_err(|e| SourceError::Refused(e.to_string()))?;
            let files = self.files_of(&id);
            for path in &files {
                std::fs::remove_file(path).map_err(|error| SourceError::Io {
                    path: path.display().to_string(),
                    error,
                })?;
            }
            self.changes.bump();
            Ok(!files.is_empty())
        })
    }

    fn describe(&self) -> String {
        format!("spec-dir {}", self.dir.display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::tests::realtime;

    #[tokio::test]
    async fn reads_writes_and_rejects_files_alone() {
        let dir = tempfile::tempdir().unwrap();
        let source = SpecDir::open(dir.path()).unwrap();
        std::fs::write(
            dir.path().join("alpha.yaml"),
            "code: u/alpha/1\nruntime: python3.11\ntype: realtime\nentrypoints: {bot: main.py}\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("broken.yaml"), "code: [unclosed\n").unwrap();
        std::fs::write(
            dir.path().join("other.json"),
            r#"{"id":"not-other","code":"k","runtime":"python3.11","type":"realtime","entrypoints":{"bot":"m.py"}}"#,
        )
        .unwrap();
        std::fs::write(dir.path().join(".hidden.yaml"), "junk").unwrap();
        std::fs::write(dir.path().join("README.md"), "not a spec").unwrap();

        let snapshot = source.snapshot().await.unwrap();
        let ids: Vec<_> = snapshot.bots.iter().map(|b| b.id.as_str()).collect();
        assert_eq!(ids, ["alpha"]);
        let problems: Vec<String> = snapshot.rejected.iter().map(|e| e.to_string()).collect();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems.iter().any(|p| p.contains("broken.yaml")));
        assert!(problems.iter().any(|p| p.contains("differs from the file name")));

        let mut changes = source.changes();
        let mut beta = realtime("beta");
        beta.config.insert("symbol".into(), "ETH".into());
        source.put(beta.clone()).await.unwrap();
        assert!(changes.has_changed().unwrap(), "a write signals a change");
        changes.mark_unchanged();
        let snapshot = source.snapshot().await.unwrap();
        assert_eq!(snapshot.find("beta"), Some(&beta));

        // Replacing a YAML bot through the API leaves one file.
        let mut alpha = snapshot.find("alpha").unwrap().clone();
        alpha.enabled = false;
        source.put(alpha).await.unwrap();
        assert!(!dir.path().join("alpha.yaml").exists());
        assert!(!source.snapshot().await.unwrap().find("alpha").unwrap().enabled);

        assert!(source.delete("beta").await.unwrap());
        assert!(!source.delete("beta").await.unwrap());
        assert!(source.snapshot().await.unwrap().find("beta").is_none());
        let mut bad = realtime("gamma");
        bad.runtime = "cobol".into();
        assert!(matches!(source.put(bad).await, Err(SourceError::Refused(_))));
    }

    #[tokio::test]
    async fn a_file_written_by_hand_signals_a_change() {
        let dir = tempfile::tempdir().unwrap();
        let source = SpecDir::open(dir.path()).unwrap();
        let mut changes = source.changes();
        std::fs::write(dir.path().join("x.json"), "{}").unwrap();
        tokio::time::timeout(std::time::Duration::from_secs(10), changes.changed())
            .await
            .expect("the watch reports the new file")
            .unwrap();
    }
}
