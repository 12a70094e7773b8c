//! Sessions of the `zk-server` binary across kills and restarts, and at their close.
//!
//! Session ids stay unique across restarts: a restarted server restores the sessions of its data
//! directory (they live until they time out), so the ids it hands out next must not repeat them.
//! ZooKeeper bases them on a machine-wide clock (`System.nanoTime`) with the server id 1 of a standalone
//! server in the top byte.

mod support;

use std::time::{Duration, Instant};

use bytes::Bytes;
use support::raw_client::{self, RawClient};
use support::{Options, ServerProcess};
use zk_proto::{CreateMode, CreateRequest, Request};

#[test]
fn new_sessions_after_a_restart_do_not_reuse_restored_ids() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let mut ids = Vec::new();
    for _ in 0..3 {
        let mut server = ServerProcess::start(&data, &Options::default());
        // A live session that the next start restores from the txn log.
        let mut client = RawClient::connect(server.addr, 30_000).unwrap();
        client.create(&format!("/s-{}", ids.len()), b"").unwrap();
        ids.push(client.session_id);
        server.kill();
    }
    for id in &ids {
        assert_eq!((*id as u64) >> 56, 1, "a standalone server puts server id 1 in the top byte: {id:#x}");
    }
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "session ids repeated or went back after restarts: {ids:#x?}");
}

/// A session that died with the server is restored on restart (its ephemerals stay while a client could
/// still resume it) and expires after its timeout, taking its ephemerals with it.
#[test]
fn sessions_restored_after_a_kill_expire_with_their_ephemerals() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let options = Options { tick_time: 200, ..Options::default() };
    let mut server = ServerProcess::start(&data, &options);
    let mut client = RawClient::connect(server.addr, 4_000).unwrap();
    assert_eq!(client.timeout, 4_000);
    client.create("/persistent", b"p").unwrap();
    let ephemeral = Request::Create(CreateRequest {
        path: "/ephemeral".into(),
        data: Some(Bytes::from_static(b"e")),
        acl: raw_client::open_acl(),
        flags: CreateMode::Ephemeral.code(),
    });
    client.call(&ephemeral).unwrap().unwrap();
    server.kill();
    let started = Instant::now();
    let server = ServerProcess::start(&data, &options);
    let mut observer = RawClient::connect(server.addr, 4_000).unwrap();
    assert!(observer.get("/ephemeral").unwrap().is_some(), "the ephemeral vanished before its session expired");
    while observer.get("/ephemeral").unwrap().is_some() {
        assert!(started.elapsed() < Duration::from_secs(20), "the restored session never expired");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        started.elapsed() >= Duration::from_millis(3_000),
        "expired after {:?}, before its 4 s timeout",
        started.elapsed()
    );
    assert_eq!(observer.get("/persistent").unwrap().map(|(d, _)| d), Some(Bytes::from_static(b"p")));
}

/// A request pipelined behind closeSession never gets an answer ahead of the closeSession reply:
/// answering it at once (SessionExpired) put its reply first and made kazoo fail on the xid mismatch.
/// After the close reply, ZooKeeper either drops it or answers SessionExpired (which one depends on
/// timing; the differential test sees both): then the stream ends.
#[test]
fn close_session_is_answered_before_any_later_request_and_then_the_connection_ends() {
    let root = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(&root.path().join("data"), &Options::default());
    let mut client = RawClient::connect(server.addr, 30_000).unwrap();
    raw_client::write_request(&mut client.stream, 1, &Request::CloseSession).unwrap();
    let get = Request::GetData(zk_proto::GetDataRequest { path: "/".into(), watch: false });
    raw_client::write_request(&mut client.stream, 2, &get).unwrap();
    let (header, _) = raw_client::read_reply(&mut client.stream).unwrap();
    assert_eq!((header.xid, header.err), (1, 0), "the first reply must answer closeSession");
    let mut next = raw_client::read_reply(&mut client.stream);
    if let Ok((header, _)) = &next {
        assert_eq!((header.xid, header.err), (2, zk_proto::ErrorCode::SessionExpired.code()), "{next:?}");
        next = raw_client::read_reply(&mut client.stream);
    }
    assert!(next.is_err(), "the connection stays open after closeSession: {next:?}");
}
