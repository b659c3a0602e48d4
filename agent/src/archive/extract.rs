//! Safe extraction into a staging directory, then a move into the target.

use std::ffi::OsStr;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::{AGENT_PRIVATE_PREFIX, ArchiveError, Format, Limits, staging_dir};

/// What an extraction wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExtractStats {
    pub entries: u64,
    pub files: u64,
    pub bytes: u64,
}

/// Extracts the archive file `archive` (ZIP or tar.gz, detected from its first bytes) into
/// `dest`. On success the archive's top-level entries replace those of the same name in `dest`;
/// on failure `dest` is left as it was.
pub fn extract_into(archive: &Path, dest: &Path, limits: Limits) -> Result<ExtractStats, ArchiveError> {
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

    let stage = staging_dir(dest);
    remove_any(&stage).map_err(|e| ArchiveError::io(format!("cannot clear {}", stage.display()), e))?;
    fs::create_dir_all(&stage)
        .map_err(|e| ArchiveError::io(format!("cannot create {}", stage.display()), e))?;
    let mut sink = Sink {
        root: &stage,
        limits,
        stats: ExtractStats::default(),
    };
    let extracted = match format {
        Format::Zip => extract_zip(file, &mut sink),
        Format::TarGz => extract_tar_gz(file, &mut sink),
    };
    let committed = extracted.and_then(|()| commit(&stage, dest));
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

/// Moves every top-level entry of `stage` into `dest`, replacing entries of the same name.
fn commit(stage: &Path, dest: &Path) -> Result<(), ArchiveError> {
    let entries =
        fs::read_dir(stage).map_err(|e| ArchiveError::io(format!("cannot list {}", stage.display()), e))?;
    for entry in entries {
        let entry = entry.map_err(|e| ArchiveError::io(format!("cannot list {}", stage.display()), e))?;
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
    File(&'a mut dyn Read),
    Symlink(Vec<u8>),
    Refused(&'static str),
}

/// Checks and writes entries under the staging root.
struct Sink<'a> {
    root: &'a Path,
    limits: Limits,
    stats: ExtractStats,
}

impl Sink<'_> {
    /// Checks and writes one entry. `raw_name` is the name as stored in the archive.
    fn entry(&mut self, raw_name: &[u8], mode: Option<u32>, kind: Kind<'_>) -> Result<(), ArchiveError> {
        let shown = String::from_utf8_lossy(raw_name).into_owned();
        self.stats.entries += 1;
        if self.stats.entries > self.limits.max_entries {
            return Err(ArchiveError::refused(
                &shown,
                format!("the archive has more than {} entries", self.limits.max_entries),
            ));
        }
        let Some(relative) =
            relative_path(raw_name).map_err(|reason| ArchiveError::refused(&shown, reason))?
        else {
            return Ok(()); // the archive's own root ("./")
        };
        self.check_ancestors(&relative)
            .map_err(|reason| ArchiveError::refused(&shown, reason))?;
        let path = self.root.join(&relative);
        let write_error = |e: io::Error| ArchiveError::io(format!("cannot extract {shown:?}"), e);
        match kind {
            Kind::Refused(reason) => Err(ArchiveError::refused(&shown, reason)),
            Kind::Directory => {
                if fs::symlink_metadata(&path).is_ok_and(|m| !m.is_dir()) {
                    return Err(ArchiveError::refused(
                        &shown,
                        "a directory replaces a file or link of the same archive",
                    ));
                }
                fs::create_dir_all(&path).map_err(write_error)?;
                set_mode(&path, mode.unwrap_or(0o755) | 0o700).map_err(write_error)
            }
            Kind::File(reader) => {
                create_parent(&path).map_err(write_error)?;
                let mut file = open_for_extraction(&path).map_err(|e| {
                    if e.raw_os_error() == Some(libc::ELOOP) {
                        ArchiveError::refused(&shown, "the entry would overwrite a symlink")
                    } else {
                        write_error(e)
                    }
                })?;
                let written = self.copy_limited(&shown, reader, &mut file)?;
                self.stats.files += 1;
                self.stats.bytes += written;
                set_mode(&path, mode.unwrap_or(0o644)).map_err(write_error)
            }
            Kind::Symlink(target) => {
                check_link_target(&relative, &target)
                    .map_err(|reason| ArchiveError::refused(&shown, reason))?;
                create_parent(&path).map_err(write_error)?;
                if fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir()) {
                    return Err(ArchiveError::refused(
                        &shown,
                        "a link replaces a directory of the same archive",
                    ));
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
                ArchiveError::refused(shown, format!("cannot decompress: {e}"))
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

/// The relative path of an archive name; `Ok(None)` for the archive's root itself.
fn relative_path(raw: &[u8]) -> Result<Option<PathBuf>, &'static str> {
    if raw.contains(&0) {
        return Err("the name contains NUL");
    }
    if raw.contains(&b'\\') {
        return Err("the name contains a backslash");
    }
    if raw.first() == Some(&b'/') {
        return Err("absolute paths are not allowed");
    }
    let mut path = PathBuf::new();
    for part in raw.split(|b| *b == b'/') {
        match part {
            b"" | b"." => {}
            b".." => return Err("the path escapes the target (..)"),
            name => path.push(OsStr::from_bytes(name)),
        }
    }
    if path.as_os_str().is_empty() {
        return Ok(None);
    }
    if path.components().next().is_some_and(|c| {
        c.as_os_str()
            .as_bytes()
            .starts_with(AGENT_PRIVATE_PREFIX.as_bytes())
    }) {
        return Err("the name is reserved for the agent");
    }
    Ok(Some(path))
}

/// A link target may climb at most to the target directory, and only with leading `..`: once it
/// descends, it may not climb again. Every accepted link then resolves inside the target, even
/// through other accepted links, which resolve inside it too.
fn check_link_target(link: &Path, target: &[u8]) -> Result<(), &'static str> {
    if target.is_empty() {
        return Err("the link has no target");
    }
    if target.first() == Some(&b'/') {
        return Err("the link target is an absolute path");
    }
    if target.contains(&0) {
        return Err("the link target contains NUL");
    }
    let depth = link.components().count() - 1;
    let mut climbs = 0;
    let mut descended = false;
    for part in target.split(|b| *b == b'/') {
        match part {
            b"" | b"." => {}
            b".." if descended => return Err("the link target climbs after descending"),
            b".." => {
                climbs += 1;
                if climbs > depth {
                    return Err("the link target leaves the target directory");
                }
            }
            _ => descended = true,
        }
    }
    Ok(())
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

fn extract_zip(file: File, sink: &mut Sink<'_>) -> Result<(), ArchiveError> {
    let corrupt = |e: zip::result::ZipError| ArchiveError::Corrupt {
        format: "ZIP archive",
        detail: e.to_string(),
    };
    let mut archive = zip::ZipArchive::new(io::BufReader::new(file)).map_err(corrupt)?;
    if archive.len() as u64 > sink.limits.max_entries {
        return Err(ArchiveError::refused(
            "(whole archive)",
            format!(
                "the archive has {} entries, more than {}",
                archive.len(),
                sink.limits.max_entries
            ),
        ));
    }
    for index in 0..archive.len() {
        let mut entry = archive.by_index(index).map_err(corrupt)?;
        let name = entry.name_raw().to_vec();
        let mode = entry.unix_mode();
        let file_type = mode.map(|m| m & libc::S_IFMT);
        if entry.is_symlink() {
            let mut target = Vec::new();
            (&mut entry)
                .take(4096)
                .read_to_end(&mut target)
                .map_err(|e| ArchiveError::io("cannot read a link target", e))?;
            sink.entry(&name, mode, Kind::Symlink(target))?;
        } else if entry.is_dir() {
            sink.entry(&name, mode, Kind::Directory)?;
        } else if file_type.is_some_and(|t| t != 0 && t != libc::S_IFREG) {
            sink.entry(
                &name,
                mode,
                Kind::Refused(special_file_reason(file_type.unwrap_or(0))),
            )?;
        } else {
            sink.entry(&name, mode, Kind::File(&mut entry))?;
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

fn extract_tar_gz(file: File, sink: &mut Sink<'_>) -> Result<(), ArchiveError> {
    let corrupt = |e: io::Error| ArchiveError::Corrupt {
        format: "tar.gz archive",
        detail: e.to_string(),
    };
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(io::BufReader::new(file)));
    for entry in archive.entries().map_err(corrupt)? {
        let mut entry = entry.map_err(corrupt)?;
        let name = entry.path_bytes().into_owned();
        let mode = entry.header().mode().ok();
        use tar::EntryType;
        match entry.header().entry_type() {
            EntryType::Directory => sink.entry(&name, mode, Kind::Directory)?,
            EntryType::Regular | EntryType::Continuous => sink.entry(&name, mode, Kind::File(&mut entry))?,
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
            EntryType::XGlobalHeader => {}
            _ => sink.entry(&name, mode, Kind::Refused("this kind of entry is not allowed"))?,
        }
    }
    Ok(())
}
