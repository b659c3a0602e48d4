//! The segmented state archive: still one ordinary `.tar.gz` (upstream's runtime, `tar -xzf`,
//! Python's `tarfile` and Go's `compress/gzip` read it whole: a gzip file may hold many members,
//! decompressed as one stream), but cut into segments that can be reused from one upload to the
//! next, so a small change uploads a small part of the archive (issue 21).
//!
//! - The tar stream of the tree (entries in the scanner's order) is cut between entries into
//!   segments; each segment is one gzip member, and the tar end-of-archive blocks are a last
//!   member of their own (so the last data segment can be reused when the tail changes).
//! - A segment is at least `min_segment` compressed bytes (S3's smallest part), so every segment
//!   can be copied server-side as one part of a multipart upload.
//! - Where to cut: without a previous layout, after an entry whose path hash hits a mask, once
//!   the segment is big enough (content-defined, keyed on paths, so an insertion does not move
//!   the cuts after it); with a previous layout, at its old cut points. Either way at the latest
//!   when a segment reaches `max_segment`.
//! - A segment of the previous upload is reused when its entries are exactly the same (path,
//!   kind, mode, size, mtime, content digest or link target: everything that decides their tar
//!   bytes). Entries in between are re-read and packed into new segments. A change therefore
//!   dirties its own segment and at most its neighbours.
//! - Directories are archived with mtime 0: adding a file changes its directory's mtime, which
//!   must not dirty the directory's segment.
//!
//! The [`Manifest`] records the layout: segments, byte ranges, digests, the entries of each, and
//! the object's generation and ETag. It is stored beside the object
//! (`bot-state/<id>/state.manifest.json`) and kept locally (`.the0-agent-manifest.json`).

use std::collections::{HashMap, HashSet};
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use flate2::Compression;
use flate2::write::GzEncoder;
use serde::{Deserialize, Serialize};

use super::EntryKind;
use super::pack::{ExactReader, header_for};
use crate::sync::tree::{Content, Entry};

/// The manifest's format version.
pub const MANIFEST_FORMAT: u32 = 1;
/// Largest manifest accepted from the store (a million entries is far past the entry limit).
pub const MAX_MANIFEST_BYTES: u64 = 256 << 20;
/// One in `CUT_MASK + 1` paths is a content-defined cut point.
const CUT_MASK: u32 = 1;

/// Segment sizes, in compressed bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Params {
    /// Smallest segment that is not the last: S3's smallest part.
    pub min_segment: usize,
    /// A segment is cut at the first entry boundary past this, whatever the cut points.
    pub max_segment: usize,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            min_segment: crate::store::MIN_PART_BYTES,
            // Small enough that the few segments buffered between packer and store keep the
            // agent's memory low (TARGETS.md: 64 MB peak while uploading 1 GiB).
            max_segment: 8 << 20,
        }
    }
}

/// What decides an entry's bytes in the archive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    pub path: String,
    /// `d`, `f` or `l`.
    pub kind: char,
    pub mode: u32,
    /// Seconds (0 for directories).
    pub mtime: i64,
    pub size: u64,
    /// blake3 of a file's content (hex), a link's target, empty for a directory.
    pub content: String,
}

impl Stamp {
    /// The stamp a tree entry would get; `None` for a name that is not UTF-8 (never reused).
    pub fn of(entry: &Entry) -> Option<Stamp> {
        let (kind, mtime, content) = match &entry.content {
            Content::Directory => ('d', 0, String::new()),
            Content::File(digest) => ('f', entry.mtime, digest.to_hex().to_string()),
            Content::Symlink(target) => ('l', entry.mtime, target.to_str()?.to_owned()),
        };
        Some(Stamp {
            path: entry.path.to_str()?.to_owned(),
            kind,
            mode: entry.mode,
            mtime,
            size: entry.size,
            content,
        })
    }
}

/// One segment of the stored object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segment {
    /// Byte range in the object, end exclusive.
    pub start: u64,
    pub end: u64,
    /// blake3 of the segment's uncompressed tar bytes (hex).
    pub digest: String,
    /// Its entries, in order; empty for the end-of-archive member.
    pub entries: Vec<Stamp>,
}

impl Segment {
    pub fn len(&self) -> u64 {
        self.end - self.start
    }

    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }
}

/// The layout of a stored state archive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub generation: u64,
    /// The ETag of the object this manifest describes: a manifest is valid only for it.
    pub etag: String,
    pub size: u64,
    pub segments: Vec<Segment>,
}

/// Why a manifest could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("cannot read the state manifest: {0}")]
    Io(#[from] io::Error),
    #[error("the state manifest is not valid: {0}")]
    Invalid(String),
}

impl Manifest {
    /// Parses and checks a manifest: known format, segments in order covering the object.
    pub fn parse(bytes: &[u8]) -> Result<Manifest, ManifestError> {
        let manifest: Manifest =
            serde_json::from_slice(bytes).map_err(|e| ManifestError::Invalid(e.to_string()))?;
        if manifest.format != MANIFEST_FORMAT {
            return Err(ManifestError::Invalid(format!(
                "unknown format {}",
                manifest.format
            )));
        }
        let mut offset = 0;
        for segment in &manifest.segments {
            if segment.start != offset || segment.end < segment.start {
                return Err(ManifestError::Invalid(format!(
                    "segment {}..{} does not follow byte {offset}",
                    segment.start, segment.end
                )));
            }
            offset = segment.end;
        }
        if offset != manifest.size {
            return Err(ManifestError::Invalid(format!(
                "the segments cover {offset} bytes of {}",
                manifest.size
            )));
        }
        Ok(manifest)
    }

    /// Reads a local manifest; `Ok(None)` when there is none.
    pub fn load(path: &Path) -> Result<Option<Manifest>, ManifestError> {
        match fs::read(path) {
            Ok(bytes) => Manifest::parse(&bytes).map(Some),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a manifest serializes")
    }

    /// Writes the manifest atomically.
    pub fn save(&self, path: &Path) -> io::Result<()> {
        the0_sdk::fsutil::write_atomic(path, &self.to_json())
    }
}

/// A piece of the new object, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Bytes `start..end` of the previous object, unchanged.
    Reuse { start: u64, end: u64 },
    /// A new gzip member.
    Fresh(Vec<u8>),
}

/// What [`write`] produced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Layout {
    pub segments: Vec<Segment>,
    pub size: u64,
    /// Bytes of the previous object reused.
    pub reused: u64,
    /// Entries read and packed.
    pub packed: usize,
    /// Data segments packed (not reused).
    pub fresh: usize,
}

/// Writes the archive of `entries` (paths relative to `root`, in the scanner's order) as pieces
/// passed to `emit`, reusing the segments of `previous` whose entries are unchanged. Fails when
/// an entry cannot be read (the caller retries later) or `emit` fails.
pub fn write(
    root: &Path,
    entries: &[Entry],
    previous: Option<&Manifest>,
    params: Params,
    emit: impl FnMut(Piece) -> io::Result<()>,
) -> io::Result<Layout> {
    let stamps: Vec<Option<Stamp>> = entries.iter().map(Stamp::of).collect();
    let index: HashMap<&str, usize> = stamps
        .iter()
        .enumerate()
        .filter_map(|(i, s)| s.as_ref().map(|s| (s.path.as_str(), i)))
        .collect();
    let cuts = CutRule::new(previous, params);
    let mut out = Output {
        emit,
        layout: Layout::default(),
    };
    let mut writer = SegmentWriter::new(root, params);
    let mut next = 0;
    for old in previous.iter().flat_map(|m| &m.segments) {
        if old.entries.is_empty() || old.len() < params.min_segment as u64 {
            continue;
        }
        let Some(&at) = index.get(old.entries[0].path.as_str()) else {
            continue;
        };
        let unchanged = at >= next
            && stamps.get(at..at + old.entries.len()).is_some_and(|new| {
                new.iter()
                    .zip(&old.entries)
                    .all(|(new, old)| new.as_ref() == Some(old))
            });
        if !unchanged {
            continue;
        }
        for entry in &entries[next..at] {
            writer.append(entry)?;
            out.layout.packed += 1;
            if cuts.after(&entry.path, writer.compressed(params.min_segment)?) {
                out.fresh(writer.cut()?)?;
            }
        }
        next = at;
        if writer.is_open() {
            if writer.compressed(params.min_segment)? < params.min_segment {
                // Too small to be a part on its own: it takes this segment's entries too.
                continue;
            }
            out.fresh(writer.cut()?)?;
        }
        out.reuse(old)?;
        next = at + old.entries.len();
    }
    for entry in &entries[next..] {
        writer.append(entry)?;
        out.layout.packed += 1;
        if cuts.after(&entry.path, writer.compressed(params.min_segment)?) {
            out.fresh(writer.cut()?)?;
        }
    }
    if writer.is_open() {
        out.fresh(writer.cut()?)?;
    }
    out.fresh(writer.finish()?)?;
    Ok(out.layout)
}

/// Where segments end.
struct CutRule {
    params: Params,
    /// Last entries of the previous segments: cut there again.
    old_ends: HashSet<String>,
    /// Every entry of the previous segments: no content-defined cut inside them, so a change
    /// does not shift the cuts of the segments after it.
    old_members: HashSet<String>,
}

impl CutRule {
    fn new(previous: Option<&Manifest>, params: Params) -> CutRule {
        let segments = previous.iter().flat_map(|m| &m.segments);
        CutRule {
            params,
            old_ends: segments
                .clone()
                .filter_map(|s| s.entries.last().map(|e| e.path.clone()))
                .collect(),
            old_members: segments
                .flat_map(|s| &s.entries)
                .map(|e| e.path.clone())
                .collect(),
        }
    }

    /// Whether to end the segment after the entry `path`, the segment being `compressed` long.
    fn after(&self, path: &Path, compressed: usize) -> bool {
        if compressed >= self.params.max_segment {
            return true;
        }
        if compressed < self.params.min_segment {
            return false;
        }
        match path.to_str() {
            Some(path) if self.old_ends.contains(path) => true,
            Some(path) if self.old_members.contains(path) => false,
            _ => is_cut_point(path),
        }
    }
}

/// Content-defined cut points: the paths whose hash hits [`CUT_MASK`].
fn is_cut_point(path: &Path) -> bool {
    let hash = blake3::hash(path.as_os_str().as_bytes());
    let bytes = hash.as_bytes();
    u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) & CUT_MASK == 0
}

/// Passes pieces on and records their segments.
struct Output<F> {
    emit: F,
    layout: Layout,
}

impl<F: FnMut(Piece) -> io::Result<()>> Output<F> {
    fn fresh(&mut self, (bytes, segment): (Vec<u8>, Segment)) -> io::Result<()> {
        let start = self.layout.size;
        self.layout.size += bytes.len() as u64;
        if !segment.entries.is_empty() {
            self.layout.fresh += 1;
        }
        self.layout.segments.push(Segment {
            start,
            end: self.layout.size,
            ..segment
        });
        (self.emit)(Piece::Fresh(bytes))
    }

    fn reuse(&mut self, old: &Segment) -> io::Result<()> {
        let start = self.layout.size;
        self.layout.size += old.len();
        self.layout.reused += old.len();
        self.layout.segments.push(Segment {
            start,
            end: self.layout.size,
            ..old.clone()
        });
        (self.emit)(Piece::Reuse {
            start: old.start,
            end: old.end,
        })
    }
}

/// One gzip member being written, with the digest of what went in.
struct Member {
    gzip: GzEncoder<Vec<u8>>,
    hasher: blake3::Hasher,
    /// Uncompressed bytes written.
    raw: usize,
}

impl Member {
    fn new(capacity: usize) -> Member {
        Member {
            // Reserved, not touched: no copy each time the member doubles.
            gzip: GzEncoder::new(Vec::with_capacity(capacity), Compression::fast()),
            hasher: blake3::Hasher::new(),
            raw: 0,
        }
    }
}

impl Write for Member {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.gzip.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.raw += n;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Packs entries into the current member; cuts members between entries.
struct SegmentWriter<'a> {
    root: &'a Path,
    /// Bytes reserved for a member.
    capacity: usize,
    builder: tar::Builder<Member>,
    entries: Vec<Stamp>,
}

impl<'a> SegmentWriter<'a> {
    fn new(root: &'a Path, params: Params) -> SegmentWriter<'a> {
        let capacity = params.max_segment + (1 << 20);
        SegmentWriter {
            root,
            capacity,
            builder: tar::Builder::new(Member::new(capacity)),
            entries: Vec::new(),
        }
    }

    fn is_open(&self) -> bool {
        !self.entries.is_empty()
    }

    /// Compressed bytes so far, exact from `min` uncompressed bytes on: the encoder holds
    /// back output (tens of KiB) unless flushed, and a measure that depends on what it holds
    /// back would move the cuts when a neighbouring file changes. Below `min` uncompressed
    /// bytes the member cannot be `min` compressed bytes, and no flush is needed.
    fn compressed(&mut self, min: usize) -> io::Result<usize> {
        let member = self.builder.get_mut();
        if member.raw < min {
            return Ok(0);
        }
        member.gzip.flush()?;
        Ok(member.gzip.get_ref().len())
    }

    /// Archives one entry as it is now, and records the stamp of what was written.
    fn append(&mut self, entry: &Entry) -> io::Result<()> {
        let relative = entry.path.as_path();
        let path = self.root.join(relative);
        let context = |e: io::Error| io::Error::new(e.kind(), format!("{}: {e}", relative.display()));
        let stamp = match entry.kind {
            EntryKind::Directory => {
                let meta = fs::symlink_metadata(&path).map_err(context)?;
                let mut header = header_for(&meta, tar::EntryType::Directory, 0);
                header.set_mtime(0);
                self.builder
                    .append_data(&mut header, relative, io::empty())
                    .map_err(context)?;
                stamp(relative, 'd', &meta, 0, 0, String::new())
            }
            EntryKind::File => {
                let file = File::open(&path).map_err(context)?;
                let meta = file.metadata().map_err(context)?;
                let mut header = header_for(&meta, tar::EntryType::Regular, meta.len());
                let mut reader = Hashing {
                    inner: ExactReader::new(file.take(meta.len()), meta.len()),
                    hasher: blake3::Hasher::new(),
                };
                self.builder
                    .append_data(&mut header, relative, &mut reader)
                    .map_err(context)?;
                let digest = reader.hasher.finalize().to_hex().to_string();
                stamp(relative, 'f', &meta, meta.mtime(), meta.len(), digest)
            }
            EntryKind::Symlink => {
                let meta = fs::symlink_metadata(&path).map_err(context)?;
                let target = fs::read_link(&path).map_err(context)?;
                let mut header = header_for(&meta, tar::EntryType::Symlink, 0);
                self.builder
                    .append_link(&mut header, relative, &target)
                    .map_err(context)?;
                let target = target.to_string_lossy().into_owned();
                stamp(relative, 'l', &meta, meta.mtime(), 0, target)
            }
        };
        self.entries.push(stamp);
        Ok(())
    }

    /// Ends the current member: its bytes and its segment (the range is set by the caller).
    fn cut(&mut self) -> io::Result<(Vec<u8>, Segment)> {
        let member = std::mem::replace(self.builder.get_mut(), Member::new(self.capacity));
        let digest = member.hasher.finalize().to_hex().to_string();
        let bytes = member.gzip.finish()?;
        Ok((
            bytes,
            Segment {
                start: 0,
                end: 0,
                digest,
                entries: std::mem::take(&mut self.entries),
            },
        ))
    }

    /// The end-of-archive member (the open segment must have been cut).
    fn finish(mut self) -> io::Result<(Vec<u8>, Segment)> {
        debug_assert!(!self.is_open());
        self.builder.finish()?;
        self.cut()
    }
}

/// The stamp of an entry as archived. A name that is not UTF-8 gets a stamp no tree entry
/// matches (its segment is packed again next time).
fn stamp(relative: &Path, kind: char, meta: &fs::Metadata, mtime: i64, size: u64, content: String) -> Stamp {
    Stamp {
        path: relative
            .to_str()
            .map_or_else(|| "\0(not UTF-8)".to_owned(), str::to_owned),
        kind,
        mode: meta.mode() & 0o7777,
        mtime,
        size,
        content,
    }
}

/// Hashes what it reads.
struct Hashing<R> {
    inner: R,
    hasher: blake3::Hasher,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

#[cfg(test)]
#[path = "segmented_tests.rs"]
mod tests;
