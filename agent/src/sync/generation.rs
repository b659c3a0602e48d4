//! Generations: which state is newer, the stored archive or the local tree, so that a restart
//! never rolls state back.
//!
//! Every upload of the state gets the next generation number, stored with the archive as object
//! metadata (`the0-generation`: S3's `x-amz-meta-the0-generation`, an extended attribute in the
//! local store) in the same atomic step as its content. Beside the tree, the agent keeps a record
//! (`<state>/.the0-agent-generation.json`):
//!
//! - `generation`: the tree is at least this new. It is raised to `n + 1` *before* the upload of
//!   generation `n + 1` starts, so an agent killed at any moment leaves a record that is never
//!   older than what reached the store.
//! - `uploaded`: the generation and tree digest of the last upload that completed (or of the
//!   restore), so that a restart that keeps the local tree uploads only if it changed since.
//!
//! At start ([`decide`]): the stored archive is restored only into an empty tree without a record,
//! or a tree whose record is older than the stored generation, and then it replaces the whole tree
//! (never a mix). An archive without the metadata (upstream's, or written before generations) is
//! generation 0; a tree with content but no record is generation 0 as well.
//!
//! Incremental sync's manifest (see [`crate::archive::segmented`]) carries the same generation
//! number as the archive it describes.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use the0_sdk::fsutil::write_atomic;

use crate::archive::AGENT_PRIVATE_PREFIX;
use crate::store::Metadata;

/// The object metadata name of an archive's generation.
pub const GENERATION_METADATA: &str = "the0-generation";

/// The generation of a stored archive (0 when its metadata has none).
pub fn stored_generation(metadata: &Metadata) -> u64 {
    metadata
        .get(GENERATION_METADATA)
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or(0)
}

/// The metadata that marks an archive as `generation`.
pub fn generation_metadata(generation: u64) -> Metadata {
    Metadata::from([(GENERATION_METADATA.to_owned(), generation.to_string())])
}

/// A completed upload (or restore): its generation and the digest of the tree it held.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Uploaded {
    pub generation: u64,
    /// The tree digest, hex.
    pub digest: String,
}

/// The record beside the local tree.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Record {
    /// The local tree is at least this new.
    pub generation: u64,
    pub uploaded: Option<Uploaded>,
}

impl Record {
    /// The file of the record beside the tree at `root`.
    pub fn path(root: &Path) -> PathBuf {
        root.join(format!("{AGENT_PRIVATE_PREFIX}-generation.json"))
    }

    /// The record, if there is a readable one.
    pub fn load(root: &Path) -> Option<Record> {
        let bytes = std::fs::read(Record::path(root)).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    pub fn save(&self, root: &Path) -> std::io::Result<()> {
        let bytes = serde_json::to_vec(self).expect("a record serializes");
        write_atomic(&Record::path(root), &bytes)
    }

    /// The digest of the tree as stored, if the store holds exactly the last upload recorded.
    pub fn uploaded_digest(&self, stored: u64) -> Option<blake3::Hash> {
        self.uploaded
            .as_ref()
            .filter(|uploaded| uploaded.generation == stored)
            .and_then(|uploaded| blake3::Hash::from_hex(&uploaded.digest).ok())
    }
}

/// What the start of a bot does with the stored state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Nothing is stored.
    NothingStored,
    /// Restore the stored archive, replacing the whole local tree.
    Restore { stored: u64 },
    /// The local tree is as new as the stored archive, or newer: keep it.
    KeepLocal { local: u64, stored: u64 },
}

/// Decides between the stored archive (`stored`: its generation, `None` when there is none) and
/// the local tree (its `record`, and whether it `holds_state`).
pub fn decide(record: Option<&Record>, holds_state: bool, stored: Option<u64>) -> Decision {
    let Some(stored) = stored else {
        return Decision::NothingStored;
    };
    let local = match record {
        Some(record) => record.generation,
        None if !holds_state => return Decision::Restore { stored },
        None => 0,
    };
    if stored > local {
        Decision::Restore { stored }
    } else {
        Decision::KeepLocal { local, stored }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newer_side_wins_and_an_empty_tree_takes_what_is_stored() {
        let at = |generation| Record {
            generation,
            uploaded: None,
        };
        assert_eq!(decide(None, false, None), Decision::NothingStored);
        assert_eq!(decide(None, false, Some(0)), Decision::Restore { stored: 0 });
        assert_eq!(
            decide(None, true, Some(0)),
            Decision::KeepLocal { local: 0, stored: 0 }
        );
        assert_eq!(decide(None, true, Some(3)), Decision::Restore { stored: 3 });
        assert_eq!(
            decide(Some(&at(5)), true, Some(5)),
            Decision::KeepLocal { local: 5, stored: 5 }
        );
        assert_eq!(
            decide(Some(&at(6)), true, Some(5)),
            Decision::KeepLocal { local: 6, stored: 5 }
        );
        assert_eq!(
            decide(Some(&at(4)), true, Some(5)),
            Decision::Restore { stored: 5 }
        );
        // Every key deleted, then killed before the upload: the empty tree is the newer one.
        assert_eq!(
            decide(Some(&at(5)), false, Some(5)),
            Decision::KeepLocal { local: 5, stored: 5 }
        );
    }

    #[test]
    fn records_round_trip_and_metadata_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Record::load(dir.path()), None);
        let digest = blake3::hash(b"tree");
        let record = Record {
            generation: 7,
            uploaded: Some(Uploaded {
                generation: 6,
                digest: digest.to_hex().to_string(),
            }),
        };
        record.save(dir.path()).unwrap();
        assert_eq!(Record::load(dir.path()), Some(record.clone()));
        assert_eq!(record.uploaded_digest(6), Some(digest));
        assert_eq!(record.uploaded_digest(7), None, "the store holds another upload");
        assert_eq!(stored_generation(&generation_metadata(42)), 42);
        assert_eq!(stored_generation(&Metadata::new()), 0);
    }
}
