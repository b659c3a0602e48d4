//! Composed writes: a new object made of byte ranges copied from the previous version of the
//! same key (server-side, never downloaded) and new bytes uploaded by the agent. This is what
//! makes a state upload O(change): the unchanged segments of the state archive are copied, only
//! the changed ones travel (see `crate::archive::segmented`).
//!
//! The producer (a blocking thread that packs the archive) sends [`ComposeItem`]s through a
//! bounded channel; the store turns each into one part of a multipart upload (S3) or a stretch of
//! a temporary file (local store). The source is pinned by its ETag: if it changed since the
//! producer planned the copies, the write fails and the previous object stays as it was.

use bytes::Bytes;
use tokio::sync::mpsc;

/// Items buffered between the producer and the store (each a segment of a few MiB).
const ITEMS_IN_FLIGHT: usize = 1;

/// One part of a composed object, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ComposeItem {
    /// Bytes `start..end` (end exclusive) of the source object. At least
    /// [`super::MIN_PART_BYTES`] long: S3 refuses smaller parts that are not the last.
    Copy { start: u64, end: u64 },
    /// New bytes; all but the last part are at least [`super::MIN_PART_BYTES`] long.
    Upload(Bytes),
    /// The object is complete. A channel that closes without it means the producer failed: the
    /// write is abandoned.
    End,
}

/// The object a composed write copies from: a key of the same bucket, at one version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComposeSource {
    pub key: String,
    /// The ETag the copies require (S3's `x-amz-copy-source-if-match`).
    pub etag: String,
}

/// What a composed write did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Composed {
    /// Size of the new object.
    pub size: u64,
    /// Its ETag.
    pub etag: String,
    /// Bytes sent to the store.
    pub uploaded: u64,
    /// Bytes copied inside the store.
    pub copied: u64,
}

/// The receiving side of a composed write.
pub type ComposeReceiver = mpsc::Receiver<ComposeItem>;

/// A sender for the producer and a receiver for the store.
pub fn compose_channel() -> (mpsc::Sender<ComposeItem>, ComposeReceiver) {
    mpsc::channel(ITEMS_IN_FLIGHT)
}

/// The next item; a closed channel is the producer's failure.
pub(crate) async fn next_item(items: &mut ComposeReceiver) -> std::io::Result<ComposeItem> {
    items.recv().await.ok_or_else(super::parts::premature_end)
}

/// Whether a source's ETag is the expected one (S3 quotes ETags; some servers do not).
pub fn same_etag(a: &str, b: &str) -> bool {
    a.trim_matches('"') == b.trim_matches('"')
}

/// Turns a producer's pieces into parts S3 accepts: consecutive new bytes are gathered until
/// they reach `min_part` (every part but the last must), copies go as they are. Runs on the
/// producer's blocking thread.
#[derive(Debug)]
pub struct PartGrouper {
    min_part: usize,
    pending: Vec<u8>,
    tx: mpsc::Sender<ComposeItem>,
}

impl PartGrouper {
    pub fn new(min_part: usize, tx: mpsc::Sender<ComposeItem>) -> Self {
        PartGrouper {
            min_part,
            pending: Vec::new(),
            tx,
        }
    }

    /// New bytes; a segment never spans two parts.
    pub fn bytes(&mut self, bytes: Vec<u8>) -> std::io::Result<()> {
        if self.pending.len() >= self.min_part {
            self.flush()?;
        }
        if self.pending.is_empty() {
            self.pending = bytes;
        } else {
            self.pending.extend_from_slice(&bytes);
        }
        Ok(())
    }

    /// A copied range. New bytes before it must already be a whole part (the producer only
    /// reuses a segment after a cut of at least `min_part`).
    pub fn copy(&mut self, start: u64, end: u64) -> std::io::Result<()> {
        self.flush()?;
        self.send(ComposeItem::Copy { start, end })
    }

    /// The end of the object: without this call the store abandons the write.
    pub fn finish(mut self) -> std::io::Result<()> {
        self.flush()?;
        self.send(ComposeItem::End)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let bytes = Bytes::from(std::mem::take(&mut self.pending));
        self.send(ComposeItem::Upload(bytes))
    }

    fn send(&self, item: ComposeItem) -> std::io::Result<()> {
        self.tx
            .blocking_send(item)
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the upload was abandoned"))
    }
}
