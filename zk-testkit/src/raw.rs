//! A raw ZooKeeper protocol client for tests, built on `zk-proto` alone.
//!
//! Unlike a real client it keeps no session state machine, sends no pings and never retries: it sends
//! exactly the frames it is told to (including malformed bodies, unknown opcodes and bad length
//! prefixes) and hands back every frame the server sends, replies and watch notifications (xid -1)
//! apart, each in arrival order.
//!
//! ```no_run
//! # async fn demo(addr: std::net::SocketAddr) -> std::io::Result<()> {
//! use zk_proto::{GetDataRequest, Request};
//! use zk_testkit::{ConnectOptions, RawClient};
//!
//! let (mut client, session) = RawClient::connect(addr, &ConnectOptions::default()).await?;
//! let reply = client.call(1, &Request::GetData(GetDataRequest { path: "/".into(), watch: true })).await?;
//! assert_eq!(reply.header.err, 0);
//! # let _ = session; Ok(()) }
//! ```

use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use zk_proto::{
    xid, AuthPacket, ConnectRequest, ConnectResponse, DecodeError, Jute, OpCode, ReplyHeader, Request, RequestHeader,
    Response, WatcherEvent,
};

/// The largest frame the client reads (larger than any server sends).
const MAX_READ_FRAME: usize = 64 << 20;

/// Parameters of the connect handshake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectOptions {
    /// The requested session timeout in ms.
    pub timeout_ms: i32,
    /// 0 for a new session, else the session to resume.
    pub session_id: i64,
    /// The session password (16 zero bytes for a new session).
    pub passwd: Bytes,
    /// The highest zxid the client has seen.
    pub last_zxid_seen: i64,
    /// The optional trailing read-only flag (`None` sends none, as a pre-3.4 client).
    pub read_only: Option<bool>,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            timeout_ms: 4000,
            session_id: 0,
            passwd: Bytes::from_static(&[0; 16]),
            last_zxid_seen: 0,
            read_only: Some(false),
        }
    }
}

impl ConnectOptions {
    /// Options that resume the session a [`ConnectResponse`] granted.
    pub fn resume(session: &ConnectResponse, last_zxid_seen: i64) -> ConnectOptions {
        ConnectOptions {
            timeout_ms: session.time_out,
            session_id: session.session_id,
            passwd: session.passwd.clone(),
            last_zxid_seen,
            read_only: Some(false),
        }
    }

    /// The handshake record.
    pub fn request(&self) -> ConnectRequest {
        ConnectRequest {
            protocol_version: 0,
            last_zxid_seen: self.last_zxid_seen,
            time_out: self.timeout_ms,
            session_id: self.session_id,
            passwd: self.passwd.clone(),
            read_only: self.read_only,
        }
    }
}

/// One reply (any frame whose xid is not -1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The reply header.
    pub header: ReplyHeader,
    /// The opcode of the request this reply answers (matched by xid), if known.
    pub op: Option<OpCode>,
    /// The decoded body: present when `err == 0`, the opcode is known and the body decoded.
    pub body: Option<Response>,
    /// The body bytes as received (after the header).
    pub raw_body: Bytes,
    /// Why the body did not decode, when it did not.
    pub decode_error: Option<DecodeError>,
}

/// A watch notification: the header (xid -1) and the event.
pub type Notification = (ReplyHeader, WatcherEvent);

/// A raw client connection (see the module docs).
#[derive(Debug)]
pub struct RawClient {
    stream: TcpStream,
    read_buf: BytesMut,
    /// Sent requests awaiting replies: (xid, opcode).
    expecting: VecDeque<(i32, Option<OpCode>)>,
    notifications: VecDeque<Notification>,
    replies: VecDeque<Reply>,
    last_zxid: i64,
    eof: bool,
    timeout: Duration,
}

impl RawClient {
    /// Opens a TCP connection without any handshake.
    pub async fn open(addr: SocketAddr) -> io::Result<RawClient> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(RawClient {
            stream,
            read_buf: BytesMut::with_capacity(64 * 1024),
            expecting: VecDeque::new(),
            notifications: VecDeque::new(),
            replies: VecDeque::new(),
            last_zxid: 0,
            eof: false,
            timeout: Duration::from_secs(10),
        })
    }

    /// Opens a connection and performs the handshake. A refused session (timeout 0) is returned as
    /// received, not as an error.
    pub async fn connect(addr: SocketAddr, options: &ConnectOptions) -> io::Result<(RawClient, ConnectResponse)> {
        let mut client = RawClient::open(addr).await?;
        client.send_connect(&options.request()).await?;
        let response = client.recv_connect().await?;
        Ok((client, response))
    }

    /// How long a receive waits before failing with `TimedOut` (default 10 s).
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    /// The highest zxid seen in a reply header so far.
    pub fn last_zxid(&self) -> i64 {
        self.last_zxid
    }

    /// Sends a connect request.
    pub async fn send_connect(&mut self, request: &ConnectRequest) -> io::Result<()> {
        self.send_frame(&request.to_bytes()).await
    }

    /// Reads the connect response.
    pub async fn recv_connect(&mut self) -> io::Result<ConnectResponse> {
        let mut frame = self.read_frame(self.timeout).await?.ok_or_else(eof)?;
        ConnectResponse::decode(&mut frame).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    }

    /// Sends `request` with `xid` (the opcode is the request's own).
    pub async fn send(&mut self, xid: i32, request: &Request) -> io::Result<()> {
        let mut frame = BytesMut::new();
        RequestHeader { xid, op_code: request.op_code().code() }.encode(&mut frame);
        request.encode(&mut frame);
        self.expecting.push_back((xid, Some(request.op_code())));
        self.send_frame(&frame).await
    }

    /// Sends a header with any opcode followed by arbitrary body bytes.
    pub async fn send_raw(&mut self, xid: i32, op_code: i32, body: &[u8]) -> io::Result<()> {
        let mut frame = BytesMut::new();
        RequestHeader { xid, op_code }.encode(&mut frame);
        frame.put_slice(body);
        self.expecting.push_back((xid, OpCode::try_from(op_code).ok()));
        self.send_frame(&frame).await
    }

    /// Sends one frame: a length prefix and `payload`.
    pub async fn send_frame(&mut self, payload: &[u8]) -> io::Result<()> {
        let mut frame = BytesMut::with_capacity(4 + payload.len());
        frame.put_i32(i32::try_from(payload.len()).map_err(|_| io::Error::other("frame too long"))?);
        frame.put_slice(payload);
        self.send_bytes(&frame).await
    }

    /// Writes bytes as they are (e.g. a lying length prefix).
    pub async fn send_bytes(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes).await?;
        self.stream.flush().await
    }

    /// Sends `request` and waits for the next reply.
    pub async fn call(&mut self, xid: i32, request: &Request) -> io::Result<Reply> {
        self.send(xid, request).await?;
        self.recv().await
    }

    /// Sends an auth packet (xid -4) and waits for its reply.
    pub async fn auth(&mut self, scheme: &str, auth: &[u8]) -> io::Result<Reply> {
        let packet = AuthPacket { auth_type: 0, scheme: scheme.into(), auth: Bytes::copy_from_slice(auth) };
        self.call(xid::AUTH, &Request::Auth(packet)).await
    }

    /// The next reply (notifications that arrive first are kept for [`Self::notifications`]). Fails
    /// with `UnexpectedEof` when the server closed the connection.
    pub async fn recv(&mut self) -> io::Result<Reply> {
        loop {
            if let Some(reply) = self.replies.pop_front() {
                return Ok(reply);
            }
            let frame = self.read_frame(self.timeout).await?.ok_or_else(eof)?;
            self.on_frame(frame)?;
        }
    }

    /// The notifications received so far plus those arriving within `wait`, in order.
    pub async fn notifications(&mut self, wait: Duration) -> io::Result<Vec<Notification>> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() || self.eof {
                break;
            }
            match self.read_frame(left).await {
                Ok(Some(frame)) => self.on_frame(frame)?,
                Ok(None) => break,
                Err(err) if err.kind() == io::ErrorKind::TimedOut => break,
                Err(err) => return Err(err),
            }
        }
        Ok(self.notifications.drain(..).collect())
    }

    /// Waits up to `wait` for the server to close the connection; frames read meanwhile are kept.
    /// A reset counts as closed.
    pub async fn closed_by_server(&mut self, wait: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + wait;
        while !self.eof {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return false;
            }
            match self.read_frame(left).await {
                Ok(Some(frame)) => {
                    if self.on_frame(frame).is_err() {
                        return true;
                    }
                }
                Ok(None) => return true,
                Err(err) => return err.kind() != io::ErrorKind::TimedOut,
            }
        }
        true
    }

    fn on_frame(&mut self, mut frame: Bytes) -> io::Result<()> {
        let header = ReplyHeader::decode(&mut frame).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        if header.xid == xid::NOTIFICATION {
            let event = WatcherEvent::decode(&mut frame).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            self.notifications.push_back((header, event));
            return Ok(());
        }
        if header.zxid > self.last_zxid {
            self.last_zxid = header.zxid;
        }
        let op = match self.expecting.iter().position(|&(x, _)| x == header.xid) {
            Some(i) => self.expecting.remove(i).and_then(|(_, op)| op),
            None => None,
        };
        let raw_body = frame.clone();
        let (body, decode_error) = match op {
            Some(op) if header.err == 0 => match Response::decode(op, &mut frame) {
                Ok(body) => (Some(body), None),
                Err(err) => (None, Some(err)),
            },
            _ => (None, None),
        };
        self.replies.push_back(Reply { header, op, body, raw_body, decode_error });
        Ok(())
    }

    /// Reads one frame payload; `Ok(None)` at a clean end of stream.
    async fn read_frame(&mut self, wait: Duration) -> io::Result<Option<Bytes>> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if self.read_buf.len() >= 4 {
                let len = i32::from_be_bytes([self.read_buf[0], self.read_buf[1], self.read_buf[2], self.read_buf[3]]);
                let len = usize::try_from(len)
                    .ok()
                    .filter(|&len| len <= MAX_READ_FRAME)
                    .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, format!("frame length {len}")))?;
                if self.read_buf.len() >= 4 + len {
                    self.read_buf.advance(4);
                    return Ok(Some(self.read_buf.split_to(len).freeze()));
                }
            }
            if self.eof {
                return Ok(None);
            }
            let read = tokio::time::timeout_at(deadline, self.stream.read_buf(&mut self.read_buf)).await;
            match read {
                Err(_) => return Err(io::Error::new(io::ErrorKind::TimedOut, "no frame from the server")),
                Ok(Ok(0)) => self.eof = true,
                Ok(Ok(_)) => {}
                Ok(Err(err)) if err.kind() == io::ErrorKind::ConnectionReset => self.eof = true,
                Ok(Err(err)) => return Err(err),
            }
        }
    }

    /// Shuts the connection down without closing the session (the session lives on until it expires
    /// or a client resumes it).
    pub async fn disconnect(mut self) {
        let _ = self.stream.shutdown().await;
    }
}

fn eof() -> io::Error {
    io::Error::new(io::ErrorKind::UnexpectedEof, "the server closed the connection")
}
