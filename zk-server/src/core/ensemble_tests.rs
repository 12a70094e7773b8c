//! Tests of the ensemble roles: a leader core and learner cores wired by hand, the test playing Zab's
//! part (forwards go to `remote_request`, the leader's proposals are committed on the leader with
//! `durable` and on every learner with `apply_committed`, syncs complete once everything proposed
//! before them committed, revalidations ask the leader).

use std::collections::HashMap;

use bytes::{Bytes, BytesMut};
use tokio::sync::mpsc;
use zk_proto::*;

use super::tests::{at, create, peer};
use super::*;
use crate::net::Outbound;
use crate::session::generate_password;

const LEADER: usize = 0;
const F1: usize = 1;
const F2: usize = 2;
const TIMEOUT: i32 = 1000;

fn config(server_id: i64, role: Role) -> CoreConfig {
    super::tests::test_config(server_id, role)
}

/// Server `i` has server id `i + 1`; server 0 leads.
struct Ensemble {
    servers: Vec<ServerCore>,
    clients: HashMap<(usize, ConnId), mpsc::UnboundedReceiver<Outbound>>,
    now: i64,
    /// Every txn the leader proposed, in order.
    proposed: Vec<TxnEntry>,
}

impl Ensemble {
    fn new(learners: &[Role]) -> Ensemble {
        let mut servers = vec![ServerCore::new(config(1, Role::Leader), DataTree::new(), &[], at(0))];
        for (i, &role) in learners.iter().enumerate() {
            servers.push(ServerCore::new(config(i as i64 + 2, role), DataTree::new(), &[], at(0)));
        }
        Ensemble { servers, clients: HashMap::new(), now: 0, proposed: Vec::new() }
    }

    fn with_followers() -> Ensemble {
        Ensemble::new(&[Role::Follower, Role::Follower])
    }

    fn leader(&mut self) -> &mut ServerCore {
        &mut self.servers[LEADER]
    }

    /// The leader commits everything it proposed: on itself, then on every learner.
    fn commit_proposals(&mut self) -> bool {
        let now = at(self.now);
        let mut entries = Vec::new();
        while let Some(output) = self.servers[LEADER].poll_output() {
            match output {
                Output::Persist(entry) => entries.push(entry),
                other => panic!("the leader emitted {other:?}"),
            }
        }
        let Some(last) = entries.last() else { return false };
        self.servers[LEADER].durable(last.header.zxid, now);
        for entry in &entries {
            for learner in &mut self.servers[1..] {
                learner.apply_committed(entry.clone(), now);
            }
        }
        self.proposed.extend(entries);
        true
    }

    /// Carries one learner output to the leader, as Zab would.
    fn route(&mut self, from: usize, output: Output) {
        let now = at(self.now);
        match output {
            Output::Forward { op_code, .. } if op_code == OpCode::Sync.code() => {
                // `Leader.processSync`: SYNC goes out once every earlier proposal committed.
                self.commit_proposals();
                self.servers[from].sync_done(now);
            }
            Output::Forward { session_id, cxid, op_code, body, authinfo } => {
                self.leader().remote_request(session_id, cxid, op_code, body, authinfo, now);
            }
            Output::Revalidate { session_id, timeout } => {
                let valid = self.leader().revalidate(session_id, timeout, now);
                self.servers[from].revalidated(session_id, valid, now);
            }
            Output::Persist(entry) => panic!("learner {from} persisted {entry:?}"),
        }
    }

    /// Runs Zab until nothing moves.
    fn pump(&mut self) {
        loop {
            let mut moved = false;
            for from in 1..self.servers.len() {
                while let Some(output) = self.servers[from].poll_output() {
                    moved = true;
                    self.route(from, output);
                }
            }
            moved |= self.commit_proposals();
            if !moved {
                return;
            }
        }
    }

    fn connect(&mut self, server: usize, conn: ConnId, session_id: i64, passwd: Bytes) {
        let (tx, rx) = mpsc::unbounded_channel();
        self.clients.insert((server, conn), rx);
        let request = ConnectRequest {
            protocol_version: 0,
            last_zxid_seen: 0,
            time_out: TIMEOUT,
            session_id,
            passwd,
            read_only: Some(false),
        };
        self.servers[server].connect(conn, peer(), request, tx, at(self.now));
    }

    /// A new session on `server`, set up through the leader.
    fn session(&mut self, server: usize, conn: ConnId) -> ConnectResponse {
        self.connect(server, conn, 0, Bytes::from_static(&[0; 16]));
        self.pump();
        let frame = self.next_frame(server, conn).expect("connect response");
        ConnectResponse::from_bytes(frame).unwrap()
    }

    fn send(&mut self, server: usize, conn: ConnId, xid: i32, request: Request) {
        self.servers[server].request(conn, xid, request.op_code().code(), Ok(request), at(self.now));
    }

    fn next_frame(&mut self, server: usize, conn: ConnId) -> Option<Bytes> {
        match self.clients.get_mut(&(server, conn))?.try_recv().ok()? {
            Outbound::Frame(frame) => Some(frame),
            Outbound::Close => None,
        }
    }

    fn next_reply(&mut self, server: usize, conn: ConnId) -> Option<(ReplyHeader, Bytes)> {
        let mut frame = self.next_frame(server, conn)?;
        Some((ReplyHeader::decode(&mut frame).unwrap(), frame))
    }

    /// Whether the connection was closed (skipping any frames before).
    fn closed(&mut self, server: usize, conn: ConnId) -> bool {
        let rx = self.clients.get_mut(&(server, conn)).unwrap();
        loop {
            match rx.try_recv() {
                Ok(Outbound::Close) => return true,
                Ok(Outbound::Frame(_)) => continue,
                Err(_) => return false,
            }
        }
    }

    /// Every server holds the same tree.
    fn assert_converged(&self) {
        let leader = self.servers[LEADER].tree();
        for learner in &self.servers[1..] {
            assert_eq!(learner.tree().last_processed_zxid(), leader.last_processed_zxid());
            assert_eq!(learner.tree().digest(), leader.digest());
        }
    }
}

fn get_data(path: &str, watch: bool) -> Request {
    Request::GetData(GetDataRequest { path: path.into(), watch })
}

fn set_data(path: &str, data: &'static [u8], version: i32) -> Request {
    Request::SetData(SetDataRequest { path: path.into(), data: Some(Bytes::from_static(data)), version })
}

fn exists(path: &str) -> Request {
    Request::Exists(ExistsRequest { path: path.into(), watch: false })
}

#[test]
fn a_follower_client_creates_a_session_writes_and_reads_its_own_write() {
    let mut e = Ensemble::with_followers();
    e.connect(F1, 1, 0, Bytes::from_static(&[0; 16]));
    let Some(Output::Forward { session_id, cxid, op_code, body, authinfo }) = e.servers[F1].poll_output() else {
        panic!("the createSession was not forwarded");
    };
    assert_eq!((cxid, op_code), (0, OpCode::CreateSession.code()));
    assert_eq!(&body[..], &TIMEOUT.to_be_bytes(), "the body is the negotiated timeout");
    assert_eq!(session_id >> 56, 2, "the session id carries the follower's server id");
    assert!(authinfo.iter().any(|id| id.scheme == "ip"), "the connection's ids go along");
    assert!(e.next_frame(F1, 1).is_none(), "connected before the leader committed the session");
    e.route(F1, Output::Forward { session_id, cxid, op_code, body, authinfo });
    e.pump();
    let session = ConnectResponse::from_bytes(e.next_frame(F1, 1).unwrap()).unwrap();
    assert_eq!((session.session_id, session.time_out), (session_id, TIMEOUT));
    for server in &e.servers {
        assert_eq!(server.sessions(), vec![(session_id, TIMEOUT)], "every server tracks the committed session");
    }

    e.send(F1, 1, 1, create("/a", 0));
    e.send(F1, 1, 2, get_data("/a", false));
    assert!(e.next_frame(F1, 1).is_none(), "the read must wait behind the forwarded write");
    assert!(!e.servers[F1].tree().exists("/a"), "a learner prepares nothing itself");
    e.pump();
    let (created, _) = e.next_reply(F1, 1).unwrap();
    assert_eq!((created.xid, created.err), (1, 0));
    assert_eq!(created.zxid, e.proposed.last().unwrap().header.zxid);
    let (read, mut body) = e.next_reply(F1, 1).unwrap();
    assert_eq!((read.xid, read.err), (2, 0));
    let Response::GetData(data) = Response::decode(OpCode::GetData, &mut body).unwrap() else { panic!() };
    assert_eq!(data.data.as_deref(), Some(&b"v"[..]));
    assert!(e.servers[F2].tree().exists("/a"));
    e.assert_converged();
}

#[test]
fn a_write_on_another_server_fires_the_watch() {
    let mut e = Ensemble::with_followers();
    e.session(F1, 1);
    e.session(F2, 1);
    e.session(LEADER, 1);
    e.send(F1, 1, 1, create("/w", 0));
    e.pump();
    e.next_reply(F1, 1).unwrap();
    e.send(F1, 1, 2, get_data("/w", true));
    e.send(F1, 1, 3, Request::GetChildren(GetChildrenRequest { path: "/".into(), watch: true }));
    e.next_reply(F1, 1).unwrap();
    e.next_reply(F1, 1).unwrap();

    // A follower's client changes /w: the watcher on the other follower hears of it.
    e.send(F2, 1, 1, set_data("/w", b"new", -1));
    e.pump();
    let (changed, _) = e.next_reply(F2, 1).unwrap();
    assert_eq!(changed.err, 0);
    let (header, mut event) = e.next_reply(F1, 1).unwrap();
    assert_eq!((header.xid, header.zxid), (xid::NOTIFICATION, changed.zxid));
    let event = WatcherEvent::decode(&mut event).unwrap();
    assert_eq!((event.event_type, event.path.as_str()), (EventType::NodeDataChanged.code(), "/w"));

    // The leader's own client creates a node: the child watch fires on the follower.
    e.send(LEADER, 1, 1, create("/x", 0));
    e.pump();
    assert_eq!(e.next_reply(LEADER, 1).unwrap().0.err, 0);
    let (header, mut event) = e.next_reply(F1, 1).unwrap();
    assert_eq!(header.xid, xid::NOTIFICATION);
    let event = WatcherEvent::decode(&mut event).unwrap();
    assert_eq!((event.event_type, event.path.as_str()), (EventType::NodeChildrenChanged.code(), "/"));
    e.assert_converged();
}

#[test]
fn sync_is_answered_when_the_leader_completes_it_in_connection_order() {
    let mut e = Ensemble::with_followers();
    e.session(F1, 1);
    e.send(F1, 1, 5, Request::Sync(SyncRequest { path: "/".into() }));
    e.send(F1, 1, 6, exists("/"));
    let Some(Output::Forward { op_code, cxid, mut body, .. }) = e.servers[F1].poll_output() else { panic!() };
    assert_eq!((op_code, cxid), (OpCode::Sync.code(), 5));
    assert_eq!(SyncRequest::decode(&mut body).unwrap().path, "/");
    assert!(e.next_frame(F1, 1).is_none(), "sync answered before the leader completed it");
    e.servers[F1].sync_done(at(e.now));
    let (synced, mut body) = e.next_reply(F1, 1).unwrap();
    assert_eq!((synced.xid, synced.err), (5, 0));
    assert_eq!(Response::decode(OpCode::Sync, &mut body).unwrap(), Response::Sync(SyncResponse { path: "/".into() }));
    assert_eq!(e.next_reply(F1, 1).unwrap().0.xid, 6, "the read behind the sync follows it");

    // A write on another follower commits; this follower has not applied it yet when its client
    // syncs. The leader's SYNC follows that COMMIT, so the read after the sync sees the write.
    e.session(F2, 1);
    e.send(F2, 1, 1, create("/s", 0));
    let forwarded = e.servers[F2].poll_output().unwrap();
    e.route(F2, forwarded);
    let Some(Output::Persist(entry)) = e.leader().poll_output() else { panic!() };
    e.servers[LEADER].durable(entry.header.zxid, at(e.now));
    e.servers[F2].apply_committed(entry.clone(), at(e.now));
    assert_eq!(e.next_reply(F2, 1).unwrap().0.err, 0);
    e.send(F1, 1, 7, Request::Sync(SyncRequest { path: "/s".into() }));
    e.send(F1, 1, 8, exists("/s"));
    assert!(matches!(e.servers[F1].poll_output(), Some(Output::Forward { op_code: 9, cxid: 7, .. })));
    e.servers[F1].apply_committed(entry, at(e.now));
    assert!(e.next_frame(F1, 1).is_none(), "sync answered before the leader completed it");
    e.servers[F1].sync_done(at(e.now));
    assert_eq!(e.next_reply(F1, 1).unwrap().0.xid, 7);
    let (read, _) = e.next_reply(F1, 1).unwrap();
    assert_eq!((read.xid, read.err), (8, 0), "the read after the sync missed the write");
}

#[test]
fn a_reconnect_to_another_follower_is_revalidated_by_the_leader() {
    let mut e = Ensemble::with_followers();
    let session = e.session(F1, 1);
    e.connect(F2, 2, session.session_id, session.passwd.clone());
    let Some(Output::Revalidate { session_id, timeout }) = e.servers[F2].poll_output() else { panic!() };
    assert_eq!((session_id, timeout), (session.session_id, TIMEOUT));
    assert!(e.next_frame(F2, 2).is_none(), "resumed before the leader answered");
    e.route(F2, Output::Revalidate { session_id, timeout });
    let resumed = ConnectResponse::from_bytes(e.next_frame(F2, 2).unwrap()).unwrap();
    assert_eq!((resumed.session_id, resumed.time_out), (session.session_id, TIMEOUT));
    // The resumed session writes through its new server.
    e.send(F2, 2, 1, create("/eph", CreateMode::Ephemeral.code()));
    e.pump();
    assert_eq!(e.next_reply(F2, 2).unwrap().0.err, 0);
    assert_eq!(e.servers[F1].tree().stat("/eph").unwrap().ephemeral_owner, session.session_id);

    // A wrong password is refused here, without asking the leader.
    e.connect(F2, 3, session.session_id, Bytes::from_static(&[7; 16]));
    assert!(e.servers[F2].poll_output().is_none());
    let refused = ConnectResponse::from_bytes(e.next_frame(F2, 3).unwrap()).unwrap();
    assert_eq!(refused.time_out, 0);
    assert!(e.closed(F2, 3));

    // A session the leader does not know is answered as expired.
    let unknown = session.session_id + 1000;
    e.connect(F2, 4, unknown, Bytes::copy_from_slice(&generate_password(unknown)));
    e.pump();
    let expired = ConnectResponse::from_bytes(e.next_frame(F2, 4).unwrap()).unwrap();
    assert_eq!((expired.time_out, expired.session_id), (0, 0));
    assert!(e.closed(F2, 4));
}

#[test]
fn the_leader_expires_sessions_learners_only_report_activity() {
    let mut e = Ensemble::with_followers();
    let session = e.session(F1, 1);
    e.send(F1, 1, 1, create("/e", CreateMode::Ephemeral.code()));
    e.pump();
    e.next_reply(F1, 1).unwrap();
    assert_eq!(e.servers[F1].take_touched(), vec![(session.session_id, TIMEOUT)]);

    // Pings on the follower, reported to the leader, keep the session well past its timeout.
    for step in 1..=8 {
        e.now = step * 500;
        e.send(F1, 1, xid::PING, Request::Ping);
        assert_eq!(e.next_reply(F1, 1).unwrap().0.xid, xid::PING);
        let touched = e.servers[F1].take_touched();
        assert_eq!(touched, vec![(session.session_id, TIMEOUT)]);
        e.servers[LEADER].touch_sessions(&touched, at(e.now));
        e.servers[LEADER].tick(at(e.now));
        assert!(e.leader().poll_output().is_none(), "expired a session that was touched at {}", e.now);
    }
    assert!(e.servers[F1].take_touched().is_empty(), "the touch table empties when taken");
    // A learner never expires sessions itself.
    e.servers[F1].tick(at(100_000));
    assert!(e.servers[F1].poll_output().is_none());
    assert!(e.servers[F1].tree().exists("/e"));

    // Without touches the leader expires it, and the follower closes the connection.
    e.now += 2 * i64::from(TIMEOUT);
    e.servers[LEADER].tick(at(e.now));
    e.pump();
    let close = e.proposed.last().unwrap();
    assert_eq!((close.header.op_code, close.header.client_id), (OpCode::CloseSession.code(), session.session_id));
    assert!(e.closed(F1, 1));
    for server in &e.servers {
        assert!(!server.tree().exists("/e"), "the ephemeral survived the expiry");
        assert!(server.sessions().is_empty());
    }
    e.assert_converged();
}

#[test]
fn forwarded_writes_that_fail_answer_their_errors() {
    let mut e = Ensemble::with_followers();
    e.session(F1, 1);
    e.send(F1, 1, 1, create("/a", 0));
    e.send(F1, 1, 2, create("/a", 0));
    e.send(F1, 1, 3, set_data("/a", b"x", 5));
    let ops = vec![
        MultiOp::Create(CreateRequest { path: "/m".into(), data: None, acl: Acl::open_unsafe(), flags: 0 }),
        MultiOp::Delete(DeleteRequest { path: "/missing".into(), version: -1 }),
    ];
    e.send(F1, 1, 4, Request::Multi(MultiRequest { ops }));
    e.servers[F1].request(1, 5, OpCode::SetData.code(), Err(DecodeError::UnexpectedEof), at(e.now));
    e.pump();
    let errs: Vec<(i32, i32)> = (0..4).map(|_| e.next_reply(F1, 1).unwrap().0).map(|h| (h.xid, h.err)).collect();
    assert_eq!(errs, vec![(1, 0), (2, ErrorCode::NodeExists.code()), (3, ErrorCode::BadVersion.code()), (4, 0)]);
    let (malformed, _) = e.next_reply(F1, 1).unwrap();
    assert_eq!((malformed.xid, malformed.err), (5, ErrorCode::MarshallingError.code()));
    let ops: Vec<i32> = e.proposed.iter().skip(2).map(|t| t.header.op_code).collect();
    assert_eq!(ops, vec![OpCode::Error.code(), OpCode::Error.code(), OpCode::Multi.code(), OpCode::Error.code()]);
    assert!(!e.servers[F1].tree().exists("/m"));
    e.assert_converged();
}

#[test]
fn a_failed_forwarded_multi_answers_per_op_errors() {
    let mut e = Ensemble::with_followers();
    e.session(F2, 1);
    let ops = vec![
        MultiOp::Create(CreateRequest { path: "/m".into(), data: None, acl: Acl::open_unsafe(), flags: 0 }),
        MultiOp::Delete(DeleteRequest { path: "/missing".into(), version: -1 }),
        MultiOp::SetData(SetDataRequest { path: "/m".into(), data: None, version: -1 }),
    ];
    e.send(F2, 1, 1, Request::Multi(MultiRequest { ops }));
    e.pump();
    let (reply, mut body) = e.next_reply(F2, 1).unwrap();
    assert_eq!(reply.err, 0);
    let Response::Multi(multi) = Response::decode(OpCode::Multi, &mut body).unwrap() else { panic!() };
    let errs: Vec<i32> = multi.results.iter().map(OpResult::err).collect();
    assert_eq!(errs, vec![0, ErrorCode::NoNode.code(), ErrorCode::RuntimeInconsistency.code()]);
}

#[test]
fn acls_of_forwarded_writes_use_the_connections_auth_ids() {
    let mut e = Ensemble::with_followers();
    e.session(F1, 1);
    e.session(F2, 1);
    let auth = AuthPacket { auth_type: 0, scheme: "digest".into(), auth: Bytes::from_static(b"alice:secret") };
    e.send(F1, 1, 1, Request::Auth(auth));
    assert_eq!(e.next_reply(F1, 1).unwrap().0.err, 0);
    let node = CreateRequest { path: "/mine".into(), data: None, acl: Acl::creator_all(), flags: 0 };
    e.send(F1, 1, 2, Request::Create(node));
    e.pump();
    assert_eq!(e.next_reply(F1, 1).unwrap().0.err, 0, "the leader saw the digest id the follower forwarded");
    let acl = e.leader().tree().acl("/mine").unwrap();
    let alice = crate::acl::digest::generate_digest("alice:secret");
    assert_eq!(&acl[..], &[Acl::new(perms::ALL, Id::new("digest", alice))]);
    // Another client, without the credentials, is refused by the leader.
    e.send(F2, 1, 1, set_data("/mine", b"x", -1));
    e.pump();
    assert_eq!(e.next_reply(F2, 1).unwrap().0.err, ErrorCode::NoAuth.code());
}

#[test]
fn close_session_from_a_follower_is_answered_then_closes() {
    let mut e = Ensemble::with_followers();
    let session = e.session(F1, 1);
    e.send(F1, 1, 1, create("/e", CreateMode::Ephemeral.code()));
    e.send(F1, 1, 2, Request::CloseSession);
    e.send(F1, 1, 3, exists("/"));
    e.pump();
    assert_eq!(e.next_reply(F1, 1).unwrap().0.xid, 1);
    let (closed, _) = e.next_reply(F1, 1).unwrap();
    assert_eq!((closed.xid, closed.err), (2, 0));
    // The read behind the close is dropped or answered SessionExpired, never served.
    if let Some((late, _)) = e.next_reply(F1, 1) {
        assert_eq!((late.xid, late.err), (3, ErrorCode::SessionExpired.code()));
    }
    assert!(e.closed(F1, 1));
    for server in &e.servers {
        assert!(!server.tree().exists("/e"));
        assert!(!server.sessions().iter().any(|&(id, _)| id == session.session_id));
    }
    // The closed session cannot be resumed elsewhere.
    e.connect(F2, 2, session.session_id, session.passwd.clone());
    e.pump();
    let refused = ConnectResponse::from_bytes(e.next_frame(F2, 2).unwrap()).unwrap();
    assert_eq!(refused.time_out, 0);
}

#[test]
fn an_observer_serves_like_a_follower() {
    let mut e = Ensemble::new(&[Role::Observer]);
    let session = e.session(F1, 1);
    assert_eq!(session.session_id >> 56, 2);
    e.send(F1, 1, 1, create("/o", 0));
    e.send(F1, 1, 2, exists("/o"));
    e.pump();
    assert_eq!(e.next_reply(F1, 1).unwrap().0.err, 0);
    assert_eq!(e.next_reply(F1, 1).unwrap().0.err, 0);
    e.assert_converged();
}

#[test]
fn modes_follow_the_role() {
    let mut e = Ensemble::new(&[Role::Follower, Role::Observer]);
    let host = HostFacts::default();
    for (server, mode) in [(LEADER, "leader"), (F1, "follower"), (F2, "observer")] {
        let srvr = e.servers[server].four_letter("srvr", true, &host, at(0));
        assert!(srvr.contains(&format!("\nMode: {mode}\n")), "{srvr}");
        let mntr = e.servers[server].four_letter("mntr", true, &host, at(0));
        assert!(mntr.contains(&format!("zk_server_state\t{mode}\n")), "{mntr}");
        assert_eq!(e.servers[server].four_letter("isro", true, &host, at(0)), "rw");
    }
    let srvr = e.servers[LEADER].four_letter("srvr", true, &host, at(0));
    assert!(srvr.ends_with("Proposal sizes last/min/max: -1/-1/-1\n"), "{srvr}");
    assert!(!e.servers[F1].four_letter("srvr", true, &host, at(0)).contains("Proposal sizes"));
    // Forwarded requests count as outstanding until answered.
    let session = e.session(F1, 1);
    e.send(F1, 1, 1, create("/p", 0));
    assert!(e.servers[F1].four_letter("srvr", true, &host, at(0)).contains("\nOutstanding: 1\n"));
    e.pump();
    let sizes: Vec<i64> = e.proposed.iter().map(|t| Jute::encoded_len(t) as i64).collect();
    let (last, min, max) = (sizes[1], sizes.iter().min().unwrap(), sizes.iter().max().unwrap());
    let srvr = e.servers[LEADER].four_letter("srvr", true, &host, at(0));
    assert!(srvr.ends_with(&format!("Proposal sizes last/min/max: {last}/{min}/{max}\n")), "{srvr}");
    let mntr = e.servers[LEADER].four_letter("mntr", true, &host, at(0));
    assert!(mntr.contains(&format!("zk_max_proposal_size\t{max}\n")), "{mntr}");
    // A learner's session dump lists the sessions it knows (`LearnerSessionTracker`).
    let dump = e.servers[F2].four_letter("dump", true, &host, at(0));
    let listed = format!("SessionTracker dump:\nGlobal Sessions(1):\n0x{:x}\t{TIMEOUT}ms\n", session.session_id);
    assert!(dump.starts_with(&listed), "{dump}");
}

#[test]
fn a_follower_that_becomes_leader_knows_every_session_and_expires_them() {
    let mut e = Ensemble::with_followers();
    let session = e.session(F1, 1);
    e.session(F2, 1);
    e.now = 5000;
    // F2 takes over: its clients are dropped, it proposes in its new epoch.
    let f2 = &mut e.servers[F2];
    let known: Vec<i64> = f2.sessions().iter().map(|s| s.0).collect();
    assert!(known.contains(&session.session_id), "a learner tracks sessions created elsewhere");
    f2.set_role(Role::Leader);
    f2.start_epoch(2);
    assert_eq!(f2.role(), Role::Leader);
    assert!(e.closed(F2, 1), "a role change drops the connections");
    // Expiry restarts with a full timeout from the first tick of the new term.
    let f2 = &mut e.servers[F2];
    f2.tick(at(5000));
    f2.tick(at(5500));
    assert!(f2.poll_output().is_none(), "expired a session before its timeout in the new term");
    f2.tick(at(5000 + 2 * i64::from(TIMEOUT)));
    let mut closed = Vec::new();
    while let Some(Output::Persist(entry)) = f2.poll_output() {
        assert_eq!(entry.header.op_code, OpCode::CloseSession.code());
        closed.push((entry.header.zxid, entry.header.client_id));
    }
    assert_eq!(closed.first().map(|c| c.0), Some((2 << 32) + 1), "the new epoch's first zxid");
    assert!(closed.iter().any(|&(_, id)| id == session.session_id));
}

#[test]
fn reset_replaces_the_state_and_drops_connections() {
    let mut e = Ensemble::with_followers();
    e.session(F1, 1);
    let mut tree = DataTree::new();
    let header = TxnHeader { client_id: 9, cxid: 1, zxid: 0x5_0000_0007, time: 0, op_code: OpCode::Create.code() };
    let body = TxnBody::Create(CreateTxn {
        path: "/snap".into(),
        data: None,
        acl: Acl::open_unsafe(),
        ephemeral: false,
        parent_c_version: 1,
    });
    tree.apply(&TxnEntry { header, body, digest: None });
    e.servers[F1].reset(tree, &[(9, 4000)], at(e.now));
    assert!(e.closed(F1, 1));
    let f1 = &e.servers[F1];
    assert!(f1.tree().exists("/snap"));
    assert_eq!((f1.last_zxid(), f1.sessions()), (0x5_0000_0007, vec![(9, 4000)]));
    // Committed txns older than the new state are skipped, later ones applied.
    let mut late = e.proposed[0].clone();
    e.servers[F1].apply_committed(late.clone(), at(e.now));
    assert_eq!(e.servers[F1].sessions(), vec![(9, 4000)]);
    late.header.zxid = 0x5_0000_0008;
    e.servers[F1].apply_committed(late.clone(), at(e.now));
    assert_eq!(e.servers[F1].sessions().len(), 2);
    assert_eq!(e.servers[F1].tree().last_processed_zxid(), 0x5_0000_0008);
}

#[test]
fn a_standalone_server_ignores_ensemble_calls() {
    let mut core = ServerCore::new(config(1, Role::Standalone), DataTree::new(), &[], at(0));
    let mut body = BytesMut::new();
    create("/r", 0).encode(&mut body);
    core.remote_request(7, 1, OpCode::Create.code(), body.freeze(), Vec::new(), at(0));
    assert!(core.poll_output().is_none());
    assert_eq!(core.role().mode(), "standalone");
}

#[test]
fn a_reconfig_through_a_follower_commits_and_activates_everywhere() {
    use crate::config::QuorumConfig;
    use crate::tree::CONFIG_PATH;
    let spec = |id: i64| format!("server.{id}=127.0.0.1:{}:{}:participant;127.0.0.1:{}", 20 + id, 30 + id, 40 + id);
    let text = format!("{}\n{}\n{}\nversion=0", spec(1), spec(2), spec(3));
    let three = QuorumConfig::from_config_text(&text, false).unwrap();
    let mut e = Ensemble::with_followers();
    for server in &mut e.servers {
        server.config.reconfig_enabled = true;
        server.config.auth.skip_acl = true;
        server.set_membership(three.clone(), true, at(0));
        assert_eq!(server.tree().get(CONFIG_PATH).unwrap().data(), Some(text.as_bytes()));
        assert_eq!(server.take_activated_config(), None);
    }
    e.leader().set_synced_voters([1, 2, 3].into());
    e.session(F1, 1);
    e.session(F2, 1);
    let leave = |id: &str| {
        Request::Reconfig(ReconfigRequest {
            joining_servers: None,
            leaving_servers: Some(id.into()),
            new_members: None,
            cur_config_id: -1,
        })
    };
    // Both reach the leader before the first commits: the second finds it in flight.
    e.send(F1, 1, 1, leave("3"));
    e.send(F2, 1, 1, leave("2"));
    e.pump();
    let (reply, mut body) = e.next_reply(F1, 1).unwrap();
    assert_eq!(reply.err, 0);
    let Response::Reconfig(config) = Response::decode(OpCode::Reconfig, &mut body).unwrap() else { panic!() };
    let zxid = e.proposed.iter().find(|t| t.header.op_code == OpCode::Reconfig.code()).unwrap().header.zxid;
    let expected = format!("{}\n{}\nversion={zxid:x}", spec(1), spec(2));
    assert_eq!(config.data.as_deref(), Some(expected.as_bytes()));
    assert_eq!((config.stat.version, config.stat.mzxid), (-1, zxid));
    assert_eq!(e.next_reply(F2, 1).unwrap().0.err, ErrorCode::ReconfigInProgress.code());
    for server in &mut e.servers {
        let activated = server.take_activated_config().expect("activated");
        assert_eq!((activated.version, activated.servers.len()), (zxid, 2));
        assert_eq!(server.membership().map(|m| m.version), Some(zxid));
        assert_eq!(server.take_activated_config(), None, "reported once");
        let node = server.tree().get(CONFIG_PATH).unwrap();
        assert_eq!(node.data(), Some(expected.as_bytes()));
    }
    e.assert_converged();
    // Setting an older membership again (a reload) keeps the committed one.
    e.leader().set_membership(three, true, at(0));
    assert_eq!(e.leader().membership().map(|m| m.version), Some(zxid));
}
