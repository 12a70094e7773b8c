//! The sans-IO part of `QuorumCnxManager`: the election connection handshake, the rule deciding which
//! of two crossing connections survives, and the frames that follow.
//!
//! Between two servers only one election connection is kept: the one from the larger sid to the
//! smaller. A server dials every voter; when it dials a larger sid, the larger side drops the socket
//! and dials back (`receiveConnection`/`handleConnection`), and the dialer drops it too after sending
//! its handshake (`startConnection`).

use bytes::{Buf, BufMut, Bytes, BytesMut};
use zk_proto::{
    InitialMessage, Jute, Notification, ELECTION_MAX_FRAME, MAX_HANDSHAKE_ADDRESS_LEN, PROTOCOL_VERSION_V1,
    PROTOCOL_VERSION_V2,
};

/// The sid observers may dial with, which the receiver swaps for a fresh negative id
/// (`QuorumCnxManager.observerCounter`).
pub const OBSERVER_ID: i64 = i64::MAX;

/// Why an election connection is closed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectionError {
    /// The handshake could not be read.
    #[error("invalid election handshake: {0}")]
    Handshake(String),
    /// A frame length outside 1..=[`ELECTION_MAX_FRAME`] (`RecvWorker`: "Received packet with invalid
    /// packet").
    #[error("invalid election frame length {0}")]
    FrameLength(i64),
}

/// The handshake this server sends after dialing (`startConnection`): protocol version 1, or 2 when
/// `multi_address` (ZooKeeper sticks to version 1 otherwise, ZOOKEEPER-3720), its sid and its
/// election address(es) as `host:port`, `|`-separated.
pub fn handshake(my_sid: i64, election_addresses: &[String], multi_address: bool) -> InitialMessage {
    let protocol_version = if multi_address { PROTOCOL_VERSION_V2 } else { PROTOCOL_VERSION_V1 };
    let addresses = if multi_address {
        election_addresses.join("|")
    } else {
        election_addresses.first().cloned().unwrap_or_default()
    };
    InitialMessage::Versioned { protocol_version, sid: my_sid, addresses }
}

/// Reads a handshake from the start of `buf` once it is complete: `Ok(None)` while more bytes are
/// needed; on success the handshake's bytes are consumed. An address list over
/// [`MAX_HANDSHAKE_ADDRESS_LEN`] or an unknown protocol version is an error.
pub fn decode_handshake(buf: &mut BytesMut) -> Result<Option<InitialMessage>, ConnectionError> {
    if buf.len() < 8 {
        return Ok(None);
    }
    let first = i64::from_be_bytes(buf[..8].try_into().unwrap_or_default());
    let total = if first >= 0 {
        8
    } else {
        if first != PROTOCOL_VERSION_V1 && first != PROTOCOL_VERSION_V2 {
            return Err(ConnectionError::Handshake(format!("unrecognized protocol version {first}")));
        }
        if buf.len() < 20 {
            return Ok(None);
        }
        let n = i32::from_be_bytes(buf[16..20].try_into().unwrap_or_default());
        if n < 0 || n as usize > MAX_HANDSHAKE_ADDRESS_LEN {
            return Err(ConnectionError::Handshake(format!("address length {n}")));
        }
        20 + n as usize
    };
    if buf.len() < total {
        return Ok(None);
    }
    let bytes = buf.split_to(total).freeze();
    InitialMessage::from_bytes(bytes).map(Some).map_err(|e| ConnectionError::Handshake(e.to_string()))
}

/// What to do with an accepted connection once its handshake is read (`handleConnection`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InboundDecision {
    /// Keep it: the remote sid is larger. Any older connection with that sid is replaced.
    Keep {
        /// The remote sid (a synthetic negative id for an observer that sent [`OBSERVER_ID`]).
        sid: i64,
    },
    /// Close it and dial the (smaller) remote sid ourselves.
    CloseAndDialBack {
        /// The remote sid.
        sid: i64,
    },
    /// Close it: the remote claims our own sid (ZOOKEEPER-2164).
    Close,
}

/// Numbers the observers that dial with [`OBSERVER_ID`] (starting at -1, decreasing).
#[derive(Debug, Clone)]
pub struct ObserverIds {
    next: i64,
}

impl Default for ObserverIds {
    fn default() -> ObserverIds {
        ObserverIds { next: -1 }
    }
}

impl ObserverIds {
    fn take(&mut self) -> i64 {
        let id = self.next;
        self.next = self.next.saturating_sub(1);
        id
    }
}

/// The acceptor's tie-break: keep connections from larger sids, dial back smaller ones.
pub fn on_inbound(my_sid: i64, handshake: &InitialMessage, observers: &mut ObserverIds) -> InboundDecision {
    let mut sid = handshake.sid();
    if sid == OBSERVER_ID {
        sid = observers.take();
    }
    match sid.cmp(&my_sid) {
        std::cmp::Ordering::Less => InboundDecision::CloseAndDialBack { sid },
        std::cmp::Ordering::Equal => InboundDecision::Close,
        std::cmp::Ordering::Greater => InboundDecision::Keep { sid },
    }
}

/// The dialer's tie-break, after sending its handshake: keep the connection only when dialing a
/// smaller sid (the larger side will dial us instead).
pub fn keep_outbound(my_sid: i64, remote_sid: i64) -> bool {
    remote_sid < my_sid
}

/// A notification as an election frame: 4-byte length, then the message.
pub fn encode_frame(n: &Notification) -> Bytes {
    let body = n.to_bytes();
    let mut out = BytesMut::with_capacity(4 + body.len());
    out.put_u32(body.len() as u32);
    out.put_slice(&body);
    out.freeze()
}

/// Takes one complete frame body off the front of `buf` (`Ok(None)` while incomplete). A length of 0,
/// negative or over [`ELECTION_MAX_FRAME`] closes the connection.
pub fn decode_frame(buf: &mut BytesMut) -> Result<Option<Bytes>, ConnectionError> {
    if buf.len() < 4 {
        return Ok(None);
    }
    let len = i32::from_be_bytes(buf[..4].try_into().unwrap_or_default());
    if len <= 0 || len as usize > ELECTION_MAX_FRAME {
        return Err(ConnectionError::FrameLength(i64::from(len)));
    }
    if buf.len() < 4 + len as usize {
        return Ok(None);
    }
    buf.advance(4);
    Ok(Some(buf.split_to(len as usize).freeze()))
}

/// Reads a frame body as a notification. Bodies under 28 bytes or otherwise malformed are dropped
/// (`None`), as `WorkerReceiver` logs and skips them without closing the connection.
pub fn decode_notification(frame: Bytes) -> Option<Notification> {
    if frame.len() < 28 {
        return None;
    }
    let mut frame = frame;
    Notification::decode(&mut frame).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handshake_round_trip_incrementally() {
        let h = handshake(3, &["127.0.0.1:3888".into()], false);
        let bytes = h.to_bytes();
        let mut buf = BytesMut::new();
        for (i, b) in bytes.iter().enumerate() {
            assert_eq!(decode_handshake(&mut buf), Ok(None), "at {i}");
            buf.put_u8(*b);
        }
        buf.put_slice(b"rest");
        assert_eq!(decode_handshake(&mut buf), Ok(Some(h)));
        assert_eq!(&buf[..], b"rest");
        let v2 = handshake(3, &["a:1".into(), "b:2".into()], true);
        assert!(
            matches!(&v2, InitialMessage::Versioned { protocol_version: PROTOCOL_VERSION_V2, addresses, .. } if addresses == "a:1|b:2")
        );
        let mut legacy = BytesMut::from(&7i64.to_be_bytes()[..]);
        assert_eq!(decode_handshake(&mut legacy), Ok(Some(InitialMessage::Legacy { sid: 7 })));
    }

    #[test]
    fn hostile_handshakes_are_errors() {
        let mut bad = BytesMut::from(&(-5i64).to_be_bytes()[..]);
        assert!(decode_handshake(&mut bad).is_err());
        let mut long = BytesMut::new();
        long.put_i64(PROTOCOL_VERSION_V1);
        long.put_i64(1);
        long.put_i32(4096);
        assert!(decode_handshake(&mut long).is_err());
        let mut negative = BytesMut::new();
        negative.put_i64(PROTOCOL_VERSION_V1);
        negative.put_i64(1);
        negative.put_i32(-1);
        assert!(decode_handshake(&mut negative).is_err());
    }

    #[test]
    fn only_larger_to_smaller_survives() {
        let mut ids = ObserverIds::default();
        let from = |sid| InitialMessage::Legacy { sid };
        assert_eq!(on_inbound(2, &from(3), &mut ids), InboundDecision::Keep { sid: 3 });
        assert_eq!(on_inbound(2, &from(1), &mut ids), InboundDecision::CloseAndDialBack { sid: 1 });
        assert_eq!(on_inbound(2, &from(2), &mut ids), InboundDecision::Close);
        assert_eq!(on_inbound(2, &from(OBSERVER_ID), &mut ids), InboundDecision::CloseAndDialBack { sid: -1 });
        assert_eq!(on_inbound(2, &from(OBSERVER_ID), &mut ids), InboundDecision::CloseAndDialBack { sid: -2 });
        assert!(keep_outbound(3, 1));
        assert!(!keep_outbound(1, 3));
    }

    #[test]
    fn frames() {
        let n = Notification { version: 2, config: Some(Bytes::from_static(b"version=0")), ..Default::default() };
        let f = encode_frame(&n);
        let mut buf = BytesMut::from(&f[..f.len() - 1]);
        assert_eq!(decode_frame(&mut buf), Ok(None));
        buf.put_u8(f[f.len() - 1]);
        let body = decode_frame(&mut buf).unwrap().unwrap();
        assert_eq!(decode_notification(body), Some(n));
        assert!(buf.is_empty());
        assert_eq!(decode_notification(Bytes::from_static(&[0; 27])), None);
        let mut zero = BytesMut::from(&[0u8, 0, 0, 0][..]);
        assert_eq!(decode_frame(&mut zero), Err(ConnectionError::FrameLength(0)));
        let mut huge = BytesMut::new();
        huge.put_i32(ELECTION_MAX_FRAME as i32 + 1);
        assert!(decode_frame(&mut huge).is_err());
        let mut neg = BytesMut::new();
        neg.put_i32(-1);
        assert!(decode_frame(&mut neg).is_err());
    }
}
