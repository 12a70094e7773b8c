//! Connections coming and going: the connect handshake (new and resumed sessions) and disconnects.

use std::net::SocketAddr;

use bytes::{Bytes, BytesMut};
use tokio::sync::mpsc;
use tracing::{debug, info};
use zk_proto::{ConnectRequest, ConnectResponse, Jute};

use super::{Conn, Now, Origin, ServerCore};
use crate::net::{ConnId, Outbound};
use crate::prep;
use crate::session::{check_password, generate_password, PASSWORD_LEN};

impl ServerCore {
    /// A client sent its `ConnectRequest` on a new connection.
    pub fn connect(
        &mut self,
        conn_id: ConnId,
        peer: SocketAddr,
        request: ConnectRequest,
        out: mpsc::UnboundedSender<Outbound>,
        now: Now,
    ) {
        self.stats.connections_accepted += 1;
        let mut conn = Conn::new(peer, out, now.mono_ms);
        conn.stats.received += 1;
        conn.old_client = request.read_only.is_none();
        if self.refuse_read_write_client(&conn, &request) {
            return;
        }
        // A client that has seen a later zxid than ours must find another server.
        if request.last_zxid_seen > self.tree.last_processed_zxid() {
            info!(
                client_zxid = format_args!("{:#x}", request.last_zxid_seen),
                our_zxid = format_args!("{:#x}", self.tree.last_processed_zxid()),
                "refusing session: client is ahead of this server"
            );
            conn.close();
            return;
        }
        conn.timeout = self.config.timeouts.negotiate(request.time_out);
        if self.is_read_only() {
            self.open_read_only_session(conn_id, conn, &request, now);
            return;
        }
        if request.session_id == 0 && self.config.role.is_learner() {
            self.forward_create_session(conn_id, conn);
            return;
        }
        if request.session_id == 0 {
            let session_id = self.sessions.create_session(conn.timeout, now.mono_ms);
            debug!(session = format_args!("{session_id:#x}"), timeout = conn.timeout, "creating session");
            conn.session_id = session_id;
            self.conns.insert(conn_id, conn);
            self.session_conn.insert(session_id, conn_id);
            let timeout = self.conns[&conn_id].timeout;
            self.propose(session_id, 0, prep::create_session(timeout), Origin::Handshake { conn: Some(conn_id) }, now);
            return;
        }
        // Resuming a session: drop whichever connection held it, then validate.
        let session_id = request.session_id;
        self.drop_previous_connection(session_id);
        conn.session_id = session_id;
        if self.config.role.is_learner() && check_password(session_id, &request.passwd) {
            // The password is checked here; whether the session lives, only the leader knows.
            self.ask_revalidation(conn_id, conn);
            return;
        }
        let valid = !self.config.role.is_learner()
            && check_password(session_id, &request.passwd)
            && self.sessions.touch_with_timeout(session_id, conn.timeout, now.mono_ms);
        self.conns.insert(conn_id, conn);
        if valid {
            self.session_conn.insert(session_id, conn_id);
            self.stats.revalidations += 1;
        }
        self.finish_handshake(conn_id, valid, now);
    }

    /// Sends the connect response; on success the connection starts serving what it queued meanwhile.
    pub(super) fn finish_handshake(&mut self, conn_id: ConnId, valid: bool, now: Now) {
        let Some(conn) = self.conns.get_mut(&conn_id) else { return };
        let response = ConnectResponse {
            protocol_version: 0,
            time_out: if valid { conn.timeout } else { 0 },
            session_id: if valid { conn.session_id } else { 0 },
            passwd: if valid {
                Bytes::copy_from_slice(&generate_password(conn.session_id))
            } else {
                Bytes::from_static(&[0; PASSWORD_LEN])
            },
            read_only: if conn.old_client { None } else { Some(self.config.role == super::Role::ReadOnly) },
        };
        let mut frame = BytesMut::with_capacity(response.encoded_len());
        response.encode(&mut frame);
        conn.send_frame(frame.freeze());
        if !valid {
            info!(session = format_args!("{:#x}", conn.session_id), "invalid or expired session; closing");
            conn.close();
            let conn = self.conns.remove(&conn_id);
            debug_assert!(conn.is_some());
            return;
        }
        conn.established = true;
        conn.established_ms = now.mono_ms;
        let queued: Vec<_> = conn.unprocessed.drain(..).collect();
        for incoming in queued {
            self.handle_incoming(conn_id, incoming, now);
        }
    }

    /// The connection is gone. Its session lives on until it expires or a client resumes it.
    pub fn closed(&mut self, conn_id: ConnId) {
        let Some(conn) = self.conns.remove(&conn_id) else { return };
        debug!(conn_id, session = format_args!("{:#x}", conn.session_id), "connection closed");
        if self.session_conn.get(&conn.session_id) == Some(&conn_id) {
            self.session_conn.remove(&conn.session_id);
        }
        self.watches.remove_watcher(conn_id);
        if self.pending_revalidations.get(&conn.session_id) == Some(&conn_id) {
            self.pending_revalidations.remove(&conn.session_id);
        }
        for (conn, _) in &mut self.pending_syncs {
            if *conn == Some(conn_id) {
                *conn = None;
            }
        }
        for in_flight in &mut self.in_flight {
            match &mut in_flight.origin {
                Origin::Client { conn, .. } | Origin::Handshake { conn } if *conn == Some(conn_id) => *conn = None,
                _ => {}
            }
        }
    }
}

impl ServerCore {
    /// A client resumes `session_id` on a new connection: the connection that held it is closed and its
    /// watches dropped (ZooKeeper's `reopenSession` path closes the old `ServerCnxn`).
    pub(super) fn drop_previous_connection(&mut self, session_id: i64) {
        if let Some(old) = self.session_conn.remove(&session_id) {
            if let Some(old_conn) = self.conns.remove(&old) {
                debug!(old, "closing the session's previous connection");
                old_conn.close();
                self.watches.remove_watcher(old);
            }
        }
    }
}
