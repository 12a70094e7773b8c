//! Tests of the core as a pure state machine: events in, frames and persist outputs out.

use std::net::SocketAddr;

use bytes::Bytes;
use tokio::sync::mpsc;
use zk_proto::*;

use super::*;
use crate::net::Outbound;

const CONN: ConnId = 1;

fn config() -> CoreConfig {
    test_config(1, Role::Standalone)
}

/// The settings the core's tests run with: 100 ms ticks, TTL nodes, digests, 1 s container checks.
pub(super) fn test_config(server_id: i64, role: Role) -> CoreConfig {
    CoreConfig {
        server_id,
        tick_time: 100,
        timeouts: crate::session::SessionTimeouts::new(100, -1, -1),
        auth: AuthConfig::default(),
        extended_types: true,
        reconfig_enabled: false,
        enforce_quota: false,
        digest_enabled: true,
        container_check_interval_ms: 1000,
        container_max_per_minute: 10_000,
        role,
    }
}

pub(super) fn at(ms: i64) -> Now {
    Now { mono_ms: ms, wall_ms: 1_700_000_000_000 + ms }
}

pub(super) fn peer() -> SocketAddr {
    "127.0.0.1:5000".parse().unwrap()
}

struct Harness {
    core: ServerCore,
    clients: std::collections::HashMap<ConnId, mpsc::UnboundedReceiver<Outbound>>,
    now: i64,
}

impl Harness {
    fn new() -> Harness {
        Harness { core: ServerCore::new(config(), DataTree::new(), &[], at(0)), clients: Default::default(), now: 0 }
    }

    /// Persists and commits everything proposed so far.
    fn sync_log(&mut self) -> Vec<TxnEntry> {
        let mut entries = Vec::new();
        while let Some(Output::Persist(entry)) = self.core.poll_output() {
            entries.push(entry);
        }
        if let Some(last) = entries.last() {
            self.core.durable(last.header.zxid, at(self.now));
        }
        entries
    }

    fn connect(&mut self, conn: ConnId, session_id: i64, passwd: Bytes) {
        let (tx, rx) = mpsc::unbounded_channel();
        self.clients.insert(conn, rx);
        let request = ConnectRequest {
            protocol_version: 0,
            last_zxid_seen: 0,
            time_out: 1000,
            session_id,
            passwd,
            read_only: Some(false),
        };
        self.core.connect(conn, peer(), request, tx, at(self.now));
    }

    fn session(&mut self, conn: ConnId) -> ConnectResponse {
        self.connect(conn, 0, Bytes::from_static(&[0; 16]));
        self.sync_log();
        let frame = self.next_frame(conn).expect("connect response");
        ConnectResponse::from_bytes(frame).unwrap()
    }

    fn send(&mut self, conn: ConnId, xid: i32, request: Request) {
        self.core.request(conn, xid, request.op_code().code(), Ok(request), at(self.now));
    }

    fn next_frame(&mut self, conn: ConnId) -> Option<Bytes> {
        match self.clients.get_mut(&conn)?.try_recv().ok()? {
            Outbound::Frame(frame) => Some(frame),
            Outbound::Close => None,
        }
    }

    fn next_reply(&mut self, conn: ConnId) -> Option<(ReplyHeader, Bytes)> {
        let mut frame = self.next_frame(conn)?;
        Some((ReplyHeader::decode(&mut frame).unwrap(), frame))
    }

    fn closed(&mut self, conn: ConnId) -> bool {
        let rx = self.clients.get_mut(&conn).unwrap();
        loop {
            match rx.try_recv() {
                Ok(Outbound::Close) => return true,
                Ok(Outbound::Frame(_)) => continue,
                Err(_) => return false,
            }
        }
    }
}

pub(super) fn create(path: &str, flags: i32) -> Request {
    Request::Create(CreateRequest {
        path: path.into(),
        data: Some(Bytes::from_static(b"v")),
        acl: Acl::open_unsafe(),
        flags,
    })
}

#[test]
fn no_reply_before_the_txn_is_durable() {
    let mut h = Harness::new();
    h.session(CONN);
    h.send(CONN, 1, create("/a", 0));
    assert!(h.next_frame(CONN).is_none(), "replied before the log was synced");
    let entries = h.sync_log();
    assert_eq!(entries.len(), 1);
    let (header, mut body) = h.next_reply(CONN).unwrap();
    assert_eq!((header.xid, header.err, header.zxid), (1, 0, entries[0].header.zxid));
    assert_eq!(
        Response::decode(OpCode::Create, &mut body).unwrap(),
        Response::Create(CreateResponse { path: "/a".into() })
    );
}

#[test]
fn reads_wait_behind_the_same_connections_writes() {
    let mut h = Harness::new();
    h.session(CONN);
    h.session(2);
    h.send(CONN, 1, create("/a", 0));
    h.send(CONN, 2, Request::Exists(ExistsRequest { path: "/a".into(), watch: false }));
    // Another connection's read is answered at once, from committed state.
    h.send(2, 1, Request::Exists(ExistsRequest { path: "/a".into(), watch: false }));
    let (other, _) = h.next_reply(2).unwrap();
    assert_eq!(other.err, ErrorCode::NoNode.code());
    assert!(h.next_frame(CONN).is_none());
    h.sync_log();
    let (first, _) = h.next_reply(CONN).unwrap();
    let (second, _) = h.next_reply(CONN).unwrap();
    assert_eq!((first.xid, second.xid), (1, 2));
    assert_eq!(second.err, 0, "the read must see the write before it");
}

#[test]
fn pipelined_writes_see_each_other_before_commit() {
    let mut h = Harness::new();
    h.session(CONN);
    h.send(CONN, 1, create("/a", 0));
    h.send(CONN, 2, create("/a/b", 0));
    h.send(CONN, 3, create("/a", 0));
    let entries = h.sync_log();
    assert_eq!(entries.len(), 3);
    let errs: Vec<i32> = (0..3).map(|_| h.next_reply(CONN).unwrap().0.err).collect();
    assert_eq!(errs, vec![0, 0, ErrorCode::NodeExists.code()]);
    // The failed create still took a zxid, as in ZooKeeper.
    assert_eq!(entries[2].header.op_code, OpCode::Error.code());
}

#[test]
fn watch_event_precedes_the_reply_that_caused_it() {
    let mut h = Harness::new();
    h.session(CONN);
    h.send(CONN, 1, create("/w", 0));
    h.sync_log();
    h.next_reply(CONN).unwrap();
    h.send(CONN, 2, Request::GetData(GetDataRequest { path: "/w".into(), watch: true }));
    h.next_reply(CONN).unwrap();
    h.send(CONN, 3, Request::SetData(SetDataRequest { path: "/w".into(), data: None, version: -1 }));
    let entries = h.sync_log();
    let (event_header, mut event) = h.next_reply(CONN).unwrap();
    assert_eq!(event_header.xid, xid::NOTIFICATION);
    assert_eq!(event_header.zxid, entries[0].header.zxid);
    let event = WatcherEvent::decode(&mut event).unwrap();
    assert_eq!((event.event_type, event.path.as_str()), (EventType::NodeDataChanged.code(), "/w"));
    let (reply, _) = h.next_reply(CONN).unwrap();
    assert_eq!(reply.xid, 3);
}

#[test]
fn expired_session_loses_its_ephemerals_and_connection() {
    let mut h = Harness::new();
    let session = h.session(CONN);
    assert_eq!(session.time_out, 1000);
    h.send(CONN, 1, create("/e", CreateMode::Ephemeral.code()));
    h.sync_log();
    h.next_reply(CONN).unwrap();
    assert!(h.core.tree().exists("/e"));
    h.now = 5000;
    h.core.tick(at(h.now));
    let entries = h.sync_log();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].header.op_code, OpCode::CloseSession.code());
    assert!(!h.core.tree().exists("/e"));
    assert!(h.closed(CONN));
    // Resuming the expired session is refused with a zero timeout.
    h.connect(3, session.session_id, session.passwd.clone());
    let refused = ConnectResponse::from_bytes(h.next_frame(3).unwrap()).unwrap();
    assert_eq!((refused.time_out, refused.session_id), (0, 0));
}

#[test]
fn session_resumes_on_a_new_connection_with_the_right_password() {
    let mut h = Harness::new();
    let session = h.session(CONN);
    h.connect(2, session.session_id, Bytes::from_static(&[7; 16]));
    let refused = ConnectResponse::from_bytes(h.next_frame(2).unwrap()).unwrap();
    assert_eq!(refused.time_out, 0, "a wrong password must be refused");
    h.connect(3, session.session_id, session.passwd.clone());
    let resumed = ConnectResponse::from_bytes(h.next_frame(3).unwrap()).unwrap();
    assert_eq!((resumed.session_id, resumed.time_out), (session.session_id, 1000));
    assert!(h.closed(CONN), "the old connection of the session is closed");
}

#[test]
fn requests_sent_during_the_handshake_wait_for_it() {
    let mut h = Harness::new();
    h.connect(CONN, 0, Bytes::from_static(&[0; 16]));
    h.send(CONN, 1, Request::Exists(ExistsRequest { path: "/".into(), watch: false }));
    assert!(h.next_frame(CONN).is_none());
    h.sync_log();
    assert!(ConnectResponse::from_bytes(h.next_frame(CONN).unwrap()).is_ok());
    let (reply, _) = h.next_reply(CONN).unwrap();
    assert_eq!((reply.xid, reply.err), (1, 0));
}

#[test]
fn close_session_is_answered_then_the_connection_closes() {
    let mut h = Harness::new();
    h.session(CONN);
    h.send(CONN, 1, Request::CloseSession);
    h.sync_log();
    let (reply, _) = h.next_reply(CONN).unwrap();
    assert_eq!((reply.xid, reply.err), (1, 0));
    assert!(h.closed(CONN));
}

#[test]
fn unknown_opcode_is_unimplemented_and_closes() {
    let mut h = Harness::new();
    h.session(CONN);
    h.core.request(CONN, 5, 77, Err(DecodeError::UnknownOpCode(77)), at(0));
    let (reply, _) = h.next_reply(CONN).unwrap();
    assert_eq!((reply.xid, reply.err), (5, ErrorCode::Unimplemented.code()));
    assert!(h.closed(CONN));
}

#[test]
fn malformed_write_body_is_a_marshalling_error_that_keeps_the_connection() {
    let mut h = Harness::new();
    h.session(CONN);
    h.core.request(CONN, 5, OpCode::Create.code(), Err(DecodeError::UnexpectedEof), at(0));
    h.sync_log();
    let (reply, _) = h.next_reply(CONN).unwrap();
    assert_eq!((reply.xid, reply.err), (5, ErrorCode::MarshallingError.code()));
    h.send(CONN, 6, Request::Exists(ExistsRequest { path: "/".into(), watch: false }));
    assert_eq!(h.next_reply(CONN).unwrap().0.xid, 6);
}

#[test]
fn failed_multi_answers_ok_with_per_op_errors_and_changes_nothing() {
    let mut h = Harness::new();
    h.session(CONN);
    let ops = vec![
        MultiOp::Create(CreateRequest { path: "/m".into(), data: None, acl: Acl::open_unsafe(), flags: 0 }),
        MultiOp::Delete(DeleteRequest { path: "/missing".into(), version: -1 }),
        MultiOp::SetData(SetDataRequest { path: "/m".into(), data: None, version: -1 }),
    ];
    h.send(CONN, 1, Request::Multi(MultiRequest { ops }));
    h.sync_log();
    let (reply, mut body) = h.next_reply(CONN).unwrap();
    assert_eq!(reply.err, 0);
    let Response::Multi(multi) = Response::decode(OpCode::Multi, &mut body).unwrap() else { panic!() };
    let errs: Vec<i32> = multi.results.iter().map(OpResult::err).collect();
    assert_eq!(errs, vec![0, ErrorCode::NoNode.code(), ErrorCode::RuntimeInconsistency.code()]);
    assert!(!h.core.tree().exists("/m"));
}

#[test]
fn empty_container_is_reaped_after_its_last_child_goes() {
    let mut h = Harness::new();
    h.session(CONN);
    let container =
        CreateRequest { path: "/c".into(), data: None, acl: Acl::open_unsafe(), flags: CreateMode::Container.code() };
    h.send(CONN, 1, Request::CreateContainer(container));
    h.send(CONN, 2, create("/c/x", 0));
    h.send(CONN, 3, Request::Delete(DeleteRequest { path: "/c/x".into(), version: -1 }));
    h.sync_log();
    h.now = 1500;
    h.core.tick(at(h.now));
    let entries = h.sync_log();
    assert!(entries.iter().any(|e| e.header.op_code == OpCode::DeleteContainer.code()));
    assert!(!h.core.tree().exists("/c"));
}

/// A fresh server must not hand out session id 0 ("no session"): it did when the first id came from
/// a clock that starts with the server (differential test, `sessions` script).
#[test]
fn first_session_id_is_not_zero_on_a_fresh_server() {
    let config = CoreConfig {
        server_id: 0,
        tick_time: 2000,
        timeouts: SessionTimeouts { min: 4000, max: 40000 },
        auth: AuthConfig::default(),
        extended_types: true,
        reconfig_enabled: false,
        enforce_quota: false,
        digest_enabled: true,
        container_check_interval_ms: 60_000,
        container_max_per_minute: 10_000,
        role: Role::Standalone,
    };
    let now = Now { mono_ms: 0, wall_ms: 1_700_000_000_000 };
    let core = ServerCore::new(config, DataTree::new(), &[], now);
    assert_eq!(core.sessions.next_session_id(), crate::session::initial_session_id(0, now.wall_ms));
    assert_ne!(core.sessions.next_session_id(), 0);
}

/// Pipelined writes from two sessions, committed a few at a time while later ones stay in flight.
/// Each txn must be exactly what preparing its request against the fully applied earlier txns gives (a
/// stale speculative read changes a txn, not only a digest), its digest must be the committed tree's
/// once it commits, and nothing may stay pending once all have committed.
#[test]
fn speculative_state_matches_the_committed_tree_at_every_commit() {
    const OTHER: ConnId = 2;
    let mut h = Harness::new();
    let sessions = [(CONN, h.session(CONN).session_id), (OTHER, h.session(OTHER).session_id)];
    let mut replay = h.core.tree().clone();
    let auth = AuthConfig::default();
    let mut seed: u64 = 7;
    let mut next = move |n: u64| {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) % n
    };
    let mut xid = 0;
    for round in 0..80 {
        let mut sent = Vec::new();
        for _ in 0..next(12) + 1 {
            xid += 1;
            let (conn, session_id) = sessions[next(2) as usize];
            let path = format!("/n{}", next(6));
            let request = match next(7) {
                0 => create(&path, 0),
                1 => create(&format!("{path}/s"), CreateMode::EphemeralSequential.code()),
                2 => Request::SetData(SetDataRequest {
                    path,
                    data: Some(Bytes::from(vec![b'x'; next(64) as usize])),
                    version: -1,
                }),
                3 => Request::Delete(DeleteRequest { path, version: -1 }),
                4 => Request::Multi(MultiRequest {
                    ops: vec![
                        MultiOp::Create(CreateRequest {
                            path: format!("{path}/m"),
                            data: None,
                            acl: Acl::open_unsafe(),
                            flags: 0,
                        }),
                        MultiOp::Delete(DeleteRequest { path: format!("{path}/m"), version: -1 }),
                        MultiOp::SetData(SetDataRequest { path: path.clone(), data: None, version: -1 }),
                    ],
                }),
                5 => Request::SetAcl(SetAclRequest { path, acl: Acl::open_unsafe(), version: -1 }),
                _ => create(&format!("{path}/e{round}"), CreateMode::Ephemeral.code()),
            };
            h.send(conn, xid, request.clone());
            sent.push((session_id, request));
        }
        let mut proposed = Vec::new();
        while let Some(Output::Persist(entry)) = h.core.poll_output() {
            proposed.push(entry);
        }
        assert_eq!(proposed.len(), sent.len());
        for (entry, (session_id, request)) in proposed.iter().zip(&sent) {
            let ctx = crate::prep::PrepContext {
                auth: &auth,
                ids: &[],
                session_id: *session_id,
                extended_types: true,
                reconfig_enabled: false,
                enforce_quota: false,
                ensemble: None,
            };
            let expected = crate::prep::prepare_request(&replay, &ctx, entry.header.zxid, entry.header.time, request)
                .unwrap_or_else(crate::prep::error);
            assert_eq!((expected.op_code.code(), &expected.body), (entry.header.op_code, &entry.body));
            replay.apply(entry);
        }
        // Commit a prefix, one txn at a time; the rest stays in flight into the next round.
        let commit = proposed.len().saturating_sub(next(5) as usize);
        for entry in &proposed[..commit] {
            h.core.durable(entry.header.zxid, at(h.now));
            let digest = entry.digest.as_ref().expect("digests are enabled").tree_digest;
            assert_eq!(h.core.tree().digest(), digest, "zxid {:#x}", entry.header.zxid);
        }
    }
    let last = h.core.last_zxid();
    h.core.durable(last, at(h.now));
    assert_eq!(h.core.spec.pending_nodes(), 0);
    assert_eq!(h.core.tree().digest(), replay.digest());
    assert_eq!(h.core.tree().recompute_digest(), replay.recompute_digest());
    assert!(h.core.tree().get_all_children_number("/") > 5, "the script built a tree");
}
