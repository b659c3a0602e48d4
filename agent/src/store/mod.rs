//! Object storage behind one trait, with two implementations: S3 (MinIO, AWS, any S3-compatible
//! server) and a local directory (the embedded default, for development and tests that are not
//! about S3).
//!
//! Bucket names and object keys are upstream's (contract §3): code in `custom-bots/<CODE_FILE>`,
//! state in `bot-state/<bot id>/state.tar.gz`, logs in `bot-logs/logs/<bot id>/<YYYYMMDD>.log`,
//! query results in `query-results/<QUERY_RESULT_KEY>`.

mod compose;
mod local;
mod parts;
mod s3;

use std::collections::BTreeMap;
use std::future::Future;
use std::path::Path;
use std::time::SystemTime;

pub use compose::{
    ComposeItem, ComposeReceiver, ComposeSource, Composed, PartGrouper, compose_channel, same_etag,
};
pub use local::LocalStore;
pub use parts::{MIN_PART_BYTES, PART_BYTES, Part, PartReceiver, PartWriter, part_channel};
pub use s3::{S3Config, S3Store};

/// What went wrong talking to the store.
#[derive(Debug, thiserror::Error)]
#[error("{operation} {bucket}/{key}: {detail}")]
pub struct StoreError {
    /// `get`, `put`, `download`, ...
    pub operation: &'static str,
    pub bucket: String,
    pub key: String,
    /// The store's or the system's explanation.
    pub detail: String,
}

impl StoreError {
    pub(crate) fn new(operation: &'static str, bucket: &str, key: &str, detail: impl ToString) -> Self {
        StoreError {
            operation,
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            detail: detail.to_string(),
        }
    }
}

/// Result of store operations.
pub type StoreResult<T> = Result<T, StoreError>;

/// User metadata stored with an object, written and replaced atomically with its content: S3's
/// `x-amz-meta-*` headers, extended attributes (`user.the0.*`) in the local store. Names are
/// lowercase ASCII; values are short ASCII text.
pub type Metadata = BTreeMap<String, String>;

/// What [`ObjectStore::head`] reports about an object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectInfo {
    pub size: u64,
    pub metadata: Metadata,
    /// Changes whenever the object is written: S3's ETag, a stamp of the file in the local
    /// store. What a composed write and a manifest pin the object's version by.
    pub etag: String,
}

/// An object store. Every method is safe to retry: writes replace whole objects, and an object
/// appears only once it is complete (an interrupted upload leaves the previous object intact).
pub trait ObjectStore: Send + Sync + 'static {
    /// Streams an object into the file `dest` (created or truncated) and returns its metadata.
    /// Returns `None`, without touching `dest`, when the object or its bucket does not exist.
    fn download(
        &self,
        bucket: &str,
        key: &str,
        dest: &Path,
    ) -> impl Future<Output = StoreResult<Option<Metadata>>> + Send;

    /// Reads a whole object of at most `limit` bytes; `None` when it does not exist.
    fn get(
        &self,
        bucket: &str,
        key: &str,
        limit: u64,
    ) -> impl Future<Output = StoreResult<Option<Vec<u8>>>> + Send;

    /// Writes a whole object.
    fn put(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        content_type: &str,
    ) -> impl Future<Output = StoreResult<()>> + Send;

    /// Writes an object with `metadata` from parts produced by a [`PartWriter`] (every part but
    /// the last at least [`MIN_PART_BYTES`]); returns the object's size. The object appears only
    /// when the last part has arrived; a producer error or a dropped writer aborts the upload and
    /// leaves the previous object as it was.
    fn put_parts(
        &self,
        bucket: &str,
        key: &str,
        parts: PartReceiver,
        content_type: &str,
        metadata: &Metadata,
    ) -> impl Future<Output = StoreResult<u64>> + Send;

    /// Reads bytes `start..end` (end exclusive) of an object, only if its ETag is still `etag`
    /// (a manifest describes one version; another one fails instead of mixing versions).
    fn get_range(
        &self,
        bucket: &str,
        key: &str,
        start: u64,
        end: u64,
        etag: &str,
    ) -> impl Future<Output = StoreResult<Vec<u8>>> + Send;

    /// Writes `key` from the items of `items`: ranges copied from `source` (pinned by its ETag)
    /// and uploaded bytes (see [`ComposeItem`]). Like [`ObjectStore::put_parts`], the object
    /// appears only when [`ComposeItem::End`] has arrived and every part succeeded; otherwise
    /// the previous object stays as it was.
    fn compose(
        &self,
        bucket: &str,
        key: &str,
        source: Option<&ComposeSource>,
        items: ComposeReceiver,
        content_type: &str,
        metadata: &Metadata,
    ) -> impl Future<Output = StoreResult<Composed>> + Send;

    /// Appends `bytes` to an object, creating it if needed (log files). The object's metadata
    /// becomes `metadata`, in the same atomic step as the new content.
    fn append(
        &self,
        bucket: &str,
        key: &str,
        bytes: Vec<u8>,
        metadata: &Metadata,
    ) -> impl Future<Output = StoreResult<()>> + Send;

    /// The size and metadata of an object; `None` when it (or its bucket) does not exist.
    fn head(&self, bucket: &str, key: &str) -> impl Future<Output = StoreResult<Option<ObjectInfo>>> + Send;

    /// Copies an object (with its metadata) within a bucket.
    fn copy(&self, bucket: &str, from: &str, to: &str) -> impl Future<Output = StoreResult<()>> + Send;

    /// Creates `bucket` if it does not exist.
    fn ensure_bucket(&self, bucket: &str) -> impl Future<Output = StoreResult<()>> + Send;

    /// Aborts the uploads of `key` that a killed process left incomplete (started before
    /// `before`); returns how many. They are invisible, but S3 keeps (and bills) their parts.
    /// (One key at a time: MinIO lists the uploads of an exact key, not of a prefix.)
    fn abort_incomplete_uploads(
        &self,
        bucket: &str,
        key: &str,
        before: SystemTime,
    ) -> impl Future<Output = StoreResult<usize>> + Send;

    /// A short description for log lines (`s3 http://minio:9000`, `file:///var/lib/the0`).
    fn describe(&self) -> String;
}

/// Bucket names, configurable as upstream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Buckets {
    pub code: String,
    pub state: String,
    pub logs: String,
    pub query_results: String,
}

impl Buckets {
    /// `MINIO_CODE_BUCKET`, `MINIO_STATE_BUCKET`, `MINIO_LOGS_BUCKET`, `MINIO_QUERY_RESULTS_BUCKET`,
    /// with upstream's defaults.
    pub fn from_env() -> Buckets {
        let var =
            |name: &str, default: &str| the0_sdk::env::non_empty(name).unwrap_or_else(|| default.to_owned());
        Buckets {
            code: var("MINIO_CODE_BUCKET", "custom-bots"),
            state: var("MINIO_STATE_BUCKET", "bot-state"),
            logs: var("MINIO_LOGS_BUCKET", "bot-logs"),
            query_results: var("MINIO_QUERY_RESULTS_BUCKET", "query-results"),
        }
    }
}

/// Object key of a bot's state archive.
pub fn state_key(bot_id: &str) -> String {
    format!("{bot_id}/state.tar.gz")
}

/// Object key of the manifest of a bot's state archive (see `crate::archive::segmented`).
pub fn state_manifest_key(bot_id: &str) -> String {
    format!("{bot_id}/state.manifest.json")
}

/// Object key of a bot's log file for a UTC date (`YYYYMMDD`).
pub fn log_key(bot_id: &str, yyyymmdd: &str) -> String {
    format!("logs/{bot_id}/{yyyymmdd}.log")
}

/// The store selected by the environment, as an enum so callers stay generic-free.
pub enum AnyStore {
    S3(S3Store),
    Local(LocalStore),
}

/// Calls `$body` with `$store` bound to the concrete store.
#[macro_export]
macro_rules! with_store {
    ($any:expr, $store:ident => $body:expr) => {
        match $any {
            $crate::store::AnyStore::S3($store) => $body,
            $crate::store::AnyStore::Local($store) => $body,
        }
    };
}

impl AnyStore {
    /// The store the environment describes:
    /// - `THE0_STORE=file:///path` — a local directory;
    /// - else `MINIO_ENDPOINT` or `AWS_ENDPOINT_URL` — S3 (see [`S3Config::from_env`]);
    /// - else the local directory `/var/lib/the0`.
    pub async fn from_env() -> Result<AnyStore, String> {
        if let Some(url) = the0_sdk::env::non_empty("THE0_STORE") {
            let path = url
                .strip_prefix("file://")
                .ok_or_else(|| format!("THE0_STORE must be a file:// URL, got {url:?}"))?;
            return Ok(AnyStore::Local(LocalStore::new(path)));
        }
        match S3Config::from_env()? {
            Some(config) => Ok(AnyStore::S3(S3Store::connect(config).await)),
            None => Ok(AnyStore::Local(LocalStore::new(DEFAULT_LOCAL_STORE))),
        }
    }
}

/// The embedded store when nothing else is configured.
pub const DEFAULT_LOCAL_STORE: &str = "/var/lib/the0";
