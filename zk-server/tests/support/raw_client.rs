//! A blocking ZooKeeper client on `zk-proto`: the handshake, then requests pipelined on one connection.
//! It is deliberately minimal (no reconnects, no watches) so the tests see exactly what the server
//! acknowledged.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use zk_proto::{
    perms, Acl, ConnectRequest, ConnectResponse, CreateRequest, ErrorCode, GetChildrenRequest, GetDataRequest, Id,
    Jute, OpCode, ReplyHeader, Request, RequestHeader, Response,
};

/// `world:anyone` with every permission.
pub fn open_acl() -> Vec<Acl> {
    vec![Acl { perms: perms::ALL, id: Id { scheme: "world".into(), id: "anyone".into() } }]
}

/// A plain persistent create.
pub fn create(path: &str, data: &[u8]) -> Request {
    Request::Create(CreateRequest {
        path: path.into(),
        data: Some(Bytes::copy_from_slice(data)),
        acl: open_acl(),
        flags: 0,
    })
}

/// Writes one frame: `header` then `body`.
pub fn write_request(stream: &mut TcpStream, xid: i32, request: &Request) -> io::Result<()> {
    let mut payload = BytesMut::new();
    RequestHeader { xid, op_code: request.op_code().code() }.encode(&mut payload);
    request.encode(&mut payload);
    let mut frame = (payload.len() as i32).to_be_bytes().to_vec();
    frame.extend_from_slice(&payload);
    stream.write_all(&frame)
}

/// Reads one frame's payload.
pub fn read_frame(stream: &mut TcpStream) -> io::Result<Bytes> {
    let mut len = [0u8; 4];
    stream.read_exact(&mut len)?;
    let len = i32::from_be_bytes(len);
    if !(0..=0xfffff).contains(&len) {
        return Err(io::Error::new(io::ErrorKind::InvalidData, format!("frame length {len}")));
    }
    let mut payload = vec![0u8; len as usize];
    stream.read_exact(&mut payload)?;
    Ok(Bytes::from(payload))
}

/// Reads the next reply that is not a watch notification: its header and body bytes.
pub fn read_reply(stream: &mut TcpStream) -> io::Result<(ReplyHeader, Bytes)> {
    loop {
        let mut payload = read_frame(stream)?;
        let header = ReplyHeader::decode(&mut payload).map_err(invalid)?;
        if header.xid != -1 {
            return Ok((header, payload));
        }
    }
}

/// Decodes a reply body of `op` (an error code if the header carries one).
pub fn decode_reply(op: OpCode, header: &ReplyHeader, mut body: Bytes) -> io::Result<Result<Response, ErrorCode>> {
    if header.err != 0 {
        return Ok(Err(ErrorCode::try_from(header.err).unwrap_or(ErrorCode::SystemError)));
    }
    Response::decode(op, &mut body).map(Ok).map_err(invalid)
}

fn invalid(err: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, err.to_string())
}

/// One session on one connection.
#[derive(Debug)]
pub struct RawClient {
    pub stream: TcpStream,
    pub session_id: i64,
    pub timeout: i32,
    next_xid: i32,
}

impl RawClient {
    /// Connects and creates a session.
    pub fn connect(addr: SocketAddr, timeout_ms: i32) -> io::Result<RawClient> {
        let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(Duration::from_secs(20)))?;
        let request = ConnectRequest {
            protocol_version: 0,
            last_zxid_seen: 0,
            time_out: timeout_ms,
            session_id: 0,
            passwd: Bytes::from_static(&[0; 16]),
            read_only: Some(false),
        };
        let mut payload = BytesMut::new();
        request.encode(&mut payload);
        let mut frame = (payload.len() as i32).to_be_bytes().to_vec();
        frame.extend_from_slice(&payload);
        stream.write_all(&frame)?;
        let mut reply = read_frame(&mut stream)?;
        let response = ConnectResponse::decode(&mut reply).map_err(invalid)?;
        if response.time_out <= 0 {
            return Err(io::Error::new(io::ErrorKind::ConnectionRefused, "session refused"));
        }
        Ok(RawClient { stream, session_id: response.session_id, timeout: response.time_out, next_xid: 1 })
    }

    /// Sends `request` and waits for its reply.
    pub fn call(&mut self, request: &Request) -> io::Result<Result<Response, ErrorCode>> {
        let xid = self.next_xid;
        self.next_xid += 1;
        write_request(&mut self.stream, xid, request)?;
        let (header, body) = read_reply(&mut self.stream)?;
        if header.xid != xid {
            return Err(invalid(format!("reply xid {} for request {xid}", header.xid)));
        }
        decode_reply(request.op_code(), &header, body)
    }

    /// The data and version of `path`, or `None` if it does not exist.
    pub fn get(&mut self, path: &str) -> io::Result<Option<(Bytes, i32)>> {
        match self.call(&Request::GetData(GetDataRequest { path: path.into(), watch: false }))? {
            Ok(Response::GetData(r)) => Ok(Some((r.data.unwrap_or_default(), r.stat.version))),
            Err(ErrorCode::NoNode) => Ok(None),
            other => Err(invalid(format!("getData {path}: {other:?}"))),
        }
    }

    /// The children of `path` (empty if it does not exist).
    pub fn children(&mut self, path: &str) -> io::Result<Vec<String>> {
        match self.call(&Request::GetChildren(GetChildrenRequest { path: path.into(), watch: false }))? {
            Ok(Response::GetChildren(r)) => Ok(r.children),
            Err(ErrorCode::NoNode) => Ok(Vec::new()),
            other => Err(invalid(format!("getChildren {path}: {other:?}"))),
        }
    }

    /// Creates `path` (an error unless it succeeds).
    pub fn create(&mut self, path: &str, data: &[u8]) -> io::Result<()> {
        match self.call(&create(path, data))? {
            Ok(_) => Ok(()),
            Err(err) => Err(invalid(format!("create {path}: {err:?}"))),
        }
    }

    /// Ends the session.
    pub fn close(mut self) -> io::Result<()> {
        self.call(&Request::CloseSession).map(|_| ())
    }
}
