//! A reader between the gzip decoder and the tar parser that checks every header before the
//! parser acts on it.
//!
//! The `tar` crate reads a GNU long-name or long-link record, and a PAX header, whole into memory,
//! whatever size its header claims: a 1 MB tar.gz whose long-name record claimed 1 GiB took the
//! agent to 5 GiB of RSS. The guard follows the stream's structure (headers, data, padding) and
//! fails the read that would deliver a header whose metadata record is over the limits of
//! [`super::rules`], or a GNU sparse file (whose extension blocks the parser would also collect),
//! before a byte of it is buffered.

use std::io::{self, Read};

use super::rules::{MAX_NAME_BYTES, MAX_PAX_BYTES, shown_name};

const BLOCK: usize = 512;

/// Why the guard stopped the stream: carried inside the `io::Error` the parser returns, so the
/// extractor can report it as a refused entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("refusing archive entry {entry:?}: {reason}")]
pub struct Refusal {
    pub entry: String,
    pub reason: String,
}

/// The guard; see the module documentation.
pub struct TarGuard<R> {
    inner: R,
    header: [u8; BLOCK],
    header_filled: usize,
    /// Bytes of the current entry's data (and padding) still to pass.
    remaining: u64,
    /// The data of a PAX header being passed (its `size` record applies to the next entry).
    pax: Option<Vec<u8>>,
    pax_size: u64,
    /// The size a PAX header set for the next entry.
    next_size: Option<u64>,
}

impl<R: Read> TarGuard<R> {
    pub fn new(inner: R) -> Self {
        TarGuard {
            inner,
            header: [0; BLOCK],
            header_filled: 0,
            remaining: 0,
            pax: None,
            pax_size: 0,
            next_size: None,
        }
    }

    fn inspect(&mut self, mut bytes: &[u8]) -> Result<(), Refusal> {
        while !bytes.is_empty() {
            if self.remaining > 0 {
                let take = bytes.len().min(self.remaining.min(usize::MAX as u64) as usize);
                if let Some(pax) = &mut self.pax {
                    let room = (self.pax_size as usize).saturating_sub(pax.len());
                    pax.extend_from_slice(&bytes[..take.min(room)]);
                }
                self.remaining -= take as u64;
                bytes = &bytes[take..];
                if self.remaining == 0
                    && let Some(pax) = self.pax.take()
                {
                    self.next_size = pax_size_record(&pax);
                }
                continue;
            }
            let take = bytes.len().min(BLOCK - self.header_filled);
            self.header[self.header_filled..self.header_filled + take].copy_from_slice(&bytes[..take]);
            self.header_filled += take;
            bytes = &bytes[take..];
            if self.header_filled == BLOCK {
                self.header_filled = 0;
                self.check_header()?;
            }
        }
        Ok(())
    }

    /// Checks the header just completed and sets up the passing of its data.
    fn check_header(&mut self) -> Result<(), Refusal> {
        let header = &self.header;
        if header.iter().all(|b| *b == 0) {
            return Ok(()); // end-of-archive blocks
        }
        let refuse = |reason: String| Refusal {
            entry: shown_name(&header_name(header)),
            reason,
        };
        let declared = header_size(&header[124..136])
            .ok_or_else(|| refuse("the size field is not a number".to_owned()))?;
        let kind = header[156];
        let size = match kind {
            b'L' | b'K' | b'x' | b'g' | b'X' => declared,
            _ => self.next_size.take().unwrap_or(declared),
        };
        match kind {
            b'L' | b'K' if size > MAX_NAME_BYTES as u64 + 1 => {
                let what = if kind == b'L' { "name" } else { "link target" };
                return Err(refuse(format!(
                    "its GNU long {what} record claims {size} bytes, more than the {MAX_NAME_BYTES} allowed"
                )));
            }
            b'x' | b'g' | b'X' if size > MAX_PAX_BYTES => {
                return Err(refuse(format!(
                    "its PAX header claims {size} bytes, more than the {MAX_PAX_BYTES} allowed"
                )));
            }
            b'S' => return Err(refuse("GNU sparse files are not allowed".to_owned())),
            _ => {}
        }
        if matches!(kind, b'x' | b'X') {
            self.pax = Some(Vec::with_capacity(size as usize));
            self.pax_size = size;
        }
        self.remaining = size.div_ceil(BLOCK as u64) * BLOCK as u64;
        Ok(())
    }
}

impl<R: Read> Read for TarGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.inspect(&buf[..n])
            .map_err(|refusal| io::Error::new(io::ErrorKind::InvalidData, refusal))?;
        Ok(n)
    }
}

/// The name of a header (with the POSIX ustar prefix), without its NUL padding.
fn header_name(header: &[u8; BLOCK]) -> Vec<u8> {
    let field = |range: std::ops::Range<usize>| {
        let bytes = &header[range];
        &bytes[..bytes.iter().position(|b| *b == 0).unwrap_or(bytes.len())]
    };
    let (name, prefix) = (field(0..100), field(345..500));
    if &header[257..263] == b"ustar\0" && !prefix.is_empty() {
        return [prefix, b"/", name].concat();
    }
    name.to_vec()
}

/// A header's size field: octal text, or GNU's base-256 binary form (high bit set).
fn header_size(field: &[u8]) -> Option<u64> {
    if field[0] & 0x80 != 0 {
        let mut value: u64 = u64::from(field[0] & 0x7f);
        for byte in &field[1..] {
            value = value.checked_mul(256)?.checked_add(u64::from(*byte))?;
        }
        return Some(value);
    }
    let text = std::str::from_utf8(field).ok()?;
    let digits = text.trim_matches(|c: char| c == '\0' || c == ' ');
    if digits.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(digits, 8).ok()
}

/// The `size` record of a PAX header (`<length> size=<decimal>\n`), if any.
fn pax_size_record(data: &[u8]) -> Option<u64> {
    let text = String::from_utf8_lossy(data);
    text.lines()
        .rev()
        .find_map(|record| record.split_once(' ')?.1.strip_prefix("size="))
        .and_then(|value| value.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(name: &str, kind: u8, size: u64) -> Vec<u8> {
        let mut h = tar::Header::new_gnu();
        h.as_gnu_mut().unwrap().name[..name.len()].copy_from_slice(name.as_bytes());
        h.set_size(size);
        h.set_entry_type(tar::EntryType::new(kind));
        h.set_cksum();
        h.as_bytes().to_vec()
    }

    fn pass(stream: &[u8]) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        // Read in odd-sized pieces to cross block boundaries.
        let mut guard = TarGuard::new(io::Cursor::new(stream));
        let mut buf = [0u8; 333];
        loop {
            match guard.read(&mut buf)? {
                0 => return Ok(out),
                n => out.extend_from_slice(&buf[..n]),
            }
        }
    }

    #[test]
    fn oversized_metadata_is_refused_at_its_header() {
        let stream = [header("././@LongLink", b'L', 1 << 30), vec![0; 4096]].concat();
        let error = pass(&stream).unwrap_err();
        let refusal = error.get_ref().unwrap().downcast_ref::<Refusal>().unwrap();
        assert_eq!(refusal.entry, "././@LongLink");
        assert!(refusal.reason.contains("1073741824 bytes"), "{refusal}");
        assert!(pass(&header("pax", b'x', 1 << 20)).is_err());
        assert!(pass(&header("sparse", b'S', 10)).is_err());
    }

    #[test]
    fn ordinary_streams_pass_unchanged_and_pax_sizes_are_followed() {
        let pax_body = b"16 size=1024000\n";
        let mut stream = header("f", b'0', 700);
        stream.extend(vec![7u8; 1024]);
        stream.extend(header("pax", b'x', pax_body.len() as u64));
        stream.extend(pax_body);
        stream.resize(stream.len().div_ceil(512) * 512, 0);
        // The PAX size (1,024,000) applies to the next entry, whose data holds a fake header.
        stream.extend(header("big", b'0', 0));
        let mut data = vec![0u8; 1_024_000];
        data[..512].copy_from_slice(&header("inside", b'L', 1 << 30));
        stream.extend(data);
        stream.extend(header("after", b'L', 100));
        stream.extend(vec![0u8; 512 + 1024]);
        assert_eq!(pass(&stream).unwrap(), stream);
    }
}
