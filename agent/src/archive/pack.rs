//! Packing a directory as tar.gz, streamed: memory stays at a few buffers whatever the size.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use flate2::Compression;
use flate2::write::GzEncoder;

/// What to put in the archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    Directory,
    File,
    Symlink,
}

/// Writes the entries (paths relative to `root`, in the given order) as a tar.gz to `out`, and
/// returns `out`. A file is archived with the size it has when opened; if it shrinks while being
/// read the archive would be wrong, so that is an error (the caller retries later).
pub fn pack<'a, W: Write>(
    root: &Path,
    entries: impl IntoIterator<Item = (&'a Path, EntryKind)>,
    out: W,
) -> io::Result<W> {
    let mut builder = tar::Builder::new(GzEncoder::new(out, Compression::fast()));
    builder.mode(tar::HeaderMode::Complete);
    for (relative, kind) in entries {
        let path = root.join(relative);
        let context = |e: io::Error| io::Error::new(e.kind(), format!("{}: {e}", relative.display()));
        match kind {
            EntryKind::Directory => {
                let meta = fs::symlink_metadata(&path).map_err(context)?;
                let mut header = header_for(&meta, tar::EntryType::Directory, 0);
                builder
                    .append_data(&mut header, relative, io::empty())
                    .map_err(context)?;
            }
            EntryKind::File => {
                let file = File::open(&path).map_err(context)?;
                let meta = file.metadata().map_err(context)?;
                let mut header = header_for(&meta, tar::EntryType::Regular, meta.len());
                let mut exact = ExactReader::new(file.take(meta.len()), meta.len());
                builder
                    .append_data(&mut header, relative, &mut exact)
                    .map_err(context)?;
            }
            EntryKind::Symlink => {
                let meta = fs::symlink_metadata(&path).map_err(context)?;
                let target = fs::read_link(&path).map_err(context)?;
                let mut header = header_for(&meta, tar::EntryType::Symlink, 0);
                builder
                    .append_link(&mut header, relative, &target)
                    .map_err(context)?;
            }
        }
    }
    builder.into_inner()?.finish()
}

pub(super) fn header_for(meta: &fs::Metadata, kind: tar::EntryType, size: u64) -> tar::Header {
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(kind);
    header.set_size(size);
    header.set_mode(meta.mode() & 0o7777);
    header.set_mtime(meta.mtime().max(0) as u64);
    header
}

/// Reads exactly `remaining` bytes or fails: a file truncated mid-read must not produce an
/// archive whose entry is shorter than its header says.
pub(super) struct ExactReader<R> {
    inner: R,
    remaining: u64,
}

impl<R> ExactReader<R> {
    pub(super) fn new(inner: R, remaining: u64) -> Self {
        ExactReader { inner, remaining }
    }
}

impl<R: Read> Read for ExactReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.remaining == 0 {
            return Ok(0);
        }
        let n = self.inner.read(buf)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the file shrank while it was archived",
            ));
        }
        self.remaining -= n as u64;
        Ok(n)
    }
}
