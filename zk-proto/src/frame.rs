//! Length-prefixed framing: every message is a 4-byte big-endian length, then that many bytes.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

use crate::error::DecodeError;

/// ZooKeeper's default `jute.maxbuffer`: the largest frame either side accepts (1 MiB - 1).
pub const DEFAULT_MAX_FRAME: usize = 0xfffff;

/// A `tokio_util` codec for ZooKeeper's client framing, yielding each frame's payload as [`Bytes`].
///
/// A declared length that is negative or above `max_frame` is an error before any of the payload is
/// buffered, so a hostile peer cannot make the reader allocate beyond `max_frame`.
#[derive(Debug, Clone, Copy)]
pub struct FrameCodec {
    max_frame: usize,
}

impl Default for FrameCodec {
    fn default() -> Self {
        FrameCodec::new(DEFAULT_MAX_FRAME)
    }
}

impl FrameCodec {
    /// A codec accepting frames up to `max_frame` bytes.
    pub fn new(max_frame: usize) -> FrameCodec {
        FrameCodec { max_frame }
    }

    /// The largest accepted payload.
    pub fn max_frame(&self) -> usize {
        self.max_frame
    }

    /// Peeks at a frame's declared length: `Ok(None)` if fewer than 4 bytes are buffered.
    pub fn peek_len(&self, src: &[u8]) -> Result<Option<usize>, DecodeError> {
        let Some(prefix) = src.get(..4) else {
            return Ok(None);
        };
        let len = i32::from_be_bytes([prefix[0], prefix[1], prefix[2], prefix[3]]);
        match usize::try_from(len) {
            Ok(len) if len <= self.max_frame => Ok(Some(len)),
            _ => Err(DecodeError::FrameLength { len: i64::from(len), max: self.max_frame }),
        }
    }
}

impl Decoder for FrameCodec {
    type Item = Bytes;
    type Error = FrameError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Bytes>, FrameError> {
        let Some(len) = self.peek_len(src)? else {
            return Ok(None);
        };
        if src.len() < 4 + len {
            src.reserve(4 + len - src.len());
            return Ok(None);
        }
        src.advance(4);
        Ok(Some(src.split_to(len).freeze()))
    }
}

impl Encoder<Bytes> for FrameCodec {
    type Error = FrameError;

    fn encode(&mut self, payload: Bytes, dst: &mut BytesMut) -> Result<(), FrameError> {
        write_frame(dst, self.max_frame, |buf| buf.put_slice(&payload))
    }
}

/// Appends one frame to `dst`: reserves the length prefix, lets `fill` write the payload in place, then
/// patches the length. Fails (and leaves `dst` as it was) if the payload exceeds `max_frame`.
pub fn write_frame(dst: &mut BytesMut, max_frame: usize, fill: impl FnOnce(&mut BytesMut)) -> Result<(), FrameError> {
    let start = dst.len();
    dst.put_i32(0);
    fill(dst);
    let len = dst.len() - start - 4;
    if len > max_frame {
        dst.truncate(start);
        return Err(DecodeError::FrameLength { len: len as i64, max: max_frame }.into());
    }
    dst[start..start + 4].copy_from_slice(&(len as i32).to_be_bytes());
    Ok(())
}

/// A framing failure: bad bytes from the peer, or an I/O error underneath.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The peer sent an unacceptable frame.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// The transport failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_frames_and_waits_for_partial_ones() {
        let mut codec = FrameCodec::default();
        let mut buf = BytesMut::from(&[0, 0, 0, 2, b'h', b'i', 0, 0, 0, 3, b'a'][..]);
        assert_eq!(codec.decode(&mut buf).unwrap().as_deref(), Some(&b"hi"[..]));
        assert_eq!(codec.decode(&mut buf).unwrap(), None);
        buf.extend_from_slice(b"bc");
        assert_eq!(codec.decode(&mut buf).unwrap().as_deref(), Some(&b"abc"[..]));
        assert!(buf.is_empty());
    }

    #[test]
    fn rejects_negative_and_oversized_lengths() {
        let mut codec = FrameCodec::new(16);
        let mut negative = BytesMut::from(&[0xff, 0xff, 0xff, 0xfe][..]);
        assert!(matches!(
            codec.decode(&mut negative),
            Err(FrameError::Decode(DecodeError::FrameLength { len: -2, .. }))
        ));
        let mut big = BytesMut::from(&[0, 0, 0, 17][..]);
        assert!(matches!(codec.decode(&mut big), Err(FrameError::Decode(DecodeError::FrameLength { len: 17, .. }))));
    }

    #[test]
    fn encoder_enforces_the_limit_and_leaves_the_buffer_intact() {
        let mut codec = FrameCodec::new(4);
        let mut dst = BytesMut::new();
        codec.encode(Bytes::from_static(b"ok"), &mut dst).unwrap();
        assert_eq!(&dst[..], &[0, 0, 0, 2, b'o', b'k']);
        assert!(codec.encode(Bytes::from_static(b"too long"), &mut dst).is_err());
        assert_eq!(dst.len(), 6);
    }
}
