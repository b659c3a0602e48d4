//! Atomic file replacement: the only way the core writes a file another process may read.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Replaces `path` with `bytes` so that a concurrent reader sees either the old or the new
/// content, never a mix: the bytes go to a hidden temporary file in the same directory, which is
/// then renamed over the target (rename is atomic within a file system).
///
/// Missing parent directories are created. The data is not fsync'ed: the guarantee is against torn
/// reads by other processes (the sync daemon, the query process), not against power loss; bot
/// state lives on tmpfs and is made durable by the agent's upload.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let tmp = temp_path_for(path);
    let mut file = match create_new(&tmp) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent)?;
            }
            create_new(&tmp)?
        }
        other => other?,
    };
    let written = file.write_all(bytes).and_then(|()| {
        drop(file);
        fs::rename(&tmp, path)
    });
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written
}

fn create_new(path: &Path) -> io::Result<fs::File> {
    OpenOptions::new().write(true).create_new(true).open(path)
}

/// `dir/.name.<pid>.<n>.tmp`: hidden (so `state::list` and the sync daemon skip it) and unique
/// across threads and processes.
fn temp_path_for(path: &Path) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    path.with_file_name(format!(".{name}.{}.{n}.tmp", std::process::id()))
}

/// Whether `file_name` is one of [`write_atomic`]'s temporary files (`.name.<pid>.<n>.tmp`). The
/// agent leaves these out of state archives: they are either about to be renamed or left over
/// from a crash.
pub fn is_temp_file(file_name: &str) -> bool {
    let Some(inner) = file_name.strip_prefix('.').and_then(|n| n.strip_suffix(".tmp")) else {
        return false;
    };
    let mut parts = inner.rsplitn(3, '.');
    let numeric = |p: Option<&str>| p.is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    numeric(parts.next()) && numeric(parts.next()) && parts.next().is_some_and(|name| !name.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_parents_replaces_and_leaves_no_temp_files() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("a/b/value.json");
        write_atomic(&target, b"1").unwrap();
        write_atomic(&target, b"22").unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"22");
        let names: Vec<_> = fs::read_dir(target.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["value.json"]);
    }

    #[test]
    fn temp_files_are_recognised() {
        let temp = temp_path_for(Path::new("/s/prices.json"));
        assert!(
            is_temp_file(temp.file_name().unwrap().to_str().unwrap()),
            "{}",
            temp.display()
        );
        for name in [
            "prices.json",
            ".prices.json",
            ".x.1.tmp",
            ".x.a.1.tmp",
            "..1.2.tmp",
            ".x.1.2.tmpx",
        ] {
            assert!(!is_temp_file(name), "{name}");
        }
    }

    #[test]
    fn failure_leaves_the_old_content_and_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        // Renaming a file over a non-empty directory fails.
        let target = dir.path().join("occupied");
        fs::create_dir(&target).unwrap();
        fs::write(target.join("keep"), b"x").unwrap();
        assert!(write_atomic(&target, b"new").is_err());
        assert_eq!(fs::read(target.join("keep")).unwrap(), b"x");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
