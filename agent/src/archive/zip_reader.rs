//! ZIP archives read one central-directory record at a time.
//!
//! General-purpose readers (the `zip` crate among them) load the whole central directory into
//! memory first: a zip declaring a million entries took 580 MiB before it was refused, and 60,000
//! entries with long names took 95 MiB. This reader checks the declared entry count against the
//! limit from the end record, then walks the directory with a small buffer, opening each entry's
//! data (stored or deflated, CRC-checked) where its local header says. Memory stays at a few
//! buffers whatever the archive holds.

use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};

use super::rules::MAX_NAME_BYTES;

/// What the end records declare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Directory {
    pub entries: u64,
    pub offset: u64,
}

const END_SIGNATURE: u32 = 0x0605_4b50;
const ZIP64_LOCATOR_SIGNATURE: u32 = 0x0706_4b50;
const ZIP64_END_SIGNATURE: u32 = 0x0606_4b50;
const RECORD_SIGNATURE: u32 = 0x0201_4b50;
const LOCAL_SIGNATURE: u32 = 0x0403_4b50;
/// The end record (22 bytes) plus the longest comment.
const MAX_TAIL: u64 = 22 + 0xffff;

fn u16_at(bytes: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([bytes[at], bytes[at + 1]])
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"))
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"))
}

fn damaged(what: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.into())
}

/// Reads the end-of-central-directory record (and the ZIP64 one it points to, when a field is
/// saturated); `None` when there is none (not a ZIP archive, or a truncated one).
pub fn read_directory(file: &mut File) -> io::Result<Option<Directory>> {
    let length = file.seek(SeekFrom::End(0))?;
    let tail_start = length.saturating_sub(MAX_TAIL);
    file.seek(SeekFrom::Start(tail_start))?;
    let mut tail = Vec::with_capacity((length - tail_start) as usize);
    file.take(MAX_TAIL).read_to_end(&mut tail)?;
    let Some(end) = (0..=tail.len().saturating_sub(22))
        .rev()
        .find(|at| tail.len() >= at + 22 && u32_at(&tail, *at) == END_SIGNATURE)
    else {
        return Ok(None);
    };
    let record = &tail[end..end + 22];
    let mut directory = Directory {
        entries: u64::from(u16_at(record, 10)),
        offset: u64::from(u32_at(record, 16)),
    };
    let saturated = directory.entries == 0xffff || directory.offset == 0xffff_ffff;
    if let (true, Some(locator_at)) = (saturated, (tail_start + end as u64).checked_sub(20)) {
        let mut locator = [0u8; 20];
        file.seek(SeekFrom::Start(locator_at))?;
        file.read_exact(&mut locator)?;
        if u32_at(&locator, 0) == ZIP64_LOCATOR_SIGNATURE {
            let mut record = [0u8; 56];
            file.seek(SeekFrom::Start(u64_at(&locator, 8)))?;
            file.read_exact(&mut record)?;
            if u32_at(&record, 0) != ZIP64_END_SIGNATURE {
                return Err(damaged("the ZIP64 end record is missing"));
            }
            directory = Directory {
                entries: u64_at(&record, 32),
                offset: u64_at(&record, 48),
            };
        }
    }
    Ok(Some(directory))
}

/// One central-directory record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The name as stored; cut after [`MAX_NAME_BYTES`] + 1 bytes (longer names are refused
    /// anyway, and must not be held whole).
    pub name: Vec<u8>,
    /// Unix permission and type bits, when the archive was made on Unix.
    pub unix_mode: Option<u32>,
    pub is_dir: bool,
    pub encrypted: bool,
    pub method: u16,
    pub crc32: u32,
    pub compressed_size: u64,
    pub size: u64,
    pub local_header: u64,
}

impl Record {
    pub fn is_symlink(&self) -> bool {
        self.unix_mode
            .is_some_and(|mode| mode & libc::S_IFMT == libc::S_IFLNK)
    }
}

/// Walks the central directory; [`Entries::open`] reads an entry's data.
pub struct Entries {
    directory: BufReader<File>,
    data: File,
    remaining: u64,
}

impl Entries {
    /// The entries of the archive `file`, whose end records declared `directory`.
    pub fn new(file: &File, directory: Directory) -> io::Result<Entries> {
        let mut reader = BufReader::with_capacity(64 << 10, file.try_clone()?);
        reader.seek(SeekFrom::Start(directory.offset))?;
        Ok(Entries {
            directory: reader,
            data: file.try_clone()?,
            remaining: directory.entries,
        })
    }

    /// The next record, `None` after the last one the end record declared.
    pub fn next_record(&mut self) -> io::Result<Option<Record>> {
        if self.remaining == 0 {
            return Ok(None);
        }
        self.remaining -= 1;
        let mut fixed = [0u8; 46];
        self.directory
            .read_exact(&mut fixed)
            .map_err(|_| damaged("the central directory ends early"))?;
        if u32_at(&fixed, 0) != RECORD_SIGNATURE {
            return Err(damaged("a central directory record is damaged"));
        }
        let (name_len, extra_len, comment_len) = (
            u64::from(u16_at(&fixed, 28)),
            usize::from(u16_at(&fixed, 30)),
            i64::from(u16_at(&fixed, 32)),
        );
        let mut name = Vec::new();
        (&mut self.directory)
            .take(name_len.min(MAX_NAME_BYTES as u64 + 1))
            .read_to_end(&mut name)?;
        self.directory
            .seek_relative(name_len as i64 - name.len() as i64)?;
        let mut extra = vec![0u8; extra_len];
        self.directory.read_exact(&mut extra)?;
        self.directory.seek_relative(comment_len)?;

        let mut compressed_size = u64::from(u32_at(&fixed, 20));
        let mut size = u64::from(u32_at(&fixed, 24));
        let mut local_header = u64::from(u32_at(&fixed, 42));
        apply_zip64(&extra, &mut size, &mut compressed_size, &mut local_header);
        let made_on = u16_at(&fixed, 4) >> 8;
        let external = u32_at(&fixed, 38);
        // 3: Unix, 19: OS X; their external attributes carry a Unix mode.
        let unix_mode = matches!(made_on, 3 | 19)
            .then_some(external >> 16)
            .filter(|mode| *mode != 0);
        let is_dir = name.last() == Some(&b'/')
            || unix_mode.is_some_and(|mode| mode & libc::S_IFMT == libc::S_IFDIR)
            || (unix_mode.is_none() && external & 0x10 != 0);
        Ok(Some(Record {
            name,
            unix_mode,
            is_dir,
            encrypted: u16_at(&fixed, 8) & 1 != 0,
            method: u16_at(&fixed, 10),
            crc32: u32_at(&fixed, 16),
            compressed_size,
            size,
            local_header,
        }))
    }

    /// The data of `record`, decompressed and checked against its size and CRC when read to
    /// the end. `Err` names an unsupported method.
    pub fn open(&mut self, record: &Record) -> io::Result<EntryReader<'_>> {
        let mut local = [0u8; 30];
        self.data.seek(SeekFrom::Start(record.local_header))?;
        self.data
            .read_exact(&mut local)
            .map_err(|_| damaged("a local header lies outside the archive"))?;
        if u32_at(&local, 0) != LOCAL_SIGNATURE {
            return Err(damaged("a local header is damaged"));
        }
        let skip = i64::from(u16_at(&local, 26)) + i64::from(u16_at(&local, 28));
        self.data.seek(SeekFrom::Current(skip))?;
        let raw = (&mut self.data).take(record.compressed_size);
        let inner: Box<dyn Read + '_> = match record.method {
            0 => Box::new(raw),
            8 => Box::new(flate2::read::DeflateDecoder::new(raw)),
            other => {
                return Err(io::Error::new(
                    io::ErrorKind::Unsupported,
                    format!("compression method {other} is not supported (stored and deflated are)"),
                ));
            }
        };
        Ok(EntryReader {
            inner,
            crc: flate2::Crc::new(),
            expected_crc: record.crc32,
            expected_size: record.size,
        })
    }
}

/// Reads the ZIP64 extra field: the saturated 32-bit fields, in their order.
fn apply_zip64(extra: &[u8], size: &mut u64, compressed_size: &mut u64, local_header: &mut u64) {
    let mut at = 0;
    while at + 4 <= extra.len() {
        let (id, length) = (u16_at(extra, at), usize::from(u16_at(extra, at + 2)));
        let body = &extra[at + 4..(at + 4 + length).min(extra.len())];
        if id == 0x0001 {
            let mut fields = body.chunks_exact(8).map(|c| u64_at(c, 0));
            for field in [size, compressed_size, local_header] {
                if *field == 0xffff_ffff {
                    match fields.next() {
                        Some(value) => *field = value,
                        None => return,
                    }
                }
            }
            return;
        }
        at += 4 + length;
    }
}

/// An entry's data; fails at its end if the size or CRC is not the directory's.
pub struct EntryReader<'a> {
    inner: Box<dyn Read + 'a>,
    crc: flate2::Crc,
    expected_crc: u32,
    expected_size: u64,
}

impl Read for EntryReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 && !buf.is_empty() {
            if u64::from(self.crc.amount()) != self.expected_size & 0xffff_ffff {
                return Err(damaged(format!(
                    "the entry holds {} bytes, not the {} its header says",
                    self.crc.amount(),
                    self.expected_size
                )));
            }
            if self.crc.sum() != self.expected_crc {
                return Err(damaged("the entry's checksum does not match its data"));
            }
        }
        self.crc.update(&buf[..n]);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file_of(bytes: &[u8]) -> File {
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(bytes).unwrap();
        file
    }

    #[test]
    fn entries_are_read_one_record_at_a_time() {
        let mut writer = zip::ZipWriter::new(io::Cursor::new(Vec::new()));
        let deflated = zip::write::SimpleFileOptions::default().unix_permissions(0o755);
        writer.start_file("bin/run", deflated).unwrap();
        writer.write_all(&b"#!/bin/sh\n".repeat(100)).unwrap();
        writer
            .start_file(
                "stored.txt",
                zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored),
            )
            .unwrap();
        writer.write_all(b"plain").unwrap();
        writer.add_directory("empty/", deflated).unwrap();
        writer.add_symlink("link", "bin/run", deflated).unwrap();
        writer.set_comment("a comment");
        let mut file = file_of(&writer.finish().unwrap().into_inner());

        let directory = read_directory(&mut file).unwrap().unwrap();
        assert_eq!(directory.entries, 4);
        let mut entries = Entries::new(&file, directory).unwrap();
        let mut seen = Vec::new();
        while let Some(record) = entries.next_record().unwrap() {
            let mut data = Vec::new();
            if !record.is_dir {
                entries.open(&record).unwrap().read_to_end(&mut data).unwrap();
            }
            seen.push((
                String::from_utf8(record.name.clone()).unwrap(),
                record.is_dir,
                record.is_symlink(),
                record.unix_mode.map(|m| m & 0o777),
                data.len(),
            ));
        }
        assert_eq!(
            seen,
            [
                ("bin/run".to_owned(), false, false, Some(0o755), 1000),
                ("stored.txt".to_owned(), false, false, Some(0o644), 5),
                ("empty/".to_owned(), true, false, Some(0o755), 0),
                ("link".to_owned(), false, true, Some(0o755), 7),
            ]
        );
        let mut not_zip = file_of(b"hello");
        assert_eq!(read_directory(&mut not_zip).unwrap(), None);
    }

    #[test]
    fn damaged_data_fails_its_checksum() {
        let mut writer = zip::ZipWriter::new(io::Cursor::new(Vec::new()));
        writer
            .start_file(
                "a",
                zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored),
            )
            .unwrap();
        writer.write_all(b"hello world").unwrap();
        let mut bytes = writer.finish().unwrap().into_inner();
        let at = bytes.windows(5).position(|w| w == b"hello").unwrap();
        bytes[at] = b'j';
        let mut file = file_of(&bytes);
        let directory = read_directory(&mut file).unwrap().unwrap();
        let mut entries = Entries::new(&file, directory).unwrap();
        let record = entries.next_record().unwrap().unwrap();
        let error = entries
            .open(&record)
            .unwrap()
            .read_to_end(&mut Vec::new())
            .unwrap_err();
        assert!(error.to_string().contains("checksum"), "{error}");
    }
}
