//! Parallel restore of a segmented state archive: the segments its manifest lists are fetched
//! with ranged GETs a few at a time, each decompressed on its own blocking thread (one gzip
//! member each, so both cores work), checked against its digest, and streamed in order into the
//! extractor. A cold start with large state waits for the network and one core's worth of
//! inflate less.
//!
//! Anything unexpected (no manifest, a manifest for another version of the object, a failed
//! range, a digest mismatch) is an error the caller answers with the single-stream restore of
//! the whole object, which reads any tar.gz, upstream's included.

use std::collections::VecDeque;
use std::io::{self, Read};
use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::mpsc;

use crate::archive::segmented::{MAX_MANIFEST_BYTES, Manifest, Segment};
use crate::archive::{self, ExtractStats, Limits, Purpose};
use crate::store::{ObjectStore, same_etag};

use super::SyncError;

/// Segments fetched and decompressed ahead of the extractor.
const SEGMENTS_AHEAD: usize = 3;

/// The stored manifest, if it describes the object version `etag`.
pub async fn stored_manifest<S: ObjectStore>(
    store: &S,
    bucket: &str,
    manifest_key: &str,
    etag: &str,
) -> Option<Manifest> {
    let bytes = match store.get(bucket, manifest_key, MAX_MANIFEST_BYTES).await {
        Ok(Some(bytes)) => bytes,
        Ok(None) => return None,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the state manifest: restoring in one stream");
            return None;
        }
    };
    match Manifest::parse(&bytes) {
        Ok(manifest) if same_etag(&manifest.etag, etag) => Some(manifest),
        Ok(_) => None,
        Err(e) => {
            tracing::warn!(error = %e, "restoring the state in one stream");
            None
        }
    }
}

/// Extracts the object `key`, as `manifest` describes it, into `dest`.
pub async fn extract_segments<S: ObjectStore>(
    store: Arc<S>,
    bucket: &str,
    key: &str,
    manifest: &Manifest,
    dest: PathBuf,
    limits: Limits,
) -> Result<ExtractStats, SyncError> {
    let (tx, rx) = mpsc::channel::<Chunk>(2);
    let extractor = tokio::task::spawn_blocking(move || {
        archive::extract_tar_stream(ChunkReader::new(rx), &dest, limits, Purpose::State)
    });
    let fetched = fetch_in_order(store, bucket, key, manifest, &tx).await;
    let _ = match &fetched {
        Ok(()) => tx.send(Chunk::End).await,
        Err(e) => tx.send(Chunk::Failed(e.to_string())).await,
    };
    drop(tx);
    let extracted = extractor
        .await
        .map_err(|e| SyncError::io("restore task failed", io::Error::other(e)))?;
    fetched?;
    Ok(extracted?)
}

/// Fetches and decompresses the segments, [`SEGMENTS_AHEAD`] at a time, sending them in order.
async fn fetch_in_order<S: ObjectStore>(
    store: Arc<S>,
    bucket: &str,
    key: &str,
    manifest: &Manifest,
    tx: &mpsc::Sender<Chunk>,
) -> Result<(), SyncError> {
    let mut running = VecDeque::new();
    let mut segments = manifest.segments.iter();
    loop {
        while running.len() < SEGMENTS_AHEAD
            && let Some(segment) = segments.next()
        {
            let (store, bucket, key, etag) = (
                Arc::clone(&store),
                bucket.to_owned(),
                key.to_owned(),
                manifest.etag.clone(),
            );
            let segment = segment.clone();
            running.push_back(tokio::spawn(async move {
                let member = store
                    .get_range(&bucket, &key, segment.start, segment.end, &etag)
                    .await?;
                tokio::task::spawn_blocking(move || inflate(&member, &segment))
                    .await
                    .map_err(|e| SyncError::io("restore task failed", io::Error::other(e)))?
            }));
        }
        let Some(next) = running.pop_front() else {
            return Ok(());
        };
        let tar = next
            .await
            .map_err(|e| SyncError::io("restore task failed", io::Error::other(e)))??;
        if tx.send(Chunk::Data(tar)).await.is_err() {
            // The extractor stopped: its error says why.
            return Ok(());
        }
    }
}

/// One segment's tar bytes, checked against the manifest's digest.
fn inflate(member: &[u8], segment: &Segment) -> Result<Vec<u8>, SyncError> {
    let mut tar = Vec::with_capacity(member.len() * 2);
    flate2::read::MultiGzDecoder::new(member)
        .read_to_end(&mut tar)
        .map_err(|e| SyncError::io("cannot decompress a state segment", e))?;
    if blake3::hash(&tar).to_hex().as_str() != segment.digest {
        return Err(SyncError::io(
            "state segment",
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "bytes {}..{} do not have the manifest's digest",
                    segment.start, segment.end
                ),
            ),
        ));
    }
    Ok(tar)
}

/// What the fetcher sends the extractor.
enum Chunk {
    Data(Vec<u8>),
    /// Every segment was sent.
    End,
    /// Fetching failed: the extraction must fail too (a truncated tar would look complete).
    Failed(String),
}

/// The tar stream, read from the fetcher's chunks on the extractor's thread.
struct ChunkReader {
    rx: mpsc::Receiver<Chunk>,
    current: Vec<u8>,
    offset: usize,
    ended: bool,
}

impl ChunkReader {
    fn new(rx: mpsc::Receiver<Chunk>) -> Self {
        ChunkReader {
            rx,
            current: Vec::new(),
            offset: 0,
            ended: false,
        }
    }
}

impl Read for ChunkReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.offset == self.current.len() {
            if self.ended {
                return Ok(0);
            }
            match self.rx.blocking_recv() {
                Some(Chunk::Data(data)) => (self.current, self.offset) = (data, 0),
                Some(Chunk::End) => self.ended = true,
                Some(Chunk::Failed(reason)) => return Err(io::Error::other(reason)),
                None => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the restore stopped before the end of the state",
                    ));
                }
            }
        }
        let n = buf.len().min(self.current.len() - self.offset);
        buf[..n].copy_from_slice(&self.current[self.offset..self.offset + n]);
        self.offset += n;
        Ok(n)
    }
}
