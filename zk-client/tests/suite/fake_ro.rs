//! A fake read-only ZooKeeper server: it grants a session flagged read-only, answers pings, fails
//! every request with NotReadOnly and says `ro` to `isro`.

use std::net::SocketAddr;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use zk_proto::{write_frame, xid, ConnectRequest, ConnectResponse, ErrorCode, Jute, ReplyHeader, RequestHeader};

/// The session id the fake grants.
pub const FAKE_SESSION: i64 = 0x5EED;

/// Starts the fake on a free loopback port.
pub async fn start() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(serve(stream));
        }
    });
    addr
}

async fn read_frame(stream: &mut TcpStream, first: Option<[u8; 4]>) -> Option<Bytes> {
    let len = match first {
        Some(prefix) => prefix,
        None => {
            let mut prefix = [0u8; 4];
            stream.read_exact(&mut prefix).await.ok()?;
            prefix
        }
    };
    let len = usize::try_from(i32::from_be_bytes(len)).ok().filter(|&n| n < 1 << 20)?;
    let mut body = vec![0u8; len];
    stream.read_exact(&mut body).await.ok()?;
    Some(Bytes::from(body))
}

async fn serve(mut stream: TcpStream) -> Option<()> {
    let mut prefix = [0u8; 4];
    stream.read_exact(&mut prefix).await.ok()?;
    if &prefix == b"isro" {
        return stream.write_all(b"ro").await.ok();
    }
    let connect = ConnectRequest::decode(&mut read_frame(&mut stream, Some(prefix)).await?).ok()?;
    let response = ConnectResponse {
        protocol_version: 0,
        time_out: connect.time_out,
        session_id: FAKE_SESSION,
        passwd: Bytes::from_static(&[1; 16]),
        read_only: Some(true),
    };
    let mut out = BytesMut::new();
    write_frame(&mut out, 1 << 20, |b| response.encode(b)).ok()?;
    stream.write_all(&out).await.ok()?;
    loop {
        let mut frame = read_frame(&mut stream, None).await?;
        let header = RequestHeader::decode(&mut frame).ok()?;
        let err = if header.xid == xid::PING { 0 } else { ErrorCode::NotReadOnly.code() };
        let mut out = BytesMut::new();
        write_frame(&mut out, 1 << 20, |b| ReplyHeader { xid: header.xid, zxid: 0, err }.encode(b)).ok()?;
        stream.write_all(&out).await.ok()?;
    }
}
