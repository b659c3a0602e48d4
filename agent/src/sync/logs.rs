//! Log lines and their upload: `bot.log` to `bot-logs/logs/<id>/<YYYYMMDD>.log` as NDJSON.
//!
//! The agent writes `bot.log` itself (the bot's output, one NDJSON line per output line, stamped
//! when the line was emitted — upstream stamped lines when they were uploaded). The uploader reads
//! it from an offset persisted next to it, in newline-aligned chunks of at most 1 MiB, so a
//! restarted sidecar continues where it stopped instead of uploading everything again.
//!
//! Every line reaches the store exactly once, even when the agent is killed mid-append. Each
//! append stores, as metadata of the daily object and in the same atomic step as its content,
//! which `bot.log` it came from (`the0-log-stream`, a random id given to each log file) and up to
//! which offset (`the0-log-end`). Before appending, the position file records the append it is
//! about to make; a restarted agent that finds such a pending append asks the store whether it
//! landed (the object's metadata names this stream and an end at least as far) and only
//! otherwise sends it again.

use std::fs;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use the0_sdk::fsutil::write_atomic;

use super::SyncError;
use crate::archive::AGENT_PRIVATE_PREFIX;
use crate::store::{Metadata, ObjectStore, log_key};

/// Largest chunk uploaded at once.
const CHUNK_BYTES: u64 = 1 << 20;

/// One output line as an NDJSON log line (upstream's format), or `None` for a blank line:
/// - a JSON object keeps its fields (and its bytes, if nothing is added), gets `"timestamp": now`
///   when it has none, and `"source"` when one is given and it has none;
/// - anything else becomes `{"timestamp": now, "message": line}` (+ `"source"`).
pub fn format_line(line: &str, now: &str, source: Option<&str>) -> Option<String> {
    let line = line.trim();
    if line.is_empty() {
        return None;
    }
    if line.starts_with('{')
        && let Ok(mut object) = serde_json::from_str::<Map<String, Value>>(line)
    {
        let stamped = object.contains_key("timestamp");
        if stamped && source.is_none_or(|_| object.contains_key("source")) {
            return Some(line.to_owned());
        }
        if !stamped {
            object.insert("timestamp".into(), now.into());
        }
        if let Some(source) = source {
            object.entry("source").or_insert_with(|| source.into());
        }
        return Some(Value::Object(object).to_string());
    }
    let mut object = Map::new();
    object.insert("timestamp".into(), now.into());
    object.insert("message".into(), line.into());
    if let Some(source) = source {
        object.insert("source".into(), source.into());
    }
    Some(Value::Object(object).to_string())
}

/// Every line of `chunk` through [`format_line`], newline-terminated.
pub fn format_chunk(chunk: &[u8], now: &str) -> Vec<u8> {
    let text = String::from_utf8_lossy(chunk);
    let mut out = Vec::with_capacity(chunk.len() + 64);
    for line in text.split('\n').filter_map(|l| format_line(l, now, None)) {
        out.extend_from_slice(line.as_bytes());
        out.push(b'\n');
    }
    out
}

/// Object metadata: the log file (stream) an append came from, and its end offset in it.
const STREAM_METADATA: &str = "the0-log-stream";
const END_METADATA: &str = "the0-log-end";

/// Where the upload of a log file stands: which file (by inode, and a random stream id), how
/// far, and the append in flight, if any.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Position {
    inode: u64,
    offset: u64,
    #[serde(default)]
    stream: String,
    #[serde(default)]
    pending: Option<PendingAppend>,
}

/// An append that was about to be made: to `key`, up to `end`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct PendingAppend {
    key: String,
    end: u64,
}

/// A random id for a new log stream.
fn new_stream_id() -> String {
    let mut bytes = [0u8; 12];
    let random = fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes));
    if random.is_err() {
        // No /dev/urandom (a bare root): the time and pid are unique enough for one bot.
        let seed = format!("{:?}{}", std::time::SystemTime::now(), std::process::id());
        bytes.copy_from_slice(&blake3::hash(seed.as_bytes()).as_bytes()[..12]);
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Uploads one log file.
pub struct LogSync<S> {
    store: Arc<S>,
    bucket: String,
    bot_id: String,
    file: PathBuf,
    position_file: PathBuf,
    position: Position,
    /// The bucket was created (or found) by this syncer.
    bucket_ready: bool,
    /// NATS live tailing (`NATS_URL`).
    live: Option<super::live::LiveLogs>,
    /// When this syncer started: appends to a daily object begun before (by a killed agent) and
    /// left incomplete are aborted, once per object.
    started: std::time::SystemTime,
    cleaned_key: Option<String>,
}

impl<S: ObjectStore> LogSync<S> {
    /// A syncer for `<logs_dir>/bot.log`, resuming from the position saved in `logs_dir`.
    pub fn new(store: Arc<S>, bucket: &str, bot_id: &str, logs_dir: &Path) -> Self {
        let position_file = logs_dir.join(format!("{AGENT_PRIVATE_PREFIX}-log-position.json"));
        let position = fs::read(&position_file)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default();
        LogSync {
            store,
            bucket: bucket.to_owned(),
            bot_id: bot_id.to_owned(),
            file: logs_dir.join("bot.log"),
            position_file,
            position,
            bucket_ready: false,
            live: super::live::LiveLogs::from_env(bot_id),
            started: std::time::SystemTime::now(),
            cleaned_key: None,
        }
    }

    /// Uploads what was appended since the last call; returns the bytes consumed. A trailing
    /// line without its newline waits for the next call unless `flush_partial` (final sync).
    pub async fn sync(&mut self, flush_partial: bool) -> Result<u64, SyncError> {
        let meta = match fs::metadata(&self.file) {
            Ok(meta) => meta,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
            Err(e) => {
                return Err(SyncError::io(
                    format!("cannot inspect {}", self.file.display()),
                    e,
                ));
            }
        };
        self.settle_pending().await?;
        if meta.ino() != self.position.inode
            || meta.len() < self.position.offset
            || self.position.stream.is_empty()
        {
            // A new or truncated file: start from its beginning, as a new stream.
            self.position = Position {
                inode: meta.ino(),
                offset: 0,
                stream: new_stream_id(),
                pending: None,
            };
        }
        let end = meta.len();
        let start = self.position.offset;
        while self.position.offset < end {
            let want = CHUNK_BYTES.min(end - self.position.offset);
            let chunk = read_at(&self.file, self.position.offset, want)
                .map_err(|e| SyncError::io(format!("cannot read {}", self.file.display()), e))?;
            let take = match chunk.iter().rposition(|b| *b == b'\n') {
                Some(last_newline) => last_newline + 1,
                // One line longer than a chunk, or the final partial line at shutdown.
                None if chunk.len() as u64 == CHUNK_BYTES || flush_partial => chunk.len(),
                None => break,
            };
            let now = the0_sdk::time::now_rfc3339();
            let body = format_chunk(&chunk[..take], &now);
            if !body.is_empty() {
                if !self.bucket_ready {
                    self.store.ensure_bucket(&self.bucket).await?;
                    self.bucket_ready = true;
                }
                let key = log_key(&self.bot_id, &utc_date(&now));
                if self.cleaned_key.as_ref() != Some(&key) {
                    self.store
                        .abort_incomplete_uploads(&self.bucket, &key, self.started)
                        .await?;
                    self.cleaned_key = Some(key.clone());
                }
                let end = self.position.offset + take as u64;
                self.position.pending = Some(PendingAppend {
                    key: key.clone(),
                    end,
                });
                self.save_position()?;
                let metadata = Metadata::from([
                    (STREAM_METADATA.to_owned(), self.position.stream.clone()),
                    (END_METADATA.to_owned(), end.to_string()),
                ]);
                let live = self.live.as_ref().map(|live| (live, body.clone()));
                self.store.append(&self.bucket, &key, body, &metadata).await?;
                if let Some((live, body)) = live {
                    live.publish(&body);
                }
            }
            self.position.offset += take as u64;
            self.position.pending = None;
            self.save_position()?;
        }
        Ok(self.position.offset - start)
    }

    /// Bytes of `bot.log` not uploaded yet, for the log line of a sync that could not finish.
    pub fn pending_bytes(&self) -> u64 {
        fs::metadata(&self.file).map_or(0, |meta| {
            if meta.ino() == self.position.inode {
                meta.len().saturating_sub(self.position.offset)
            } else {
                meta.len()
            }
        })
    }

    /// Resolves an append that was in flight when the agent was killed (or the sync cancelled):
    /// the store's metadata says whether it landed.
    async fn settle_pending(&mut self) -> Result<(), SyncError> {
        let Some(pending) = self.position.pending.clone() else {
            return Ok(());
        };
        let landed = self
            .store
            .head(&self.bucket, &pending.key)
            .await?
            .is_some_and(|info| {
                info.metadata.get(STREAM_METADATA) == Some(&self.position.stream)
                    && info
                        .metadata
                        .get(END_METADATA)
                        .and_then(|end| end.parse::<u64>().ok())
                        .is_some_and(|end| end >= pending.end)
            });
        if landed {
            tracing::info!(key = %pending.key, end = pending.end, "the append in flight when the agent stopped had landed; not sending it again");
            self.position.offset = pending.end;
        }
        self.position.pending = None;
        self.save_position()
    }

    fn save_position(&self) -> Result<(), SyncError> {
        let bytes = serde_json::to_vec(&self.position).expect("a position serializes");
        write_atomic(&self.position_file, &bytes)
            .map_err(|e| SyncError::io(format!("cannot save {}", self.position_file.display()), e))
    }
}

/// `YYYYMMDD` of an RFC 3339 timestamp.
fn utc_date(rfc3339: &str) -> String {
    rfc3339[..10].replace('-', "")
}

fn read_at(path: &Path, offset: u64, len: u64) -> io::Result<Vec<u8>> {
    let mut file = fs::File::open(path)?;
    file.seek(SeekFrom::Start(offset))?;
    let mut buffer = Vec::with_capacity(len as usize);
    file.take(len).read_to_end(&mut buffer)?;
    Ok(buffer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::LocalStore;
    use std::io::Write;

    const NOW: &str = "2026-11-23T07:24:00.123Z";

    #[test]
    fn lines_become_ndjson() {
        assert_eq!(format_line("  ", NOW, None), None);
        assert_eq!(
            format_line("plain text", NOW, None).unwrap(),
            r#"{"timestamp":"2026-11-23T07:24:00.123Z","message":"plain text"}"#
        );
        assert_eq!(
            format_line(r#"{"level":"info","timestamp":"t0"}"#, NOW, None).unwrap(),
            r#"{"level":"info","timestamp":"t0"}"#
        );
        assert_eq!(
            format_line(r#"{"a":1}"#, NOW, None).unwrap(),
            r#"{"a":1,"timestamp":"2026-11-23T07:24:00.123Z"}"#
        );
        assert_eq!(
            format_line("[1,2]", NOW, None).unwrap(),
            r#"{"timestamp":"2026-11-23T07:24:00.123Z","message":"[1,2]"}"#
        );
        assert_eq!(
            format_line("{not json", NOW, None).unwrap(),
            r#"{"timestamp":"2026-11-23T07:24:00.123Z","message":"{not json"}"#
        );
        assert_eq!(
            format_chunk(b"a\n\nb\n", NOW)
                .iter()
                .filter(|b| **b == b'\n')
                .count(),
            2
        );
        assert_eq!(utc_date(NOW), "20261123");
    }

    #[test]
    fn uploads_new_lines_once_across_restarts_and_follows_truncation() {
        let dir = tempfile::tempdir().unwrap();
        let logs = dir.path().join("logs");
        fs::create_dir(&logs).unwrap();
        let store = Arc::new(LocalStore::new(dir.path().join("store")));
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let append = |text: &str| {
            fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(logs.join("bot.log"))
                .unwrap()
                .write_all(text.as_bytes())
                .unwrap()
        };
        let uploaded = || -> Vec<String> {
            let day = fs::read_dir(dir.path().join("store/bot-logs/logs/b1"))
                .unwrap()
                .next()
                .unwrap()
                .unwrap()
                .path();
            fs::read_to_string(day)
                .unwrap()
                .lines()
                .map(|l| {
                    serde_json::from_str::<Value>(l).unwrap()["message"]
                        .as_str()
                        .unwrap()
                        .to_owned()
                })
                .collect()
        };
        rt.block_on(async {
            let mut sync = LogSync::new(Arc::clone(&store), "bot-logs", "b1", &logs);
            assert_eq!(sync.sync(false).await.unwrap(), 0, "no file yet");
            append("one\ntwo\npart");
            sync.sync(false).await.unwrap();
            assert_eq!(uploaded(), ["one", "two"], "the partial line waits");

            // A restarted syncer resumes from the saved position.
            let mut restarted = LogSync::new(Arc::clone(&store), "bot-logs", "b1", &logs);
            append("ial\nthree\n");
            restarted.sync(false).await.unwrap();
            assert_eq!(uploaded(), ["one", "two", "partial", "three"]);
            assert_eq!(restarted.sync(false).await.unwrap(), 0);

            // Truncation restarts from the beginning of the new content.
            fs::write(logs.join("bot.log"), b"fresh\nlast-no-newline").unwrap();
            restarted.sync(true).await.unwrap();
            assert_eq!(
                uploaded(),
                ["one", "two", "partial", "three", "fresh", "last-no-newline"]
            );
        });
    }
}
