//! Crafted archives against the extractor, and a pack/extract round trip.

use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use super::pack::EntryKind;
use super::*;

const LIMITS: Limits = Limits {
    max_entries: 1000,
    max_file_bytes: 1 << 20,
    max_total_bytes: 4 << 20,
};

/// A tar entry written byte by byte, so any name, type or link can be crafted (the `tar`
/// crate's builder refuses the dangerous ones).
fn tar_entry(out: &mut Vec<u8>, name: &str, kind: tar::EntryType, link: &str, data: &[u8]) {
    let mut header = tar::Header::new_old();
    header.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
    header.as_old_mut().linkname[..link.len()].copy_from_slice(link.as_bytes());
    header.set_entry_type(kind);
    header.set_mode(0o644);
    header.set_size(data.len() as u64);
    header.set_cksum();
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(data);
    out.resize(out.len().div_ceil(512) * 512, 0);
}

fn tar_gz(entries: &[(&str, tar::EntryType, &str, &[u8])]) -> Vec<u8> {
    let mut tar = Vec::new();
    for (name, kind, link, data) in entries {
        tar_entry(&mut tar, name, *kind, link, data);
    }
    tar.extend_from_slice(&[0u8; 1024]);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&tar).unwrap();
    gz.finish().unwrap()
}

fn zip(build: impl FnOnce(&mut zip::ZipWriter<std::io::Cursor<Vec<u8>>>)) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    build(&mut writer);
    writer.finish().unwrap().into_inner()
}

fn options() -> zip::write::SimpleFileOptions {
    zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated)
}

/// Extracts `bytes` into `<tmp>/target` and returns the outcome and the whole tmp tree.
fn extract_bytes(bytes: &[u8], limits: Limits) -> (Result<ExtractStats, ArchiveError>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("archive");
    fs::write(&archive, bytes).unwrap();
    let target = dir.path().join("target");
    fs::create_dir(&target).unwrap();
    fs::write(target.join("existing"), b"keep").unwrap();
    (extract_into(&archive, &target, limits, Purpose::Code), dir)
}

/// Refused, naming the entry, with nothing written anywhere but the untouched target.
fn assert_refused(bytes: &[u8], limits: Limits, entry: &str, reason: &str) {
    let (outcome, dir) = extract_bytes(bytes, limits);
    match outcome {
        Err(ArchiveError::Refused { entry: e, reason: r }) => {
            assert_eq!(e, entry);
            assert!(r.contains(reason), "reason {r:?} lacks {reason:?}");
        }
        other => panic!("{entry}: expected a refusal, got {other:?}"),
    }
    let mut found: Vec<_> = walk(dir.path());
    found.sort();
    assert_eq!(
        found,
        ["archive", "target", "target/existing"],
        "{entry}: something was written"
    );
}

fn walk(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            out.push(path.strip_prefix(root).unwrap().to_string_lossy().into_owned());
            if fs::symlink_metadata(&path).unwrap().is_dir() {
                stack.push(path);
            }
        }
    }
    out
}

use tar::EntryType::{Block, Char, Directory, Link, Regular, Symlink};

#[test]
fn traversal_and_absolute_paths_are_refused() {
    assert_refused(
        &tar_gz(&[("ok", Regular, "", b"1"), ("../evil", Regular, "", b"x")]),
        LIMITS,
        "../evil",
        "escapes",
    );
    assert_refused(
        &tar_gz(&[("a/../../evil", Regular, "", b"x")]),
        LIMITS,
        "a/../../evil",
        "escapes",
    );
    assert_refused(
        &tar_gz(&[("/etc/evil", Regular, "", b"x")]),
        LIMITS,
        "/etc/evil",
        "absolute",
    );
    assert_refused(
        &tar_gz(&[("a\\..\\evil", Regular, "", b"x")]),
        LIMITS,
        "a\\..\\evil",
        "backslash",
    );
    assert_refused(
        &zip(|z| {
            z.start_file("../evil", options()).unwrap();
            z.write_all(b"x").unwrap();
        }),
        LIMITS,
        "../evil",
        "escapes",
    );
    assert_refused(
        &zip(|z| {
            z.start_file("/tmp/evil", options()).unwrap();
        }),
        LIMITS,
        "/tmp/evil",
        "absolute",
    );
    assert_refused(
        &tar_gz(&[(".the0-agent-staging/x", Regular, "", b"x")]),
        LIMITS,
        ".the0-agent-staging/x",
        "reserved",
    );
}

#[test]
fn links_that_leave_the_target_are_refused() {
    assert_refused(&tar_gz(&[("l", Symlink, "/etc", b"")]), LIMITS, "l", "absolute");
    assert_refused(
        &tar_gz(&[("l", Symlink, "../outside", b"")]),
        LIMITS,
        "l",
        "leaves",
    );
    assert_refused(
        &tar_gz(&[("a/l", Symlink, "../../x", b"")]),
        LIMITS,
        "a/l",
        "leaves",
    );
    // Climbing after descending can escape through another link (sub/d -> .. resolves to the
    // target itself, so d/../x would be its parent): refused.
    assert_refused(
        &tar_gz(&[
            ("sub/d", Symlink, "..", b""),
            ("sub/l", Symlink, "d/../../x", b""),
        ]),
        LIMITS,
        "sub/l",
        "climbs after descending",
    );
    // Writing through a link, even one inside the target, is refused.
    assert_refused(
        &tar_gz(&[
            ("dir", Directory, "", b""),
            ("l", Symlink, "dir", b""),
            ("l/x", Regular, "", b"x"),
        ]),
        LIMITS,
        "l/x",
        "symlink",
    );
    assert_refused(
        &tar_gz(&[("l", Symlink, "dir", b""), ("l", Regular, "", b"x")]),
        LIMITS,
        "l",
        "overwrite a symlink",
    );
    assert_refused(
        &zip(|z| {
            z.add_symlink("l", "/etc/passwd", options()).unwrap();
        }),
        LIMITS,
        "l",
        "absolute",
    );
}

#[test]
fn hard_links_devices_and_pipes_are_refused() {
    assert_refused(
        &tar_gz(&[("f", Regular, "", b"x"), ("h", Link, "f", b"")]),
        LIMITS,
        "h",
        "hard links",
    );
    assert_refused(
        &tar_gz(&[("h", Link, "/etc/shadow", b"")]),
        LIMITS,
        "h",
        "hard links",
    );
    assert_refused(&tar_gz(&[("null", Char, "", b"")]), LIMITS, "null", "device");
    assert_refused(&tar_gz(&[("sda", Block, "", b"")]), LIMITS, "sda", "device");
    assert_refused(
        &tar_gz(&[("p", tar::EntryType::Fifo, "", b"")]),
        LIMITS,
        "p",
        "pipes",
    );
}

#[test]
fn size_and_entry_limits_hold_on_decompressed_bytes() {
    // A zip bomb: 64 MiB of zeros deflate to about 64 KiB, and the header is not trusted.
    let bomb = zip(|z| {
        z.start_file("bomb", options()).unwrap();
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..64 {
            z.write_all(&zeros).unwrap();
        }
    });
    assert!(bomb.len() < 1 << 20);
    assert_refused(&bomb, LIMITS, "bomb", "larger than 1048576 bytes");
    let several = tar_gz(&[
        ("a", Regular, "", &[1u8; 900_000]),
        ("b", Regular, "", &[1u8; 900_000]),
    ]);
    let total = Limits {
        max_total_bytes: 1_000_000,
        ..LIMITS
    };
    assert_refused(&several, total, "b", "more than 1000000 bytes");

    let many = zip(|z| {
        for i in 0..100_000 {
            z.start_file(
                format!("f{i}"),
                zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored),
            )
            .unwrap();
        }
    });
    assert_refused(
        &many,
        Limits {
            max_entries: 65_536,
            ..LIMITS
        },
        "(whole archive)",
        "100000 entries",
    );
    let many_tar: Vec<(String, tar::EntryType, &str, &[u8])> = (0..1001)
        .map(|i| (format!("f{i}"), Regular, "", &b""[..]))
        .collect();
    let refs: Vec<_> = many_tar
        .iter()
        .map(|(n, k, l, d)| (n.as_str(), *k, *l, *d))
        .collect();
    assert_refused(&tar_gz(&refs), LIMITS, "f1000", "more than 1000 entries");
}

#[test]
fn corrupt_archives_are_named() {
    let (outcome, _dir) = extract_bytes(b"definitely not an archive", LIMITS);
    assert!(
        matches!(outcome, Err(ArchiveError::Corrupt { .. })),
        "{outcome:?}"
    );
    let mut truncated = tar_gz(&[("a", Regular, "", &[7u8; 100_000])]);
    truncated.truncate(truncated.len() / 2);
    let (outcome, dir) = extract_bytes(&truncated, LIMITS);
    assert!(outcome.is_err(), "{outcome:?}");
    assert_eq!(fs::read(dir.path().join("target/existing")).unwrap(), b"keep");
    assert!(!dir.path().join("target/a").exists());
}

#[test]
fn good_archives_extract_with_links_modes_and_replacement() {
    let bytes = tar_gz(&[
        ("./", Directory, "", b""),
        ("bin/run", Regular, "", b"#!/bin/sh\n"),
        ("lib/a.txt", Regular, "", b"a"),
        ("bin/lib", Symlink, "../lib", b""),
        ("existing", Regular, "", b"new"),
    ]);
    let (outcome, dir) = extract_bytes(&bytes, LIMITS);
    let stats = outcome.unwrap();
    assert_eq!((stats.files, stats.bytes), (3, 14));
    let target = dir.path().join("target");
    assert_eq!(fs::read(target.join("bin/lib/a.txt")).unwrap(), b"a");
    assert_eq!(fs::read(target.join("existing")).unwrap(), b"new");
    assert!(!target.join(".the0-agent-staging").exists());

    let with_modes = zip(|z| {
        z.start_file("run.sh", options().unix_permissions(0o4755))
            .unwrap();
        z.write_all(b"#!/bin/sh").unwrap();
        z.add_directory("data/", options()).unwrap();
    });
    let (outcome, dir) = extract_bytes(&with_modes, LIMITS);
    outcome.unwrap();
    let mode = fs::metadata(dir.path().join("target/run.sh"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o7777, 0o755, "setuid dropped, exec kept");
    assert!(dir.path().join("target/data").is_dir());
}

#[test]
fn pack_then_extract_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("state");
    fs::create_dir_all(source.join(".the0-state/empty")).unwrap();
    fs::write(source.join(".the0-state/prices.json"), b"[1,2,3]").unwrap();
    fs::write(source.join("model.bin"), vec![9u8; 3 << 20]).unwrap();
    std::os::unix::fs::symlink(".the0-state/prices.json", source.join("latest")).unwrap();
    let entries = [
        (Path::new(".the0-state"), EntryKind::Directory),
        (Path::new(".the0-state/empty"), EntryKind::Directory),
        (Path::new(".the0-state/prices.json"), EntryKind::File),
        (Path::new("latest"), EntryKind::Symlink),
        (Path::new("model.bin"), EntryKind::File),
    ];
    let archive = dir.path().join("state.tar.gz");
    pack(&source, entries, fs::File::create(&archive).unwrap()).unwrap();
    let restored = dir.path().join("restored");
    fs::create_dir(&restored).unwrap();
    extract_into(
        &archive,
        &restored,
        Limits {
            max_file_bytes: 4 << 20,
            max_total_bytes: 8 << 20,
            ..LIMITS
        },
        Purpose::State,
    )
    .unwrap();
    assert_eq!(fs::read(restored.join("latest")).unwrap(), b"[1,2,3]");
    assert_eq!(fs::read(restored.join("model.bin")).unwrap().len(), 3 << 20);
    assert!(restored.join(".the0-state/empty").is_dir());
}
