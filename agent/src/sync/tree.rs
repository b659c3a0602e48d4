//! The state tree: what is under the state directory, and one digest of it — without re-reading
//! files whose size, modification time, change time and inode are unchanged.
//!
//! Upstream hashed every byte of the state on every trigger (O(state size), up to 8 GB). Here a
//! scan is a directory walk plus one `lstat` per entry; only new or changed files are read.

use std::collections::HashMap;
use std::fs;
use std::io::{self, Read};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::archive::rules::storable;
use crate::archive::{AGENT_PRIVATE_PREFIX, EntryKind};

/// One thing in the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Path relative to the root.
    pub path: PathBuf,
    pub kind: EntryKind,
    /// Size in bytes (files only).
    pub size: u64,
    /// Permission bits as archived (`mode & 0o7777`).
    pub mode: u32,
    /// Modification time in whole seconds, as a tar header holds it (files and links).
    pub mtime: i64,
    /// Content digest (files) or link target (symlinks): with the fields above, what decides
    /// the entry's bytes in the archive, so a segment of unchanged entries can be reused
    /// without reading them (see [`crate::archive::segmented`]).
    pub content: Content,
}

/// What an entry holds besides its metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    Directory,
    File(blake3::Hash),
    Symlink(PathBuf),
}

/// A scan's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tree {
    /// Every entry, parents before children, siblings by name.
    pub entries: Vec<Entry>,
    /// Digest of paths, kinds, modes, file contents and link targets.
    pub digest: blake3::Hash,
    /// Sum of file sizes.
    pub total_bytes: u64,
    /// Entries left out because an archive could not restore them (an absolute symlink, a link
    /// leaving the tree, a backslash in a name: [`crate::archive::rules::storable`]), with why.
    pub skipped: Vec<(PathBuf, &'static str)>,
}

impl Tree {
    /// The largest file, if any.
    pub fn largest_file(&self) -> Option<&Entry> {
        self.entries
            .iter()
            .filter(|e| e.kind == EntryKind::File)
            .max_by_key(|e| e.size)
    }
}

/// What identifies a file's content without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    size: u64,
    mtime_ns: i128,
    ctime_ns: i128,
    inode: u64,
}

impl Stamp {
    fn of(meta: &fs::Metadata) -> Stamp {
        let ns = |secs: i64, nanos: i64| i128::from(secs) * 1_000_000_000 + i128::from(nanos);
        Stamp {
            size: meta.len(),
            mtime_ns: ns(meta.mtime(), meta.mtime_nsec()),
            ctime_ns: ns(meta.ctime(), meta.ctime_nsec()),
            inode: meta.ino(),
        }
    }
}

/// Scans a directory repeatedly, remembering file digests between scans.
#[derive(Debug, Default)]
pub struct Scanner {
    root: PathBuf,
    known: HashMap<PathBuf, (Stamp, blake3::Hash)>,
    /// Files read (hashed) by the last scan, for tests and benchmarks.
    pub files_read: usize,
}

impl Scanner {
    pub fn new(root: impl Into<PathBuf>) -> Scanner {
        Scanner {
            root: root.into(),
            ..Scanner::default()
        }
    }

    /// The directory scanned.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Walks the tree. A missing root is an empty tree. Files that vanish during the walk are
    /// left out. Left out on purpose: the agent's own files (`.the0-agent*` at the top) and the
    /// core's temporary files.
    pub fn scan(&mut self) -> io::Result<Tree> {
        self.files_read = 0;
        let mut entries = Vec::new();
        let mut hasher = blake3::Hasher::new();
        let mut total_bytes = 0;
        let mut skipped = Vec::new();
        let mut seen = HashMap::with_capacity(self.known.len());
        let mut pending = vec![PathBuf::new()];
        while let Some(dir) = pending.pop() {
            let mut children = match fs::read_dir(self.root.join(&dir)) {
                Ok(children) => children
                    .filter_map(|c| c.ok().map(|c| c.file_name()))
                    .collect::<Vec<_>>(),
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            children.sort();
            let mut subdirs = Vec::new();
            for name in children {
                let name_text = name.to_string_lossy();
                if (dir.as_os_str().is_empty() && name_text.starts_with(AGENT_PRIVATE_PREFIX))
                    || the0_sdk::fsutil::is_temp_file(&name_text)
                {
                    continue;
                }
                let relative = dir.join(&name);
                let absolute = self.root.join(&relative);
                let Some(meta) = vanished_is_none(fs::symlink_metadata(&absolute))? else {
                    continue;
                };
                let file_type = meta.file_type();
                let link_target = if file_type.is_symlink() {
                    let Some(target) = vanished_is_none(fs::read_link(&absolute))? else {
                        continue;
                    };
                    Some(target)
                } else {
                    None
                };
                if let Err(reason) = storable(&relative, link_target.as_deref()) {
                    skipped.push((relative, reason));
                    continue;
                }
                let (kind, size, content) = if file_type.is_dir() {
                    subdirs.push(relative.clone());
                    (EntryKind::Directory, 0, Content::Directory)
                } else if file_type.is_file() {
                    let stamp = Stamp::of(&meta);
                    let digest = match self.known.get(&relative) {
                        Some((known, digest)) if *known == stamp => *digest,
                        _ => match vanished_is_none(hash_file(&absolute))? {
                            Some(digest) => {
                                self.files_read += 1;
                                digest
                            }
                            None => continue,
                        },
                    };
                    seen.insert(relative.clone(), (stamp, digest));
                    hasher.update(digest.as_bytes());
                    total_bytes += stamp.size;
                    (EntryKind::File, stamp.size, Content::File(digest))
                } else if let Some(target) = link_target {
                    hasher.update(target.as_os_str().as_bytes());
                    (EntryKind::Symlink, 0, Content::Symlink(target))
                } else {
                    continue; // sockets, pipes, devices: not state
                };
                hasher.update(&[kind as u8]);
                hasher.update(&meta.mode().to_le_bytes());
                hasher.update(relative.as_os_str().as_bytes());
                hasher.update(&[0]);
                entries.push(Entry {
                    path: relative,
                    kind,
                    size,
                    mode: meta.mode() & 0o7777,
                    mtime: meta.mtime(),
                    content,
                });
            }
            // Reverse so that the stack pops subdirectories in name order.
            pending.extend(subdirs.into_iter().rev());
        }
        self.known = seen;
        Ok(Tree {
            entries,
            digest: hasher.finalize(),
            total_bytes,
            skipped,
        })
    }
}

fn hash_file(path: &Path) -> io::Result<blake3::Hash> {
    let mut hasher = blake3::Hasher::new();
    let mut file = fs::File::open(path)?;
    let mut buffer = vec![0u8; 64 << 10];
    loop {
        match file.read(&mut buffer)? {
            0 => return Ok(hasher.finalize()),
            n => {
                hasher.update(&buffer[..n]);
            }
        }
    }
}

fn vanished_is_none<T>(result: io::Result<T>) -> io::Result<Option<T>> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_follows_content_names_and_deletions_and_reads_only_changes() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let mut scanner = Scanner::new(root.join("missing"));
        let empty = scanner.scan().unwrap();
        assert!(empty.entries.is_empty());

        let mut scanner = Scanner::new(root);
        fs::create_dir_all(root.join(".the0-state/sub")).unwrap();
        fs::write(root.join(".the0-state/a.json"), b"1").unwrap();
        fs::write(root.join(".the0-state/b.json"), b"2").unwrap();
        fs::write(root.join(".the0-state/.a.json.12.3.tmp"), b"{").unwrap();
        fs::write(root.join(".the0-agent-restore.tar.gz"), b"x").unwrap();
        let first = scanner.scan().unwrap();
        assert_eq!(scanner.files_read, 2);
        let paths: Vec<_> = first.entries.iter().map(|e| e.path.to_str().unwrap()).collect();
        assert_eq!(
            paths,
            [
                ".the0-state",
                ".the0-state/a.json",
                ".the0-state/b.json",
                ".the0-state/sub"
            ]
        );
        assert_ne!(first.digest, empty.digest);

        let again = scanner.scan().unwrap();
        assert_eq!(
            (again.digest, scanner.files_read),
            (first.digest, 0),
            "nothing changed, nothing read"
        );

        fs::write(root.join(".the0-state/a.json"), b"9").unwrap();
        let changed = scanner.scan().unwrap();
        assert_eq!(scanner.files_read, 1);
        assert_ne!(changed.digest, first.digest, "same size, new content");

        fs::remove_file(root.join(".the0-state/b.json")).unwrap();
        assert_ne!(
            scanner.scan().unwrap().digest,
            changed.digest,
            "a deletion changes the digest"
        );
        fs::remove_dir(root.join(".the0-state/sub")).unwrap();
        fs::rename(root.join(".the0-state/a.json"), root.join(".the0-state/c.json")).unwrap();
        let renamed = scanner.scan().unwrap();
        assert_eq!(renamed.entries.len(), 2);
        assert_eq!(renamed.total_bytes, 1);
    }

    #[test]
    fn entries_an_archive_could_not_restore_are_left_out_and_listed() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::write(root.join("ok.json"), b"1").unwrap();
        fs::write(root.join("back\\slash.json"), b"2").unwrap();
        std::os::unix::fs::symlink("/etc/passwd", root.join("absolute")).unwrap();
        std::os::unix::fs::symlink("ok.json", root.join("inside")).unwrap();
        let tree = Scanner::new(root).scan().unwrap();
        let paths: Vec<_> = tree.entries.iter().map(|e| e.path.to_str().unwrap()).collect();
        assert_eq!(paths, ["inside", "ok.json"]);
        let skipped: Vec<_> = tree.skipped.iter().map(|(p, _)| p.to_str().unwrap()).collect();
        assert_eq!(skipped, ["absolute", "back\\slash.json"]);
    }
}
