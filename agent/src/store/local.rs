//! The local directory store: object `bucket/key` is the file `<root>/<bucket>/<key>`.
//!
//! Writes go through a hidden temporary file and a rename, like every write the core makes, so a
//! reader sees a whole object or the previous one.

use std::fs;
use std::io::{self, Write};
use std::path::{Component, Path, PathBuf};

use the0_sdk::fsutil::write_atomic;

use super::parts::premature_end;
use super::{ObjectStore, PartReceiver, StoreError, StoreResult};

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
    async fn download(&self, bucket: &str, key: &str, dest: &Path) -> StoreResult<bool> {
        let source = self.path("download", bucket, key)?;
        let dest = dest.to_owned();
        blocking("download", bucket, key, move || {
            let Some(mut reader) = missing_is_none(fs::File::open(&source))? else {
                return Ok(false);
            };
            let mut writer = fs::File::create(&dest)?;
            io::copy(&mut reader, &mut writer)?;
            Ok(true)
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
    ) -> StoreResult<u64> {
        let path = self.path("put", bucket, key)?;
        blocking("put", bucket, key, move || {
            let parent = path.parent().expect("an object path has a parent");
            fs::create_dir_all(parent)?;
            let (mut file, temp) = tempfile_in(parent)?;
            let mut size = 0u64;
            let written = loop {
                let part = match parts.blocking_recv().ok_or_else(premature_end) {
                    Ok(part) => part,
                    Err(e) => break Err(e),
                };
                size += part.bytes.len() as u64;
                if let Err(e) = file.write_all(&part.bytes) {
                    break Err(e);
                }
                if part.last {
                    drop(file);
                    break fs::rename(&temp, &path);
                }
            };
            if written.is_err() {
                let _ = fs::remove_file(&temp);
            }
            written.map(|()| size)
        })
        .await
    }

    async fn append(&self, bucket: &str, key: &str, bytes: Vec<u8>) -> StoreResult<()> {
        let path = self.path("append", bucket, key)?;
        blocking("append", bucket, key, move || {
            let mut content = missing_is_none(fs::read(&path))?.unwrap_or_default();
            content.extend_from_slice(&bytes);
            write_atomic(&path, &content)
        })
        .await
    }

    async fn exists(&self, bucket: &str, key: &str) -> StoreResult<bool> {
        let path = self.path("exists", bucket, key)?;
        blocking("exists", bucket, key, move || Ok(path.is_file())).await
    }

    async fn copy(&self, bucket: &str, from: &str, to: &str) -> StoreResult<()> {
        let source = self.path("copy", bucket, from)?;
        let target = self.path("copy", bucket, to)?;
        blocking("copy", bucket, from, move || {
            write_atomic(&target, &fs::read(&source)?)
        })
        .await
    }

    async fn ensure_bucket(&self, bucket: &str) -> StoreResult<()> {
        let path = self.root.join(bucket);
        blocking("create bucket", bucket, "", move || fs::create_dir_all(&path)).await
    }

    fn describe(&self) -> String {
        format!("file://{}", self.root.display())
    }
}

/// A new hidden file in `dir` for an upload in progress.
fn tempfile_in(dir: &Path) -> io::Result<(fs::File, PathBuf)> {
    for attempt in 0u32.. {
        let path = dir.join(format!(".upload-{}-{attempt}", std::process::id()));
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
        runtime().block_on(async {
            assert_eq!(store.get("b", "k/x", 10).await.unwrap(), None);
            assert!(!store.exists("b", "k/x").await.unwrap());
            store
                .put("b", "k/x", b"hello".to_vec(), "text/plain")
                .await
                .unwrap();
            assert_eq!(store.get("b", "k/x", 10).await.unwrap().unwrap(), b"hello");
            assert!(store.get("b", "k/x", 2).await.is_err(), "over the limit");
            store.append("b", "k/x", b" world".to_vec()).await.unwrap();
            store.append("b", "new", b"1".to_vec()).await.unwrap();
            assert_eq!(store.get("b", "k/x", 100).await.unwrap().unwrap(), b"hello world");
            store.copy("b", "k/x", "k/y").await.unwrap();
            let dest = dir.path().join("downloaded");
            assert!(store.download("b", "k/y", &dest).await.unwrap());
            assert_eq!(fs::read(&dest).unwrap(), b"hello world");
            assert!(!store.download("b", "nope", &dir.path().join("x")).await.unwrap());
            assert!(!dir.path().join("x").exists());
        });
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
            let err = store.put_parts("b", "state", parts, "").await.unwrap_err();
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
            assert_eq!(store.put_parts("b", "state", parts, "").await.unwrap(), 9);
            assert_eq!(store.get("b", "state", 100).await.unwrap().unwrap(), b"new state");
        });
    }
}
