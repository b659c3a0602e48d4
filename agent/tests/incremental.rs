//! Incremental state sync (issue 21) against a real MinIO: a change uploads only its segment,
//! everything else is copied server-side; the composed object stays one ordinary tar.gz that GNU
//! tar, Python's tarfile and Go's archive/tar + compress/gzip (as upstream restores it) extract
//! to the same tree; a lost or stale manifest and a failed composed write fall back safely; an
//! archive in upstream's format (one gzip member, no manifest) restores as before.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use common::{ACCESS_KEY, Minio, SECRET_KEY, StoreView, state_archive};
use the0_agent::archive::segmented::Manifest;
use the0_agent::store::{ComposeItem, ComposeSource, ObjectStore, S3Config, S3Store, compose_channel};
use the0_agent::sync::{Restored, StateOutcome, StateSync, state_limits};

const BUCKET: &str = "bot-state";
const MIB: usize = 1 << 20;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn s3(rt: &tokio::runtime::Runtime, minio: &Minio) -> Arc<S3Store> {
    Arc::new(rt.block_on(S3Store::connect(S3Config {
        endpoint: Some(format!("http://127.0.0.1:{}", minio.port)),
        credentials: Some((ACCESS_KEY.to_owned(), SECRET_KEY.to_owned())),
        region: "us-east-1".to_owned(),
    })))
}

/// Deterministic incompressible bytes (xorshift), so sizes in the archive are sizes on disk.
fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// 36 files of 1 MiB in three directories, plus a few small ones and a link.
fn populate(root: &Path) {
    for i in 0..36 {
        let path = root.join(format!("models/m{}/w{i:02}.bin", i % 3));
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, noise(i, MIB)).unwrap();
    }
    fs::write(root.join("bot.sqlite"), noise(100, 4096)).unwrap();
    fs::create_dir_all(root.join(".the0-state")).unwrap();
    fs::write(root.join(".the0-state/counter.json"), b"1").unwrap();
    std::os::unix::fs::symlink("models/m0/w00.bin", root.join("latest")).unwrap();
}

/// Files (path -> content), directories (None) and links (target) of a tree on disk.
fn disk_tree(root: &Path) -> BTreeMap<String, String> {
    fn walk(root: &Path, dir: &Path, tree: &mut BTreeMap<String, String>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let relative = path.strip_prefix(root).unwrap().to_str().unwrap().to_owned();
            if relative.starts_with(".the0-agent") {
                continue;
            }
            let meta = fs::symlink_metadata(&path).unwrap();
            if meta.file_type().is_symlink() {
                let target = fs::read_link(&path).unwrap();
                tree.insert(relative, format!("link {}", target.display()));
            } else if meta.is_dir() {
                tree.insert(relative.clone(), "dir".to_owned());
                walk(root, &path, tree);
            } else {
                let digest = blake3::hash(&fs::read(&path).unwrap());
                tree.insert(relative, format!("file {digest}"));
            }
        }
    }
    let mut tree = BTreeMap::new();
    walk(root, root, &mut tree);
    tree
}

/// The tree of a tar.gz read as one gzip stream, as upstream's runtime and the extractor do.
fn archive_tree(archive: &[u8]) -> BTreeMap<String, String> {
    let dir = tempfile::tempdir().unwrap();
    let mut tar = tar::Archive::new(flate2::read::MultiGzDecoder::new(archive));
    tar.unpack(dir.path()).unwrap();
    disk_tree(dir.path())
}

struct Bot {
    rt: tokio::runtime::Runtime,
    minio: Minio,
    store: Arc<S3Store>,
    dir: tempfile::TempDir,
}

impl Bot {
    fn start() -> Bot {
        let dir = tempfile::tempdir().unwrap();
        let minio = Minio::start(&dir.path().join("minio"));
        let rt = runtime();
        let store = s3(&rt, &minio);
        rt.block_on(store.ensure_bucket(BUCKET)).unwrap();
        Bot {
            rt,
            minio,
            store,
            dir,
        }
    }

    /// A bot whose populated state has been uploaded once.
    fn synced() -> (Bot, std::path::PathBuf, StateSync<S3Store>) {
        let bot = Bot::start();
        let root = bot.state();
        populate(&root);
        let mut syncer = bot.syncer(&root);
        bot.sync(&mut syncer);
        (bot, root, syncer)
    }

    fn state(&self) -> std::path::PathBuf {
        self.dir.path().join("state")
    }

    fn syncer(&self, root: &Path) -> StateSync<S3Store> {
        StateSync::new(Arc::clone(&self.store), BUCKET, "bot", root, state_limits())
    }

    fn view(&self) -> StoreView<'_> {
        StoreView::S3(&self.minio)
    }

    fn object(&self) -> Vec<u8> {
        self.view()
            .get(BUCKET, "bot/state.tar.gz")
            .expect("a stored state")
    }

    fn manifest(&self) -> Manifest {
        Manifest::parse(
            &self
                .view()
                .get(BUCKET, "bot/state.manifest.json")
                .expect("a stored manifest"),
        )
        .unwrap()
    }

    fn etag(&self) -> String {
        self.rt
            .block_on(self.store.head(BUCKET, "bot/state.tar.gz"))
            .unwrap()
            .unwrap()
            .etag
    }

    /// Syncs and returns (object size, bytes sent); checks the object is the tree.
    fn sync(&self, syncer: &mut StateSync<S3Store>) -> (u64, u64) {
        let StateOutcome::Uploaded { bytes, sent, .. } = self.rt.block_on(syncer.sync()).unwrap() else {
            panic!("nothing uploaded");
        };
        let object = self.object();
        assert_eq!(object.len() as u64, bytes);
        assert_eq!(
            archive_tree(&object),
            disk_tree(&self.state()),
            "the stored object is the tree"
        );
        let manifest = self.manifest();
        assert_eq!(
            manifest.etag,
            self.etag(),
            "the manifest describes the stored object"
        );
        assert_eq!(manifest.size, bytes);
        (bytes, sent)
    }
}

#[test]
fn a_change_uploads_its_segment_and_every_reader_extracts_the_composed_object() {
    let bot = Bot::start();
    let root = bot.state();
    populate(&root);
    let mut syncer = bot.syncer(&root);
    let (size, sent) = bot.sync(&mut syncer);
    assert_eq!(sent, size, "the first upload is a full one");
    let first = bot.manifest();
    assert!(first.segments.len() >= 4, "{} segments", first.segments.len());

    // A 1 KiB change in one file: its segment is sent, the rest copied inside the store.
    let mut weights = fs::read(root.join("models/m1/w13.bin")).unwrap();
    weights[..1024].copy_from_slice(&noise(7, 1024));
    fs::write(root.join("models/m1/w13.bin"), &weights).unwrap();
    let (size, sent) = bot.sync(&mut syncer);
    assert!(
        sent <= 16 * MIB as u64 && sent < size / 2,
        "sent {sent} of {size}"
    );
    let second = bot.manifest();
    assert_eq!(second.generation, first.generation + 1);
    let reused = second
        .segments
        .iter()
        .filter(|s| {
            first
                .segments
                .iter()
                .any(|f| f.digest == s.digest && !s.entries.is_empty())
        })
        .count();
    assert!(
        reused >= second.segments.len() - 3,
        "{reused} of {} segments reused",
        second.segments.len()
    );

    // Every reader extracts the composed object to the tree.
    let object = bot.object();
    let archive = bot.dir.path().join("state.tar.gz");
    fs::write(&archive, &object).unwrap();
    let expected = disk_tree(&root);
    for (reader, extract) in [
        ("GNU tar", gnu_tar as fn(&Path, &Path)),
        ("Python tarfile", python_tarfile),
        ("Go archive/tar", go_tar),
    ] {
        let out = bot.dir.path().join(format!("out-{}", reader.replace(' ', "-")));
        fs::create_dir_all(&out).unwrap();
        extract(&archive, &out);
        assert_eq!(disk_tree(&out), expected, "{reader}");
    }

    // A deletion, a rename, a new file, growth past a segment: each dirties its own segment and
    // at most its neighbours.
    let edits: [(&str, &dyn Fn(), u64); 4] = [
        (
            "delete",
            &|| fs::remove_file(root.join("models/m2/w14.bin")).unwrap(),
            16,
        ),
        (
            "rename",
            &|| fs::rename(root.join("models/m0/w03.bin"), root.join("models/m0/w03b.bin")).unwrap(),
            16,
        ),
        (
            "new file",
            &|| fs::write(root.join("models/m1/w19a.bin"), noise(9, 100)).unwrap(),
            16,
        ),
        (
            "growth",
            &|| fs::write(root.join("models/m1/w07.bin"), noise(8, 9 * MIB)).unwrap(),
            25,
        ),
    ];
    for (edit, apply, most) in edits {
        apply();
        let (size, sent) = bot.sync(&mut syncer);
        eprintln!("{edit}: sent {sent} of {size}");
        assert!(
            sent <= most * MIB as u64 && sent < size / 2,
            "{edit}: sent {sent} of {size}"
        );
    }

    // A restore into an empty directory reads the segments in parallel, keeps the mtimes, and
    // the next change is incremental again.
    let elsewhere = bot.dir.path().join("elsewhere");
    let mut restorer = bot.syncer(&elsewhere);
    assert!(matches!(
        bot.rt.block_on(restorer.restore()).unwrap(),
        Restored::Extracted { .. }
    ));
    assert_eq!(disk_tree(&elsewhere), disk_tree(&root));
    fs::write(elsewhere.join(".the0-state/counter.json"), b"2").unwrap();
    let StateOutcome::Uploaded { bytes, sent, .. } = bot.rt.block_on(restorer.sync()).unwrap() else {
        panic!("nothing uploaded");
    };
    assert!(sent < bytes / 2, "after a restore: sent {sent} of {bytes}");
    assert_eq!(archive_tree(&bot.object()), disk_tree(&elsewhere));
}

#[test]
fn a_lost_stale_or_wrong_manifest_means_a_full_upload_of_the_right_tree() {
    let (bot, root, mut syncer) = Bot::synced();
    let local_manifest = root.join(".the0-agent-manifest.json");
    assert!(local_manifest.exists());

    // Lost.
    fs::remove_file(&local_manifest).unwrap();
    fs::write(root.join("bot.sqlite"), noise(1, 4096)).unwrap();
    let (size, sent) = bot.sync(&mut syncer);
    assert_eq!(sent, size, "no manifest: full upload");

    // Stale: the object was replaced behind the agent's back.
    bot.view().put(
        BUCKET,
        "bot/state.tar.gz",
        &state_archive(&[("other.json", b"{}")]),
    );
    fs::write(root.join("bot.sqlite"), noise(2, 4096)).unwrap();
    let (size, sent) = bot.sync(&mut syncer);
    assert_eq!(sent, size, "a manifest of another object: full upload");

    // Corrupt.
    fs::write(&local_manifest, b"{\"format\": 1, \"segm").unwrap();
    fs::write(root.join("bot.sqlite"), noise(3, 4096)).unwrap();
    let (size, sent) = bot.sync(&mut syncer);
    assert_eq!(sent, size, "a corrupt manifest: full upload");

    // Right ETag, wrong ranges: the composed write fails, the full upload that follows is right.
    let mut wrong = Manifest::load(&local_manifest).unwrap().unwrap();
    for segment in &mut wrong.segments {
        segment.start += 1;
        segment.end += 1;
    }
    wrong.size += 1;
    wrong.save(&local_manifest).unwrap();
    fs::write(root.join("bot.sqlite"), noise(4, 4096)).unwrap();
    let (size, sent) = bot.sync(&mut syncer);
    assert_eq!(sent, size, "ranges past the object: full upload");
    assert!(
        bot.minio.incomplete_uploads(BUCKET).is_empty(),
        "the failed upload was aborted"
    );
}

#[test]
fn a_composed_write_that_fails_leaves_the_previous_object() {
    let (bot, _, _) = Bot::synced();
    let before = bot.object();
    let etag = bot.etag();
    let compose = |source_etag: &str, items: Vec<ComposeItem>| {
        let (tx, rx) = compose_channel();
        let source = ComposeSource {
            key: "bot/state.tar.gz".to_owned(),
            etag: source_etag.to_owned(),
        };
        bot.rt.block_on(async {
            let feed = tokio::spawn(async move {
                for item in items {
                    if tx.send(item).await.is_err() {
                        break;
                    }
                }
            });
            let result = bot
                .store
                .compose(
                    BUCKET,
                    "bot/state.tar.gz",
                    Some(&source),
                    rx,
                    "application/gzip",
                    &Default::default(),
                )
                .await;
            feed.await.unwrap();
            result
        })
    };
    let copy = ComposeItem::Copy {
        start: 0,
        end: 6 * MIB as u64,
    };
    let upload = ComposeItem::Upload(vec![1u8; 10].into());

    // The source changed since the copies were planned (if-match fails).
    let error = compose(
        "\"0123456789abcdef0123456789abcdef\"",
        vec![copy.clone(), upload.clone(), ComposeItem::End],
    )
    .unwrap_err();
    assert!(error.to_string().contains("copy part"), "{error}");
    assert_eq!(bot.object(), before);
    // The producer died midway (no end).
    compose(&etag, vec![copy.clone(), upload.clone()]).unwrap_err();
    assert_eq!(bot.object(), before);
    assert!(
        bot.minio.incomplete_uploads(BUCKET).is_empty(),
        "the failed uploads were aborted"
    );

    // The store stops in the middle of the write.
    let (tx, rx) = compose_channel();
    let store = Arc::clone(&bot.store);
    let writing = bot.rt.spawn(async move {
        let source = ComposeSource {
            key: "bot/state.tar.gz".to_owned(),
            etag,
        };
        store
            .compose(
                BUCKET,
                "bot/state.tar.gz",
                Some(&source),
                rx,
                "application/gzip",
                &Default::default(),
            )
            .await
    });
    bot.rt.block_on(tx.send(copy)).unwrap();
    let mut minio = bot.minio;
    minio.stop();
    bot.rt.block_on(async {
        let _ = tx.send(upload).await;
        let _ = tx.send(ComposeItem::End).await;
    });
    assert!(
        bot.rt.block_on(writing).unwrap().is_err(),
        "a write to a stopped store fails"
    );
    minio.restart();
    assert_eq!(
        StoreView::S3(&minio).get(BUCKET, "bot/state.tar.gz").unwrap(),
        before
    );
}

#[test]
fn an_archive_in_upstreams_format_restores_and_is_replaced_in_full() {
    let bot = Bot::start();
    let archive = state_archive(&[("a.json", b"{\"a\":1}"), ("models/b.bin", &noise(5, 3 * MIB))]);
    bot.view().put(BUCKET, "bot/state.tar.gz", &archive);
    let root = bot.state();
    let mut syncer = bot.syncer(&root);
    let restored = bot.rt.block_on(syncer.restore()).unwrap();
    assert!(
        matches!(restored, Restored::Extracted { files: 2, .. }),
        "{restored:?}"
    );
    assert_eq!(fs::read(root.join("a.json")).unwrap(), b"{\"a\":1}");
    assert_eq!(fs::read(root.join("models/b.bin")).unwrap(), noise(5, 3 * MIB));
    fs::write(root.join("a.json"), b"{\"a\":2}").unwrap();
    let (size, sent) = bot.sync(&mut syncer);
    assert_eq!(sent, size, "no manifest for upstream's archive: full upload");
}

fn gnu_tar(archive: &Path, out: &Path) {
    run(Command::new("tar").arg("-xzf").arg(archive).arg("-C").arg(out));
}

fn python_tarfile(archive: &Path, out: &Path) {
    run(Command::new("python3")
        .arg("-c")
        .arg("import sys, tarfile\nwith tarfile.open(sys.argv[1], 'r:gz') as t: t.extractall(sys.argv[2])")
        .arg(archive)
        .arg(out));
}

/// Extracts as upstream's Go runtime does: compress/gzip (multistream by default) and
/// archive/tar, standard library only.
fn go_tar(archive: &Path, out: &Path) {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("go.mod"), "module untar\n\ngo 1.21\n").unwrap();
    fs::write(dir.path().join("main.go"), GO_UNTAR).unwrap();
    run(Command::new("go")
        .args(["run", "."])
        .arg(archive)
        .arg(out)
        .current_dir(dir.path())
        .env("GOFLAGS", "-mod=mod")
        .env("GOPROXY", "off")
        .env("GOTOOLCHAIN", "local"));
}

const GO_UNTAR: &str = r#"package main

import (
	"archive/tar"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
)

func main() {
	f, err := os.Open(os.Args[1])
	check(err)
	gz, err := gzip.NewReader(f)
	check(err)
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return
		}
		check(err)
		target := filepath.Join(os.Args[2], h.Name)
		switch h.Typeflag {
		case tar.TypeDir:
			check(os.MkdirAll(target, 0o755))
		case tar.TypeReg:
			check(os.MkdirAll(filepath.Dir(target), 0o755))
			out, err := os.Create(target)
			check(err)
			_, err = io.Copy(out, tr)
			check(err)
			check(out.Close())
		case tar.TypeSymlink:
			check(os.Symlink(h.Linkname, target))
		}
	}
}

func check(err error) {
	if err != nil {
		panic(err)
	}
}
"#;

fn run(command: &mut Command) {
    let output = command.output().expect("run the extractor");
    assert!(
        output.status.success(),
        "{command:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}
