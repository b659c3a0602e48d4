use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::Path;

use super::*;
use crate::sync::tree::Scanner;

/// Small segments, so that trees of a few hundred KiB have many.
const SMALL: Params = Params {
    min_segment: 4 << 10,
    max_segment: 16 << 10,
};

/// A deterministic pseudo-random source (xorshift), for incompressible content.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }
}

/// Packs the tree at `root` on top of `previous` (its object bytes and manifest), assembling
/// the new object as a store would: copies from the previous bytes, fresh members as they come.
fn compose(
    root: &Path,
    scanner: &mut Scanner,
    previous: Option<(&[u8], &Manifest)>,
) -> (Vec<u8>, Manifest, Layout) {
    let tree = scanner.scan().unwrap();
    let mut object = Vec::new();
    let layout = write(root, &tree.entries, previous.map(|p| p.1), SMALL, |piece| {
        match piece {
            Piece::Reuse { start, end } => {
                object.extend_from_slice(&previous.unwrap().0[start as usize..end as usize])
            }
            Piece::Fresh(bytes) => object.extend_from_slice(&bytes),
        }
        Ok(())
    })
    .unwrap();
    assert_eq!(layout.size, object.len() as u64);
    let manifest = Manifest {
        format: MANIFEST_FORMAT,
        generation: 1,
        etag: blake3::hash(&object).to_hex().to_string(),
        size: layout.size,
        segments: layout.segments.clone(),
    };
    let manifest = Manifest::parse(&manifest.to_json()).expect("a written manifest parses");
    (object, manifest, layout)
}

/// Files (path -> content) and directories of an archive, read as one gzip stream.
fn archive_tree(object: &[u8]) -> BTreeMap<String, Option<Vec<u8>>> {
    let mut tree = BTreeMap::new();
    let mut archive = tar::Archive::new(flate2::read::MultiGzDecoder::new(object));
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = entry
            .path()
            .unwrap()
            .to_string_lossy()
            .trim_end_matches('/')
            .to_owned();
        let content = if entry.header().entry_type().is_file() {
            let mut content = Vec::new();
            entry.read_to_end(&mut content).unwrap();
            Some(content)
        } else {
            None
        };
        assert!(tree.insert(path, content).is_none(), "an entry appears twice");
    }
    tree
}

/// The same for the directory on disk.
fn disk_tree(root: &Path) -> BTreeMap<String, Option<Vec<u8>>> {
    fn walk(root: &Path, dir: &Path, tree: &mut BTreeMap<String, Option<Vec<u8>>>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let relative = path.strip_prefix(root).unwrap().to_str().unwrap().to_owned();
            if path.is_dir() {
                tree.insert(relative, None);
                walk(root, &path, tree);
            } else {
                tree.insert(relative, Some(fs::read(&path).unwrap()));
            }
        }
    }
    let mut tree = BTreeMap::new();
    walk(root, root, &mut tree);
    tree
}

/// Every segment is a gzip member of its own whose tar bytes have the recorded digest; all but
/// the last data segment are at least the minimum; the last is the end-of-archive member.
fn check_segments(object: &[u8], manifest: &Manifest) {
    let last = manifest.segments.len() - 1;
    for (i, segment) in manifest.segments.iter().enumerate() {
        let member = &object[segment.start as usize..segment.end as usize];
        let mut raw = Vec::new();
        flate2::read::GzDecoder::new(member)
            .read_to_end(&mut raw)
            .unwrap();
        assert_eq!(
            blake3::hash(&raw).to_hex().to_string(),
            segment.digest,
            "segment {i}"
        );
        if i == last {
            assert!(segment.entries.is_empty());
            assert_eq!(raw, vec![0u8; 1024], "the end-of-archive blocks");
        } else {
            assert!(!segment.entries.is_empty());
        }
        if i + 2 < manifest.segments.len() {
            assert!(
                segment.len() >= SMALL.min_segment as u64,
                "segment {i} is {} bytes",
                segment.len()
            );
        }
    }
}

fn write_file(root: &Path, relative: &str, content: &[u8]) {
    let path = root.join(relative);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, content).unwrap();
}

fn populate(root: &Path, random: &mut Random, files: usize) -> Vec<String> {
    let mut names = Vec::new();
    for i in 0..files {
        let name = format!("d{}/f{i:04}.bin", i % 7);
        let len = 200 + random.below(2000) as usize;
        write_file(root, &name, &random.bytes(len));
        names.push(name);
    }
    names
}

#[test]
fn random_edits_always_compose_the_tree_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let mut random = Random(0x9e37_79b9_7f4a_7c15);
    let mut names = populate(root, &mut random, 150);
    let mut scanner = Scanner::new(root);
    let (mut object, mut manifest, layout) = compose(root, &mut scanner, None);
    assert_eq!(layout.reused, 0);
    assert_eq!(archive_tree(&object), disk_tree(root));
    check_segments(&object, &manifest);
    assert!(
        manifest.segments.len() > 5,
        "{} segments",
        manifest.segments.len()
    );
    let mut reused_any = false;
    for round in 0..40 {
        for _ in 0..1 + random.below(3) {
            let which = random.below(names.len() as u64) as usize;
            match random.below(5) {
                0 => {
                    let len = 200 + random.below(2000) as usize;
                    write_file(root, &names[which], &random.bytes(len))
                }
                1 => {
                    let name = format!("d{}/new{round}-{}.bin", random.below(9), random.next() % 1000);
                    write_file(root, &name, &random.bytes(300));
                    names.push(name);
                }
                2 if names.len() > 20 => {
                    fs::remove_file(root.join(names.swap_remove(which))).unwrap();
                }
                3 => {
                    let to = format!("renamed/r{round}-{which}.bin");
                    fs::create_dir_all(root.join("renamed")).unwrap();
                    fs::rename(root.join(&names[which]), root.join(&to)).unwrap();
                    names[which] = to;
                }
                _ => write_file(root, &names[which], &random.bytes(20_000)),
            }
        }
        let (next, next_manifest, layout) = compose(root, &mut scanner, Some((&object, &manifest)));
        assert_eq!(archive_tree(&next), disk_tree(root), "round {round}");
        check_segments(&next, &next_manifest);
        reused_any |= layout.reused > 0;
        (object, manifest) = (next, next_manifest);
    }
    assert!(reused_any, "no segment was ever reused");
}

#[test]
fn a_change_dirties_its_own_segment_and_neighbours_only() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let mut random = Random(42);
    let names = populate(root, &mut random, 300);
    let mut scanner = Scanner::new(root);
    let (object, manifest, _) = compose(root, &mut scanner, None);
    let data_segments = manifest.segments.len() - 1;
    assert!(data_segments > 20, "{data_segments} segments");

    // One file's content changes: only its segment is packed again.
    let len = fs::metadata(root.join(&names[100])).unwrap().len() as usize;
    write_file(root, &names[100], &random.bytes(len));
    let (changed, changed_manifest, layout) = compose(root, &mut scanner, Some((&object, &manifest)));
    assert_eq!(layout.fresh, 1, "one segment packed");
    assert!(layout.packed < 40, "{} entries packed", layout.packed);
    // It shrinks: its segment may become too small to stand alone and take in a neighbour.
    write_file(root, &names[100], &random.bytes(100));
    let (changed, changed_manifest, layout) =
        compose(root, &mut scanner, Some((&changed, &changed_manifest)));
    assert!(layout.fresh <= 2, "{} segments packed", layout.fresh);

    // A file inserted in the middle, one deleted, one grown past the segment size: each
    // dirties a few segments around it, never everything after it.
    write_file(root, "d3/f0150a.bin", &random.bytes(700));
    fs::remove_file(root.join(&names[200])).unwrap();
    write_file(root, &names[30], &random.bytes(40_000));
    let (_, edited_manifest, layout) = compose(root, &mut scanner, Some((&changed, &changed_manifest)));
    let packed_segments = layout.fresh;
    assert!(
        packed_segments <= 9,
        "{packed_segments} of {} segments packed",
        edited_manifest.segments.len() - 1
    );
    assert!(
        layout.reused > object.len() as u64 / 2,
        "reused {} of {}",
        layout.reused,
        object.len()
    );
}

#[test]
fn directories_are_archived_without_mtime_and_files_with_theirs() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write_file(root, "a/b.json", b"{}");
    let file = fs::File::options()
        .write(true)
        .open(root.join("a/b.json"))
        .unwrap();
    file.set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000))
        .unwrap();
    let (object, _, _) = compose(root, &mut Scanner::new(root), None);
    let mut archive = tar::Archive::new(flate2::read::MultiGzDecoder::new(&object[..]));
    let mtimes: Vec<_> = archive
        .entries()
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.path().unwrap().to_string_lossy().into_owned(),
                e.header().mtime().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        mtimes,
        [("a".to_owned(), 0), ("a/b.json".to_owned(), 1_700_000_000)]
    );
}

#[test]
fn a_manifest_that_does_not_cover_its_object_is_refused() {
    let segment = |start, end| Segment {
        start,
        end,
        digest: String::new(),
        entries: Vec::new(),
    };
    let manifest = Manifest {
        format: MANIFEST_FORMAT,
        generation: 3,
        etag: "\"e\"".to_owned(),
        size: 30,
        segments: vec![segment(0, 10), segment(10, 30)],
    };
    assert_eq!(Manifest::parse(&manifest.to_json()).unwrap(), manifest);
    let gap = Manifest {
        segments: vec![segment(0, 10), segment(12, 30)],
        ..manifest.clone()
    };
    assert!(Manifest::parse(&gap.to_json()).is_err());
    let short = Manifest {
        size: 31,
        ..manifest.clone()
    };
    assert!(Manifest::parse(&short.to_json()).is_err());
    let future = Manifest {
        format: 99,
        ..manifest
    };
    assert!(
        Manifest::parse(&future.to_json())
            .unwrap_err()
            .to_string()
            .contains("format")
    );
    assert!(Manifest::parse(b"{not json").is_err());
}
