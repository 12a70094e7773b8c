//! `zk-proto`: ZooKeeper's wire codec.
//!
//! - [`Jute`]: the binary encoding of every ZooKeeper 3.9 record (client protocol, txns, quorum and
//!   election messages), decoding zero-copy from [`bytes::Bytes`].
//! - [`Request`] / [`Response`]: request and reply bodies dispatched by [`OpCode`].
//! - [`FrameCodec`]: the 4-byte length framing with a maximum frame size, as a `tokio_util` codec.
//! - Server records: txns ([`TxnEntry`]), quorum packets ([`QuorumPacket`], [`QuorumCodec`]), election
//!   messages ([`Notification`], [`InitialMessage`]) and file headers ([`FileHeader`]).
//! - Protocol constants: [`OpCode`], [`ErrorCode`], [`EventType`], [`KeeperState`], [`CreateMode`],
//!   [`WatcherType`], [`AddWatchMode`], [`perms`], [`xid`].
//!
//! Decoding never panics, and what it allocates is bounded by its input: decoding `n` bytes (a record's
//! [`Jute::decode`], [`Request::decode`], [`Response::decode`], [`TxnBody::decode`], [`Txn::body`], or a
//! packet of [`QuorumCodec`]) requests at most `16 * n + 256` bytes from the allocator in total, counting
//! the value returned and every temporary freed again (so this bounds its peak use too). The bound is a
//! factor of the input, not the input itself, because decoded values are larger than their encodings: on
//! 64-bit targets an empty string is 4 bytes on the wire and a 24-byte `String`, a multi `delete` result
//! 9 bytes and a 112-byte [`OpResult`]. To meet it, every length is checked against the bytes present
//! before anything is allocated, and every vector, a multi's included, is allocated once at its exact
//! length. The worst case, about 12.4 bytes per input byte, is a long multi reply of `delete` results;
//! `tests/allocation_bound.rs` measures each worst shape. The stream codecs also reserve read-buffer room
//! for a frame or packet whose length they have read, up to their configured maximum.
//!
//! ```
//! use bytes::Bytes;
//! use zk_proto::{GetDataRequest, Jute, OpCode, Request, RequestHeader};
//!
//! let header = RequestHeader { xid: 1, op_code: OpCode::GetData.code() };
//! let body = Request::GetData(GetDataRequest { path: "/app".into(), watch: true });
//! let mut wire = bytes::BytesMut::new();
//! header.encode(&mut wire);
//! body.encode(&mut wire);
//!
//! let mut wire: Bytes = wire.freeze();
//! let header = RequestHeader::decode(&mut wire).unwrap();
//! let decoded = Request::decode_raw(header.op_code, &mut wire).unwrap();
//! assert_eq!(decoded, body);
//! ```

mod acl;
#[cfg(feature = "arbitrary")]
pub mod arbitrary;
mod create_mode;
mod election;
mod error;
mod error_code;
mod file_header;
mod frame;
mod int_enum;
mod jute;
mod message;
mod multi;
mod node_ops;
mod opcode;
mod quorum;
mod session_ops;
mod skip;
mod stat;
mod txn;
mod watch_ops;
mod watcher;

pub use acl::{perms, Acl, Id};
pub use create_mode::{ttl_ephemeral_owner, CreateMode, NodeKind, CONTAINER_EPHEMERAL_OWNER, MAX_TTL};
pub use election::{
    server_state, InitialMessage, Notification, ELECTION_MAX_FRAME, MAX_HANDSHAKE_ADDRESS_LEN, PROTOCOL_VERSION_V1,
    PROTOCOL_VERSION_V2,
};
pub use error::DecodeError;
pub use error_code::ErrorCode;
pub use file_header::FileHeader;
pub use frame::{write_frame, FrameCodec, FrameError, DEFAULT_MAX_FRAME};
pub use jute::{Jute, Nullable};
pub use message::{Request, Response};
pub use multi::{MultiHeader, MultiOp, MultiRequest, MultiResponse, OpResult};
pub use node_ops::*;
pub use opcode::{xid, OpCode};
pub use quorum::{LearnerInfo, PacketType, QuorumAuthPacket, QuorumCodec, QuorumPacket};
pub use session_ops::*;
pub use stat::{Stat, StatPersisted};
pub use txn::*;
pub use watch_ops::*;
pub use watcher::{AddWatchMode, EventType, KeeperState, WatcherType};
