//! What an archive entry may be: one rule for the extractor and the packer, so that whatever the
//! agent uploads as state it can restore (an absolute symlink once made the next restore refuse
//! the whole archive, and the bot started with nothing).
//!
//! Also the limits on metadata (names, link targets, PAX records) that hold before any of it is
//! read, and the short form of a name quoted in a message.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use super::AGENT_PRIVATE_PREFIX;

/// Longest entry name or link target (Linux's `PATH_MAX`).
pub const MAX_NAME_BYTES: usize = 4096;
/// Largest PAX extended header (a few names and numbers fit in far less).
pub const MAX_PAX_BYTES: u64 = 64 << 10;
/// Longest name quoted whole in a message; longer ones are cut (a 1 GiB name once made a 3.2 GB
/// log line).
const MAX_QUOTED_BYTES: usize = 200;

/// An archive name as shown in messages: lossy UTF-8, cut after [`MAX_QUOTED_BYTES`] with its
/// full length noted.
pub fn shown_name(raw: &[u8]) -> String {
    if raw.len() <= MAX_QUOTED_BYTES {
        return String::from_utf8_lossy(raw).into_owned();
    }
    format!(
        "{}... ({} bytes)",
        String::from_utf8_lossy(&raw[..MAX_QUOTED_BYTES]),
        raw.len()
    )
}

/// The relative path of an archive name; `Ok(None)` for the archive's root itself.
pub fn relative_path(raw: &[u8]) -> Result<Option<PathBuf>, &'static str> {
    if raw.len() > MAX_NAME_BYTES {
        return Err("the name is longer than 4096 bytes");
    }
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
pub fn check_link_target(link: &Path, target: &[u8]) -> Result<(), &'static str> {
    if target.is_empty() {
        return Err("the link has no target");
    }
    if target.len() > MAX_NAME_BYTES {
        return Err("the link target is longer than 4096 bytes");
    }
    if target.first() == Some(&b'/') {
        return Err("the link target is an absolute path");
    }
    if target.contains(&0) {
        return Err("the link target contains NUL");
    }
    let depth = link.components().count().saturating_sub(1);
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

/// Whether the packer may store the entry at `relative` (a symlink with its `link_target`): the
/// same rule extraction applies, so the archive restores whole. `Err` says why not.
pub fn storable(relative: &Path, link_target: Option<&Path>) -> Result<(), &'static str> {
    let name = relative.as_os_str().as_bytes();
    match relative_path(name)? {
        Some(path) if path.as_os_str().as_bytes() == name => {}
        // `a//b` or `./a`: never produced by a directory walk, but not what would come back.
        _ => return Err("the name is not a plain relative path"),
    }
    match link_target {
        Some(target) => check_link_target(relative, target.as_os_str().as_bytes()),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_names_are_cut_in_messages() {
        assert_eq!(shown_name(b"a/b.json"), "a/b.json");
        let long = vec![b'x'; 1 << 20];
        let shown = shown_name(&long);
        assert!(shown.len() < 300, "{}", shown.len());
        assert!(shown.ends_with("... (1048576 bytes)"), "{shown}");
    }

    #[test]
    fn the_packer_stores_what_extraction_accepts() {
        let ok = |p: &str, t: Option<&str>| storable(Path::new(p), t.map(Path::new));
        assert_eq!(ok(".the0-state/a.json", None), Ok(()));
        assert_eq!(ok("models/latest", Some("v2/model.bin")), Ok(()));
        assert_eq!(ok("a/up", Some("../b")), Ok(()));
        assert!(ok("abs", Some("/etc/passwd")).unwrap_err().contains("absolute"));
        assert!(ok("out", Some("../../x")).unwrap_err().contains("leaves"));
        assert!(ok("back\\slash.json", None).unwrap_err().contains("backslash"));
        assert!(ok(".the0-agent-x", None).unwrap_err().contains("reserved"));
        let deep = "d/".repeat(2100);
        assert!(ok(&deep[..deep.len() - 1], None).unwrap_err().contains("4096"));
    }
}
