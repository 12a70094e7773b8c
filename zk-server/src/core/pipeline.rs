//! Requests through the pipeline: arrival, preparation of writes, commit and replies in order.

use tracing::{debug, trace_span, warn};
use zk_proto::{xid, DecodeError, ErrorCode, OpCode, ReplyHeader, Request, Response, TxnBody, TxnEntry};

use super::conn::{Incoming, Pending};
use super::{InFlight, Now, Origin, ServerCore};
use crate::net::ConnId;
use crate::prep::{self, PrepContext};
use crate::read::{self, ReadContext};
use crate::tree::ApplyOutcome;
use crate::watch::WatchLists;

impl ServerCore {
    /// A request arrived on `conn`. `body` is an error when it did not decode.
    pub fn request(&mut self, conn: ConnId, xid: i32, op_code: i32, body: Result<Request, DecodeError>, now: Now) {
        let incoming = Incoming { xid, op_code, body, received_ms: now.mono_ms, session_closing: false };
        let Some(c) = self.conns.get_mut(&conn) else { return };
        c.stats.received += 1;
        self.stats.packets_received += 1;
        if !c.established {
            // ZooKeeper stops reading a connection until its session is set up.
            c.unprocessed.push_back(incoming);
            return;
        }
        self.handle_incoming(conn, incoming, now);
    }

    pub(super) fn handle_incoming(&mut self, conn_id: ConnId, mut incoming: Incoming, now: Now) {
        let _span = trace_span!("request", conn = conn_id, xid = incoming.xid, op = incoming.op_code).entered();
        let Some(conn) = self.conns.get_mut(&conn_id) else { return };
        let (session_id, timeout) = (conn.session_id, conn.timeout);
        if !self.touch_session(session_id, timeout, now) {
            let Some(conn) = self.conns.get_mut(&conn_id) else { return };
            if self.sessions.is_closing(session_id) && !conn.pending.is_empty() {
                // Behind this connection's closeSession: ZooKeeper's pipeline answers SessionExpired
                // after the closeSession reply (unless the connection is gone by then).
                incoming.session_closing = true;
                conn.pending.push_back(Pending::Read(incoming));
                return;
            }
            // ZooKeeper drops the requests of a session that is closing or gone, unanswered ("Dropping
            // request"); the connection goes with the session.
            debug!(session = format_args!("{session_id:#x}"), "request of a closing or unknown session dropped");
            if !self.sessions.contains(session_id) && conn.pending.is_empty() {
                // Nothing in flight will close this connection.
                conn.close();
            }
            return;
        }
        let Some(conn) = self.conns.get_mut(&conn_id) else { return };
        // `notification` and `error` are opcodes, but not ones a client may send (`Request.isValid`).
        let op = OpCode::try_from(incoming.op_code).and_then(|op| match op {
            OpCode::Notification | OpCode::Error => Err(op.code()),
            op => Ok(op),
        });
        // Auth is answered at once, outside the pipeline, as ZooKeeper does.
        if let Ok(Request::Auth(auth)) = &incoming.body {
            let result = conn.auth.authenticate(&self.config.auth, &auth.scheme, &auth.auth);
            let err = result.err().unwrap_or(ErrorCode::Ok);
            conn.send(&ReplyHeader { xid: incoming.xid, zxid: 0, err: err.code() }, None);
            if err != ErrorCode::Ok {
                self.stats.auth_failures += 1;
                conn.close();
            }
            return;
        }
        match op {
            // A read-only server prepares nothing either (`ReadOnlyRequestProcessor`).
            Ok(op) if self.config.role == super::Role::ReadOnly && (op.is_write() || op == OpCode::Sync) => {
                self.answer_read_only(conn_id, op, incoming, now);
            }
            // A learner prepares nothing: writes and syncs go to the leader (`FollowerRequestProcessor`).
            Ok(op) if self.config.role.is_learner() && (op.is_write() || op == OpCode::Sync) => {
                self.forward(conn_id, op, incoming);
            }
            Ok(op) if op.is_write() => {
                let zxid = self.prepare_write(conn_id, session_id, &incoming, now);
                if let Some(conn) = self.conns.get_mut(&conn_id) {
                    conn.pending.push_back(Pending::Write { zxid });
                }
            }
            Ok(OpCode::Sasl) => {
                // No SASL mechanism is configured: ZooKeeper's processSasl finds no SASL server, logs
                // an error and answers OK with a null token, keeping the connection.
                super::reply::send_null_sasl_token(conn, incoming.xid);
            }
            Ok(_) => {
                if conn.pending.is_empty() {
                    self.answer_read(conn_id, incoming, now);
                } else {
                    conn.pending.push_back(Pending::Read(incoming));
                }
            }
            Err(unknown) => {
                // ZooKeeper answers Unimplemented and drops the connection.
                warn!(op = unknown, "unknown opcode; closing connection");
                // The reply carries the request's zxid, which is -1 for a request that never got a txn.
                let header = ReplyHeader { xid: incoming.xid, zxid: -1, err: ErrorCode::Unimplemented.code() };
                conn.send(&header, None);
                conn.close();
            }
        }
    }

    /// Prepares a write and proposes its txn (an `ErrorTxn` if preparation failed); returns the zxid.
    fn prepare_write(&mut self, conn_id: ConnId, session_id: i64, incoming: &Incoming, now: Now) -> i64 {
        let conn = &self.conns[&conn_id];
        let ctx = PrepContext {
            auth: &self.config.auth,
            ids: conn.auth.ids(),
            session_id,
            extended_types: self.config.extended_types,
            reconfig_enabled: self.config.reconfig_enabled,
            enforce_quota: self.config.enforce_quota,
            ensemble: Self::reconfig_context(&self.membership, self.config.role, &self.in_flight, self.last_zxid),
        };
        let zxid = self.last_zxid + 1;
        let prepared = match &incoming.body {
            Ok(request) => {
                self.spec.with(&self.tree, |tree| prep::prepare_request(tree, &ctx, zxid, now.wall_ms, request))
            }
            Err(err) => {
                debug!(%err, "malformed request body");
                Err(ErrorCode::MarshallingError)
            }
        };
        let prepared = prepared.unwrap_or_else(prep::error);
        if prepared.op_code == OpCode::CloseSession {
            self.sessions.set_closing(session_id);
        }
        let origin = Origin::Client { conn: Some(conn_id), xid: incoming.xid, received_ms: incoming.received_ms };
        self.propose(session_id, incoming.xid, prepared, origin, now)
    }

    /// Answers a read (or ping, setWatches, whoAmI) from the committed tree.
    fn answer_read(&mut self, conn_id: ConnId, incoming: Incoming, now: Now) {
        let Some(conn) = self.conns.get_mut(&conn_id) else { return };
        let zxid = self.tree.last_processed_zxid();
        let (reply_xid, result) = match &incoming.body {
            _ if incoming.session_closing => (incoming.xid, Err(ErrorCode::SessionExpired)),
            Err(err) => {
                debug!(%err, "malformed request body");
                (incoming.xid, Err(ErrorCode::MarshallingError))
            }
            // The reply echoes the request's xid (-8 from real clients).
            Ok(Request::SetWatches(w)) => {
                let lists = WatchLists {
                    data: &w.data_watches,
                    exist: &w.exist_watches,
                    child: &w.child_watches,
                    ..WatchLists::default()
                };
                let events = self.watches.set_watches(w.relative_zxid, lists, conn_id, &self.tree);
                super::reply::send_events(conn, events.into_iter().map(|event| (-1, event)));
                (incoming.xid, Ok(Response::SetWatches))
            }
            Ok(Request::SetWatches2(w)) => {
                let lists = WatchLists {
                    data: &w.data_watches,
                    exist: &w.exist_watches,
                    child: &w.child_watches,
                    persistent: &w.persistent_watches,
                    persistent_recursive: &w.persistent_recursive_watches,
                };
                let events = self.watches.set_watches(w.relative_zxid, lists, conn_id, &self.tree);
                super::reply::send_events(conn, events.into_iter().map(|event| (-1, event)));
                (incoming.xid, Ok(Response::SetWatches2))
            }
            // ZooKeeper answers a ping with the ping xid, whatever xid it came with.
            Ok(Request::Ping) => (xid::PING, Ok(Response::Ping)),
            Ok(Request::WhoAmI) => (incoming.xid, Ok(read::who_am_i(&self.config.auth, conn.auth.ids()))),
            Ok(request) => {
                let mut ctx = ReadContext {
                    tree: &self.tree,
                    watches: &mut self.watches,
                    conn: conn_id,
                    session_id: conn.session_id,
                    ids: conn.auth.ids(),
                    auth: &self.config.auth,
                };
                (incoming.xid, read::read(&mut ctx, request))
            }
        };
        let (err, body) = match result {
            Ok(Response::Ping) | Ok(Response::SetWatches) | Ok(Response::SetWatches2) => (ErrorCode::Ok, None),
            Ok(Response::CheckWatches) | Ok(Response::RemoveWatches) => (ErrorCode::Ok, None),
            Ok(body) => (ErrorCode::Ok, Some(body)),
            Err(err) => (err, None),
        };
        conn.send(&ReplyHeader { xid: reply_xid, zxid, err: err.code() }, body.as_ref());
        let op = OpCode::try_from(incoming.op_code).map_or("UNKN", super::stats::op_name);
        conn.record_reply(op, incoming.xid, zxid, incoming.received_ms, now.mono_ms);
        self.stats.record_latency(now.mono_ms - incoming.received_ms);
        self.stats.packets_sent += 1;
    }

    /// Txns up to `zxid` are durable (on a leader: acknowledged by a quorum, ZooKeeper's
    /// `Leader.tryToCommit`): commit them in order, answering and serving what waited.
    pub fn durable(&mut self, zxid: i64, now: Now) {
        while self.in_flight.front().is_some_and(|f| f.entry.header.zxid <= zxid) {
            let Some(in_flight) = self.in_flight.pop_front() else { break };
            self.commit(in_flight, now);
        }
        if self.in_flight.is_empty() {
            self.spec.reset();
        }
    }

    fn commit(&mut self, in_flight: InFlight, now: Now) {
        let InFlight { entry, origin } = in_flight;
        let outcome = self.tree.apply(&entry);
        self.spec.committed(entry.header.zxid);
        self.applied(&entry, &outcome, now);
        match origin {
            Origin::Handshake { conn: Some(conn) } => self.finish_handshake(conn, true, now),
            Origin::Client { conn: Some(conn_id), xid, received_ms } => {
                self.reply_to_write(conn_id, xid, received_ms, &entry, &outcome, now);
                self.serve_waiting_reads(conn_id, now);
            }
            Origin::Handshake { conn: None }
            | Origin::Client { conn: None, .. }
            | Origin::Internal
            | Origin::Learner => {}
        }
        // After the reply: a client-requested close is answered before its connection goes.
        if entry.header.op_code == OpCode::CloseSession.code() {
            self.end_session(entry.header.client_id);
        }
    }

    /// Applies a committed txn to the tree: watches fire, and sessions follow createSession txns
    /// (`ZooKeeperServer.processTxnForSessionEvents` → `commitSession`; closeSession txns end their
    /// session once the reply is out, see [`Self::end_session`]).
    pub(super) fn apply_txn(&mut self, entry: &TxnEntry, now: Now) -> ApplyOutcome {
        let outcome = self.tree.apply(entry);
        self.applied(entry, &outcome, now);
        outcome
    }

    /// The committed tree now includes `entry`: count it, fire its watches, track its session.
    fn applied(&mut self, entry: &TxnEntry, outcome: &ApplyOutcome, now: Now) {
        self.stats.commits += 1;
        if entry.header.op_code == OpCode::Reconfig.code() {
            self.note_tree_config();
        }
        self.fire_watches(outcome, entry.header.zxid);
        if let TxnBody::CreateSession(txn) = &entry.body {
            let session_id = entry.header.client_id;
            self.sessions.track_session(session_id, txn.time_out, now.mono_ms);
            if self.config.role.is_learner() {
                self.touched.insert(session_id, txn.time_out);
            }
        }
    }

    /// Serves what waited behind the write just answered: reads, and syncs the leader completed, up
    /// to the next write or unfinished sync.
    pub(super) fn serve_waiting_reads(&mut self, conn_id: ConnId, now: Now) {
        loop {
            let Some(conn) = self.conns.get_mut(&conn_id) else { return };
            match conn.pending.front() {
                Some(Pending::Read(_)) | Some(Pending::Sync { done: true, .. }) => {
                    let incoming = match conn.pending.pop_front() {
                        Some(Pending::Read(incoming)) | Some(Pending::Sync { incoming, .. }) => incoming,
                        _ => return,
                    };
                    self.answer_read(conn_id, incoming, now);
                }
                Some(Pending::Write { .. }) | Some(Pending::Forwarded { .. }) | Some(Pending::Sync { .. }) | None => {
                    return
                }
            }
        }
    }

    /// A closed or expired session: forget it and drop its connection.
    pub(super) fn end_session(&mut self, session_id: i64) {
        self.sessions.remove(session_id);
        self.touched.remove(&session_id);
        if let Some(conn_id) = self.session_conn.remove(&session_id) {
            if let Some(conn) = self.conns.get(&conn_id) {
                conn.close();
            }
        }
    }
}
