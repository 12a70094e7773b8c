//! The Apache ZooKeeper launcher: a standalone server keeps its port and data directory across
//! `stop`/`restart`, and quorum members started from one `Ensemble` elect a leader among themselves.
//!
//! Without Apache ZooKeeper these tests print `SKIPPED: ...`, unless `ZK_RS_REQUIRE_ORACLE=1`.

use std::time::{Duration, Instant};

use bytes::Bytes;
use zk_proto::{Acl, CreateMode, CreateRequest, GetDataRequest, Request, Response};
use zk_testkit::{ApacheServer, ConnectOptions, Ensemble, RawClient};

/// Creates `path` holding `data`, on a session of its own.
async fn create(server: &ApacheServer, path: &str, data: &'static [u8]) {
    let (mut client, _) = RawClient::connect(server.addr(), &ConnectOptions::default()).await.unwrap();
    let request = CreateRequest {
        path: path.into(),
        data: Some(Bytes::from_static(data)),
        acl: Acl::open_unsafe(),
        flags: CreateMode::Persistent.code(),
    };
    let reply = client.call(1, &Request::Create(request)).await.unwrap();
    assert_eq!(reply.header.err, 0, "create {path}: {reply:?}");
}

/// The data of `path`, or the error code.
async fn get_data(server: &ApacheServer, path: &str) -> Result<Option<Bytes>, i32> {
    let (mut client, _) = RawClient::connect(server.addr(), &ConnectOptions::default()).await.unwrap();
    let reply = client.call(1, &Request::GetData(GetDataRequest { path: path.into(), watch: false })).await.unwrap();
    match reply.body {
        Some(Response::GetData(response)) => Ok(response.data),
        _ => Err(reply.header.err),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_server_keeps_its_port_and_data() {
    let data = tempfile::tempdir().unwrap();
    let builder = ApacheServer::builder().data_dir(data.path()).config("maxSessionTimeout", "30000");
    let started =
        tokio::task::spawn_blocking(move || builder.start_or_skip("a_restarted_server_keeps_its_port_and_data"));
    let Some(mut server) = started.await.unwrap() else { return };
    assert_eq!(server.data_dir(), data.path());
    assert_eq!(server.mode().as_deref(), Some("standalone"));
    create(&server, "/kept", b"across a restart").await;
    let addr = server.addr();

    let mut server = tokio::task::spawn_blocking(move || {
        server.stop();
        assert_eq!(server.mode(), None, "a stopped server does not answer");
        server.stop();
        server.restart();
        server
    })
    .await
    .unwrap();
    assert_eq!(server.addr(), addr);
    assert_eq!(get_data(&server, "/kept").await, Ok(Some(Bytes::from_static(b"across a restart"))));
    assert!(data.path().join("version-2").is_dir(), "the database is in the given directory");

    // restart() also bounces a running server.
    let server = tokio::task::spawn_blocking(move || {
        server.restart();
        server
    })
    .await
    .unwrap();
    assert_eq!(get_data(&server, "/kept").await, Ok(Some(Bytes::from_static(b"across a restart"))));
}

#[test]
fn quorum_members_elect_a_leader() {
    let ensemble = Ensemble::with_free_ports(3);
    let mut servers = Vec::new();
    for member in ensemble.members() {
        let builder = ApacheServer::builder().tick_time(500).quorum_member(&ensemble, member.id);
        let Some(server) = builder.start_or_skip("quorum_members_elect_a_leader") else { return };
        assert_eq!(server.addr(), member.client_addr());
        servers.push(server);
    }
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let mut modes: Vec<Option<String>> = servers.iter().map(ApacheServer::mode).collect();
        modes.sort();
        let expected = ["follower", "follower", "leader"].map(|mode| Some(mode.to_owned()));
        if modes == expected {
            break;
        }
        assert!(Instant::now() < deadline, "no leader with two followers: {modes:?}");
        std::thread::sleep(Duration::from_millis(250));
    }
}
