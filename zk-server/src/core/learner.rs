//! The learner's side of the ensemble (follower and observer): writes go to the leader, txns the leader
//! committed come back and answer them, sessions are created and revalidated through the leader.
//!
//! This mirrors ZooKeeper's `FollowerRequestProcessor` (forwarding), `CommitProcessor` (matching a
//! committed txn to the head write of the connection that sent it), `FollowerZooKeeperServer.sync`,
//! `LearnerSessionTracker` (session ids and the touch table) and `Learner.validateSession`.

use bytes::{Bytes, BytesMut};
use tracing::{debug, warn};
use zk_proto::{OpCode, TxnEntry};

use super::conn::{Conn, Incoming, Pending};
use super::{Now, Output, ServerCore};
use crate::net::ConnId;

impl ServerCore {
    /// Records activity of a session before serving one of its requests (`ZooKeeperServer.touch`):
    /// false if it must not be served (unknown or closing on a standalone server or leader; closing
    /// on a learner; not local on a read-only server). A learner does not expire sessions: it notes the touch for the leader
    /// (`LearnerSessionTracker.touchSession`) and serves sessions it has not heard of yet (created or
    /// revalidated through the leader before this server applied their createSession): the leader
    /// answers their writes.
    pub(super) fn touch_session(&mut self, session_id: i64, timeout: i32, now: Now) -> bool {
        if self.is_read_only() {
            return self.touch_local_session(session_id, now);
        }
        if !self.config.role.is_learner() {
            return self.sessions.touch(session_id, now.mono_ms);
        }
        if self.sessions.is_closing(session_id) {
            return false;
        }
        // Keeps this server's own expiry times current, should it become the leader.
        self.sessions.touch(session_id, now.mono_ms);
        self.touched.insert(session_id, timeout);
        true
    }

    /// Learner: sends a local write or `sync` to the leader and queues it on its connection.
    pub(super) fn forward(&mut self, conn_id: ConnId, op: OpCode, incoming: Incoming) {
        let Some(conn) = self.conns.get_mut(&conn_id) else { return };
        let session_id = conn.session_id;
        let body = match &incoming.body {
            Ok(request) => {
                let mut buf = BytesMut::with_capacity(request.encoded_len());
                request.encode(&mut buf);
                buf.freeze()
            }
            Err(err) => {
                debug!(%err, "malformed request body; forwarded without one");
                Bytes::new()
            }
        };
        let authinfo = conn.auth.ids().to_vec();
        let (cxid, op_code) = (incoming.xid, incoming.op_code);
        if op == OpCode::Sync {
            let id = self.next_sync_id;
            self.next_sync_id += 1;
            conn.pending.push_back(Pending::Sync { id, incoming, done: false });
            self.pending_syncs.push_back((Some(conn_id), id));
        } else {
            conn.pending.push_back(Pending::Forwarded { cxid, op_code, received_ms: incoming.received_ms });
            if op == OpCode::CloseSession {
                // Later requests of the session are answered SessionExpired after the close reply.
                self.sessions.set_closing(session_id);
            }
        }
        self.outputs.push_back(Output::Forward { session_id, cxid, op_code, body, authinfo });
    }

    /// Learner: a new session (`ZooKeeperServer.createSession` on a learner): an id with this server's
    /// id in its top byte, and a createSession REQUEST whose body is the negotiated timeout. The
    /// connect response goes out when the leader's createSession txn comes back.
    pub(super) fn forward_create_session(&mut self, conn_id: ConnId, mut conn: Conn) {
        let session_id = self.sessions.allocate_session_id();
        debug!(session = format_args!("{session_id:#x}"), timeout = conn.timeout, "creating session via the leader");
        conn.session_id = session_id;
        let body = Bytes::copy_from_slice(&conn.timeout.to_be_bytes());
        let authinfo = conn.auth.ids().to_vec();
        self.conns.insert(conn_id, conn);
        self.session_conn.insert(session_id, conn_id);
        let op_code = OpCode::CreateSession.code();
        self.outputs.push_back(Output::Forward { session_id, cxid: 0, op_code, body, authinfo });
    }

    /// Learner: a reconnect whose password checked out asks the leader whether the session lives
    /// (`Learner.validateSession`). A newer reconnect of the same session replaces an unanswered one,
    /// whose connection is closed.
    pub(super) fn ask_revalidation(&mut self, conn_id: ConnId, conn: Conn) {
        let (session_id, timeout) = (conn.session_id, conn.timeout);
        if let Some(older) = self.pending_revalidations.insert(session_id, conn_id) {
            if let Some(older) = self.conns.remove(&older) {
                older.close();
            }
        }
        self.conns.insert(conn_id, conn);
        self.outputs.push_back(Output::Revalidate { session_id, timeout });
    }

    /// The leader's answer to [`Output::Revalidate`] (`Learner.revalidate` → `finishSessionInit`): a
    /// valid session is resumed on the waiting connection, an invalid one is answered as expired
    /// (timeout 0) and the connection closed.
    pub fn revalidated(&mut self, session_id: i64, valid: bool, now: Now) {
        let Some(conn_id) = self.pending_revalidations.remove(&session_id) else {
            debug!(session = format_args!("{session_id:#x}"), "revalidation answer for no waiting connection");
            return;
        };
        let Some(conn) = self.conns.get(&conn_id) else { return };
        if valid {
            let timeout = conn.timeout;
            if let Some(old) = self.session_conn.insert(session_id, conn_id) {
                if old != conn_id {
                    if let Some(old) = self.conns.remove(&old) {
                        old.close();
                    }
                    self.watches.remove_watcher(old);
                }
            }
            self.stats.revalidations += 1;
            self.touched.insert(session_id, timeout);
        }
        self.finish_handshake(conn_id, valid, now);
    }

    /// Learner: a txn the leader committed (a COMMIT of a logged proposal, or an INFORM): applies it
    /// (tree, watches, sessions), then answers whoever here waited for it, as ZooKeeper's
    /// `CommitProcessor` and `FinalRequestProcessor` do: the head write of the session's connection
    /// if its cxid matches (then the reads queued behind it), the connect of a session whose
    /// createSession this is; a closeSession ends its session's connection after the reply. Txns at
    /// or below the tree's last zxid were applied already and are skipped.
    pub fn apply_committed(&mut self, entry: TxnEntry, now: Now) {
        if !self.config.role.is_learner() {
            warn!(role = self.config.role.mode(), "committed txn on a server that is not a learner; ignored");
            return;
        }
        let zxid = entry.header.zxid;
        if zxid <= self.tree.last_processed_zxid() {
            debug!(zxid = format_args!("{zxid:#x}"), "txn already applied");
            return;
        }
        let outcome = self.apply_txn(&entry, now);
        self.last_zxid = self.last_zxid.max(zxid);
        self.spec.reset();
        let session_id = entry.header.client_id;
        let is_close = entry.header.op_code == OpCode::CloseSession.code();
        if let Some(&conn_id) = self.session_conn.get(&session_id) {
            if entry.header.op_code == OpCode::CreateSession.code() {
                if self.conns.get(&conn_id).is_some_and(|c| !c.established) {
                    self.finish_handshake(conn_id, true, now);
                }
            } else if let Some(received_ms) = self.head_forwarded(conn_id, &entry) {
                self.reply_to_write(conn_id, entry.header.cxid, received_ms, &entry, &outcome, now);
                self.serve_waiting_reads(conn_id, now);
            }
        }
        if is_close {
            self.end_session(session_id);
        }
    }

    /// When the head of the connection's queue is the forwarded write `entry` answers: its arrival time.
    /// A closeSession the leader issued itself (expiry, cxid 0) answers no client request.
    fn head_forwarded(&self, conn_id: ConnId, entry: &TxnEntry) -> Option<i64> {
        let close = OpCode::CloseSession.code();
        match self.conns.get(&conn_id)?.pending.front()? {
            Pending::Forwarded { cxid, op_code, received_ms }
                if *cxid == entry.header.cxid && (entry.header.op_code != close || *op_code == close) =>
            {
                Some(*received_ms)
            }
            _ => None,
        }
    }

    /// Learner: the leader's SYNC: the oldest forwarded `sync` completed (`FollowerZooKeeperServer.sync`).
    /// It is answered from the committed tree in its connection's order, with the reads behind it. The
    /// leader sends SYNC after the commit of every txn proposed before the sync and before the commit
    /// of any later one; the driver must pass them on in that order.
    pub fn sync_done(&mut self, now: Now) {
        let Some((conn, id)) = self.pending_syncs.pop_front() else {
            warn!("SYNC from the leader without a pending sync");
            return;
        };
        let Some(conn_id) = conn else { return };
        let Some(conn) = self.conns.get_mut(&conn_id) else { return };
        for pending in &mut conn.pending {
            if let Pending::Sync { id: sync_id, done, .. } = pending {
                if *sync_id == id {
                    *done = true;
                }
            }
        }
        self.serve_waiting_reads(conn_id, now);
    }

    /// Learner: the sessions active since the last call, with their timeouts, for the next PING reply
    /// (`LearnerSessionTracker.snapshot` of its touch table), in id order.
    pub fn take_touched(&mut self) -> Vec<(i64, i32)> {
        let mut touched: Vec<(i64, i32)> = std::mem::take(&mut self.touched).into_iter().collect();
        touched.sort_unstable();
        touched
    }
}
