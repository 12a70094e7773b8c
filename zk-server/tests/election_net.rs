//! Fast leader election over real TCP: several of our `FastLeaderElection`s, each behind its own
//! `ElectionNet` (the tokio `QuorumCnxManager`), in one process on 127.0.0.1 ephemeral ports.
//!
//! * 3 and 5 servers on a fresh start elect the highest sid; with differing zxids, the highest zxid.
//! * The leader's `ElectionNet` dropped, the others start a new election and pick a leader among
//!   themselves; the former leader restarted (new `ElectionNet` on its address, new election object)
//!   joins the established ensemble through out-of-election votes.
//! * A partition (`set_blocked`): the minority side cannot elect, the majority can; after the heal the
//!   minority joins the majority's leader.
//! * The wire: a peer that was down gets only the newest message once reachable (send queues of
//!   capacity 1), a smaller sid that dials is dialed back and gets the last message again, frames
//!   sent with the handshake are read, and a hostile frame closes only its connection.

use std::collections::{HashMap, HashSet};
use std::net::{SocketAddr, TcpListener as StdListener};
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::{timeout, Instant};
use zk_proto::{InitialMessage, Jute, Notification};
use zk_server::config::{Properties, QuorumConfig};
use zk_server::election::connection::{decode_frame, decode_handshake, decode_notification, encode_frame, handshake};
use zk_server::election::{
    DecisionPath, ElectionConfig, ElectionResult, FastLeaderElection, QuorumVerifier, ServerState,
};
use zk_server::runtime::election_net::{run_election, serve_one, ElectionNet};

/// Generous: the 2-core test machine is shared with other builds.
const DECIDE_WITHIN: Duration = Duration::from_secs(20);

enum Ctl {
    /// Start an election with this (zxid, epoch).
    Elect(i64, i64),
    Block(HashSet<i64>),
}

/// One server: an election object and its `ElectionNet`, driven like `QuorumPeer` would (elect while
/// looking, otherwise answer peers), in its own task.
struct Node {
    ctl: mpsc::UnboundedSender<Ctl>,
    decisions: mpsc::UnboundedReceiver<ElectionResult>,
    task: JoinHandle<()>,
    _shutdown: watch::Sender<bool>,
}

impl Drop for Node {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Node {
    fn elect(&self, zxid: i64, epoch: i64) {
        self.ctl.send(Ctl::Elect(zxid, epoch)).unwrap();
    }

    fn block(&self, sids: &[i64]) {
        self.ctl.send(Ctl::Block(sids.iter().copied().collect())).unwrap();
    }

    async fn decision(&mut self, within: Duration) -> Option<ElectionResult> {
        timeout(within, self.decisions.recv()).await.ok().flatten()
    }
}

async fn drive(
    mut fle: FastLeaderElection,
    mut net: ElectionNet,
    mut ctl: mpsc::UnboundedReceiver<Ctl>,
    decisions: mpsc::UnboundedSender<ElectionResult>,
) {
    loop {
        let looking = fle.outcome().is_none() && fle.poll_timeout().is_some();
        // Elect while looking, otherwise answer peers: one future, as both need `fle` and `net`.
        let step = async {
            if looking {
                run_election(&mut fle, &mut net).await.map(Some)
            } else {
                serve_one(&mut fle, &mut net).await.then_some(None)
            }
        };
        tokio::select! {
            command = ctl.recv() => match command {
                Some(Ctl::Elect(zxid, epoch)) => fle.start(Instant::now().into_std(), zxid, epoch),
                Some(Ctl::Block(sids)) => net.set_blocked(sids),
                None => return,
            },
            stepped = step => match stepped {
                Some(Some(result)) => {
                    let _ = decisions.send(result);
                }
                Some(None) => {}
                None => return,
            },
        }
    }
}

/// An ensemble's addresses and config; the election listeners are bound before any server starts.
struct Ensemble {
    config: QuorumConfig,
    election: HashMap<i64, SocketAddr>,
    listeners: HashMap<i64, TcpListener>,
    /// Quorum ports only appear in the config; holding them keeps them ours.
    _quorum_ports: Vec<StdListener>,
}

impl Ensemble {
    async fn new(n: i64) -> Ensemble {
        let mut members = String::new();
        let mut election = HashMap::new();
        let mut listeners = HashMap::new();
        let mut quorum_ports = Vec::new();
        for sid in 1..=n {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let quorum = StdListener::bind("127.0.0.1:0").unwrap();
            members.push_str(&format!(
                "server.{sid}=127.0.0.1:{}:{}\n",
                quorum.local_addr().unwrap().port(),
                addr.port()
            ));
            election.insert(sid, addr);
            listeners.insert(sid, listener);
            quorum_ports.push(quorum);
        }
        let config = QuorumConfig::from_properties(&Properties::parse(&members).unwrap(), false, false).unwrap();
        Ensemble { config, election, listeners, _quorum_ports: quorum_ports }
    }

    /// Starts server `sid` on its pre-bound listener, or (a restart) on a new one at its address.
    async fn node(&mut self, sid: i64) -> Node {
        let listener = match self.listeners.remove(&sid) {
            Some(listener) => listener,
            None => rebind(self.election[&sid]).await,
        };
        let peers = self.election.iter().filter(|(s, _)| **s != sid).map(|(s, a)| (*s, *a)).collect();
        let (shutdown, shutdown_rx) = watch::channel(false);
        let net = ElectionNet::with_listener(sid, listener, peers, shutdown_rx).unwrap();
        assert_eq!(net.local_addr(), self.election[&sid]);
        let verifier = QuorumVerifier::from_config(&self.config);
        let fle = FastLeaderElection::new(ElectionConfig::new(sid, verifier, self.config.config_string()));
        let (ctl, ctl_rx) = mpsc::unbounded_channel();
        let (decided_tx, decisions) = mpsc::unbounded_channel();
        let task = tokio::spawn(drive(fle, net, ctl_rx, decided_tx));
        Node { ctl, decisions, task, _shutdown: shutdown }
    }

    async fn nodes(&mut self) -> HashMap<i64, Node> {
        let mut nodes = HashMap::new();
        for sid in 1..=self.election.len() as i64 {
            nodes.insert(sid, self.node(sid).await);
        }
        nodes
    }
}

/// Binds `addr` again once the previous owner's listener is closed (its task is torn down
/// asynchronously after an abort).
async fn rebind(addr: SocketAddr) -> TcpListener {
    let end = Instant::now() + Duration::from_secs(5);
    loop {
        match TcpListener::bind(addr).await {
            Ok(listener) => return listener,
            Err(err) => assert!(Instant::now() < end, "cannot rebind {addr}: {err}"),
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Starts an election on each of `sids` (with its (zxid, epoch)) and returns their decisions.
async fn elect_all(nodes: &mut HashMap<i64, Node>, sids: &[(i64, i64, i64)]) -> HashMap<i64, ElectionResult> {
    for (sid, zxid, epoch) in sids {
        nodes[sid].elect(*zxid, *epoch);
    }
    let mut results = HashMap::new();
    for (sid, _, _) in sids {
        let node = nodes.get_mut(sid).unwrap();
        let result = node.decision(DECIDE_WITHIN).await.unwrap_or_else(|| panic!("server {sid} did not decide"));
        results.insert(*sid, result);
    }
    results
}

/// Every server in `results` names `leader`, which leads (with a quorum of supporters) while the rest
/// follow.
fn assert_one_leader(results: &HashMap<i64, ElectionResult>, leader: i64, voters: usize) {
    for (sid, r) in results {
        assert_eq!(r.leader, leader, "server {sid}: {r:?}");
        let expected = if *sid == leader { ServerState::Leading } else { ServerState::Following };
        assert_eq!(r.state, expected, "server {sid}: {r:?}");
    }
    if let Some(r) = results.get(&leader) {
        assert!(r.supporters.len() > voters / 2, "a quorum supports the leader: {r:?}");
        assert!(r.supporters.contains(&leader), "{r:?}");
    }
}

async fn fresh_start_elects_highest_sid(n: i64) {
    let mut ensemble = Ensemble::new(n).await;
    let mut nodes = ensemble.nodes().await;
    let all: Vec<_> = (1..=n).map(|sid| (sid, 0, 0)).collect();
    let results = elect_all(&mut nodes, &all).await;
    assert_one_leader(&results, n, n as usize);
    assert_eq!(results[&n].path, DecisionPath::Elected, "{:?}", results[&n]);
}

async fn highest_zxid_wins(n: i64) {
    let mut ensemble = Ensemble::new(n).await;
    let mut nodes = ensemble.nodes().await;
    // Server 2 has the longest history; the highest sid has the shortest.
    let all: Vec<_> = (1..=n).map(|sid| (sid, if sid == 2 { 0x1_0000_0009 } else { 0x1_0000_0009 - sid }, 1)).collect();
    let results = elect_all(&mut nodes, &all).await;
    assert_one_leader(&results, 2, n as usize);
    assert_eq!(results[&2].zxid, 0x1_0000_0009, "{:?}", results[&2]);
    assert_eq!(results[&2].epoch, 1, "{:?}", results[&2]);
}

#[tokio::test]
async fn three_servers_elect_the_highest_sid() {
    fresh_start_elects_highest_sid(3).await;
}

#[tokio::test]
async fn five_servers_elect_the_highest_sid() {
    fresh_start_elects_highest_sid(5).await;
}

#[tokio::test]
async fn three_servers_elect_the_highest_zxid() {
    highest_zxid_wins(3).await;
}

#[tokio::test]
async fn five_servers_elect_the_highest_zxid() {
    highest_zxid_wins(5).await;
}

/// Leader lost, re-election among the rest, then the former leader comes back and joins.
async fn leader_loss_and_rejoin(n: i64) {
    let mut ensemble = Ensemble::new(n).await;
    let mut nodes = ensemble.nodes().await;
    let all: Vec<_> = (1..=n).map(|sid| (sid, 0, 0)).collect();
    assert_one_leader(&elect_all(&mut nodes, &all).await, n, n as usize);

    drop(nodes.remove(&n));
    let rest: Vec<_> = (1..n).map(|sid| (sid, 0x1_0000_0000, 1)).collect();
    let results = elect_all(&mut nodes, &rest).await;
    assert_one_leader(&results, n - 1, n as usize);
    let epoch = results[&(n - 1)].election_epoch;

    // The former leader restarts with the longest history (a txn it logged that never committed) and
    // the highest sid: it would win any election, yet must join the established leader. Its peers'
    // first messages are their last LOOKING votes (re-sent on the new connections), which it outvotes;
    // only their out-of-election answers (FOLLOWING/LEADING) can end its election.
    let restarted = ensemble.node(n).await;
    nodes.insert(n, restarted);
    nodes[&n].elect(0x1_0000_0005, 1);
    let joined = nodes.get_mut(&n).unwrap().decision(DECIDE_WITHIN).await.expect("the restarted server decides");
    assert_eq!((joined.leader, joined.state), (n - 1, ServerState::Following), "{joined:?}");
    assert_eq!(joined.path, DecisionPath::Joined, "through the others' out-of-election votes: {joined:?}");
    assert_eq!(joined.election_epoch, epoch, "it adopts the established round: {joined:?}");
    assert!(joined.supporters.contains(&(n - 1)), "the leader itself reported LEADING: {joined:?}");
    for sid in 1..n {
        let node = nodes.get_mut(&sid).unwrap();
        assert!(node.decisions.try_recv().is_err(), "server {sid} did not elect again");
    }
}

#[tokio::test]
async fn three_servers_reelect_and_the_old_leader_rejoins() {
    leader_loss_and_rejoin(3).await;
}

/// On a multi-threaded runtime, as a server process runs it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_servers_reelect_and_the_old_leader_rejoins() {
    leader_loss_and_rejoin(5).await;
}

#[tokio::test]
async fn a_minority_partition_cannot_elect() {
    let mut ensemble = Ensemble::new(5).await;
    let mut nodes = ensemble.nodes().await;
    let (minority, majority) = ([1, 2], [3, 4, 5]);
    for sid in minority {
        nodes[&sid].block(&majority);
    }
    for sid in majority {
        nodes[&sid].block(&minority);
    }
    let results = elect_all(&mut nodes, &[(3, 0, 0), (4, 0, 0), (5, 0, 0)]).await;
    assert_one_leader(&results, 5, 5);
    assert_eq!(results[&5].supporters, [3, 4, 5].into(), "{:?}", results[&5]);

    for sid in minority {
        nodes[&sid].elect(0, 0);
    }
    for sid in minority {
        let stuck = nodes.get_mut(&sid).unwrap().decision(Duration::from_secs(3)).await;
        assert_eq!(stuck, None, "server {sid} of the minority decided");
    }

    // Healed: the minority's notifications reach the majority, which answers with its leader (or the
    // majority's last LOOKING votes, re-sent on the new connections, already name it).
    for node in nodes.values() {
        node.block(&[]);
    }
    for sid in minority {
        let joined =
            nodes.get_mut(&sid).unwrap().decision(Duration::from_secs(30)).await.expect("joins after the heal");
        assert_eq!((joined.leader, joined.state), (5, ServerState::Following), "{joined:?}");
    }
    for sid in majority {
        assert!(nodes.get_mut(&sid).unwrap().decisions.try_recv().is_err(), "server {sid} did not elect again");
    }
}

fn vote(leader: i64, zxid: i64) -> Notification {
    Notification {
        state: 0,
        leader,
        zxid,
        election_epoch: 1,
        peer_epoch: 0,
        version: 2,
        config: Some(Bytes::from_static(b"version=0")),
    }
}

/// Reads the next notification frame from a raw peer connection.
async fn read_notification(s: &mut TcpStream, buf: &mut BytesMut) -> Notification {
    loop {
        if let Some(body) = decode_frame(buf).unwrap() {
            return decode_notification(body).expect("a notification");
        }
        let n = timeout(Duration::from_secs(10), s.read_buf(buf)).await.expect("a frame in time").unwrap();
        assert!(n > 0, "connection closed");
    }
}

/// Whether the other side closed `s` (an orderly close, or a reset when it dropped unread bytes).
async fn closed(s: &mut TcpStream) -> bool {
    let mut rest = Vec::new();
    match timeout(Duration::from_secs(10), s.read_to_end(&mut rest)).await {
        Ok(Ok(_)) => true,
        Ok(Err(err)) => err.kind() == std::io::ErrorKind::ConnectionReset,
        Err(_) => false,
    }
}

async fn read_handshake(s: &mut TcpStream, buf: &mut BytesMut) -> InitialMessage {
    loop {
        if let Some(h) = decode_handshake(buf).unwrap() {
            return h;
        }
        let n = timeout(Duration::from_secs(10), s.read_buf(buf)).await.expect("a handshake in time").unwrap();
        assert!(n > 0, "connection closed");
    }
}

#[tokio::test]
async fn newest_message_is_delivered_and_resent_after_a_dial_back() {
    // A raw peer, sid 1, below our sid 2: we dial it and keep the connection.
    let peer = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (_stop, stop_rx) = watch::channel(false);
    let mut net =
        ElectionNet::start(2, "127.0.0.1:0".parse().unwrap(), [(1, peer.local_addr().unwrap())].into(), stop_rx)
            .await
            .unwrap();
    net.send(1, vote(2, 1));
    net.send(1, vote(2, 2));
    let (mut s, _) = timeout(Duration::from_secs(10), peer.accept()).await.unwrap().unwrap();
    let mut buf = BytesMut::new();
    assert_eq!(read_handshake(&mut s, &mut buf).await.sid(), 2);
    assert_eq!(read_notification(&mut s, &mut buf).await, vote(2, 2), "only the newest queued message");
    net.send(1, vote(2, 3));
    assert_eq!(read_notification(&mut s, &mut buf).await, vote(2, 3));

    // Peer 1 drops the connection and dials in itself: the smaller sid is dialed back, and the new
    // connection starts with the last message sent.
    drop(s);
    let mut hello = TcpStream::connect(net.local_addr()).await.unwrap();
    hello.write_all(&handshake(1, &[peer.local_addr().unwrap().to_string()], false).to_bytes()).await.unwrap();
    assert!(closed(&mut hello).await, "hello closed");
    let (mut s, _) = timeout(Duration::from_secs(10), peer.accept()).await.unwrap().unwrap();
    let mut buf = BytesMut::new();
    assert_eq!(read_handshake(&mut s, &mut buf).await.sid(), 2);
    assert_eq!(read_notification(&mut s, &mut buf).await, vote(2, 3), "lastMessageSent on the new connection");

    // And what the peer sends arrives, tagged with its sid.
    s.write_all(&encode_frame(&vote(1, 7))).await.unwrap();
    let got = timeout(Duration::from_secs(10), net.recv()).await.unwrap();
    assert_eq!(got, Some((1, vote(1, 7))));
}

#[tokio::test]
async fn hostile_bytes_close_only_their_connection() {
    let (_stop, stop_rx) = watch::channel(false);
    let mut net = ElectionNet::start(1, "127.0.0.1:0".parse().unwrap(), HashMap::new(), stop_rx).await.unwrap();
    let addr = net.local_addr();
    let hello = |sid: i64| handshake(sid, &["127.0.0.1:1".into()], false).to_bytes();

    // Larger sids are kept; a frame sent together with the handshake is read.
    let mut good = TcpStream::connect(addr).await.unwrap();
    let mut first = BytesMut::from(&hello(5)[..]);
    first.put_slice(&encode_frame(&vote(5, 1)));
    good.write_all(&first).await.unwrap();
    assert_eq!(timeout(Duration::from_secs(10), net.recv()).await.unwrap(), Some((5, vote(5, 1))));

    // A negative frame length closes that connection.
    let mut bad = TcpStream::connect(addr).await.unwrap();
    bad.write_all(&hello(6)).await.unwrap();
    bad.write_all(&(-1i32).to_be_bytes()).await.unwrap();
    assert!(closed(&mut bad).await, "bad closed");

    // An unknown protocol version in the handshake is refused.
    let mut odd = TcpStream::connect(addr).await.unwrap();
    odd.write_all(&(-7i64).to_be_bytes()).await.unwrap();
    assert!(closed(&mut odd).await, "odd closed");

    // A short (malformed) notification is skipped without closing; the next one arrives.
    let mut short = BytesMut::new();
    short.put_i32(4);
    short.put_i32(0);
    short.put_slice(&encode_frame(&vote(5, 2)));
    good.write_all(&short).await.unwrap();
    assert_eq!(timeout(Duration::from_secs(10), net.recv()).await.unwrap(), Some((5, vote(5, 2))));

    // A blocked sid's connection is closed and its handshakes are refused.
    net.set_blocked([5].into());
    assert!(closed(&mut good).await, "good closed");
    let mut again = TcpStream::connect(addr).await.unwrap();
    again.write_all(&hello(5)).await.unwrap();
    again.write_all(&encode_frame(&vote(5, 3))).await.unwrap();
    assert!(closed(&mut again).await, "again closed");
    assert!(timeout(Duration::from_millis(300), net.recv()).await.is_err(), "nothing from a blocked sid");
    net.close().await;
}

#[tokio::test]
async fn set_peers_drops_removed_servers_and_dials_new_ones() {
    // Raw peers: sid 1 (known at start) and sid 3 (added later), both below our sid 5.
    let one = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let three = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (_stop, stop_rx) = watch::channel(false);
    let mut net =
        ElectionNet::start(5, "127.0.0.1:0".parse().unwrap(), [(1, one.local_addr().unwrap())].into(), stop_rx)
            .await
            .unwrap();
    net.send(1, vote(5, 1));
    let (mut s1, _) = timeout(Duration::from_secs(10), one.accept()).await.unwrap().unwrap();
    let mut buf1 = BytesMut::new();
    assert_eq!(read_handshake(&mut s1, &mut buf1).await.sid(), 5);
    assert_eq!(read_notification(&mut s1, &mut buf1).await, vote(5, 1));

    // Sid 1 removed, sid 3 added: the connection to 1 closes, 3 is dialed once there is a message.
    net.set_peers([(3, three.local_addr().unwrap())].into());
    assert!(closed(&mut s1).await, "connection to the removed server closed");
    net.send(1, vote(5, 2));
    net.send(3, vote(5, 3));
    let (mut s3, _) = timeout(Duration::from_secs(10), three.accept()).await.unwrap().unwrap();
    let mut buf3 = BytesMut::new();
    assert_eq!(read_handshake(&mut s3, &mut buf3).await.sid(), 5);
    assert_eq!(read_notification(&mut s3, &mut buf3).await, vote(5, 3));
    // Nothing dials the removed server again.
    assert!(timeout(Duration::from_millis(300), one.accept()).await.is_err(), "removed server not dialed");
}

#[tokio::test]
async fn an_unknown_smaller_sid_is_dialed_back_at_its_handshake_address() {
    // Sid 2 is in nobody's config (a server a reconfig is to add); we are sid 5 and know no peers.
    let two = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (_stop, stop_rx) = watch::channel(false);
    let net = ElectionNet::start(5, "127.0.0.1:0".parse().unwrap(), HashMap::new(), stop_rx).await.unwrap();
    let mut hello = TcpStream::connect(net.local_addr()).await.unwrap();
    hello.write_all(&handshake(2, &[two.local_addr().unwrap().to_string()], false).to_bytes()).await.unwrap();
    assert!(closed(&mut hello).await, "the smaller sid's connection is closed");
    let (mut s, _) = timeout(Duration::from_secs(10), two.accept()).await.expect("dialed back").unwrap();
    let mut buf = BytesMut::new();
    assert_eq!(read_handshake(&mut s, &mut buf).await.sid(), 5);
}
