//! A lean ZooKeeper session over one TCP connection: the connect handshake, then requests queued into
//! a write buffer (pipelined), flushed together, and replies read one frame at a time.
//!
//! Replies come back in request order on a connection, so callers match them FIFO; notifications
//! (xid -1) and pings (xid -2) are reported as their own [`Frame`] kinds.

use std::io;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::codec::Decoder as _;
use zk_proto::{
    write_frame, xid, ConnectRequest, ConnectResponse, ErrorCode, FrameCodec, Jute, ReplyHeader, Request,
    RequestHeader, WatcherEvent, DEFAULT_MAX_FRAME,
};

/// A session-level failure.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The transport failed or the peer closed the connection.
    #[error("I/O: {0}")]
    Io(#[from] io::Error),
    /// The peer sent bytes that do not decode.
    #[error("protocol: {0}")]
    Protocol(String),
    /// The server refused or expired the session.
    #[error("session expired or refused")]
    Expired,
    /// No answer in time.
    #[error("timed out")]
    Timeout,
}

/// One frame from the server.
#[derive(Debug)]
pub enum Frame {
    /// The reply to a request: its header and undecoded body.
    Reply(ReplyHeader, Bytes),
    /// A watch notification.
    Event(WatcherEvent),
    /// A ping reply.
    Ping,
}

/// One connected session.
#[derive(Debug)]
pub struct Session {
    stream: TcpStream,
    rbuf: BytesMut,
    wbuf: BytesMut,
    codec: FrameCodec,
    next_xid: i32,
    /// The session id the server assigned.
    pub session_id: i64,
    /// The session password.
    pub passwd: Bytes,
    /// The negotiated timeout in ms.
    pub timeout_ms: i32,
}

impl Session {
    /// Connects to `addr` and establishes a new session (or resumes `resume`: id and password).
    pub async fn connect(addr: &str, timeout_ms: i32, resume: Option<(i64, Bytes)>) -> Result<Session, SessionError> {
        let connect = async {
            let stream = TcpStream::connect(addr).await?;
            stream.set_nodelay(true)?;
            let (session_id, passwd) = resume.unwrap_or((0, Bytes::from_static(&[0; 16])));
            let mut session = Session {
                stream,
                rbuf: BytesMut::with_capacity(64 * 1024),
                wbuf: BytesMut::with_capacity(64 * 1024),
                codec: FrameCodec::new(DEFAULT_MAX_FRAME * 16),
                next_xid: 1,
                session_id: 0,
                passwd: Bytes::new(),
                timeout_ms: 0,
            };
            let request = ConnectRequest {
                protocol_version: 0,
                last_zxid_seen: 0,
                time_out: timeout_ms,
                session_id,
                passwd,
                read_only: Some(false),
            };
            write_frame(&mut session.wbuf, DEFAULT_MAX_FRAME, |buf| request.encode(buf))
                .map_err(|e| SessionError::Protocol(e.to_string()))?;
            session.flush().await?;
            let mut frame = session.read_raw().await?;
            let response = ConnectResponse::decode(&mut frame).map_err(|e| SessionError::Protocol(e.to_string()))?;
            if response.time_out <= 0 {
                return Err(SessionError::Expired);
            }
            session.session_id = response.session_id;
            session.passwd = response.passwd;
            session.timeout_ms = response.time_out;
            Ok(session)
        };
        match tokio::time::timeout(Duration::from_millis(timeout_ms.max(1000) as u64), connect).await {
            Ok(result) => result,
            Err(_) => Err(SessionError::Timeout),
        }
    }

    /// Queues `request` in the write buffer (not yet sent) and returns its xid.
    pub fn queue(&mut self, request: &Request) -> i32 {
        let xid = self.next_xid;
        self.next_xid = if self.next_xid == i32::MAX { 1 } else { self.next_xid + 1 };
        self.queue_with_xid(xid, request);
        xid
    }

    fn queue_with_xid(&mut self, xid: i32, request: &Request) {
        let header = RequestHeader { xid, op_code: request.op_code().code() };
        // Requests built by the workloads are far below the frame limit.
        let _ = write_frame(&mut self.wbuf, DEFAULT_MAX_FRAME, |buf| {
            header.encode(buf);
            request.encode(buf);
        });
    }

    /// Queues a ping.
    pub fn queue_ping(&mut self) {
        self.queue_with_xid(xid::PING, &Request::Ping);
    }

    /// Whether anything is queued but not flushed.
    pub fn has_pending_writes(&self) -> bool {
        !self.wbuf.is_empty()
    }

    /// Sends everything queued.
    pub async fn flush(&mut self) -> io::Result<()> {
        if !self.wbuf.is_empty() {
            self.stream.write_all(&self.wbuf).await?;
            self.wbuf.clear();
        }
        Ok(())
    }

    async fn read_raw(&mut self) -> Result<Bytes, SessionError> {
        loop {
            if let Some(frame) = self.try_decode()? {
                return Ok(frame);
            }
            if self.stream.read_buf(&mut self.rbuf).await? == 0 {
                return Err(SessionError::Io(io::ErrorKind::UnexpectedEof.into()));
            }
        }
    }

    fn try_decode(&mut self) -> Result<Option<Bytes>, SessionError> {
        self.codec.decode(&mut self.rbuf).map_err(|e| SessionError::Protocol(e.to_string()))
    }

    /// Reads the next frame. Cancel-safe: bytes read before a cancellation stay buffered.
    pub async fn read(&mut self) -> Result<Frame, SessionError> {
        let mut frame = self.read_raw().await?;
        let header = ReplyHeader::decode(&mut frame).map_err(|e| SessionError::Protocol(e.to_string()))?;
        match header.xid {
            xid::NOTIFICATION => {
                let event = WatcherEvent::decode(&mut frame).map_err(|e| SessionError::Protocol(e.to_string()))?;
                Ok(Frame::Event(event))
            }
            xid::PING => Ok(Frame::Ping),
            _ => Ok(Frame::Reply(header, frame)),
        }
    }

    /// Sends one request and waits for its reply, skipping pings; notifications that arrive meanwhile
    /// are handed to `on_event`.
    pub async fn call_with(
        &mut self,
        request: &Request,
        mut on_event: impl FnMut(WatcherEvent),
    ) -> Result<(ErrorCode, Bytes), SessionError> {
        let xid = self.queue(request);
        self.flush().await?;
        loop {
            match self.read().await? {
                Frame::Reply(header, body) if header.xid == xid => return Ok((ErrorCode::from_code(header.err), body)),
                Frame::Reply(header, _) => {
                    return Err(SessionError::Protocol(format!("reply xid {} while waiting for {xid}", header.xid)))
                }
                Frame::Event(event) => on_event(event),
                Frame::Ping => {}
            }
        }
    }

    /// [`Session::call_with`] ignoring notifications.
    pub async fn call(&mut self, request: &Request) -> Result<(ErrorCode, Bytes), SessionError> {
        self.call_with(request, |_| {}).await
    }

    /// Closes the session (`closeSession`, waiting for its reply) and the connection.
    pub async fn close(mut self) -> Result<(), SessionError> {
        self.call(&Request::CloseSession).await?;
        Ok(())
    }

    /// Drops the connection without closing the session (it expires after its timeout).
    pub fn abandon(self) {}
}
