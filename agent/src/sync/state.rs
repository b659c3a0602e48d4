//! State sync: the state directory to `bot-state/<id>/state.tar.gz` and back.
//!
//! - Restore before the bot starts, unless the local tree is as new as the stored archive or
//!   newer (a restarted container on the same volume, a bot killed before its last upload): see
//!   [`super::generation`]. A restore replaces the whole tree; a missing object is a first run.
//! - Upload only when the tree's digest changed since the last upload, streamed (the archive is
//!   never in memory), and atomically (a failed or killed upload leaves the stored state as it
//!   was), with the next generation number as object metadata.
//! - Deletions count: an emptied state is uploaded as an empty archive, so a restart does not
//!   bring deleted keys back (upstream never uploaded an empty state).
//! - A tree over the limits (`MAX_STATE_FILE_SIZE_MB`, `MAX_STATE_SIZE_MB`) is not uploaded, and
//!   the log line names the file. Entries an archive could not restore (absolute or escaping
//!   symlinks, backslashes in names) are left out, with a warning naming them.
//! - If the store could not be reached when the bot started, whatever is stored may never have
//!   been restored: before the first upload replaces it, it is copied aside
//!   (`<id>/state.unrestored-<unix seconds>.tar.gz`), so nothing is lost.
//! - Multipart uploads a killed agent left incomplete are aborted before the first upload.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use crate::archive::{self, AGENT_PRIVATE_PREFIX, Limits, Purpose};
use crate::store::{ObjectStore, state_key, state_manifest_key};

use super::SyncError;
use super::generation::{self, Decision, Record, Uploaded, generation_metadata, stored_generation};
use super::restore;
use super::tree::{Scanner, Tree};
use super::upload::{Target, local_manifest_path};

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
    Uploaded {
        /// Size of the new archive.
        bytes: u64,
        entries: usize,
        generation: u64,
        /// Bytes sent to the store (the rest was copied inside it from the previous archive).
        sent: u64,
    },
    /// The tree breaks a limit; nothing was uploaded. The text names the culprit.
    OverLimit(String),
    /// Nothing uploaded: the state has not been restored yet (sidecar).
    AwaitingRestore,
}

/// What the restore found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Restored {
    /// No stored state: a first run.
    Nothing,
    /// The stored state was extracted, replacing the local tree. `skipped` lists entries left
    /// out (see [`archive::Purpose::State`]).
    Extracted {
        files: u64,
        bytes: u64,
        generation: u64,
        skipped: Vec<String>,
    },
    /// The local tree is as new as the stored state or newer, and was kept.
    KeptLocal { local: u64, stored: u64 },
}

/// Syncs one bot's state directory.
pub struct StateSync<S> {
    store: Arc<S>,
    bucket: String,
    key: String,
    manifest_key: String,
    root: PathBuf,
    /// Shared with the blocking scan, so that a sync cancelled mid-scan (the stop budget ran out)
    /// leaves the scanner in place for the final sync.
    scanner: Arc<Mutex<Scanner>>,
    limits: Limits,
    /// Digest of the tree last uploaded (or restored).
    uploaded: Option<blake3::Hash>,
    /// The generation the store holds, once known (restore, first upload).
    generation: Option<u64>,
    /// The store was unreachable at restore time: keep what it holds before replacing it.
    unrestored: bool,
    /// For a sidecar: no upload until another process has restored the state and left this file.
    restored_marker: Option<PathBuf>,
    /// The bucket exists (checked once).
    bucket_ready: bool,
    /// Uploads started before this are left over by a killed agent; aborted once.
    started: Option<SystemTime>,
    /// The entries last reported as left out, to warn once per change.
    skipped_reported: Vec<(PathBuf, &'static str)>,
}

impl<S: ObjectStore> StateSync<S> {
    pub fn new(store: Arc<S>, bucket: &str, bot_id: &str, root: &Path, limits: Limits) -> Self {
        StateSync {
            store,
            bucket: bucket.to_owned(),
            key: state_key(bot_id),
            manifest_key: state_manifest_key(bot_id),
            root: root.to_path_buf(),
            scanner: Arc::new(Mutex::new(Scanner::new(root))),
            limits,
            uploaded: None,
            generation: None,
            unrestored: false,
            restored_marker: None,
            bucket_ready: false,
            started: Some(SystemTime::now()),
            skipped_reported: Vec::new(),
        }
    }

    /// Holds uploads back until `marker` exists: a sync sidecar starts before the bot's
    /// container has restored the state, and uploading the still-empty directory would replace
    /// the stored state.
    pub fn after_restore_by_other(mut self, marker: PathBuf) -> Self {
        self.restored_marker = Some(marker);
        self
    }

    /// Restores the stored state into the state directory if it is newer than the local tree
    /// (see [`generation::decide`]). On failure (store unreachable, archive refused) the error is
    /// returned, the state directory is left as it was, and the syncer keeps a copy of the
    /// stored state before its first upload replaces it.
    pub async fn restore(&mut self) -> Result<Restored, SyncError> {
        let restored = self.restore_if_newer().await;
        if restored.is_err() {
            self.unrestored = true;
        }
        restored
    }

    async fn restore_if_newer(&mut self) -> Result<Restored, SyncError> {
        std::fs::create_dir_all(&self.root)
            .map_err(|e| SyncError::io(format!("cannot create {}", self.root.display()), e))?;
        let record = Record::load(&self.root);
        let info = self.store.head(&self.bucket, &self.key).await?;
        let stored = info.as_ref().map(|info| stored_generation(&info.metadata));
        match generation::decide(record.as_ref(), holds_state(&self.root), stored) {
            Decision::NothingStored => {
                self.generation = Some(record.as_ref().map_or(0, |r| r.generation));
                let tree = self.scan().await?;
                if tree.entries.is_empty() {
                    self.uploaded = Some(tree.digest);
                }
                Ok(Restored::Nothing)
            }
            Decision::KeepLocal { local, stored } => {
                self.generation = Some(local.max(stored));
                self.uploaded = record.and_then(|r| r.uploaded_digest(stored));
                Ok(Restored::KeptLocal { local, stored })
            }
            Decision::Restore { .. } => {
                let etag = info.map(|info| info.etag).unwrap_or_default();
                self.download_and_extract(&etag).await
            }
        }
    }

    /// Restores the object of version `etag`: its segments in parallel when its manifest is
    /// stored and describes it, else (or if that fails) the whole object in one stream.
    async fn download_and_extract(&mut self, etag: &str) -> Result<Restored, SyncError> {
        let manifest = restore::stored_manifest(&*self.store, &self.bucket, &self.manifest_key, etag).await;
        let mut extracted = None;
        if let Some(manifest) = &manifest {
            match restore::extract_segments(
                Arc::clone(&self.store),
                &self.bucket,
                &self.key,
                manifest,
                self.root.clone(),
                self.limits,
            )
            .await
            {
                Ok(stats) => extracted = Some((stats, manifest.generation)),
                // The refusal of an entry would be the same in one stream: not worth a retry.
                Err(SyncError::Archive(e @ archive::ArchiveError::Refused { .. })) => return Err(e.into()),
                Err(e) => {
                    tracing::warn!(error = %e, "parallel state restore failed: restoring in one stream")
                }
            }
        }
        let outcome = match extracted {
            Some((stats, generation)) => self.restored(stats, generation).await,
            None => self.download_whole().await,
        };
        if let (Ok(Restored::Extracted { .. }), Some(manifest)) = (&outcome, manifest)
            && let Err(e) = manifest.save(&local_manifest_path(&self.root))
        {
            tracing::warn!(error = %e, "cannot save the state manifest: the next upload is a full one");
        }
        outcome
    }

    /// The single-stream restore: the whole object into a file, then extracted.
    async fn download_whole(&mut self) -> Result<Restored, SyncError> {
        let download = self.root.join(format!("{AGENT_PRIVATE_PREFIX}-restore.tar.gz"));
        let outcome = async {
            let Some(metadata) = self.store.download(&self.bucket, &self.key, &download).await? else {
                // Deleted since the decision: a first run after all.
                return Ok(Restored::Nothing);
            };
            let generation = stored_generation(&metadata);
            let (archive, dest, limits) = (download.clone(), self.root.clone(), self.limits);
            let stats = tokio::task::spawn_blocking(move || {
                archive::extract_into(&archive, &dest, limits, Purpose::State)
            })
            .await
            .map_err(|e| SyncError::io("restore task failed", std::io::Error::other(e)))??;
            self.restored(stats, generation).await
        }
        .await;
        let _ = std::fs::remove_file(&download);
        outcome
    }

    /// Records a completed restore.
    async fn restored(
        &mut self,
        stats: archive::ExtractStats,
        generation: u64,
    ) -> Result<Restored, SyncError> {
        let tree = self.scan().await?;
        self.uploaded = Some(tree.digest);
        self.generation = Some(generation);
        self.save_record(Record {
            generation,
            uploaded: Some(Uploaded {
                generation,
                digest: tree.digest.to_hex().to_string(),
            }),
        });
        Ok(Restored::Extracted {
            files: stats.files,
            bytes: stats.bytes,
            generation,
            skipped: stats.skipped,
        })
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
        self.report_skipped(&tree);
        if self.uploaded == Some(tree.digest) || (self.unrestored && tree.entries.is_empty()) {
            // Unchanged; or the stored state was never restored and the bot wrote nothing:
            // an empty archive must not replace it.
            return Ok(StateOutcome::Unchanged);
        }
        if let Some(message) = self.over_limit(&tree) {
            return Ok(StateOutcome::OverLimit(message));
        }
        self.prepare_bucket().await?;
        let stored = self.base_generation().await?;
        if self.unrestored {
            self.keep_unrestored().await?;
        }
        let generation = stored + 1;
        // Raised before the upload: whenever the agent dies, the local record is never older
        // than what reached the store (see `generation`).
        let mut record = Record::load(&self.root).unwrap_or_default();
        record.generation = record.generation.max(generation);
        self.save_record(record.clone());
        tracing::info!(
            entries = tree.entries.len(),
            bytes = tree.total_bytes,
            generation,
            "uploading state"
        );
        let target = self.target();
        let previous = target.usable_manifest(&self.root).await;
        let upload = target
            .upload(
                &self.root,
                tree.entries.clone(),
                generation,
                &generation_metadata(generation),
                previous,
            )
            .await?;
        let bytes = upload.manifest.size;
        tracing::debug!(
            sent = upload.uploaded,
            copied = upload.copied,
            "state archive composed"
        );
        self.uploaded = Some(tree.digest);
        self.generation = Some(generation);
        record.uploaded = Some(Uploaded {
            generation,
            digest: tree.digest.to_hex().to_string(),
        });
        self.save_record(record);
        Ok(StateOutcome::Uploaded {
            bytes,
            entries: tree.entries.len(),
            generation,
            sent: upload.uploaded,
        })
    }

    fn target(&self) -> Target<'_, S> {
        Target {
            store: &*self.store,
            bucket: &self.bucket,
            key: &self.key,
            manifest_key: &self.manifest_key,
        }
    }

    /// What the next sync would upload, for the log line of a sync that could not finish:
    /// `None` when the tree is the one last uploaded.
    pub async fn pending(&mut self) -> Option<String> {
        let tree = self.scan().await.ok()?;
        (self.uploaded != Some(tree.digest)).then(|| {
            format!(
                "the state ({} entries, {} bytes) changed since the last upload",
                tree.entries.len(),
                tree.total_bytes
            )
        })
    }

    /// Creates the bucket once, and aborts the uploads a killed agent left incomplete.
    async fn prepare_bucket(&mut self) -> Result<(), SyncError> {
        if !self.bucket_ready {
            self.store.ensure_bucket(&self.bucket).await?;
            self.bucket_ready = true;
        }
        if let Some(started) = self.started {
            let aborted = self
                .store
                .abort_incomplete_uploads(&self.bucket, &self.key, started)
                .await?;
            if aborted > 0 {
                tracing::info!(aborted, "aborted state uploads a killed agent left incomplete");
            }
            self.started = None;
        }
        Ok(())
    }

    /// The generation the store holds: known since the restore or the last upload, else asked
    /// (a sidecar, or a store that was down at start), and never below the local record.
    async fn base_generation(&mut self) -> Result<u64, SyncError> {
        if let Some(generation) = self.generation {
            return Ok(generation);
        }
        let stored = self
            .store
            .head(&self.bucket, &self.key)
            .await?
            .map_or(0, |info| stored_generation(&info.metadata));
        let local = Record::load(&self.root).map_or(0, |r| r.generation);
        Ok(stored.max(local))
    }

    fn save_record(&self, record: Record) {
        if let Err(e) = record.save(&self.root) {
            tracing::warn!(error = %e, "cannot save the state's generation record");
        }
    }

    /// Warns when the set of entries left out of the archive changes.
    fn report_skipped(&mut self, tree: &Tree) {
        if tree.skipped == self.skipped_reported {
            return;
        }
        for (path, reason) in tree.skipped.iter().take(20) {
            tracing::warn!(entry = %path.display(), reason, "state entry not archived: a restore could not recreate it");
        }
        if tree.skipped.len() > 20 {
            tracing::warn!(more = tree.skipped.len() - 20, "more state entries not archived");
        }
        self.skipped_reported = tree.skipped.clone();
    }

    async fn scan(&self) -> Result<Tree, SyncError> {
        let scanner = Arc::clone(&self.scanner);
        tokio::task::spawn_blocking(move || scanner.lock().expect("scanner lock").scan())
            .await
            .map_err(|e| SyncError::io("scan task failed", std::io::Error::other(e)))?
            .map_err(|e| SyncError::io(format!("cannot scan {}", self.root.display()), e))
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
        if self.store.head(&self.bucket, &self.key).await?.is_some() {
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

/// Whether the tree at `root` holds anything but the agent's own files.
pub fn holds_state(root: &Path) -> bool {
    std::fs::read_dir(root)
        .map(|entries| {
            entries
                .flatten()
                .any(|e| !e.file_name().to_string_lossy().starts_with(AGENT_PRIVATE_PREFIX))
        })
        .unwrap_or(false)
}
