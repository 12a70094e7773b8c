//! One client connection: four-letter-word detection, the connect handshake, request decoding, and the
//! ordered writer for everything the core sends back.

use std::net::SocketAddr;

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, info_span, Instrument};
use zk_proto::{write_frame, ConnectRequest, FrameCodec, Jute, Request, RequestHeader};

use super::event::{ConnId, Event, Outbound};
use super::four_letter;

/// Why a connection ended.
#[derive(Debug, thiserror::Error)]
pub enum ConnectionError {
    /// The peer sent bytes that cannot be a ZooKeeper frame (bad length, bad handshake or header).
    #[error("protocol error: {0}")]
    Protocol(#[from] zk_proto::DecodeError),
    /// The socket failed.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
}

/// Serves one accepted socket until it closes. The core learns of the end through `Event::Closed`.
pub async fn serve<S>(socket: S, conn: ConnId, peer: SocketAddr, max_frame: usize, core: mpsc::UnboundedSender<Event>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let span = info_span!("connection", conn, %peer);
    async move {
        match run(socket, conn, peer, max_frame, &core).await {
            Ok(()) => debug!("connection closed"),
            Err(err) => tracing::info!(%err, "closing connection"),
        }
        let _ = core.send(Event::Closed { conn });
    }
    .instrument(span)
    .await
}

async fn run<S>(
    socket: S,
    conn: ConnId,
    peer: SocketAddr,
    max_frame: usize,
    core: &mpsc::UnboundedSender<Event>,
) -> Result<(), ConnectionError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut reader, mut writer) = tokio::io::split(socket);
    let codec = FrameCodec::new(max_frame);
    let mut buf = BytesMut::with_capacity(4096);

    // The first four bytes are either a frame length or a four-letter word.
    while buf.len() < 4 {
        if reader.read_buf(&mut buf).await? == 0 {
            return Ok(());
        }
    }
    let first: [u8; 4] = [buf[0], buf[1], buf[2], buf[3]];
    if four_letter::is_command(&first) {
        buf.advance(4);
        let (reply, text) = oneshot::channel();
        if core.send(Event::FourLetter { command: first, peer, reply }).is_ok() {
            if let Ok(text) = text.await {
                writer.write_all(text.as_bytes()).await?;
            }
        }
        writer.shutdown().await?;
        return Ok(());
    }

    // The handshake: a ConnectRequest frame without a request header.
    let frame = next_frame(&mut reader, &mut buf, &codec).await?;
    let Some(mut frame) = frame else { return Ok(()) };
    let request = ConnectRequest::decode(&mut frame)?;
    let (out_tx, out_rx) = mpsc::unbounded_channel();
    if core.send(Event::Connect { conn, peer, request, out: out_tx }).is_err() {
        return Ok(());
    }
    let mut writer_task = tokio::spawn(write_loop(writer, out_rx));

    let result = loop {
        tokio::select! {
            frame = next_frame(&mut reader, &mut buf, &codec) => {
                let mut frame = match frame {
                    Ok(Some(frame)) => frame,
                    Ok(None) => break Ok(()),
                    Err(err) => break Err(err),
                };
                let size = frame.len() + 4;
                let header = match RequestHeader::decode(&mut frame) {
                    Ok(header) => header,
                    Err(err) => break Err(err.into()),
                };
                let body = Request::decode_raw(header.op_code, &mut frame);
                let event = Event::Request { conn, xid: header.xid, op_code: header.op_code, body, size };
                if core.send(event).is_err() {
                    break Ok(());
                }
            }
            // The writer ends when the core closes the connection (after flushing its last frames).
            _ = &mut writer_task => return Ok(()),
        }
    };
    writer_task.abort();
    result
}

/// The free space ensured before each read: a whole 1 KiB request fits, so it is not cut in two by a
/// nearly full buffer and read with two `recv`s.
const READ_ROOM: usize = 4096;

/// Reads the next frame payload; `None` on a clean end of stream between frames.
async fn next_frame<R: AsyncRead + Unpin>(
    reader: &mut R,
    buf: &mut BytesMut,
    codec: &FrameCodec,
) -> Result<Option<bytes::Bytes>, ConnectionError> {
    loop {
        let mut room = READ_ROOM;
        if let Some(len) = codec.peek_len(buf)? {
            if buf.len() >= 4 + len {
                buf.advance(4);
                return Ok(Some(buf.split_to(len).freeze()));
            }
            room = room.max(4 + len - buf.len());
        }
        // One reserve for both: the rest of a frame begun, and room for a whole small request.
        buf.reserve(room);
        if reader.read_buf(buf).await? == 0 {
            if buf.is_empty() {
                return Ok(None);
            }
            return Err(std::io::Error::from(std::io::ErrorKind::UnexpectedEof).into());
        }
    }
}

/// Writes frames in the order the core queued them, coalescing whatever is queued into one write.
async fn write_loop<W: AsyncWrite + Unpin>(
    mut writer: W,
    mut rx: mpsc::UnboundedReceiver<Outbound>,
) -> std::io::Result<()> {
    let mut out = BytesMut::with_capacity(64 * 1024);
    while let Some(first) = rx.recv().await {
        let mut close = false;
        let mut next = Some(first);
        while let Some(item) = next {
            match item {
                Outbound::Frame(payload) => {
                    // The core only queues frames it built itself; the limit is not ours to enforce here.
                    write_frame(&mut out, usize::MAX, |b| b.extend_from_slice(&payload)).expect("unbounded frame");
                }
                Outbound::Close => {
                    close = true;
                    break;
                }
            }
            if out.len() >= 256 * 1024 {
                break;
            }
            next = rx.try_recv().ok();
        }
        writer.write_all(&out).await?;
        out.clear();
        if close {
            writer.shutdown().await?;
            return Ok(());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use tokio::io::ReadBuf;

    use super::*;

    /// Hands out `data` as fast as the reader takes it, recording the room each read offered.
    struct Recording {
        data: Vec<u8>,
        offered: Vec<usize>,
    }

    impl AsyncRead for Recording {
        fn poll_read(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<std::io::Result<()>> {
            self.offered.push(buf.remaining());
            let n = buf.remaining().min(self.data.len());
            let rest = self.data.split_off(n);
            buf.put_slice(&self.data);
            self.data = rest;
            Poll::Ready(Ok(()))
        }
    }

    #[tokio::test]
    async fn every_read_has_room_for_a_whole_small_request() {
        // 40 frames of 1100 bytes each, read one after another through the same buffer.
        let mut data = Vec::new();
        for i in 0..40u8 {
            data.extend_from_slice(&1100u32.to_be_bytes());
            data.extend_from_slice(&[i; 1100]);
        }
        let mut reader = Recording { data, offered: Vec::new() };
        let mut buf = BytesMut::with_capacity(4096);
        let codec = FrameCodec::new(1 << 20);
        for i in 0..40u8 {
            let frame = next_frame(&mut reader, &mut buf, &codec).await.unwrap().unwrap();
            assert_eq!(frame.len(), 1100);
            assert!(frame.iter().all(|&b| b == i));
        }
        assert!(next_frame(&mut reader, &mut buf, &codec).await.unwrap().is_none());
        assert!(reader.offered.iter().all(|&room| room >= READ_ROOM), "room offered: {:?}", reader.offered);
    }
}
