//! Decode errors. Every one of them means "this peer sent bytes we cannot trust": a server closes the
//! connection, a client drops it and reconnects.

/// Why bytes could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The record ends before all of its fields (or a length points past the end of the frame).
    #[error("record truncated")]
    UnexpectedEof,
    /// A string, buffer or vector length that is negative (and not the null marker `-1`).
    #[error("invalid length {0}")]
    InvalidLength(i32),
    /// The election handshake's address list ([`crate::InitialMessage`]) is not valid UTF-8.
    ///
    /// Nothing else produces this error: jute strings (`ustring`) decode leniently, with U+FFFD for each
    /// malformed sequence, exactly as Java's `new String(bytes, UTF_8)` in ZooKeeper's jute reader does,
    /// so that a server treats such a path as ZooKeeper does (a missing node or a malformed path) instead
    /// of dropping the connection. ZooKeeper decodes the handshake addresses leniently too and rejects
    /// only what it cannot parse as `host:port`, so here zk-proto is stricter: a peer whose addresses are
    /// not text is refused instead of being recorded with an address that cannot resolve.
    #[error("string is not valid UTF-8")]
    InvalidUtf8,
    /// An opcode that ZooKeeper does not define, or one not allowed where it appeared.
    #[error("unknown or misplaced opcode {0}")]
    UnknownOpCode(i32),
    /// A field holding a value outside its domain (e.g. a quorum packet type).
    #[error("invalid {what}: {value}")]
    InvalidValue {
        /// The field.
        what: &'static str,
        /// The value found.
        value: i64,
    },
    /// A frame whose declared length is negative or larger than the configured maximum.
    #[error("frame length {len} outside 0..={max}")]
    FrameLength {
        /// The declared length.
        len: i64,
        /// The configured maximum.
        max: usize,
    },
    /// Bytes left over after a value that should span the whole input.
    #[error("{0} trailing bytes")]
    TrailingBytes(usize),
}
