//! State sync: the state directory to `bot-state/<id>/state.tar.gz` and back.
//!
//! - Restore before the bot starts; a missing object is a first run.
//! - Upload only when the tree's digest changed since the last upload, streamed (the archive is
//!   never in memory), and atomically (a failed or killed upload leaves the stored state as it
//!   was).
//! - Deletions count: an emptied state is uploaded as an empty archive, so a restart does not
//!   bring deleted keys back (upstream never uploaded an empty state).
//! - A tree over the limits (`MAX_STATE_FILE_SIZE_MB`, `MAX_STATE_SIZE_MB`) is not uploaded, and
//!   the log line names the file.
//! - If the store could not be reached when the bot started, whatever is stored may never have
//!   been restored: before the first upload replaces it, it is copied aside
//!   (`<id>/state.unrestored-<unix seconds>.tar.gz`), so nothing is lost.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::archive::{self, AGENT_PRIVATE_PREFIX, Limits};
use crate::store::{ObjectStore, PartWriter, part_channel, state_key};

use super::SyncError;
use super::tree::{Scanner, Tree};

/// `MAX_STATE_FILE_SIZE_MB` and `MAX_STATE_SIZE_MB` (upstream defaults 10 and 8192), plus the
/// entry limit of archives (`THE0_MAX_ARCHIVE_ENTRIES`, default 65,536).
pub fn state_limits() -> Limits {
    let mb = |name: &str, default: u64| the0_sdk::env::parse_or(name, default).unwrap_or(default) << 20;
    Limits {
        max_entries: the0_sdk::env::parse_or("THE0_MAX_ARCHIVE_ENTRIES", 65_536).unwrap_or(65_536),
        max_file_bytes: mb("MAX_STATE_FILE_SIZE_MB", 10),
        max_total_bytes: mb("MAX_STATE_SIZE_MB", 8192),
    }
}

/// What one sync did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateOutcome {
    /// The tree is the one last uploaded.
    Unchanged,
    /// A new archive is stored.
    Uploaded { bytes: u64, entries: usize },
    /// The tree breaks a limit; nothing was uploaded. The text names the culprit.
    OverLimit(String),
    /// Nothing uploaded: the state has not been restored yet (sidecar).
    AwaitingRestore,
}

/// What the restore found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Restored {
    /// No stored state: a first run.
    Nothing,
    /// The stored state was extracted.
    Extracted { files: u64, bytes: u64 },
}

/// Syncs one bot's state directory.
pub struct StateSync<S> {
    store: Arc<S>,
    bucket: String,
    key: String,
    scanner: Scanner,
    limits: Limits,
    /// Digest of the tree last uploaded (or restored).
    uploaded: Option<blake3::Hash>,
    /// The store was unreachable at restore time: keep what it holds before replacing it.
    unrestored: bool,
    /// For a sidecar: no upload until another process has restored the state and left this file.
    restored_marker: Option<PathBuf>,
}

impl<S: ObjectStore> StateSync<S> {
    pub fn new(store: Arc<S>, bucket: &str, bot_id: &str, root: &Path, limits: Limits) -> Self {
        StateSync {
            store,
            bucket: bucket.to_owned(),
            key: state_key(bot_id),
            scanner: Scanner::new(root),
            limits,
            uploaded: None,
            unrestored: false,
            restored_marker: None,
        }
    }

    /// Holds uploads back until `marker` exists: a sync sidecar starts before the bot's
    /// container has restored the state, and uploading the still-empty directory would replace
    /// the stored state.
    pub fn after_restore_by_other(mut self, marker: PathBuf) -> Self {
        self.restored_marker = Some(marker);
        self
    }

    fn root(&self) -> PathBuf {
        self.scanner.root().to_path_buf()
    }

    /// Downloads and extracts the stored state into the state directory. On failure (store
    /// unreachable, archive refused) the error is returned, the state directory is left as it
    /// was, and the syncer keeps a copy of the stored state before its first upload replaces it.
    pub async fn restore(&mut self) -> Result<Restored, SyncError> {
        let restored = self.download_and_extract().await;
        if restored.is_err() {
            self.unrestored = true;
            return restored;
        }
        let tree = self.scan().await?;
        // What is on disk now is what is stored (or there is nothing on either side).
        if restored.as_ref().is_ok_and(|r| *r != Restored::Nothing) || tree.entries.is_empty() {
            self.uploaded = Some(tree.digest);
        }
        restored
    }

    async fn download_and_extract(&mut self) -> Result<Restored, SyncError> {
        let root = self.root();
        std::fs::create_dir_all(&root)
            .map_err(|e| SyncError::io(format!("cannot create {}", root.display()), e))?;
        let download = root.join(format!("{AGENT_PRIVATE_PREFIX}-restore.tar.gz"));
        let found = self.store.download(&self.bucket, &self.key, &download).await;
        let outcome = match found {
            Ok(false) => Ok(Restored::Nothing),
            Ok(true) => {
                let limits = self.limits;
                let (archive, dest) = (download.clone(), root.clone());
                match tokio::task::spawn_blocking(move || archive::extract_into(&archive, &dest, limits))
                    .await
                {
                    Ok(Ok(stats)) => Ok(Restored::Extracted {
                        files: stats.files,
                        bytes: stats.bytes,
                    }),
                    Ok(Err(e)) => Err(e.into()),
                    Err(e) => Err(SyncError::io("restore task failed", std::io::Error::other(e))),
                }
            }
            Err(e) => Err(e.into()),
        };
        let _ = std::fs::remove_file(&download);
        outcome
    }

    /// Uploads the state if it changed since the last upload.
    pub async fn sync(&mut self) -> Result<StateOutcome, SyncError> {
        if self
            .restored_marker
            .as_ref()
            .is_some_and(|marker| !marker.exists())
        {
            return Ok(StateOutcome::AwaitingRestore);
        }
        let tree = self.scan().await?;
        if self.uploaded == Some(tree.digest) || (self.unrestored && tree.entries.is_empty()) {
            // Unchanged; or the stored state was never restored and the bot wrote nothing:
            // an empty archive must not replace it.
            return Ok(StateOutcome::Unchanged);
        }
        if let Some(message) = self.over_limit(&tree) {
            return Ok(StateOutcome::OverLimit(message));
        }
        self.store.ensure_bucket(&self.bucket).await?;
        if self.unrestored {
            self.keep_unrestored().await?;
        }
        tracing::info!(
            entries = tree.entries.len(),
            bytes = tree.total_bytes,
            "uploading state"
        );
        let (writer, parts) = part_channel();
        let root = self.root();
        let entries: Vec<_> = tree.entries.iter().map(|e| (e.path.clone(), e.kind)).collect();
        // A packing failure drops the writer before its last part, which aborts the upload.
        let producer = tokio::task::spawn_blocking(move || {
            archive::pack(
                &root,
                entries.iter().map(|(path, kind)| (path.as_path(), *kind)),
                writer,
            )
            .and_then(PartWriter::finish)
        });
        let uploaded = self
            .store
            .put_parts(&self.bucket, &self.key, parts, "application/gzip")
            .await;
        let packed = producer
            .await
            .map_err(|e| SyncError::io("archive task failed", std::io::Error::other(e)))?;
        packed.map_err(|e| SyncError::io(format!("cannot archive {}", self.root().display()), e))?;
        let bytes = uploaded?;
        self.uploaded = Some(tree.digest);
        Ok(StateOutcome::Uploaded {
            bytes,
            entries: tree.entries.len(),
        })
    }

    async fn scan(&mut self) -> Result<Tree, SyncError> {
        let mut scanner = std::mem::take(&mut self.scanner);
        let (scanner, tree) = tokio::task::spawn_blocking(move || {
            let tree = scanner.scan();
            (scanner, tree)
        })
        .await
        .map_err(|e| SyncError::io("scan task failed", std::io::Error::other(e)))?;
        self.scanner = scanner;
        tree.map_err(|e| SyncError::io(format!("cannot scan {}", self.root().display()), e))
    }

    fn over_limit(&self, tree: &Tree) -> Option<String> {
        if let Some(largest) = tree
            .largest_file()
            .filter(|f| f.size > self.limits.max_file_bytes)
        {
            return Some(format!(
                "state file {} is {} bytes, over the {} allowed per file (MAX_STATE_FILE_SIZE_MB); state not uploaded",
                largest.path.display(),
                largest.size,
                self.limits.max_file_bytes
            ));
        }
        if tree.total_bytes > self.limits.max_total_bytes {
            return Some(format!(
                "state is {} bytes, over the {} allowed (MAX_STATE_SIZE_MB); state not uploaded",
                tree.total_bytes, self.limits.max_total_bytes
            ));
        }
        None
    }

    async fn keep_unrestored(&mut self) -> Result<(), SyncError> {
        if self.store.exists(&self.bucket, &self.key).await? {
            let seconds = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_secs();
            let aside = self
                .key
                .replace("state.tar.gz", &format!("state.unrestored-{seconds}.tar.gz"));
            self.store.copy(&self.bucket, &self.key, &aside).await?;
            tracing::warn!(kept = %aside, "the stored state was never restored (store unreachable at start); kept a copy before replacing it");
        }
        self.unrestored = false;
        Ok(())
    }
}
