//! The seam between the network shell and the server core: what connections tell the core, and what
//! the core sends back to a connection.

use std::net::SocketAddr;

use bytes::Bytes;
use tokio::sync::{mpsc, oneshot};
use zk_proto::{ConnectRequest, DecodeError, Request};

/// Identifies one client connection for the lifetime of the server.
pub type ConnId = u64;

/// An event from the network shell to the core.
#[derive(Debug)]
pub enum Event {
    /// A client sent its `ConnectRequest`; `out` carries everything the core sends back.
    Connect {
        /// The connection.
        conn: ConnId,
        /// The client's address (for `ip` ACLs, limits and 4lw output).
        peer: SocketAddr,
        /// The handshake.
        request: ConnectRequest,
        /// The connection's outbound queue.
        out: mpsc::UnboundedSender<Outbound>,
    },
    /// A request after the handshake. The body failed to decode when `body` is an error (the core
    /// answers MarshallingError, as ZooKeeper does, and keeps the connection).
    Request {
        /// The connection.
        conn: ConnId,
        /// The request's xid.
        xid: i32,
        /// The raw opcode from the header.
        op_code: i32,
        /// The decoded body.
        body: Result<Request, DecodeError>,
        /// Encoded size of the request, for statistics.
        size: usize,
    },
    /// The connection is gone (closed by the peer, an error, or after the core asked to close it).
    Closed {
        /// The connection.
        conn: ConnId,
    },
    /// A four-letter word; the core answers with the text to write back.
    FourLetter {
        /// The command, e.g. `*b"srvr"`.
        command: [u8; 4],
        /// The peer asking (for `cons`-style output that lists it).
        peer: SocketAddr,
        /// Where the text goes.
        reply: oneshot::Sender<String>,
    },
}

/// What the core sends to one connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outbound {
    /// One complete frame payload (the shell adds the length prefix).
    Frame(Bytes),
    /// Flush what was queued, then close the connection.
    Close,
}
