//! A deliberately small HTTP/1.1 client: one request per connection (`Connection: close`), over
//! TCP on loopback or over a Unix socket. Enough to check status codes and JSON bodies exactly,
//! with no client library between the test and the server.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::Duration;

/// Where a query server listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// TCP; tests only ever use loopback addresses.
    Tcp(SocketAddr),
    /// A Unix socket path.
    Unix(PathBuf),
}

impl Target {
    /// `127.0.0.1:<port>`.
    pub fn loopback(port: u16) -> Target {
        Target::Tcp(SocketAddr::from(([127, 0, 0, 1], port)))
    }
}

/// A response: status code and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// HTTP status code.
    pub status: u16,
    /// `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The body parsed as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
}

const TIMEOUT: Duration = Duration::from_secs(30);

/// Sends one request and reads the whole response.
pub fn request(
    target: &Target,
    method: &str,
    path_and_query: &str,
    body: Option<&[u8]>,
) -> io::Result<HttpResponse> {
    let mut head = format!("{method} {path_and_query} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
    if let Some(body) = body {
        head.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    head.push_str("\r\n");
    let mut raw = head.into_bytes();
    raw.extend_from_slice(body.unwrap_or_default());
    let response = match target {
        Target::Tcp(addr) => exchange(TcpStream::connect_timeout(addr, TIMEOUT)?, &raw, |s| {
            s.set_read_timeout(Some(TIMEOUT))
        })?,
        Target::Unix(path) => exchange(UnixStream::connect(path)?, &raw, |s| {
            s.set_read_timeout(Some(TIMEOUT))
        })?,
    };
    parse_response(&response)
}

/// `GET path`.
pub fn get(target: &Target, path_and_query: &str) -> io::Result<HttpResponse> {
    request(target, "GET", path_and_query, None)
}

fn exchange<S: Read + Write>(
    mut stream: S,
    raw: &[u8],
    configure: impl FnOnce(&S) -> io::Result<()>,
) -> io::Result<Vec<u8>> {
    configure(&stream)?;
    stream.write_all(raw)?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    Ok(response)
}

fn parse_response(raw: &[u8]) -> io::Result<HttpResponse> {
    let invalid = |what: &str| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{what}: {}", String::from_utf8_lossy(raw)),
        )
    };
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| invalid("no end of headers"))?;
    let head = std::str::from_utf8(&raw[..split]).map_err(|_| invalid("headers are not UTF-8"))?;
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| invalid("no status line"))?;
    let mut content_type = None;
    let mut content_length = None;
    for line in lines {
        if let Some((name, value)) = line.split_once(':') {
            match name.trim().to_ascii_lowercase().as_str() {
                "content-type" => content_type = Some(value.trim().to_owned()),
                "content-length" => content_length = value.trim().parse::<usize>().ok(),
                _ => {}
            }
        }
    }
    let mut body = raw[split + 4..].to_vec();
    if let Some(len) = content_length {
        if body.len() < len {
            return Err(invalid("body shorter than Content-Length"));
        }
        body.truncate(len);
    }
    Ok(HttpResponse {
        status,
        content_type,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_status_headers_and_body() {
        let r = parse_response(
            b"HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}",
        )
        .unwrap();
        assert_eq!(
            (r.status, r.content_type.as_deref(), r.body.as_slice()),
            (404, Some("application/json"), &b"{}"[..])
        );
        assert!(parse_response(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n{}").is_err());
    }
}
