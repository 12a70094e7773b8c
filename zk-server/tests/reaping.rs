//! The binary's container manager (`znode.container.checkIntervalMs` from zoo.cfg): an empty container
//! that once had children is deleted, a never-used one is kept, a childless TTL node goes once its TTL
//! has passed since its last change, and a TTL node with children stays.

mod support;

use std::time::{Duration, Instant};

use bytes::Bytes;
use support::raw_client::{self, RawClient};
use support::{Options, ServerProcess};
use zk_proto::{CreateMode, CreateRequest, CreateTtlRequest, DeleteRequest, Request};

fn create(path: &str, mode: CreateMode) -> Request {
    let body =
        CreateRequest { path: path.into(), data: Some(Bytes::new()), acl: raw_client::open_acl(), flags: mode.code() };
    match mode {
        CreateMode::Container => Request::CreateContainer(body),
        _ => Request::Create2(body),
    }
}

fn create_ttl(path: &str, ttl: i64) -> Request {
    Request::CreateTtl(CreateTtlRequest {
        path: path.into(),
        data: Some(Bytes::new()),
        acl: raw_client::open_acl(),
        flags: CreateMode::PersistentWithTtl.code(),
        ttl,
    })
}

fn wait_gone(client: &mut RawClient, path: &str, within: Duration) -> Duration {
    let start = Instant::now();
    while client.get(path).unwrap().is_some() {
        assert!(start.elapsed() < within, "{path} was not reaped within {within:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
    start.elapsed()
}

#[test]
fn empty_containers_and_expired_ttl_nodes_are_reaped() {
    let root = tempfile::tempdir().unwrap();
    let options = Options { extra: "znode.container.checkIntervalMs=100", ..Options::default() };
    let server = ServerProcess::start(&root.path().join("data"), &options);
    let mut client = RawClient::connect(server.addr, 30_000).unwrap();
    let ok = |client: &mut RawClient, request: &Request| {
        let reply = client.call(request).unwrap();
        assert!(reply.is_ok(), "{request:?}: {reply:?}");
    };
    ok(&mut client, &create("/used", CreateMode::Container));
    ok(&mut client, &create("/unused", CreateMode::Container));
    ok(&mut client, &create("/used/child", CreateMode::Persistent));
    ok(&mut client, &create_ttl("/ttl", 400));
    ok(&mut client, &create_ttl("/ttl-parent", 400));
    ok(&mut client, &create("/ttl-parent/child", CreateMode::Persistent));
    std::thread::sleep(Duration::from_millis(500));
    assert!(client.get("/used").unwrap().is_some(), "a container with a child was reaped");
    ok(&mut client, &Request::Delete(DeleteRequest { path: "/used/child".into(), version: -1 }));
    wait_gone(&mut client, "/used", Duration::from_secs(10));
    wait_gone(&mut client, "/ttl", Duration::from_secs(10));
    std::thread::sleep(Duration::from_millis(500));
    assert!(client.get("/unused").unwrap().is_some(), "a container that never had children was reaped");
    assert!(client.get("/ttl-parent").unwrap().is_some(), "a TTL node with a child was reaped");
    ok(&mut client, &Request::Delete(DeleteRequest { path: "/ttl-parent/child".into(), version: -1 }));
    wait_gone(&mut client, "/ttl-parent", Duration::from_secs(10));
}
