//! Regression: a server stopped before its first snapCount snapshot must start again. It used to
//! leave txn logs without any snapshot, and recovery then refused the data directory ("txn logs up
//! to zxid ... but no snapshot"). Like ZooKeeperServer.loadData, start now writes a snapshot.

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use zk_proto::{
    write_frame, Acl, ConnectRequest, CreateRequest, ExistsRequest, Jute, ReplyHeader, Request, RequestHeader,
    DEFAULT_MAX_FRAME,
};
use zk_server::testing::Server;

async fn read_frame(stream: &mut TcpStream) -> Bytes {
    let len = stream.read_i32().await.unwrap() as usize;
    let mut buf = vec![0; len];
    stream.read_exact(&mut buf).await.unwrap();
    Bytes::from(buf)
}

/// Opens a session, sends `request`, returns the reply's error code.
async fn one_request(addr: std::net::SocketAddr, request: Request) -> i32 {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let connect = ConnectRequest { time_out: 10_000, passwd: Bytes::from_static(&[0; 16]), ..Default::default() };
    let mut out = BytesMut::new();
    write_frame(&mut out, DEFAULT_MAX_FRAME, |b| connect.encode(b)).unwrap();
    write_frame(&mut out, DEFAULT_MAX_FRAME, |b| {
        RequestHeader { xid: 1, op_code: request.op_code().code() }.encode(b);
        request.encode(b);
    })
    .unwrap();
    stream.write_all(&out).await.unwrap();
    let _connect_response = read_frame(&mut stream).await;
    let mut reply = read_frame(&mut stream).await;
    ReplyHeader::decode(&mut reply).unwrap().err
}

fn snapshots(server: &Server) -> usize {
    std::fs::read_dir(server.data_dir().join("version-2"))
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with("snapshot."))
        .count()
}

#[tokio::test]
async fn restarts_after_writes_before_the_first_snapshot() {
    let mut server = Server::start().await.unwrap();
    assert_eq!(snapshots(&server), 1, "a snapshot is written at startup");
    let create = Request::Create(CreateRequest { path: "/kept".into(), data: None, acl: Acl::open_unsafe(), flags: 0 });
    assert_eq!(one_request(server.addr(), create).await, 0);
    server.restart().await.expect("restart with txn logs and no snapCount snapshot yet");
    assert!(snapshots(&server) >= 2, "the restart writes its own startup snapshot");
    let exists = Request::Exists(ExistsRequest { path: "/kept".into(), watch: false });
    assert_eq!(one_request(server.addr(), exists).await, 0, "the logged create survived the restart");
    server.stop().await;
}
