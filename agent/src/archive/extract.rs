//! Safe extraction into a staging directory, then a move into the target.

use std::ffi::OsStr;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use super::rules::{MAX_NAME_BYTES, check_link_target, relative_path, shown_name};
use super::tar_guard::{Refusal, TarGuard};
use super::zip_reader::{Entries, read_directory};
use super::{AGENT_PRIVATE_PREFIX, ArchiveError, Format, Limits, staging_dir};

/// Entries skipped by a state extraction that are listed by name in [`ExtractStats::skipped`].
const MAX_SKIPPED_LISTED: usize = 20;

/// What an archive is extracted for, which decides what happens to unsafe entries and to what
/// the target held before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A bot's code: an unsafe entry refuses the whole archive (it is crafted), and the
    /// archive's top-level entries replace those of the same name in the target.
    Code,
    /// A bot's state: an entry the packer would not store either (see [`super::rules`]) is
    /// skipped and listed, and the archive replaces everything in the target but the agent's own
    /// files: a restored tree is the stored one, never a mix.
    State,
}

/// What an extraction wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExtractStats {
    pub entries: u64,
    pub files: u64,
    pub bytes: u64,
    /// Entries skipped (state only), as `"<name>: <reason>"`; the first few are listed.
    pub skipped: Vec<String>,
    pub skipped_count: u64,
}

/// Extracts the archive file `archive` (ZIP or tar.gz, detected from its first bytes) into
/// `dest`, as [`Purpose`] says. On failure `dest` is left as it was.
pub fn extract_into(
    archive: &Path,
    dest: &Path,
    limits: Limits,
    purpose: Purpose,
) -> Result<ExtractStats, ArchiveError> {
    let mut file =
        File::open(archive).map_err(|e| ArchiveError::io(format!("cannot open {}", archive.display()), e))?;
    let mut magic = [0u8; 4];
    let read =
        read_prefix(&mut file, &mut magic).map_err(|e| ArchiveError::io("cannot read the archive", e))?;
    let format = Format::detect(&magic[..read]).ok_or_else(|| ArchiveError::Corrupt {
        format: "ZIP or tar.gz archive",
        detail: "unrecognised first bytes".to_owned(),
    })?;
    let file =
        File::open(archive).map_err(|e| ArchiveError::io(format!("cannot open {}", archive.display()), e))?;
    staged(dest, limits, purpose, |sink| match format {
        Format::Zip => extract_zip(file, sink),
        Format::TarGz => {
            // Every member: a gzip file may hold many (the agent's segmented archives do), and a
            // plain `GzDecoder` stops after the first, silently dropping the rest of the tree.
            extract_tar(flate2::read::MultiGzDecoder::new(io::BufReader::new(file)), sink)
        }
    })
}

/// Extracts an uncompressed tar stream (the parallel restore decompresses the segments of a
/// state archive itself) into `dest`, as [`extract_into`] does. A stream that fails midway
/// leaves `dest` as it was.
pub fn extract_tar_stream(
    tar: impl Read,
    dest: &Path,
    limits: Limits,
    purpose: Purpose,
) -> Result<ExtractStats, ArchiveError> {
    staged(dest, limits, purpose, |sink| extract_tar(tar, sink))
}

/// Runs `extract` into a fresh staging directory and commits it into `dest` if it succeeded.
fn staged(
    dest: &Path,
    limits: Limits,
    purpose: Purpose,
    extract: impl FnOnce(&mut Sink<'_>) -> Result<(), ArchiveError>,
) -> Result<ExtractStats, ArchiveError> {
    let stage = staging_dir(dest);
    remove_any(&stage).map_err(|e| ArchiveError::io(format!("cannot clear {}", stage.display()), e))?;
    fs::create_dir_all(&stage)
        .map_err(|e| ArchiveError::io(format!("cannot create {}", stage.display()), e))?;
    let mut sink = Sink {
        root: &stage,
        limits,
        purpose,
        stats: ExtractStats::default(),
    };
    let extracted = extract(&mut sink);
    let committed = extracted.and_then(|()| commit(&stage, dest, purpose));
    let _ = remove_any(&stage);
    committed.map(|()| sink.stats)
}

fn read_prefix(file: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

/// Moves every top-level entry of `stage` into `dest`, replacing entries of the same name; for
/// state, first removes every other entry of `dest` (the agent's own files excepted).
fn commit(stage: &Path, dest: &Path, purpose: Purpose) -> Result<(), ArchiveError> {
    let list_error = |dir: &Path| {
        let shown = dir.display().to_string();
        move |e| ArchiveError::io(format!("cannot list {shown}"), e)
    };
    if purpose == Purpose::State {
        for entry in fs::read_dir(dest).map_err(list_error(dest))? {
            let entry = entry.map_err(list_error(dest))?;
            let name = entry.file_name();
            if name.as_bytes().starts_with(AGENT_PRIVATE_PREFIX.as_bytes()) {
                continue;
            }
            let path = entry.path();
            remove_any(&path)
                .map_err(|e| ArchiveError::io(format!("cannot replace {}", path.display()), e))?;
        }
    }
    for entry in fs::read_dir(stage).map_err(list_error(stage))? {
        let entry = entry.map_err(list_error(stage))?;
        let target = dest.join(entry.file_name());
        remove_any(&target)
            .map_err(|e| ArchiveError::io(format!("cannot replace {}", target.display()), e))?;
        fs::rename(entry.path(), &target)
            .map_err(|e| ArchiveError::io(format!("cannot move into {}", target.display()), e))?;
    }
    Ok(())
}

/// Removes a file, link or directory tree; a missing path is fine.
fn remove_any(path: &Path) -> io::Result<()> {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => fs::remove_dir_all(path),
        Ok(_) => fs::remove_file(path),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// Kinds of entries both formats have.
enum Kind<'a> {
    Directory,
    /// The content and the modification time (seconds) to restore, if the archive has one:
    /// a restored file keeps its mtime, so the next upload can reuse its segment.
    File(&'a mut dyn Read, Option<u64>),
    Symlink(Vec<u8>),
    Refused(&'static str),
}

/// Checks and writes entries under the staging root.
struct Sink<'a> {
    root: &'a Path,
    limits: Limits,
    purpose: Purpose,
    stats: ExtractStats,
}

impl Sink<'_> {
    /// Counts one entry against the limit. Every entry counts, skipped or not.
    fn count(&mut self, shown: &str) -> Result<(), ArchiveError> {
        self.stats.entries += 1;
        if self.stats.entries > self.limits.max_entries {
            return Err(ArchiveError::refused(
                shown,
                format!("the archive has more than {} entries", self.limits.max_entries),
            ));
        }
        Ok(())
    }

    /// An unsafe entry: the whole archive is refused (code), or the entry is skipped (state).
    fn unsafe_entry(&mut self, shown: &str, reason: &str) -> Result<(), ArchiveError> {
        match self.purpose {
            Purpose::Code => Err(ArchiveError::refused(shown, reason)),
            Purpose::State => {
                self.stats.skipped_count += 1;
                if self.stats.skipped.len() < MAX_SKIPPED_LISTED {
                    self.stats.skipped.push(format!("{shown:?}: {reason}"));
                }
                Ok(())
            }
        }
    }

    /// Checks and writes one entry. `raw_name` is the name as stored in the archive.
    fn entry(&mut self, raw_name: &[u8], mode: Option<u32>, kind: Kind<'_>) -> Result<(), ArchiveError> {
        let shown = shown_name(raw_name);
        self.count(&shown)?;
        let relative = match relative_path(raw_name) {
            Ok(Some(relative)) => relative,
            Ok(None) => return Ok(()), // the archive's own root ("./")
            Err(reason) => return self.unsafe_entry(&shown, reason),
        };
        if let Err(reason) = self.check_ancestors(&relative) {
            return self.unsafe_entry(&shown, reason);
        }
        let path = self.root.join(&relative);
        let write_error = |e: io::Error| ArchiveError::io(format!("cannot extract {shown:?}"), e);
        match kind {
            Kind::Refused(reason) => self.unsafe_entry(&shown, reason),
            Kind::Directory => {
                if fs::symlink_metadata(&path).is_ok_and(|m| !m.is_dir()) {
                    return self
                        .unsafe_entry(&shown, "a directory replaces a file or link of the same archive");
                }
                fs::create_dir_all(&path).map_err(write_error)?;
                set_mode(&path, mode.unwrap_or(0o755) | 0o700).map_err(write_error)
            }
            Kind::File(reader, mtime) => {
                create_parent(&path).map_err(write_error)?;
                let mut file = match open_for_extraction(&path) {
                    Ok(file) => file,
                    Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
                        return self.unsafe_entry(&shown, "the entry would overwrite a symlink");
                    }
                    Err(e) => return Err(write_error(e)),
                };
                let written = self.copy_limited(&shown, reader, &mut file)?;
                self.stats.files += 1;
                self.stats.bytes += written;
                if let Some(mtime) = mtime {
                    let time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(mtime);
                    file.set_modified(time).map_err(write_error)?;
                }
                set_mode(&path, mode.unwrap_or(0o644)).map_err(write_error)
            }
            Kind::Symlink(target) => {
                if let Err(reason) = check_link_target(&relative, &target) {
                    return self.unsafe_entry(&shown, reason);
                }
                create_parent(&path).map_err(write_error)?;
                if fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir()) {
                    return self.unsafe_entry(&shown, "a link replaces a directory of the same archive");
                }
                let _ = fs::remove_file(&path);
                std::os::unix::fs::symlink(OsStr::from_bytes(&target), &path).map_err(write_error)
            }
        }
    }

    /// No existing ancestor of `relative` may be a symlink: writing through one could leave the
    /// target.
    fn check_ancestors(&self, relative: &Path) -> Result<(), &'static str> {
        let mut current = self.root.to_path_buf();
        let mut components = relative.components().peekable();
        while let Some(component) = components.next() {
            if components.peek().is_none() {
                break;
            }
            current.push(component);
            match fs::symlink_metadata(&current) {
                Ok(meta) if meta.file_type().is_symlink() => return Err("the path passes through a symlink"),
                Ok(meta) if !meta.is_dir() => return Err("the path passes through a file"),
                _ => {}
            }
        }
        Ok(())
    }

    /// Copies at most the per-file and remaining total allowances, counting real bytes.
    fn copy_limited(&self, shown: &str, reader: &mut dyn Read, file: &mut File) -> Result<u64, ArchiveError> {
        let remaining_total = self.limits.max_total_bytes.saturating_sub(self.stats.bytes);
        let allowance = self.limits.max_file_bytes.min(remaining_total);
        let mut limited = reader.take(allowance + 1);
        let written = io::copy(&mut limited, file).map_err(|e| match e.kind() {
            io::ErrorKind::InvalidData | io::ErrorKind::InvalidInput | io::ErrorKind::UnexpectedEof => {
                ArchiveError::refused(shown, format!("cannot decompress: {}", capped(&e.to_string())))
            }
            _ => ArchiveError::io(format!("cannot extract {shown:?}"), e),
        })?;
        if written > allowance {
            let reason = if allowance == self.limits.max_file_bytes {
                format!("the file is larger than {} bytes", self.limits.max_file_bytes)
            } else {
                format!(
                    "the archive holds more than {} bytes",
                    self.limits.max_total_bytes
                )
            };
            return Err(ArchiveError::refused(shown, reason));
        }
        Ok(written)
    }
}

/// An error text from a parser, cut to a line's worth.
fn capped(text: &str) -> String {
    shown_name(text.as_bytes())
}

fn create_parent(path: &Path) -> io::Result<()> {
    match path.parent() {
        Some(parent) => fs::create_dir_all(parent),
        None => Ok(()),
    }
}

/// Opens a file for writing without following a symlink at its name.
fn open_for_extraction(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
}

/// Applies the permission bits only: no setuid, setgid or sticky bit from an archive.
fn set_mode(path: &Path, mode: u32) -> io::Result<()> {
    fs::set_permissions(path, fs::Permissions::from_mode(mode & 0o777))
}

fn extract_zip(mut file: File, sink: &mut Sink<'_>) -> Result<(), ArchiveError> {
    let corrupt = |e: io::Error| ArchiveError::Corrupt {
        format: "ZIP archive",
        detail: capped(&e.to_string()),
    };
    let directory = read_directory(&mut file)
        .map_err(corrupt)?
        .ok_or_else(|| ArchiveError::Corrupt {
            format: "ZIP archive",
            detail: "no end of central directory record".to_owned(),
        })?;
    if directory.entries > sink.limits.max_entries {
        return Err(ArchiveError::refused(
            "(whole archive)",
            format!(
                "the archive has {} entries, more than {}",
                directory.entries, sink.limits.max_entries
            ),
        ));
    }
    let mut entries = Entries::new(&file, directory).map_err(corrupt)?;
    while let Some(record) = entries.next_record().map_err(corrupt)? {
        let name = record.name.clone();
        let mode = record.unix_mode;
        let file_type = mode.map(|m| m & libc::S_IFMT);
        if record.encrypted {
            return Err(ArchiveError::refused(
                &shown_name(&name),
                "encrypted entries are not supported",
            ));
        }
        if record.is_dir {
            sink.entry(&name, mode, Kind::Directory)?;
            continue;
        }
        if file_type.is_some_and(|t| t != 0 && t != libc::S_IFREG && t != libc::S_IFLNK) {
            sink.entry(
                &name,
                mode,
                Kind::Refused(special_file_reason(file_type.unwrap_or(0))),
            )?;
            continue;
        }
        let mut data = entries
            .open(&record)
            .map_err(|e| ArchiveError::refused(&shown_name(&name), capped(&e.to_string())))?;
        if record.is_symlink() {
            let mut target = Vec::new();
            (&mut data)
                .take(MAX_NAME_BYTES as u64 + 1)
                .read_to_end(&mut target)
                .map_err(|e| ArchiveError::refused(&shown_name(&name), capped(&e.to_string())))?;
            sink.entry(&name, mode, Kind::Symlink(target))?;
        } else {
            sink.entry(&name, mode, Kind::File(&mut data, None))?;
        }
    }
    Ok(())
}

fn special_file_reason(file_type: u32) -> &'static str {
    match file_type {
        libc::S_IFCHR | libc::S_IFBLK => "device files are not allowed",
        libc::S_IFIFO => "named pipes are not allowed",
        libc::S_IFSOCK => "sockets are not allowed",
        _ => "this kind of entry is not allowed",
    }
}

fn extract_tar(tar: impl Read, sink: &mut Sink<'_>) -> Result<(), ArchiveError> {
    let mut archive = tar::Archive::new(TarGuard::new(tar));
    // The last entry read, to say where a corrupt stream broke.
    let mut last: Option<String> = None;
    let corrupt = |e: io::Error, last: &Option<String>| {
        if let Some(refusal) = e.get_ref().and_then(|inner| inner.downcast_ref::<Refusal>()) {
            return ArchiveError::refused(&refusal.entry, refusal.reason.clone());
        }
        let place = match last {
            Some(entry) => format!(" (after entry {entry:?})"),
            None => " (at its first entry)".to_owned(),
        };
        ArchiveError::Corrupt {
            format: "tar.gz archive",
            detail: format!("{}{place}", capped(&e.to_string())),
        }
    };
    let entries = archive.entries().map_err(|e| corrupt(e, &last))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| corrupt(e, &last))?;
        let name = entry.path_bytes().into_owned();
        last = Some(shown_name(&name));
        let mode = entry.header().mode().ok();
        use tar::EntryType;
        match entry.header().entry_type() {
            EntryType::Directory => sink.entry(&name, mode, Kind::Directory)?,
            EntryType::Regular | EntryType::Continuous => {
                let mtime = entry.header().mtime().ok();
                sink.entry(&name, mode, Kind::File(&mut entry, mtime))?
            }
            EntryType::Symlink => {
                let target = entry
                    .link_name_bytes()
                    .map(|t| t.into_owned())
                    .unwrap_or_default();
                sink.entry(&name, mode, Kind::Symlink(target))?
            }
            EntryType::Link => sink.entry(&name, mode, Kind::Refused("hard links are not allowed"))?,
            EntryType::Char | EntryType::Block => {
                sink.entry(&name, mode, Kind::Refused("device files are not allowed"))?
            }
            EntryType::Fifo => sink.entry(&name, mode, Kind::Refused("named pipes are not allowed"))?,
            EntryType::XGlobalHeader => sink.count(&shown_name(&name))?,
            _ => sink.entry(&name, mode, Kind::Refused("this kind of entry is not allowed"))?,
        }
    }
    Ok(())
}
