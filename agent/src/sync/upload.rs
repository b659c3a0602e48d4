//! Uploading the state archive: incremental when the previous upload's manifest still describes
//! the stored object, whole otherwise (see [`crate::archive::segmented`]).
//!
//! The archive is packed on a blocking thread and streamed to the store as a composed write:
//! unchanged segments are copied inside the store from the previous object (pinned by its
//! ETag), changed ones are uploaded. Whatever fails, the previous object stays as it was; a
//! failed incremental upload is retried at once as a full one (a stale or corrupt manifest, an
//! object replaced behind the agent's back), so bad input never blocks the sync.

use std::path::{Path, PathBuf};

use crate::archive::AGENT_PRIVATE_PREFIX;
use crate::archive::segmented::{self, MANIFEST_FORMAT, Manifest, Params, Piece};
use crate::store::{ComposeSource, MIN_PART_BYTES, Metadata, ObjectStore, PartGrouper, compose_channel};

use super::SyncError;
use super::tree::Entry;

/// The local copy of the manifest of the last upload (or restore).
pub fn local_manifest_path(root: &Path) -> PathBuf {
    root.join(format!("{AGENT_PRIVATE_PREFIX}-manifest.json"))
}

/// Where the archive goes.
pub struct Target<'a, S> {
    pub store: &'a S,
    pub bucket: &'a str,
    pub key: &'a str,
    pub manifest_key: &'a str,
}

/// What an upload did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    pub manifest: Manifest,
    /// Bytes sent.
    pub uploaded: u64,
    /// Bytes copied inside the store.
    pub copied: u64,
}

impl<S: ObjectStore> Target<'_, S> {
    /// The local manifest if it describes the object the store holds now (same ETag): the
    /// base of an incremental upload. `None` (and a full upload) otherwise.
    pub async fn usable_manifest(&self, root: &Path) -> Option<Manifest> {
        let manifest = match Manifest::load(&local_manifest_path(root)) {
            Ok(Some(manifest)) => manifest,
            Ok(None) => return None,
            Err(e) => {
                tracing::warn!(error = %e, "ignoring the local state manifest: full upload");
                return None;
            }
        };
        match self.store.head(self.bucket, self.key).await {
            Ok(Some(info)) if crate::store::same_etag(&info.etag, &manifest.etag) => Some(manifest),
            Ok(_) => {
                tracing::info!("the stored state is not the one the local manifest describes: full upload");
                None
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot check the stored state: full upload");
                None
            }
        }
    }

    /// Uploads the archive of `entries`, incrementally on `previous` if given; on failure of an
    /// incremental upload, once more in full. Saves the new manifest locally and in the store.
    pub async fn upload(
        &self,
        root: &Path,
        entries: Vec<Entry>,
        generation: u64,
        metadata: &Metadata,
        previous: Option<Manifest>,
    ) -> Result<Upload, SyncError> {
        let upload = match previous {
            Some(previous) => {
                match self
                    .compose(root, entries.clone(), generation, metadata, Some(previous))
                    .await
                {
                    Ok(upload) => upload,
                    Err(e) => {
                        tracing::warn!(error = %e, "incremental state upload failed: uploading in full");
                        self.compose(root, entries, generation, metadata, None).await?
                    }
                }
            }
            None => self.compose(root, entries, generation, metadata, None).await?,
        };
        if let Err(e) = upload.manifest.save(&local_manifest_path(root)) {
            tracing::warn!(error = %e, "cannot save the state manifest: the next upload is a full one");
        }
        if let Err(e) = self
            .store
            .put(
                self.bucket,
                self.manifest_key,
                upload.manifest.to_json(),
                "application/json",
            )
            .await
        {
            tracing::warn!(error = %e, "cannot store the state manifest: the next restore reads the archive in one stream");
        }
        Ok(upload)
    }

    async fn compose(
        &self,
        root: &Path,
        entries: Vec<Entry>,
        generation: u64,
        metadata: &Metadata,
        previous: Option<Manifest>,
    ) -> Result<Upload, SyncError> {
        let source = previous.as_ref().map(|m| ComposeSource {
            key: self.key.to_owned(),
            etag: m.etag.clone(),
        });
        let (tx, items) = compose_channel();
        let packed_root = root.to_path_buf();
        // A packing failure drops the grouper before its end, which abandons the write.
        let producer = tokio::task::spawn_blocking(move || {
            let mut parts = PartGrouper::new(MIN_PART_BYTES, tx);
            let layout = segmented::write(
                &packed_root,
                &entries,
                previous.as_ref(),
                Params::default(),
                |piece| match piece {
                    Piece::Reuse { start, end } => parts.copy(start, end),
                    Piece::Fresh(bytes) => parts.bytes(bytes),
                },
            )?;
            parts.finish()?;
            Ok::<_, std::io::Error>(layout)
        });
        let composed = self
            .store
            .compose(
                self.bucket,
                self.key,
                source.as_ref(),
                items,
                "application/gzip",
                metadata,
            )
            .await;
        let packed = producer
            .await
            .map_err(|e| SyncError::io("archive task failed", std::io::Error::other(e)))?;
        let archive_error = |e| SyncError::io(format!("cannot archive {}", root.display()), e);
        // The store's failure explains the producer's broken pipe, not the other way round.
        let layout = match packed {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => return Err(archive_error(e)),
            packed => {
                let composed = composed?;
                (packed.map_err(archive_error)?, composed)
            }
        };
        let (layout, composed) = layout;
        Ok(Upload {
            manifest: Manifest {
                format: MANIFEST_FORMAT,
                generation,
                etag: composed.etag,
                size: layout.size,
                segments: layout.segments,
            },
            uploaded: composed.uploaded,
            copied: composed.copied,
        })
    }
}
