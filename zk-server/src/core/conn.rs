//! What the core knows about one client connection.

use std::collections::VecDeque;
use std::net::SocketAddr;

use bytes::{Bytes, BytesMut};
use tokio::sync::mpsc;
use zk_proto::{Jute, ReplyHeader, Request, Response};

use crate::acl::AuthInfo;
use crate::net::Outbound;

/// A request waiting for its turn on its connection.
#[derive(Debug)]
pub(crate) enum Pending {
    /// A write in flight; its reply goes out when the txn with this zxid commits.
    Write {
        /// The txn's zxid.
        zxid: i64,
    },
    /// A read queued behind an earlier write of the same connection.
    Read(Incoming),
    /// Learner: a write forwarded to the leader, answered when the txn the leader made of it commits
    /// (matched by the session and this cxid, as ZooKeeper's `CommitProcessor` matches them).
    Forwarded {
        /// The request's xid.
        cxid: i32,
        /// The request's opcode.
        op_code: i32,
        /// When it arrived (latency statistics).
        received_ms: i64,
    },
    /// Learner: a `sync` forwarded to the leader, answered in its turn once the leader's SYNC came
    /// back (`done`).
    Sync {
        /// Its place in the server's queue of forwarded syncs.
        id: u64,
        /// The request, answered from the committed tree.
        incoming: Incoming,
        /// Whether the leader completed it.
        done: bool,
    },
}

/// A request as it arrived.
#[derive(Debug)]
pub(crate) struct Incoming {
    pub xid: i32,
    pub op_code: i32,
    pub body: Result<Request, zk_proto::DecodeError>,
    pub received_ms: i64,
    /// Arrived after its session's closeSession: answered `SessionExpired`, in order.
    pub session_closing: bool,
}

/// Per-connection counters (`cons` output).
#[derive(Debug, Default, Clone)]
pub(crate) struct ConnStats {
    pub received: u64,
    pub sent: u64,
    pub last_op: &'static str,
    pub last_cxid: i32,
    pub last_zxid: i64,
    pub last_response_ms: i64,
    pub last_latency_ms: i64,
    pub min_latency_ms: Option<i64>,
    pub max_latency_ms: i64,
    pub total_latency_ms: i64,
    pub replies: u64,
}

/// A client connection.
#[derive(Debug)]
pub(crate) struct Conn {
    pub peer: SocketAddr,
    pub out: mpsc::UnboundedSender<Outbound>,
    /// The session, once the handshake assigned or validated one (0 before).
    pub session_id: i64,
    /// Whether the session is set up; until then requests wait in `unprocessed`.
    pub established: bool,
    /// A pre-3.4 client that sent no read-only flag (and must get none back).
    pub old_client: bool,
    /// The negotiated session timeout.
    pub timeout: i32,
    pub auth: AuthInfo,
    /// Requests that arrived before the handshake finished.
    pub unprocessed: VecDeque<Incoming>,
    /// In-flight writes and the reads queued behind them, in arrival order.
    pub pending: VecDeque<Pending>,
    pub stats: ConnStats,
    pub established_ms: i64,
}

impl Conn {
    pub fn new(peer: SocketAddr, out: mpsc::UnboundedSender<Outbound>, now_ms: i64) -> Conn {
        Conn {
            peer,
            out,
            session_id: 0,
            established: false,
            old_client: false,
            timeout: 0,
            auth: AuthInfo::new(peer.ip()),
            unprocessed: VecDeque::new(),
            pending: VecDeque::new(),
            stats: ConnStats::default(),
            established_ms: now_ms,
        }
    }

    /// Queues one frame: a header and an optional body. A closed connection drops it silently.
    pub fn send(&mut self, header: &ReplyHeader, body: Option<&Response>) {
        let mut buf = BytesMut::with_capacity(16 + body.map_or(0, Response::encoded_len));
        header.encode(&mut buf);
        if let Some(body) = body {
            body.encode(&mut buf);
        }
        self.send_frame(buf.freeze());
    }

    pub fn send_frame(&mut self, frame: Bytes) {
        self.stats.sent += 1;
        let _ = self.out.send(Outbound::Frame(frame));
    }

    /// Asks the shell to flush and close the connection.
    pub fn close(&self) {
        let _ = self.out.send(Outbound::Close);
    }

    /// Records a completed request for the connection statistics.
    pub fn record_reply(&mut self, op: &'static str, xid: i32, zxid: i64, received_ms: i64, now_ms: i64) {
        let latency = (now_ms - received_ms).max(0);
        let stats = &mut self.stats;
        stats.last_op = op;
        stats.last_cxid = xid;
        stats.last_zxid = zxid;
        stats.last_response_ms = now_ms;
        stats.last_latency_ms = latency;
        stats.min_latency_ms = Some(stats.min_latency_ms.map_or(latency, |m| m.min(latency)));
        stats.max_latency_ms = stats.max_latency_ms.max(latency);
        stats.total_latency_ms += latency;
        stats.replies += 1;
    }
}
