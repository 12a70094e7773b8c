//! Jute primitives over byte streams with a running Adler32, like Java's `CheckedInputStream` /
//! `CheckedOutputStream` under a `BinaryInputArchive` / `BinaryOutputArchive`.
//!
//! The reader never trusts a length: strings and buffers are capped by a limit, and storage grows only
//! as bytes actually arrive, so a corrupt length cannot make it allocate more than the stream holds.

use std::io::{self, Read, Write};

use adler2::Adler32;
use bytes::Bytes;

use super::error::{PersistError, Result};

/// The largest string or buffer ZooKeeper's reader accepts by default: `jute.maxbuffer` (0xfffff) plus
/// `zookeeper.jute.maxbuffer.extrasize` (defaults to the same).
pub const DEFAULT_MAX_FIELD_LEN: usize = 2 * 0xfffff;

/// How a read ended early.
#[derive(Debug)]
pub(crate) enum ReadFault {
    /// The stream ended inside a field.
    Eof,
    /// An I/O error.
    Io(io::Error),
    /// Bytes that cannot be valid.
    Invalid(String),
}

impl ReadFault {
    /// Converts into a [`PersistError`] for a stream named `context` at `offset`.
    pub(crate) fn into_error(self, context: &str, offset: u64) -> PersistError {
        match self {
            ReadFault::Eof => PersistError::corrupt(context, offset, "unexpected end of data"),
            ReadFault::Io(e) => PersistError::io(context, e),
            ReadFault::Invalid(reason) => PersistError::corrupt(context, offset, reason),
        }
    }
}

/// Reads jute primitives from `R`, keeping the Adler32 of everything read and the byte position.
#[derive(Debug)]
pub(crate) struct CheckedReader<R> {
    inner: R,
    adler: Adler32,
    position: u64,
    max_field_len: usize,
}

impl<R: Read> CheckedReader<R> {
    /// A reader at position 0 with a fresh checksum.
    pub(crate) fn new(inner: R, max_field_len: usize) -> Self {
        CheckedReader { inner, adler: Adler32::new(), position: 0, max_field_len }
    }

    /// A reader whose checksum continues from `checksum` (the value after earlier bytes).
    pub(crate) fn resume(inner: R, checksum: u32, position: u64, max_field_len: usize) -> Self {
        CheckedReader { inner, adler: Adler32::from_checksum(checksum), position, max_field_len }
    }

    /// The Adler32 of every byte read so far.
    pub(crate) fn checksum(&self) -> u32 {
        self.adler.checksum()
    }

    /// Bytes consumed so far.
    pub(crate) fn position(&self) -> u64 {
        self.position
    }

    /// Fills `buf`; [`ReadFault::Eof`] if the stream ends first.
    pub(crate) fn read_exact(&mut self, buf: &mut [u8]) -> Result<(), ReadFault> {
        let mut filled = 0;
        while filled < buf.len() {
            match self.inner.read(&mut buf[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(ReadFault::Io(e)),
            }
        }
        self.adler.write_slice(&buf[..filled]);
        self.position += filled as u64;
        if filled < buf.len() {
            return Err(ReadFault::Eof);
        }
        Ok(())
    }

    /// Reads up to `limit` bytes until the end of the stream, without checksumming them.
    pub(crate) fn read_rest_raw(&mut self, limit: usize) -> Result<Vec<u8>, ReadFault> {
        let mut rest = Vec::new();
        (&mut self.inner).take(limit as u64 + 1).read_to_end(&mut rest).map_err(ReadFault::Io)?;
        if rest.len() > limit {
            return Err(ReadFault::Invalid(format!("more than {limit} bytes after the last section")));
        }
        Ok(rest)
    }

    pub(crate) fn read_u8(&mut self) -> Result<u8, ReadFault> {
        let mut b = [0u8; 1];
        self.read_exact(&mut b)?;
        Ok(b[0])
    }

    pub(crate) fn read_i32(&mut self) -> Result<i32, ReadFault> {
        let mut b = [0u8; 4];
        self.read_exact(&mut b)?;
        Ok(i32::from_be_bytes(b))
    }

    pub(crate) fn read_i64(&mut self) -> Result<i64, ReadFault> {
        let mut b = [0u8; 8];
        self.read_exact(&mut b)?;
        Ok(i64::from_be_bytes(b))
    }

    /// Reads exactly `len` bytes, growing storage only as they arrive.
    pub(crate) fn read_bytes(&mut self, len: usize) -> Result<Vec<u8>, ReadFault> {
        const CHUNK: usize = 64 * 1024;
        let mut out = Vec::with_capacity(len.min(CHUNK));
        while out.len() < len {
            let start = out.len();
            let step = (len - start).min(CHUNK);
            out.resize(start + step, 0);
            self.read_exact(&mut out[start..])?;
        }
        Ok(out)
    }

    /// A jute `buffer`: `None` for the null marker -1.
    pub(crate) fn read_buffer(&mut self) -> Result<Option<Bytes>, ReadFault> {
        let len = self.read_i32()?;
        if len == -1 {
            return Ok(None);
        }
        if len < 0 || len as usize > self.max_field_len {
            return Err(ReadFault::Invalid(format!("unreasonable length {len}")));
        }
        Ok(Some(Bytes::from(self.read_bytes(len as usize)?)))
    }

    /// A jute `ustring`: `None` for the null marker -1.
    pub(crate) fn read_string(&mut self) -> Result<Option<String>, ReadFault> {
        match self.read_buffer()? {
            None => Ok(None),
            Some(raw) => {
                String::from_utf8(raw.to_vec()).map(Some).map_err(|_| ReadFault::Invalid("string is not UTF-8".into()))
            }
        }
    }

    /// A jute vector count: `None` for null, an error for other negatives.
    pub(crate) fn read_count(&mut self) -> Result<Option<usize>, ReadFault> {
        match self.read_i32()? {
            -1 => Ok(None),
            n if n < 0 => Err(ReadFault::Invalid(format!("negative count {n}"))),
            n => Ok(Some(n as usize)),
        }
    }

    /// The wrapped reader (reads through it bypass the checksum and position).
    pub(crate) fn inner_mut(&mut self) -> &mut R {
        &mut self.inner
    }
}

/// Writes bytes to `W`, keeping the Adler32 of everything written.
#[derive(Debug)]
pub(crate) struct CheckedWriter<W> {
    inner: W,
    adler: Adler32,
    position: u64,
}

impl<W: Write> CheckedWriter<W> {
    pub(crate) fn new(inner: W) -> Self {
        CheckedWriter { inner, adler: Adler32::new(), position: 0 }
    }

    /// The Adler32 of every byte written so far.
    pub(crate) fn checksum(&self) -> u32 {
        self.adler.checksum()
    }

    /// Writes all of `bytes`.
    pub(crate) fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.inner.write_all(bytes)?;
        self.adler.write_slice(bytes);
        self.position += bytes.len() as u64;
        Ok(())
    }

    /// The wrapped writer.
    pub(crate) fn into_inner(self) -> W {
        self.inner
    }

    /// The wrapped writer, by reference.
    pub(crate) fn get_mut(&mut self) -> &mut W {
        &mut self.inner
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_huge_length_fails_without_allocating_it() {
        let mut r = CheckedReader::new(&[0x7f, 0xff, 0xff, 0xff, 1, 2][..], usize::MAX);
        assert!(matches!(r.read_buffer(), Err(ReadFault::Eof)));
        let mut r = CheckedReader::new(&[0x7f, 0xff, 0xff, 0xff][..], DEFAULT_MAX_FIELD_LEN);
        assert!(matches!(r.read_buffer(), Err(ReadFault::Invalid(_))));
    }

    #[test]
    fn checksum_matches_adler32_of_the_bytes_read() {
        let data = b"\x00\x00\x00\x03abc";
        let mut r = CheckedReader::new(&data[..], 16);
        assert_eq!(r.read_string().unwrap().as_deref(), Some("abc"));
        assert_eq!(r.checksum(), adler2::adler32_slice(data));
        assert_eq!(r.position(), 7);
        let mut w = CheckedWriter::new(Vec::new());
        w.write_all(data).unwrap();
        assert_eq!(w.checksum(), r.checksum());
    }
}
