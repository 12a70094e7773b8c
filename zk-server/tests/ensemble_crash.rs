//! A 3-server ensemble of the `zk-server` binary on loopback ports: writers create znodes through
//! every server while the leader is SIGKILLed; they fail over to the other servers (with new sessions)
//! and keep writing. After the killed server restarts and the ensemble is whole again, every
//! acknowledged create must be present on all three servers, and the servers must agree on the
//! children they list.

mod support;

use std::collections::BTreeSet;
use std::fs;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use support::raw_client::{self, RawClient};
use support::{free_port, ServerProcess};
use zk_proto::ErrorCode;

const SERVERS: usize = 3;
const WRITERS: usize = 3;

struct Member {
    data_dir: std::path::PathBuf,
    config: String,
    client_port: u16,
}

fn members(root: &std::path::Path) -> Vec<Member> {
    let ports: Vec<(u16, u16, u16)> = (0..SERVERS).map(|_| (free_port(), free_port(), free_port())).collect();
    let servers: String = ports
        .iter()
        .enumerate()
        .map(|(i, (q, e, c))| format!("server.{}=127.0.0.1:{q}:{e};127.0.0.1:{c}\n", i + 1))
        .collect();
    ports
        .iter()
        .enumerate()
        .map(|(i, (_, _, client_port))| {
            let data_dir = root.join(format!("server-{}", i + 1));
            fs::create_dir_all(&data_dir).unwrap();
            fs::write(data_dir.join("myid"), format!("{}\n", i + 1)).unwrap();
            let config = format!(
                "tickTime=200\ninitLimit=10\nsyncLimit=5\ndataDir={}\n4lw.commands.whitelist=*\nmaxClientCnxns=0\n\
                 preAllocSize=1024\nadmin.enableServer=false\n{servers}",
                data_dir.display()
            );
            Member { data_dir, config, client_port: *client_port }
        })
        .collect()
}

fn spawn(member: &Member) -> ServerProcess {
    ServerProcess::spawn_with_config(&member.data_dir, &member.config, member.client_port)
}

/// Waits until one server says it leads and the others follow; returns the leader's index.
fn wait_for_ensemble(servers: &[Option<ServerProcess>], timeout: Duration) -> usize {
    let deadline = Instant::now() + timeout;
    loop {
        let modes: Vec<Option<String>> = servers.iter().map(|s| s.as_ref().and_then(ServerProcess::mode)).collect();
        let leaders: Vec<usize> = (0..modes.len()).filter(|i| modes[*i].as_deref() == Some("leader")).collect();
        let all_up = servers.iter().zip(&modes).all(|(s, m)| s.is_none() || m.is_some());
        if leaders.len() == 1 && all_up {
            return leaders[0];
        }
        if Instant::now() > deadline {
            let logs: String = servers.iter().flatten().map(|s| s.log_text()).collect::<Vec<_>>().join("\n----\n");
            panic!("no ensemble within {timeout:?}: {modes:?}\n{logs}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

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
    let members = members(root.path());
    let mut servers: Vec<Option<ServerProcess>> = members.iter().map(|m| Some(spawn(m))).collect();
    let leader = wait_for_ensemble(&servers, Duration::from_secs(60));

    let addrs: Vec<SocketAddr> = members.iter().map(|m| SocketAddr::from(([127, 0, 0, 1], m.client_port))).collect();
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
    servers[leader].as_mut().unwrap().kill();
    servers[leader] = None;
    // The survivors elect a new leader and writes resume.
    wait_for_ensemble(&servers, Duration::from_secs(60));
    let resumed_at = acked.lock().unwrap().len();
    let deadline = Instant::now() + Duration::from_secs(30);
    while acked.lock().unwrap().len() < resumed_at + 50 {
        assert!(Instant::now() < deadline, "writes did not resume after the leader was killed");
        std::thread::sleep(Duration::from_millis(50));
    }
    servers[leader] = Some(spawn(&members[leader]));
    wait_for_ensemble(&servers, Duration::from_secs(60));
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
