//! Tests of the read-only role (`ReadOnlyZooKeeperServer`): who is accepted, what is answered, that
//! nothing is proposed, and how sessions live and end.

use std::collections::HashMap;

use bytes::Bytes;
use tokio::sync::mpsc;
use zk_proto::*;

use super::tests::{at, create, peer};
use super::*;
use crate::net::Outbound;
use crate::session::generate_password;

const TIMEOUT: i32 = 1000;

fn config(role: Role) -> CoreConfig {
    CoreConfig { reconfig_enabled: true, ..super::tests::test_config(2, role) }
}

struct Harness {
    core: ServerCore,
    clients: HashMap<ConnId, mpsc::UnboundedReceiver<Outbound>>,
    /// Connections whose close was seen while reading frames.
    closes: std::collections::HashSet<ConnId>,
    now: i64,
    /// A session created while the server was standalone (a session of the ensemble, to the core).
    global_session: i64,
}

impl Harness {
    /// A server that wrote `/data` = "before" and holds one global session, then turned read-only.
    fn new() -> Harness {
        let core = ServerCore::new(config(Role::Standalone), DataTree::new(), &[], at(0));
        let mut h = Harness { core, clients: HashMap::new(), closes: Default::default(), now: 0, global_session: 0 };
        let response = h.connect(1, 0, Some(false));
        h.commit_all();
        let response = response.or_else(|| h.connect_response(1)).expect("session");
        h.global_session = response.session_id;
        h.send(1, 1, create("/data", 0));
        h.commit_all();
        assert_eq!(h.reply(1).unwrap().0.err, 0);
        h.core.set_role(Role::ReadOnly);
        assert!(h.closed(1), "a change of role closes every connection");
        assert!(h.core.poll_output().is_none());
        h
    }

    fn commit_all(&mut self) {
        let mut last = None;
        while let Some(output) = self.core.poll_output() {
            if let Output::Persist(entry) = output {
                last = Some(entry.header.zxid);
            }
        }
        if let Some(zxid) = last {
            self.core.durable(zxid, at(self.now));
        }
    }

    /// Connects `conn`; the connect response, if one came at once.
    fn connect(&mut self, conn: ConnId, session_id: i64, read_only: Option<bool>) -> Option<ConnectResponse> {
        let passwd = if session_id == 0 { [0; 16] } else { generate_password(session_id) };
        self.connect_with(conn, session_id, Bytes::copy_from_slice(&passwd), read_only)
    }

    fn connect_with(
        &mut self,
        conn: ConnId,
        session_id: i64,
        passwd: Bytes,
        read_only: Option<bool>,
    ) -> Option<ConnectResponse> {
        let (tx, rx) = mpsc::unbounded_channel();
        self.clients.insert(conn, rx);
        let request =
            ConnectRequest { protocol_version: 0, last_zxid_seen: 0, time_out: TIMEOUT, session_id, passwd, read_only };
        self.core.connect(conn, peer(), request, tx, at(self.now));
        self.connect_response(conn)
    }

    fn connect_response(&mut self, conn: ConnId) -> Option<ConnectResponse> {
        self.frame(conn).map(|frame| ConnectResponse::from_bytes(frame).unwrap())
    }

    fn send(&mut self, conn: ConnId, xid: i32, request: Request) {
        self.core.request(conn, xid, request.op_code().code(), Ok(request), at(self.now));
    }

    fn frame(&mut self, conn: ConnId) -> Option<Bytes> {
        match self.clients.get_mut(&conn)?.try_recv().ok()? {
            Outbound::Frame(frame) => Some(frame),
            Outbound::Close => {
                self.closes.insert(conn);
                None
            }
        }
    }

    fn reply(&mut self, conn: ConnId) -> Option<(ReplyHeader, Bytes)> {
        let mut frame = self.frame(conn)?;
        Some((ReplyHeader::decode(&mut frame).unwrap(), frame))
    }

    /// Whether the connection was told to close (frames before the close are skipped).
    fn closed(&mut self, conn: ConnId) -> bool {
        if self.closes.contains(&conn) {
            return true;
        }
        let rx = self.clients.get_mut(&conn).unwrap();
        loop {
            match rx.try_recv() {
                Ok(Outbound::Close) => return true,
                Ok(Outbound::Frame(_)) => continue,
                Err(_) => return false,
            }
        }
    }

    /// A read-only session on `conn`.
    fn session(&mut self, conn: ConnId) -> ConnectResponse {
        let response = self.connect(conn, 0, Some(true)).expect("a read-only client is answered at once");
        assert!(response.session_id != 0 && response.time_out == TIMEOUT, "{response:?}");
        response
    }

    fn four_letter(&mut self, word: &str) -> String {
        self.core.four_letter(word, true, &HostFacts::default(), at(self.now))
    }
}

#[test]
fn read_write_and_old_clients_are_refused_without_an_answer() {
    let mut h = Harness::new();
    assert!(h.connect(2, 0, Some(false)).is_none());
    assert!(h.closed(2));
    // A pre-3.4 client sends no flag: it did not ask for read-only service either.
    assert!(h.connect(3, 0, None).is_none());
    assert!(h.closed(3));
    assert!(h.core.poll_output().is_none());
    assert_eq!(h.core.metrics(at(0)).iter().find(|(k, _)| *k == "local_sessions").unwrap().1, MetricValue::Int(0));
}

#[test]
fn read_only_sessions_are_local_and_answered_read_only() {
    let mut h = Harness::new();
    let zxid = h.core.tree().last_processed_zxid();
    let response = h.session(2);
    assert_eq!(response.read_only, Some(true));
    assert_eq!(response.passwd.as_ref(), generate_password(response.session_id));
    // No createSession txn: nothing to log or replicate, the tree and the global sessions unchanged.
    assert!(h.core.poll_output().is_none());
    assert_eq!(h.core.tree().last_processed_zxid(), zxid);
    assert_eq!(h.core.sessions(), vec![(h.global_session, TIMEOUT)]);
    let metrics = h.core.metrics(at(0));
    let metric = |key: &str| metrics.iter().find(|(k, _)| *k == key).unwrap().1.clone();
    assert_eq!(metric("local_sessions"), MetricValue::Int(1));
    assert_eq!(metric("server_state"), MetricValue::Text("read-only".into()));
    // The id comes from this server's sequence, after the global session's.
    assert!(response.session_id > h.global_session);
}

#[test]
fn reads_are_answered_from_the_local_tree() {
    let mut h = Harness::new();
    h.session(2);
    h.send(2, 1, Request::GetData(GetDataRequest { path: "/data".into(), watch: true }));
    let (header, mut body) = h.reply(2).unwrap();
    assert_eq!((header.xid, header.err, header.zxid), (1, 0, h.core.tree().last_processed_zxid()));
    match Response::decode(OpCode::GetData, &mut body).unwrap() {
        Response::GetData(r) => assert_eq!(r.data.as_deref(), Some(&b"v"[..])),
        other => panic!("{other:?}"),
    }
    h.send(2, 2, Request::GetChildren(GetChildrenRequest { path: "/".into(), watch: false }));
    let (header, mut body) = h.reply(2).unwrap();
    assert_eq!(header.err, 0);
    match Response::decode(OpCode::GetChildren, &mut body).unwrap() {
        Response::GetChildren(r) => assert!(r.children.contains(&"data".to_owned()), "{r:?}"),
        other => panic!("{other:?}"),
    }
    h.send(2, 3, Request::Exists(ExistsRequest { path: "/missing".into(), watch: false }));
    assert_eq!(h.reply(2).unwrap().0.err, ErrorCode::NoNode.code());
    let read = MultiRequest { ops: vec![MultiOp::GetData(GetDataRequest { path: "/data".into(), watch: false })] };
    h.send(2, 4, Request::MultiRead(read));
    assert_eq!(h.reply(2).unwrap().0.err, 0);
    h.send(2, 5, Request::Ping);
    assert_eq!(h.reply(2).unwrap().0.xid, xid::PING);
    assert!(h.core.poll_output().is_none());
}

#[test]
fn every_write_and_sync_is_answered_not_read_only_with_the_trees_zxid() {
    let mut h = Harness::new();
    h.session(2);
    let zxid = h.core.tree().last_processed_zxid();
    let digest = h.core.tree().digest();
    let node = |path: &str| CreateRequest {
        path: path.into(),
        data: Some(Bytes::from_static(b"x")),
        acl: Acl::open_unsafe(),
        flags: 0,
    };
    let writes = vec![
        Request::Create(node("/new")),
        Request::Create2(node("/new")),
        Request::CreateContainer(CreateRequest { flags: 4, ..node("/new") }),
        Request::CreateTtl(CreateTtlRequest {
            path: "/new".into(),
            data: None,
            acl: Acl::open_unsafe(),
            flags: 5,
            ttl: 1000,
        }),
        Request::Delete(DeleteRequest { path: "/data".into(), version: -1 }),
        Request::DeleteContainer(DeleteContainerRequest { path: "/data".into() }),
        Request::SetData(SetDataRequest { path: "/data".into(), data: None, version: -1 }),
        Request::SetAcl(SetAclRequest { path: "/data".into(), acl: Acl::open_unsafe(), version: -1 }),
        Request::Check(CheckVersionRequest { path: "/data".into(), version: 0 }),
        Request::Multi(MultiRequest { ops: vec![MultiOp::Create(node("/m"))] }),
        Request::Reconfig(ReconfigRequest {
            joining_servers: None,
            leaving_servers: Some("3".into()),
            new_members: None,
            cur_config_id: -1,
        }),
        Request::Sync(SyncRequest { path: "/data".into() }),
    ];
    for (i, request) in writes.into_iter().enumerate() {
        let xid = 10 + i as i32;
        let op = request.op_code();
        h.send(2, xid, request);
        let (header, body) = h.reply(2).unwrap_or_else(|| panic!("{op:?} unanswered"));
        assert_eq!((header.xid, header.zxid, header.err), (xid, zxid, ErrorCode::NotReadOnly.code()), "{op:?}");
        assert!(body.is_empty(), "{op:?}");
    }
    assert!(h.core.poll_output().is_none(), "a read-only server proposes nothing");
    assert_eq!((h.core.tree().last_processed_zxid(), h.core.tree().digest()), (zxid, digest));
    assert!(!h.closed(2), "refused writes keep the connection");
    // A write whose body did not decode is refused the same way.
    let err = DecodeError::UnknownOpCode(1);
    h.core.request(2, 99, OpCode::SetData.code(), Err(err), at(0));
    assert_eq!(h.reply(2).unwrap().0.err, ErrorCode::NotReadOnly.code());
}

#[test]
fn close_session_ends_the_local_session_and_is_answered() {
    let mut h = Harness::new();
    let session = h.session(2).session_id;
    h.send(2, 7, Request::CloseSession);
    let (header, _) = h.reply(2).unwrap();
    assert_eq!((header.xid, header.err), (7, 0));
    assert!(h.closed(2));
    h.core.closed(2);
    assert!(h.core.poll_output().is_none());
    // The session is gone: resuming it is answered as expired.
    let response = h.connect(3, session, Some(true)).unwrap();
    assert_eq!((response.time_out, response.session_id), (0, 0));
    assert!(h.closed(3));
}

#[test]
fn a_local_session_resumes_but_a_global_one_is_refused() {
    let mut h = Harness::new();
    let session = h.session(2).session_id;
    // Resumed on another connection, which replaces the first.
    let response = h.connect(3, session, Some(true)).unwrap();
    assert_eq!((response.session_id, response.time_out, response.read_only), (session, TIMEOUT, Some(true)));
    assert!(h.closed(2));
    h.send(3, 1, Request::Exists(ExistsRequest { path: "/data".into(), watch: false }));
    assert_eq!(h.reply(3).unwrap().0.err, 0);
    // A wrong password is answered as expired.
    let response = h.connect_with(4, session, Bytes::from_static(&[1; 16]), Some(true)).unwrap();
    assert_eq!(response.time_out, 0);
    assert!(h.closed(4));
    // A session of the ensemble: `ReadOnlyZooKeeperServer.validateSession` closes the connection.
    let global = h.global_session;
    assert!(h.connect(5, global, Some(true)).is_none());
    assert!(h.closed(5));
    assert_eq!(h.core.sessions(), vec![(global, TIMEOUT)], "the global session is left alone");
}

#[test]
fn local_sessions_expire_here_and_global_ones_do_not() {
    let mut h = Harness::new();
    let session = h.session(2).session_id;
    assert!(h.core.next_tick() < i64::MAX);
    h.now = 5 * i64::from(TIMEOUT);
    h.core.tick(at(h.now));
    h.core.tick(at(h.now));
    assert!(h.closed(2), "the expired session's connection is closed");
    assert!(h.core.poll_output().is_none(), "no closeSession txn");
    assert_eq!(h.core.sessions(), vec![(h.global_session, TIMEOUT)]);
    let response = h.connect(3, session, Some(true)).unwrap();
    assert_eq!(response.time_out, 0);
}

#[test]
fn four_letter_words_and_admin_report_read_only() {
    let mut h = Harness::new();
    h.session(2);
    assert_eq!(h.four_letter("isro"), "ro");
    assert!(h.four_letter("srvr").contains("Mode: read-only\n"), "{}", h.four_letter("srvr"));
    assert!(h.four_letter("mntr").contains("zk_server_state\tread-only\n"));
    let admin = h.core.admin_command("is_read_only", &HostFacts::default(), at(0)).unwrap();
    assert!(admin.to_string().contains("\"read_only\":true"), "{admin}");
}

#[test]
fn leaving_read_only_closes_its_connections_and_forgets_its_sessions() {
    let mut h = Harness::new();
    let session = h.session(2).session_id;
    h.core.set_role(Role::Follower);
    assert!(h.closed(2));
    assert_eq!(h.four_letter("isro"), "rw");
    assert_eq!(h.core.sessions(), vec![(h.global_session, TIMEOUT)]);
    // A follower asks the leader about the session; it is not known here.
    let (tx, _rx) = mpsc::unbounded_channel();
    let request = ConnectRequest {
        protocol_version: 0,
        last_zxid_seen: 0,
        time_out: TIMEOUT,
        session_id: session,
        passwd: Bytes::copy_from_slice(&generate_password(session)),
        read_only: Some(true),
    };
    h.core.connect(9, peer(), request, tx, at(0));
    assert_eq!(h.core.poll_output(), Some(Output::Revalidate { session_id: session, timeout: TIMEOUT }));
}
