//! The local directory store: object `bucket/key` is the file `<root>/<bucket>/<key>`.
//!
//! Writes go through a hidden temporary file and a rename, like every write the core makes, so a
//! reader sees a whole object or the previous one. An object's metadata is kept in extended
//! attributes of its file (`user.the0.<name>`), set on the temporary file before the rename, so
//! content and metadata change together as they do in S3.

use std::ffi::CString;
use std::fs;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};
use std::time::SystemTime;

use the0_sdk::fsutil::write_atomic;

use super::parts::premature_end;
use super::{
    ComposeItem, ComposeReceiver, ComposeSource, Composed, Metadata, ObjectInfo, ObjectStore, PartReceiver,
    StoreError, StoreResult, same_etag,
};

/// A store in a local directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalStore {
    root: PathBuf,
}

impl LocalStore {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        LocalStore { root: root.into() }
    }

    /// The directory holding the buckets.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The file of `bucket/key`, refusing names that would leave the store's directory.
    fn path(&self, operation: &'static str, bucket: &str, key: &str) -> StoreResult<PathBuf> {
        let relative = Path::new(bucket).join(key);
        let plain = !bucket.is_empty()
            && !key.is_empty()
            && !bucket.contains('/')
            && relative.components().all(|c| matches!(c, Component::Normal(_)));
        if !plain {
            return Err(StoreError::new(
                operation,
                bucket,
                key,
                "bucket or key is not a plain relative name",
            ));
        }
        Ok(self.root.join(relative))
    }
}

async fn blocking<T: Send + 'static>(
    operation: &'static str,
    bucket: &str,
    key: &str,
    work: impl FnOnce() -> io::Result<T> + Send + 'static,
) -> StoreResult<T> {
    tokio::task::spawn_blocking(work)
        .await
        .unwrap_or_else(|e| Err(io::Error::other(e)))
        .map_err(|e| StoreError::new(operation, bucket, key, e))
}

fn missing_is_none<T>(result: io::Result<T>) -> io::Result<Option<T>> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

impl ObjectStore for LocalStore {
    async fn download(&self, bucket: &str, key: &str, dest: &Path) -> StoreResult<Option<Metadata>> {
        let source = self.path("download", bucket, key)?;
        let dest = dest.to_owned();
        blocking("download", bucket, key, move || {
            let Some(mut reader) = missing_is_none(fs::File::open(&source))? else {
                return Ok(None);
            };
            let metadata = read_metadata(&reader)?;
            let mut writer = fs::File::create(&dest)?;
            io::copy(&mut reader, &mut writer)?;
            Ok(Some(metadata))
        })
        .await
    }

    async fn get(&self, bucket: &str, key: &str, limit: u64) -> StoreResult<Option<Vec<u8>>> {
        let path = self.path("get", bucket, key)?;
        blocking("get", bucket, key, move || {
            let Some(meta) = missing_is_none(fs::metadata(&path))? else {
                return Ok(None);
            };
            if meta.len() > limit {
                return Err(io::Error::other(format!(
                    "object is {} bytes, more than the {limit} allowed",
                    meta.len()
                )));
            }
            missing_is_none(fs::read(&path))
        })
        .await
    }

    async fn put(&self, bucket: &str, key: &str, body: Vec<u8>, _content_type: &str) -> StoreResult<()> {
        let path = self.path("put", bucket, key)?;
        blocking("put", bucket, key, move || write_atomic(&path, &body)).await
    }

    async fn put_parts(
        &self,
        bucket: &str,
        key: &str,
        mut parts: PartReceiver,
        _content_type: &str,
        metadata: &Metadata,
    ) -> StoreResult<u64> {
        let path = self.path("put", bucket, key)?;
        let metadata = metadata.clone();
        blocking("put", bucket, key, move || {
            write_object(&path, &metadata, |file| {
                let mut size = 0u64;
                loop {
                    let part = parts.blocking_recv().ok_or_else(premature_end)?;
                    size += part.bytes.len() as u64;
                    file.write_all(&part.bytes)?;
                    if part.last {
                        return Ok(size);
                    }
                }
            })
        })
        .await
    }

    async fn get_range(
        &self,
        bucket: &str,
        key: &str,
        start: u64,
        end: u64,
        etag: &str,
    ) -> StoreResult<Vec<u8>> {
        let path = self.path("get range", bucket, key)?;
        let etag = etag.to_owned();
        blocking("get range", bucket, key, move || {
            let mut file = open_version(&path, &etag)?;
            file.seek(SeekFrom::Start(start))?;
            let mut bytes = vec![0u8; end.saturating_sub(start) as usize];
            file.read_exact(&mut bytes)?;
            Ok(bytes)
        })
        .await
    }

    /// The new object is written to a temporary file (ranges read from the source's file, which
    /// stays open: a concurrent replacement cannot mix versions) and renamed over the old one.
    async fn compose(
        &self,
        bucket: &str,
        key: &str,
        source: Option<&ComposeSource>,
        mut items: ComposeReceiver,
        _content_type: &str,
        metadata: &Metadata,
    ) -> StoreResult<Composed> {
        let path = self.path("compose", bucket, key)?;
        let source = match source {
            Some(source) => Some((self.path("compose", bucket, &source.key)?, source.etag.clone())),
            None => None,
        };
        let metadata = metadata.clone();
        blocking("compose", bucket, key, move || {
            let mut source = match source {
                Some((source, etag)) => Some(open_version(&source, &etag)?),
                None => None,
            };
            let mut composed = Composed::default();
            write_object(&path, &metadata, |file| {
                loop {
                    match items.blocking_recv().ok_or_else(premature_end)? {
                        ComposeItem::End => return Ok(()),
                        ComposeItem::Upload(bytes) => {
                            file.write_all(&bytes)?;
                            composed.uploaded += bytes.len() as u64;
                            composed.size += bytes.len() as u64;
                        }
                        ComposeItem::Copy { start, end } => {
                            let source = source
                                .as_mut()
                                .ok_or_else(|| io::Error::other("a copied part without a source object"))?;
                            source.seek(SeekFrom::Start(start))?;
                            let wanted = end.saturating_sub(start);
                            let copied = io::copy(&mut Read::by_ref(source).take(wanted), file)?;
                            if copied != wanted {
                                return Err(io::Error::new(
                                    io::ErrorKind::UnexpectedEof,
                                    "the copied range goes past the end of the source object",
                                ));
                            }
                            composed.copied += copied;
                            composed.size += copied;
                        }
                    }
                }
            })?;
            composed.etag = file_etag(&fs::metadata(&path)?);
            Ok(composed)
        })
        .await
    }

    async fn append(&self, bucket: &str, key: &str, bytes: Vec<u8>, metadata: &Metadata) -> StoreResult<()> {
        let path = self.path("append", bucket, key)?;
        let metadata = metadata.clone();
        blocking("append", bucket, key, move || {
            let existing = missing_is_none(fs::File::open(&path))?;
            write_object(&path, &metadata, |file| {
                if let Some(mut existing) = existing {
                    io::copy(&mut existing, file)?;
                }
                file.write_all(&bytes)
            })
        })
        .await
    }

    async fn head(&self, bucket: &str, key: &str) -> StoreResult<Option<ObjectInfo>> {
        let path = self.path("head", bucket, key)?;
        blocking("head", bucket, key, move || {
            let Some(file) = missing_is_none(fs::File::open(&path))? else {
                return Ok(None);
            };
            let meta = file.metadata()?;
            Ok(Some(ObjectInfo {
                size: meta.len(),
                metadata: read_metadata(&file)?,
                etag: file_etag(&meta),
            }))
        })
        .await
    }

    async fn copy(&self, bucket: &str, from: &str, to: &str) -> StoreResult<()> {
        let source = self.path("copy", bucket, from)?;
        let target = self.path("copy", bucket, to)?;
        blocking("copy", bucket, from, move || {
            let mut source = fs::File::open(&source)?;
            let metadata = read_metadata(&source)?;
            write_object(&target, &metadata, |file| io::copy(&mut source, file).map(drop))
        })
        .await
    }

    async fn ensure_bucket(&self, bucket: &str) -> StoreResult<()> {
        let path = self.root.join(bucket);
        blocking("create bucket", bucket, "", move || fs::create_dir_all(&path)).await
    }

    /// An upload in progress is a hidden file beside its object; those of a killed process
    /// stay. They cannot be told apart by key, so every stale one in the directory goes.
    async fn abort_incomplete_uploads(
        &self,
        bucket: &str,
        key: &str,
        before: SystemTime,
    ) -> StoreResult<usize> {
        let path = self.path("abort uploads", bucket, key)?;
        blocking("abort uploads", bucket, key, move || {
            let dir = path.parent().expect("an object path has a parent");
            let Some(entries) = missing_is_none(fs::read_dir(dir))? else {
                return Ok(0);
            };
            let mut removed = 0;
            for entry in entries {
                let entry = entry?;
                if entry.file_name().to_string_lossy().starts_with(UPLOAD_PREFIX)
                    && entry.metadata()?.modified()? < before
                {
                    fs::remove_file(entry.path())?;
                    removed += 1;
                }
            }
            Ok(removed)
        })
        .await
    }

    fn describe(&self) -> String {
        format!("file://{}", self.root.display())
    }
}

/// The ETag of an object's file: every write renames a new file over the object, so its inode,
/// times or size change.
fn file_etag(meta: &fs::Metadata) -> String {
    format!(
        "{:x}-{:x}.{:x}-{:x}.{:x}-{:x}",
        meta.ino(),
        meta.mtime(),
        meta.mtime_nsec(),
        meta.ctime(),
        meta.ctime_nsec(),
        meta.len()
    )
}

/// Opens an object's file if it is still the version `etag` names.
fn open_version(path: &Path, etag: &str) -> io::Result<fs::File> {
    let file = fs::File::open(path)?;
    if !same_etag(&file_etag(&file.metadata()?), etag) {
        return Err(io::Error::other(format!(
            "the object changed (its ETag is no longer {etag})"
        )));
    }
    Ok(file)
}

/// Names of objects being written (hidden, so never mistaken for an object).
const UPLOAD_PREFIX: &str = ".upload-";

/// Writes the object `path` through a hidden temporary file that gets the content (`fill`) and
/// the metadata before it is renamed over the object: readers see the whole new object with its
/// metadata, or the previous one. On failure the temporary file is removed.
fn write_object<T>(
    path: &Path,
    metadata: &Metadata,
    fill: impl FnOnce(&mut fs::File) -> io::Result<T>,
) -> io::Result<T> {
    let parent = path.parent().expect("an object path has a parent");
    fs::create_dir_all(parent)?;
    let (mut file, temp) = tempfile_in(parent)?;
    let written = fill(&mut file)
        .and_then(|value| write_metadata(&file, metadata).map(|()| value))
        .and_then(|value| {
            drop(file);
            fs::rename(&temp, path).map(|()| value)
        });
    if written.is_err() {
        let _ = fs::remove_file(&temp);
    }
    written
}

/// Extended attributes that hold metadata: `user.the0.<name>`.
const XATTR_PREFIX: &str = "user.the0.";

fn write_metadata(file: &fs::File, metadata: &Metadata) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    for (name, value) in metadata {
        let attribute = CString::new(format!("{XATTR_PREFIX}{name}"))
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a metadata name holds NUL"))?;
        // SAFETY: the name is NUL-terminated, the value pointer and length describe `value`.
        let set = unsafe {
            libc::fsetxattr(
                file.as_raw_fd(),
                attribute.as_ptr(),
                value.as_ptr().cast(),
                value.len(),
                0,
            )
        };
        if set != 0 {
            let error = io::Error::last_os_error();
            return Err(io::Error::new(
                error.kind(),
                format!(
                    "cannot store object metadata as the extended attribute {attribute:?} (the local store needs a file system with user extended attributes): {error}"
                ),
            ));
        }
    }
    Ok(())
}

fn read_metadata(file: &fs::File) -> io::Result<Metadata> {
    use std::os::fd::AsRawFd;
    let fd = file.as_raw_fd();
    // SAFETY: a null buffer of size 0 asks for the size of the list.
    let size = unsafe { libc::flistxattr(fd, std::ptr::null_mut(), 0) };
    if size < 0 {
        let error = io::Error::last_os_error();
        return match error.raw_os_error() {
            Some(libc::ENOTSUP) => Ok(Metadata::new()),
            _ => Err(error),
        };
    }
    let mut names = vec![0u8; size as usize];
    // SAFETY: the buffer is `names.len()` bytes long.
    let size = unsafe { libc::flistxattr(fd, names.as_mut_ptr().cast(), names.len()) };
    if size < 0 {
        return Err(io::Error::last_os_error());
    }
    names.truncate(size as usize);
    let mut metadata = Metadata::new();
    for name in names.split(|b| *b == 0).filter(|n| !n.is_empty()) {
        let Some(short) = name.strip_prefix(XATTR_PREFIX.as_bytes()) else {
            continue;
        };
        let attribute = CString::new(name).expect("split on NUL");
        let mut value = vec![0u8; 1024];
        // SAFETY: the name is NUL-terminated and the buffer is `value.len()` bytes long.
        let length =
            unsafe { libc::fgetxattr(fd, attribute.as_ptr(), value.as_mut_ptr().cast(), value.len()) };
        if length < 0 {
            return Err(io::Error::last_os_error());
        }
        value.truncate(length as usize);
        metadata.insert(
            String::from_utf8_lossy(short).into_owned(),
            String::from_utf8_lossy(&value).into_owned(),
        );
    }
    Ok(metadata)
}

/// A new hidden file in `dir` for an upload in progress.
fn tempfile_in(dir: &Path) -> io::Result<(fs::File, PathBuf)> {
    for attempt in 0u32.. {
        let path = dir.join(format!("{UPLOAD_PREFIX}{}-{attempt}", std::process::id()));
        match fs::OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(file) => return Ok((file, path)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    unreachable!("u32 attempts are never exhausted")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::part_channel;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .build()
            .unwrap()
    }

    #[test]
    fn objects_round_trip_and_missing_ones_are_none() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::new(dir.path());
        let tagged = |n: &str| Metadata::from([("the0-n".to_owned(), n.to_owned())]);
        runtime().block_on(async {
            assert_eq!(store.get("b", "k/x", 10).await.unwrap(), None);
            assert_eq!(store.head("b", "k/x").await.unwrap(), None);
            store
                .put("b", "k/x", b"hello".to_vec(), "text/plain")
                .await
                .unwrap();
            assert_eq!(store.get("b", "k/x", 10).await.unwrap().unwrap(), b"hello");
            assert!(store.get("b", "k/x", 2).await.is_err(), "over the limit");
            store
                .append("b", "k/x", b" world".to_vec(), &tagged("1"))
                .await
                .unwrap();
            store
                .append("b", "new", b"1".to_vec(), &tagged("2"))
                .await
                .unwrap();
            assert_eq!(store.get("b", "k/x", 100).await.unwrap().unwrap(), b"hello world");
            let info = store.head("b", "k/x").await.unwrap().unwrap();
            assert_eq!((info.size, info.metadata), (11, tagged("1")));
            store.copy("b", "k/x", "k/y").await.unwrap();
            let dest = dir.path().join("downloaded");
            assert_eq!(
                store.download("b", "k/y", &dest).await.unwrap(),
                Some(tagged("1"))
            );
            assert_eq!(fs::read(&dest).unwrap(), b"hello world");
            assert_eq!(
                store.download("b", "nope", &dir.path().join("x")).await.unwrap(),
                None
            );
            assert!(!dir.path().join("x").exists());
            // Appending replaces the metadata along with the content.
            store
                .append("b", "k/x", b"!".to_vec(), &tagged("3"))
                .await
                .unwrap();
            assert_eq!(
                store.head("b", "k/x").await.unwrap().unwrap().metadata,
                tagged("3")
            );
        });
    }

    #[test]
    fn uploads_left_by_a_killed_process_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::new(dir.path());
        fs::create_dir_all(dir.path().join("b/bot")).unwrap();
        fs::write(dir.path().join("b/bot/.upload-1-0"), b"partial").unwrap();
        fs::write(dir.path().join("b/bot/.upload-7-3"), b"partial").unwrap();
        fs::write(dir.path().join("b/bot/state.tar.gz"), b"whole").unwrap();
        let later = SystemTime::now() + std::time::Duration::from_secs(1);
        let key = "bot/state.tar.gz";
        runtime().block_on(async {
            assert_eq!(
                store
                    .abort_incomplete_uploads("b", key, SystemTime::UNIX_EPOCH)
                    .await
                    .unwrap(),
                0,
                "only uploads older than the start"
            );
            assert_eq!(store.abort_incomplete_uploads("b", key, later).await.unwrap(), 2);
            assert_eq!(
                store
                    .abort_incomplete_uploads("b", "nobody/x", later)
                    .await
                    .unwrap(),
                0
            );
        });
        assert!(dir.path().join("b/bot/state.tar.gz").exists());
        assert!(!dir.path().join("b/bot/.upload-1-0").exists());
    }

    #[test]
    fn keys_cannot_leave_the_store() {
        let store = LocalStore::new("/var/lib/the0");
        for (bucket, key) in [
            ("b", "../x"),
            ("b", "/etc/passwd"),
            ("..", "x"),
            ("b/c", "x"),
            ("b", ""),
        ] {
            assert!(store.path("get", bucket, key).is_err(), "{bucket} {key}");
        }
    }

    #[test]
    fn an_abandoned_upload_keeps_the_previous_object() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::new(dir.path());
        runtime().block_on(async {
            store.put("b", "state", b"good".to_vec(), "").await.unwrap();
            let (mut writer, parts) = part_channel();
            let producer = std::thread::spawn(move || {
                writer.write_all(b"partial").unwrap();
                drop(writer); // the producer failed before its last part
            });
            let err = store
                .put_parts("b", "state", parts, "", &Metadata::new())
                .await
                .unwrap_err();
            producer.join().unwrap();
            assert!(err.to_string().contains("stopped before the end"), "{err}");
            assert_eq!(store.get("b", "state", 100).await.unwrap().unwrap(), b"good");
            let leftovers: Vec<_> = fs::read_dir(dir.path().join("b"))
                .unwrap()
                .map(|e| e.unwrap().file_name())
                .collect();
            assert_eq!(leftovers, ["state"]);

            let (mut writer, parts) = part_channel();
            std::thread::spawn(move || {
                writer.write_all(b"new state").unwrap();
                writer.finish().unwrap();
            });
            let generation = Metadata::from([("the0-generation".to_owned(), "4".to_owned())]);
            assert_eq!(
                store
                    .put_parts("b", "state", parts, "", &generation)
                    .await
                    .unwrap(),
                9
            );
            assert_eq!(
                store.head("b", "state").await.unwrap().unwrap().metadata,
                generation
            );
            assert_eq!(store.get("b", "state", 100).await.unwrap().unwrap(), b"new state");
        });
    }
}
