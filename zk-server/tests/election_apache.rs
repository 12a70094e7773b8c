//! Fast leader election against real Apache ZooKeeper 3.8 servers.
//!
//! Servers 1 and 2 of a 3-server ensemble are Apache ZooKeeper (`QuorumPeerMain`, Debian jars in
//! `/usr/share/java`); server 3 is our sans-IO `FastLeaderElection` behind `ElectionNet` (the tokio
//! `QuorumCnxManager` of `zk_server::runtime::election_net`), driven by `run_election`.
//!
//! 1. Fresh ensemble, all at zxid 0 and epoch 0: the highest sid, ours, must win. We check our own
//!    decision and that each Apache server, now following us, dials our quorum port and sends
//!    FOLLOWERINFO (a Zab packet carrying its sid).
//! 2. We drop out (no Zab here, so the Apache servers give up on us) and they elect one of themselves.
//!    A fresh election object of ours then joins the established ensemble (out-of-election votes) and
//!    must name the leader that Apache's `srvr` command reports.
//!
//! Without java (or the jars) it prints `SKIPPED: ...`, unless `ZK_RS_REQUIRE_ORACLE=1`.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener as StdListener, TcpStream as StdStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;
use zk_server::config::{Properties, QuorumConfig};
use zk_server::election::{
    DecisionPath, ElectionConfig, ElectionResult, FastLeaderElection, QuorumVerifier, ServerState,
};
use zk_server::runtime::election_net::{run_election, ElectionNet};

const JARS: [&str; 4] = [
    "/usr/share/java/zookeeper.jar",
    "/usr/share/java/netty-codec.jar",
    "/usr/share/java/netty-resolver.jar",
    "/usr/share/java/slf4j-simple.jar",
];

struct Apache(Vec<Child>);

impl Drop for Apache {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn oracle_available() -> Result<(), String> {
    let java = Command::new("java").arg("-version").stdout(Stdio::null()).stderr(Stdio::null()).status();
    if !java.is_ok_and(|s| s.success()) {
        return Err("java not found".into());
    }
    match JARS.iter().find(|j| !Path::new(j).exists()) {
        Some(missing) => Err(format!("{missing} missing")),
        None => Ok(()),
    }
}

/// Apache's `srvr` answer's `Mode:` line, if it serves.
fn mode(client_port: u16) -> Option<String> {
    let mut s = StdStream::connect(("127.0.0.1", client_port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    s.write_all(b"srvr").ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    out.lines().find_map(|l| l.strip_prefix("Mode: ").map(str::to_owned))
}

/// One election of ours: a fresh `FastLeaderElection` (zxid 0, epoch 0) behind a fresh `ElectionNet`
/// on our election address, closed again afterwards. Returns the decision, or `None` after `limit`.
async fn elect(
    my_id: i64,
    listen: SocketAddr,
    peers: &HashMap<i64, SocketAddr>,
    config: &QuorumConfig,
    limit: Duration,
) -> Option<ElectionResult> {
    let (_stop, stop_rx) = watch::channel(false);
    let mut net = ElectionNet::start(my_id, listen, peers.clone(), stop_rx).await.unwrap();
    let verifier = QuorumVerifier::from_config(config);
    let mut fle = FastLeaderElection::new(ElectionConfig::new(my_id, verifier, config.config_string()));
    fle.start(Instant::now().into_std(), 0, 0);
    let result = tokio::time::timeout(limit, run_election(&mut fle, &mut net)).await.ok().flatten();
    net.close().await;
    result
}

/// Reads the first Zab packet on an accepted quorum connection: (type, LearnerInfo sid).
fn read_learner_hello(mut s: StdStream) -> Option<(i32, i64)> {
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let mut head = [0u8; 24];
    s.read_exact(&mut head).ok()?;
    let ty = i32::from_be_bytes(head[0..4].try_into().ok()?);
    let sid = i64::from_be_bytes(head[16..24].try_into().ok()?);
    Some((ty, sid))
}

#[test]
fn elects_with_apache_zookeeper() {
    if let Err(why) = oracle_available() {
        assert!(std::env::var("ZK_RS_REQUIRE_ORACLE").as_deref() != Ok("1"), "oracle required: {why}");
        #[allow(clippy::print_stdout)]
        {
            println!("SKIPPED: Apache ZooKeeper oracle unavailable: {why}");
        }
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let client: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let quorum: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let election: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let mut members = String::new();
    for i in 0..3 {
        members.push_str(&format!("server.{}=127.0.0.1:{}:{}\n", i + 1, quorum[i], election[i]));
    }
    let mut children = Vec::new();
    for (i, port) in client.iter().take(2).enumerate() {
        let d = dir.path().join(format!("n{}", i + 1));
        std::fs::create_dir_all(d.join("data")).unwrap();
        std::fs::write(d.join("data/myid"), format!("{}\n", i + 1)).unwrap();
        let cfg = format!(
            "tickTime=500\ninitLimit=10\nsyncLimit=5\ndataDir={}\nclientPort={}\nadmin.enableServer=false\n\
             4lw.commands.whitelist=*\n{members}",
            d.join("data").display(),
            port
        );
        std::fs::write(d.join("zoo.cfg"), cfg).unwrap();
        let log = std::fs::File::create(d.join("server.log")).unwrap();
        children.push(
            Command::new("java")
                .arg("-cp")
                .arg(JARS.join(":"))
                .arg("org.apache.zookeeper.server.quorum.QuorumPeerMain")
                .arg(d.join("zoo.cfg"))
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .spawn()
                .unwrap(),
        );
    }
    let _apache = Apache(children);
    let config = QuorumConfig::from_properties(&Properties::parse(&members).unwrap(), false, false).unwrap();
    let peers: HashMap<i64, SocketAddr> =
        (0..2).map(|i| (i as i64 + 1, format!("127.0.0.1:{}", election[i]).parse().unwrap())).collect();
    let quorum_listener = StdListener::bind(("127.0.0.1", quorum[2])).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();

    // 1. Fresh ensemble: we have the highest sid, so we lead and both Apache servers follow us.
    let ours: SocketAddr = format!("127.0.0.1:{}", election[2]).parse().unwrap();
    let first = rt.block_on(elect(3, ours, &peers, &config, Duration::from_secs(60)));
    let first = first.expect("no decision within 60 s with two Apache ZooKeeper peers");
    assert_eq!((first.leader, first.state), (3, ServerState::Leading), "{first:?}");
    let mut followers = Vec::new();
    for _ in 0..2 {
        let (s, _) = quorum_listener.accept().unwrap();
        followers.push(read_learner_hello(s).expect("FOLLOWERINFO from an Apache follower"));
    }
    followers.sort();
    assert_eq!(followers, vec![(11, 1), (11, 2)], "both Apache servers follow us (FOLLOWERINFO = 11)");
    drop(quorum_listener);

    // 2. Without a Zab leader behind us, they re-elect among themselves; a fresh election of ours joins.
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    let apache_leader = loop {
        let modes: Vec<Option<String>> = client[..2].iter().map(|p| mode(*p)).collect();
        if let Some(i) = modes.iter().position(|m| m.as_deref() == Some("leader")) {
            if modes.iter().all(Option::is_some) {
                break i as i64 + 1;
            }
        }
        assert!(std::time::Instant::now() < deadline, "Apache servers did not re-elect: {modes:?}");
        std::thread::sleep(Duration::from_millis(250));
    };
    let second = rt.block_on(elect(3, ours, &peers, &config, Duration::from_secs(60)));
    let second = second.expect("no decision joining the Apache ensemble");
    assert_eq!((second.leader, second.state), (apache_leader, ServerState::Following), "{second:?}");
    assert_eq!(second.path, DecisionPath::Joined, "joined through out-of-election votes: {second:?}");
    assert!(second.epoch >= 1, "Apache reports the established epoch (updateElectionVote): {second:?}");
    assert_eq!(first.path, DecisionPath::Elected, "{first:?}");
}
