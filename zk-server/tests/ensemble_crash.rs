//! A 3-server ensemble of the `zk-server` binary on loopback ports: writers create znodes through
//! every server while the leader is SIGKILLed; they fail over to the other servers (with new sessions)
//! and keep writing. After the killed server restarts and the ensemble is whole again, every
//! acknowledged create must be present on all three servers, and the servers must agree on the
//! children they list.

mod support;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use support::ensemble::EnsembleProcesses;
use support::raw_client::{self, RawClient};
use zk_proto::ErrorCode;

const SERVERS: usize = 3;
const WRITERS: usize = 3;

/// Creates `/w{writer}-{i}` for i = 0.. through the servers in turn, moving on when a server fails;
/// records the creates that were acknowledged.
fn writer(index: usize, addrs: Vec<SocketAddr>, stop: Arc<AtomicBool>, acked: Arc<Mutex<BTreeSet<String>>>) {
    let mut server = index;
    let mut client: Option<RawClient> = None;
    let mut i = 0u64;
    while !stop.load(Ordering::Relaxed) {
        let Some(c) = client.as_mut() else {
            server = (server + 1) % addrs.len();
            match RawClient::connect(addrs[server], 4000) {
                Ok(c) => client = Some(c),
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
            continue;
        };
        let path = format!("/w{index}-{i:06}");
        match c.call(&raw_client::create(&path, b"x")) {
            // NodeExists: a retry of a create whose reply was lost.
            Ok(Ok(_)) | Ok(Err(ErrorCode::NodeExists)) => {
                acked.lock().unwrap().insert(path);
                i += 1;
            }
            Ok(Err(err)) => panic!("create {path}: {err:?}"),
            Err(_) => client = None, // connection lost: retry the same path elsewhere
        }
    }
}

#[test]
fn acknowledged_writes_survive_sigkill_of_the_leader() {
    let root = tempfile::tempdir().unwrap();
    let mut ensemble = EnsembleProcesses::start(root.path(), SERVERS);
    let leader = ensemble.wait_for_leader(Duration::from_secs(60));
    let addrs = ensemble.addrs();
    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(Mutex::new(BTreeSet::new()));
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (addrs, stop, acked) = (addrs.clone(), stop.clone(), acked.clone());
            std::thread::spawn(move || writer(w, addrs, stop, acked))
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    let before_kill = acked.lock().unwrap().len();
    ensemble.kill(leader);
    // The survivors elect a new leader and writes resume.
    ensemble.wait_for_leader(Duration::from_secs(60));
    let resumed_at = acked.lock().unwrap().len();
    let deadline = Instant::now() + Duration::from_secs(30);
    while acked.lock().unwrap().len() < resumed_at + 50 {
        assert!(Instant::now() < deadline, "writes did not resume after the leader was killed");
        std::thread::sleep(Duration::from_millis(50));
    }
    ensemble.restart(leader);
    ensemble.wait_for_leader(Duration::from_secs(60));
    std::thread::sleep(Duration::from_millis(500));
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.join().unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(before_kill > 0 && acked.len() > before_kill, "{before_kill} then {}", acked.len());
    eprintln!("acknowledged creates: {before_kill} before the leader was killed, {} in all", acked.len());

    // Every server converges on a superset of what was acknowledged, and they all agree.
    let mut listings = Vec::new();
    for (i, addr) in addrs.iter().enumerate() {
        let deadline = Instant::now() + Duration::from_secs(30);
        let listing = loop {
            let mut client = RawClient::connect(*addr, 4000).unwrap();
            let children: BTreeSet<String> = client
                .children("/")
                .unwrap()
                .into_iter()
                .filter(|c| c.starts_with('w'))
                .map(|c| format!("/{c}"))
                .collect();
            let missing: Vec<_> = acked.difference(&children).take(5).cloned().collect();
            if missing.is_empty() {
                break children;
            }
            assert!(Instant::now() < deadline, "server {} lacks acknowledged writes, e.g. {missing:?}", i + 1);
            std::thread::sleep(Duration::from_millis(100));
        };
        listings.push(listing);
    }
    assert!(listings.windows(2).all(|w| w[0] == w[1]), "servers disagree on the children of /");
}
