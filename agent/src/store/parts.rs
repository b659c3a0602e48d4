//! Streaming uploads: a producer writes bytes through [`PartWriter`] on a blocking thread, the
//! store receives them as parts on its async task. The channel is bounded, so memory stays at a
//! few parts whatever the size of the object (an archive of 1 GiB of state is never in memory).

use std::io::{self, Write};

use bytes::{Bytes, BytesMut};
use tokio::sync::mpsc;

/// S3's smallest part (all but the last).
pub const MIN_PART_BYTES: usize = 5 << 20;
/// The part size the writer produces.
pub const PART_BYTES: usize = 8 << 20;
/// Parts buffered between producer and uploader.
const PARTS_IN_FLIGHT: usize = 2;

/// One part of an upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub bytes: Bytes,
    /// The producer finished: this is the end of the object.
    pub last: bool,
}

/// The receiving side. The channel closing before a `last` part means the producer failed: the
/// upload must be abandoned and the previous object kept.
pub type PartReceiver = mpsc::Receiver<Part>;

/// A `Write` that cuts what it receives into parts of [`PART_BYTES`].
#[derive(Debug)]
pub struct PartWriter {
    buffer: BytesMut,
    tx: mpsc::Sender<Part>,
}

/// A connected writer and receiver.
pub fn part_channel() -> (PartWriter, PartReceiver) {
    let (tx, rx) = mpsc::channel(PARTS_IN_FLIGHT);
    (
        PartWriter {
            buffer: BytesMut::with_capacity(PART_BYTES),
            tx,
        },
        rx,
    )
}

impl PartWriter {
    /// Sends the last part. Until this is called the object is incomplete: a writer dropped
    /// before `finish` (the producer failed) makes the uploader abandon the upload.
    pub fn finish(mut self) -> io::Result<()> {
        let bytes = self.buffer.split().freeze();
        self.send(Part { bytes, last: true })
    }

    fn send(&self, part: Part) -> io::Result<()> {
        self.tx
            .blocking_send(part)
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the upload was abandoned"))
    }
}

impl Write for PartWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let room = PART_BYTES - self.buffer.len();
        let taken = data.len().min(room);
        self.buffer.extend_from_slice(&data[..taken]);
        if self.buffer.len() == PART_BYTES {
            let bytes = self.buffer.split().freeze();
            self.buffer.reserve(PART_BYTES);
            self.send(Part { bytes, last: false })?;
        }
        Ok(taken)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Receives the next part; a closed channel before the last part is an error.
pub(crate) async fn next_part(parts: &mut PartReceiver) -> io::Result<Part> {
    parts.recv().await.ok_or_else(premature_end)
}

/// The error of a part stream that closed before its last part.
pub(crate) fn premature_end() -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        "the producer stopped before the end",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_into_full_parts_then_a_last_one() {
        let (mut writer, mut rx) = part_channel();
        let producer = std::thread::spawn(move || {
            writer.write_all(&vec![7u8; PART_BYTES * 2 + 10]).unwrap();
            writer.finish().unwrap();
        });
        let mut parts = Vec::new();
        while let Some(part) = rx.blocking_recv() {
            parts.push((part.bytes.len(), part.last));
        }
        producer.join().unwrap();
        assert_eq!(parts, [(PART_BYTES, false), (PART_BYTES, false), (10, true)]);
    }

    #[test]
    fn a_dropped_writer_is_not_a_complete_object() {
        let (mut writer, mut rx) = part_channel();
        std::thread::spawn(move || writer.write_all(&vec![1u8; PART_BYTES]).unwrap());
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        rt.block_on(async {
            assert!(!next_part(&mut rx).await.unwrap().last);
            assert_eq!(
                next_part(&mut rx).await.unwrap_err().kind(),
                io::ErrorKind::UnexpectedEof
            );
        });
    }
}
