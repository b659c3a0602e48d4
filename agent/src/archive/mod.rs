//! Archives: safe extraction of code and state (ZIP as upstream's API stores code, tar.gz as
//! the agent stores state), and streaming packing of the state directory.
//!
//! Extraction never writes outside its target. Unsafe entries — absolute paths and `..`
//! (traversal), paths through a symlink, symlinks whose target leaves the target directory, hard
//! links, device files and other special files — refuse a code archive, naming the entry, and are
//! skipped (and listed) in a state archive, whose packer applies the same rule ([`rules`]).
//! Archives over the entry, per-file or total size limits are refused (counted on the bytes
//! actually decompressed, so a zip bomb is stopped when it goes past the limit, whatever its
//! headers claim), and so are metadata records over their limits, before they are read: memory
//! stays bounded whatever the archive. Entries land in a hidden staging directory first and move
//! into the target only when the whole archive was accepted.

mod extract;
mod pack;
pub mod rules;
pub mod segmented;
mod tar_guard;
#[cfg(test)]
mod tests;
mod zip_reader;

pub use extract::{ExtractStats, Purpose, extract_into, extract_tar_stream};
pub use pack::{EntryKind, pack};

use std::path::PathBuf;

/// Limits of one extraction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most entries (files, directories, links).
    pub max_entries: u64,
    /// Largest file, in bytes once decompressed.
    pub max_file_bytes: u64,
    /// All files together, in bytes once decompressed.
    pub max_total_bytes: u64,
}

/// Why an archive was refused or could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// A crafted or unsupported entry; nothing was written to the target.
    #[error("refusing archive entry {entry:?}: {reason}")]
    Refused { entry: String, reason: String },
    /// The archive itself is not readable.
    #[error("the archive is not a valid {format}: {detail}")]
    Corrupt { format: &'static str, detail: String },
    /// A file-system failure.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

impl ArchiveError {
    pub(crate) fn refused(entry: &str, reason: impl Into<String>) -> Self {
        ArchiveError::Refused {
            entry: entry.to_owned(),
            reason: reason.into(),
        }
    }

    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        ArchiveError::Io {
            context: context.into(),
            source,
        }
    }
}

/// Archive formats, told apart by their first bytes (not by file names, which code keys lack).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Zip,
    TarGz,
}

impl Format {
    /// The format of an archive starting with `magic`.
    pub fn detect(magic: &[u8]) -> Option<Format> {
        if magic.starts_with(b"PK\x03\x04") || magic.starts_with(b"PK\x05\x06") {
            Some(Format::Zip)
        } else if magic.starts_with(&[0x1f, 0x8b]) {
            Some(Format::TarGz)
        } else {
            None
        }
    }
}

/// Names the agent keeps for itself inside the directories it manages (`/bot`, `/state`): they
/// are never archived and never extracted.
pub const AGENT_PRIVATE_PREFIX: &str = ".the0-agent";

/// The staging directory of an extraction into `dest`.
pub(crate) fn staging_dir(dest: &std::path::Path) -> PathBuf {
    dest.join(format!("{AGENT_PRIVATE_PREFIX}-staging"))
}
