//! Live log tailing: when `NATS_URL` is set, every log chunk the agent uploads is also published
//! to NATS subject `the0.bot.logs.<bot id>` (characters outside `[A-Za-z0-9_-]` replaced by `_`),
//! as upstream's sync daemon did for the0's UI. Upstream published the raw text while storing
//! NDJSON (§12.13); here subscribers get the same NDJSON lines as the stored log.
//!
//! Publishing never blocks the bot or the upload: chunks go through a small queue to a
//! background task, and are dropped (and counted in a warning) while NATS is away or slow.
//!
//! The client is the few lines of NATS's text protocol a publisher needs (`CONNECT`, `PUB`,
//! answering `PING`), so the static agent stays small; `nats://[user:pass@|token@]host[:port]`,
//! comma-separated for several servers; TLS servers are not supported.

use std::time::Duration;

use bytes::Bytes;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

/// Chunks waiting for NATS; beyond this, new chunks are dropped.
const QUEUE: usize = 64;

/// The publishing side, held by the log syncer.
#[derive(Debug, Clone)]
pub struct LiveLogs {
    tx: mpsc::Sender<Bytes>,
}

/// The subject of a bot's live log.
pub fn subject(bot_id: &str) -> String {
    let safe: String = bot_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("the0.bot.logs.{safe}")
}

/// One server of `NATS_URL`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Server {
    addr: String,
    user: Option<String>,
    pass: Option<String>,
    token: Option<String>,
}

fn parse_servers(url: &str) -> Vec<Server> {
    url.split(',')
        .filter_map(|one| {
            let rest = one.trim();
            let rest = rest.strip_prefix("nats://").unwrap_or(rest);
            if rest.is_empty() || rest.contains("://") {
                return None;
            }
            let (auth, host) = match rest.rsplit_once('@') {
                Some((auth, host)) => (Some(auth), host),
                None => (None, rest),
            };
            let host = host.trim_end_matches('/');
            let addr = if host.contains(':') {
                host.to_owned()
            } else {
                format!("{host}:4222")
            };
            let (user, pass, token) = match auth.map(|a| a.split_once(':')) {
                Some(Some((user, pass))) => (Some(user.to_owned()), Some(pass.to_owned()), None),
                Some(None) => (None, None, auth.map(str::to_owned)),
                None => (None, None, None),
            };
            Some(Server {
                addr,
                user,
                pass,
                token,
            })
        })
        .collect()
}

impl LiveLogs {
    /// A publisher for `bot_id` when `NATS_URL` is set (inside a tokio runtime).
    pub fn from_env(bot_id: &str) -> Option<LiveLogs> {
        let url = the0_sdk::env::non_empty("NATS_URL")?;
        let servers = parse_servers(&url);
        if servers.is_empty() {
            tracing::warn!("NATS_URL holds no nats:// server this agent can use; no live logs");
            return None;
        }
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::spawn(publish_loop(servers, subject(bot_id), rx));
        Some(LiveLogs { tx })
    }

    /// Queues a chunk of NDJSON lines; never waits.
    pub fn publish(&self, chunk: &[u8]) {
        if self.tx.try_send(Bytes::copy_from_slice(chunk)).is_err() {
            tracing::debug!("live log chunk dropped: NATS is away or slow");
        }
    }
}

/// Connects (rotating through the servers, with a growing pause) and publishes until the queue
/// closes.
async fn publish_loop(servers: Vec<Server>, subject: String, mut rx: mpsc::Receiver<Bytes>) {
    let mut pause = Duration::from_millis(500);
    let mut dropped = 0u64;
    for server in servers.iter().cycle() {
        match session(server, &subject, &mut rx).await {
            Ok(()) => return,
            Err(e) => tracing::warn!(server = server.addr, error = %e, "live logs: NATS connection lost"),
        }
        // While away, queued chunks are stale: drop them rather than replay a burst.
        while rx.try_recv().is_ok() {
            dropped += 1;
        }
        if dropped > 0 {
            tracing::warn!(dropped, "live log chunks dropped while NATS was away");
            dropped = 0;
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(30));
        if rx.is_closed() {
            return;
        }
    }
}

/// One connection: handshake, then publish queued chunks and answer pings. `Ok` when the queue
/// closed (the agent is stopping).
async fn session(server: &Server, subject: &str, rx: &mut mpsc::Receiver<Bytes>) -> std::io::Result<()> {
    let stream = tokio::time::timeout(Duration::from_secs(5), TcpStream::connect(&server.addr))
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timed out"))??;
    stream.set_nodelay(true)?;
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    let info = lines
        .next_line()
        .await?
        .ok_or_else(|| std::io::Error::other("closed before INFO"))?;
    let max_payload = info
        .strip_prefix("INFO ")
        .and_then(|json| serde_json::from_str::<serde_json::Value>(json).ok())
        .and_then(|v| v["max_payload"].as_u64())
        .unwrap_or(1 << 20) as usize;
    let mut connect = serde_json::json!({
        "verbose": false, "pedantic": false, "lang": "rust",
        "name": "the0-agent", "version": env!("CARGO_PKG_VERSION"), "protocol": 0,
    });
    if let (Some(user), Some(pass)) = (&server.user, &server.pass) {
        connect["user"] = user.clone().into();
        connect["pass"] = pass.clone().into();
    }
    if let Some(token) = &server.token {
        connect["auth_token"] = token.clone().into();
    }
    write
        .write_all(format!("CONNECT {connect}\r\nPING\r\n").as_bytes())
        .await?;
    loop {
        match lines.next_line().await? {
            Some(line) if line.starts_with("PONG") => break,
            Some(line) if line.starts_with("-ERR") => return Err(std::io::Error::other(line)),
            Some(_) => {}
            None => return Err(std::io::Error::other("closed during the handshake")),
        }
    }
    tracing::info!(server = server.addr, subject, "live logs: publishing to NATS");
    loop {
        tokio::select! {
            chunk = rx.recv() => {
                let Some(chunk) = chunk else { return Ok(()) };
                for piece in pieces(&chunk, max_payload) {
                    let mut frame = format!("PUB {subject} {}\r\n", piece.len()).into_bytes();
                    frame.extend_from_slice(piece);
                    frame.extend_from_slice(b"\r\n");
                    write.write_all(&frame).await?;
                }
            }
            line = lines.next_line() => match line? {
                Some(line) if line.starts_with("PING") => write.write_all(b"PONG\r\n").await?,
                Some(line) if line.starts_with("-ERR") => return Err(std::io::Error::other(line)),
                Some(_) => {}
                None => return Err(std::io::Error::other("the server closed the connection")),
            },
        }
    }
}

/// `chunk` cut at line ends into pieces of at most `max` bytes (a longer line is cut anywhere).
fn pieces(chunk: &[u8], max: usize) -> Vec<&[u8]> {
    let max = max.max(1);
    let mut out = Vec::new();
    let mut rest = chunk;
    while rest.len() > max {
        let cut = rest[..max]
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(max, |i| i + 1);
        out.push(&rest[..cut]);
        rest = &rest[cut..];
    }
    if !rest.is_empty() {
        out.push(rest);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_are_upstreams() {
        assert_eq!(subject("b1-x_2"), "the0.bot.logs.b1-x_2");
        assert_eq!(subject("a.b/c d"), "the0.bot.logs.a_b_c_d");
    }

    #[test]
    fn urls_with_and_without_credentials() {
        let servers = parse_servers("nats://u:p@n1:4223, nats://tok@n2,n3,tls://n4:1");
        assert_eq!(servers.len(), 3, "tls:// is skipped: {servers:?}");
        assert_eq!(servers[0].addr, "n1:4223");
        assert_eq!(
            (servers[0].user.as_deref(), servers[0].pass.as_deref()),
            (Some("u"), Some("p"))
        );
        assert_eq!(
            (servers[1].addr.as_str(), servers[1].token.as_deref()),
            ("n2:4222", Some("tok"))
        );
        assert_eq!(servers[2].addr, "n3:4222");
    }

    #[test]
    fn chunks_split_at_line_ends_within_the_payload_limit() {
        assert_eq!(pieces(b"ab\ncd\nef\n", 6), [&b"ab\ncd\n"[..], b"ef\n"]);
        assert_eq!(pieces(b"abcdefgh", 3), [&b"abc"[..], b"def", b"gh"]);
        assert!(pieces(b"", 3).is_empty());
    }

    #[tokio::test]
    async fn a_queue_with_no_server_never_blocks() {
        let (tx, _rx) = mpsc::channel(1);
        let live = LiveLogs { tx };
        for _ in 0..100 {
            live.publish(b"line\n");
        }
    }
}
