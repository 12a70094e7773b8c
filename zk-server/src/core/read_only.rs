//! Read-only mode (`readonlymode.enabled`): what a member cut off from a quorum serves while it looks
//! for a leader, as ZooKeeper's `ReadOnlyZooKeeperServer` does.
//!
//! * Only clients that asked for it (`ConnectRequest.readOnly`) are accepted; others are closed without
//!   an answer (`ZooKeeperServer.processConnectRequest`: "Refusing session request for not-read-only
//!   client"). Every connect response says `readOnly = true`.
//! * Sessions created here are local to this server (`LearnerSessionTracker`'s local sessions): no
//!   createSession txn is made and no other server hears of them. They expire here, and a client may
//!   resume one here. A session of the ensemble (a global session) is refused, as
//!   `ReadOnlyZooKeeperServer.validateSession` refuses it ("Refusing global session reconnection in
//!   RO mode"): the client finds another server or starts a new session.
//! * Reads are answered from the local tree. Every state-changing request and `sync`
//!   (`ReadOnlyRequestProcessor`'s list: create*, delete*, setData, setACL, check, multi, reconfig,
//!   sync) is answered `NotReadOnly` with the tree's zxid. A `closeSession` ends the local session and
//!   is answered. Nothing is proposed or logged.

use tracing::{debug, info};
use zk_proto::{ConnectRequest, ErrorCode, OpCode, ReplyHeader};

use super::conn::{Conn, Incoming};
use super::{Now, Role, ServerCore};
use crate::net::ConnId;
use crate::session::{check_password, SessionTracker};

impl ServerCore {
    /// Whether this server serves read-only clients only (the [`Role::ReadOnly`] role).
    pub fn is_read_only(&self) -> bool {
        self.config.role == Role::ReadOnly
    }

    /// The number of sessions local to this server (`mntr`'s `local_sessions`).
    pub(super) fn local_session_count(&self) -> usize {
        self.local_sessions.as_ref().map_or(0, SessionTracker::len)
    }

    /// Read-only: `processConnectRequest`'s refusal of a client that did not ask for read-only
    /// service (a pre-3.4 client, which sends no flag, did not). True if the connection was closed.
    pub(super) fn refuse_read_write_client(&mut self, conn: &Conn, request: &ConnectRequest) -> bool {
        if !self.is_read_only() || request.read_only == Some(true) {
            return false;
        }
        info!(peer = %conn.peer, "refusing session request for not-read-only client");
        conn.close();
        true
    }

    /// Read-only: opens the session of a read-only client whose timeout is negotiated: a new local
    /// session (id 0), or the resumption of a local one. A global session is refused (the connection
    /// is closed unanswered); an unknown session or a wrong password is answered as expired.
    pub(super) fn open_read_only_session(
        &mut self,
        conn_id: ConnId,
        mut conn: Conn,
        request: &ConnectRequest,
        now: Now,
    ) {
        let tick_time = self.config.tick_time;
        let local = self.local_sessions.get_or_insert_with(|| SessionTracker::new(tick_time, 0, now.mono_ms));
        if request.session_id == 0 {
            // Ids come from the server's own sequence, so that no later global session reuses one.
            let session_id = self.sessions.allocate_session_id();
            local.track_session(session_id, conn.timeout, now.mono_ms);
            debug!(session = format_args!("{session_id:#x}"), timeout = conn.timeout, "creating local session");
            conn.session_id = session_id;
            self.conns.insert(conn_id, conn);
            self.session_conn.insert(session_id, conn_id);
            self.finish_handshake(conn_id, true, now);
            return;
        }
        let session_id = request.session_id;
        if !local.contains(session_id) && self.sessions.contains(session_id) {
            info!(session = format_args!("{session_id:#x}"), "refusing global session reconnection in read-only mode");
            conn.close();
            return;
        }
        let valid = check_password(session_id, &request.passwd)
            && local.touch_with_timeout(session_id, conn.timeout, now.mono_ms);
        self.drop_previous_connection(session_id);
        conn.session_id = session_id;
        self.conns.insert(conn_id, conn);
        if valid {
            self.session_conn.insert(session_id, conn_id);
            self.stats.revalidations += 1;
        }
        self.finish_handshake(conn_id, valid, now);
    }

    /// Read-only: records activity of a local session before serving one of its requests; false for
    /// any other session.
    pub(super) fn touch_local_session(&mut self, session_id: i64, now: Now) -> bool {
        self.local_sessions.as_mut().is_some_and(|local| local.touch(session_id, now.mono_ms))
    }

    /// Read-only: answers a state-changing request or `sync` without preparing it
    /// (`ReadOnlyRequestProcessor`): `NotReadOnly` with the tree's zxid, except `closeSession`, which
    /// ends the local session, is answered OK and closes the connection.
    pub(super) fn answer_read_only(&mut self, conn_id: ConnId, op: OpCode, incoming: Incoming, now: Now) {
        let zxid = self.tree.last_processed_zxid();
        let Some(conn) = self.conns.get_mut(&conn_id) else { return };
        let session_id = conn.session_id;
        let err = if op == OpCode::CloseSession { ErrorCode::Ok } else { ErrorCode::NotReadOnly };
        conn.send(&ReplyHeader { xid: incoming.xid, zxid, err: err.code() }, None);
        conn.record_reply(super::stats::op_name(op), incoming.xid, zxid, incoming.received_ms, now.mono_ms);
        self.stats.record_latency(now.mono_ms - incoming.received_ms);
        self.stats.packets_sent += 1;
        if op == OpCode::CloseSession {
            debug!(session = format_args!("{session_id:#x}"), "local session closed");
            self.end_local_session(session_id);
        }
    }

    /// Read-only: when the next local session is due to expire (`i64::MAX` with none).
    pub(super) fn next_local_expiry(&self) -> i64 {
        match &self.local_sessions {
            Some(local) if !local.is_empty() => local.next_expiry_time(),
            _ => i64::MAX,
        }
    }

    /// Read-only: expires the local sessions whose time has passed, closing their connections. Global
    /// sessions are not expired here: only a leader expires them.
    pub(super) fn expire_local_sessions(&mut self, now: Now) {
        let expired = self.local_sessions.as_mut().map(|local| local.expire(now.mono_ms)).unwrap_or_default();
        for session_id in expired {
            info!(session = format_args!("{session_id:#x}"), "local session expired");
            self.stats.expired_sessions += 1;
            self.end_local_session(session_id);
        }
    }

    fn end_local_session(&mut self, session_id: i64) {
        if let Some(local) = &mut self.local_sessions {
            local.remove(session_id);
        }
        if let Some(conn_id) = self.session_conn.remove(&session_id) {
            if let Some(conn) = self.conns.get(&conn_id) {
                conn.close();
            }
        }
    }
}
