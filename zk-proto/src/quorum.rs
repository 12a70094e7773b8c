//! Quorum (Zab) records between leader and learners, and the unframed stream codec they travel in.

use bytes::{Buf, Bytes, BytesMut};
use tokio_util::codec::Decoder;

use crate::acl::Id;
use crate::error::DecodeError;
use crate::frame::FrameError;
use crate::int_enum::int_enum;
use crate::jute::{jute_record, Jute};

jute_record! {
    /// A Zab message. Sent back to back as plain jute, with no length prefix.
    pub struct QuorumPacket {
        /// A [`PacketType`] code.
        pub packet_type: i32,
        /// The zxid the packet is about (see [`PacketType`]).
        pub zxid: i64,
        /// The payload (`None`: Java's null, used by ACK, COMMIT, PING, UPTODATE, ...).
        pub data: Option<Bytes>,
        /// The client connection's auth ids (REQUEST only).
        pub authinfo: Option<Vec<Id>>,
    }
}

jute_record! {
    /// A learner's introduction (the data of FOLLOWERINFO / OBSERVERINFO).
    pub struct LearnerInfo {
        /// The learner's server id.
        pub server_id: i64,
        /// Its protocol version (0x10000).
        pub protocol_version: i32,
        /// The version of its last seen quorum config.
        pub config_version: i64,
    }
}

jute_record! {
    /// Quorum SASL authentication (only with `quorum.auth.enableSasl`).
    pub struct QuorumAuthPacket {
        /// A magic number.
        pub magic: i64,
        /// The auth status.
        pub status: i32,
        /// The SASL token.
        pub token: Bytes,
    }
}

int_enum! {
    /// `QuorumPacket.packet_type`.
    pub enum PacketType {
        /// Learner to leader: a client write to forward.
        Request = 1 => "REQUEST",
        /// Leader to follower: a txn to log.
        Proposal = 2 => "PROPOSAL",
        /// Follower to leader: a txn is logged.
        Ack = 3 => "ACK",
        /// Leader to follower: a txn is committed.
        Commit = 4 => "COMMIT",
        /// Both ways: liveness, and session touches from learners.
        Ping = 5 => "PING",
        /// Learner to leader and back: validate a session reconnect.
        Revalidate = 6 => "REVALIDATE",
        /// Leader to learner: a forwarded sync is complete.
        Sync = 7 => "SYNC",
        /// Leader to observer: a committed txn.
        Inform = 8 => "INFORM",
        /// Leader to follower: commit a reconfig and activate it.
        CommitAndActivate = 9 => "COMMITANDACTIVATE",
        /// Leader to learner: end of sync; carries the quorum config.
        NewLeader = 10 => "NEWLEADER",
        /// Follower to leader: first message (LearnerInfo).
        FollowerInfo = 11 => "FOLLOWERINFO",
        /// Leader to learner: start serving.
        UpToDate = 12 => "UPTODATE",
        /// Leader to learner: sync by the txns that follow.
        Diff = 13 => "DIFF",
        /// Leader to learner: truncate the log to the given zxid.
        Trunc = 14 => "TRUNC",
        /// Leader to learner: a snapshot follows.
        Snap = 15 => "SNAP",
        /// Observer to leader: first message (LearnerInfo).
        ObserverInfo = 16 => "OBSERVERINFO",
        /// Leader to learner: the new epoch.
        LeaderInfo = 17 => "LEADERINFO",
        /// Learner to leader: epoch acknowledged.
        AckEpoch = 18 => "ACKEPOCH",
        /// Leader to observer: inform and activate a reconfig.
        InformAndActivate = 19 => "INFORMANDACTIVATE",
    }
}

impl QuorumPacket {
    /// A packet of `packet_type` with a zxid and no payload.
    pub fn new(packet_type: PacketType, zxid: i64) -> QuorumPacket {
        QuorumPacket { packet_type: packet_type.code(), zxid, data: None, authinfo: None }
    }

    /// The typed packet type, if known.
    pub fn kind(&self) -> Result<PacketType, DecodeError> {
        PacketType::try_from(self.packet_type)
            .map_err(|value| DecodeError::InvalidValue { what: "quorum packet type", value: value.into() })
    }
}

/// The number of bytes the `QuorumPacket` at the front of `src` occupies, or `None` if more bytes are
/// needed to know. Reads only lengths, so it is cheap to call on every arrival of bytes. Stops early
/// with a length above `limit` once the declared lengths exceed it.
fn packet_len(src: &[u8], limit: usize) -> Result<Option<usize>, DecodeError> {
    fn int_at(src: &[u8], at: usize) -> Option<i32> {
        src.get(at..at + 4).map(|b| i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn length(value: i32) -> Result<usize, DecodeError> {
        match value {
            -1 => Ok(0),
            v if v < 0 => Err(DecodeError::InvalidLength(v)),
            v => Ok(v as usize),
        }
    }
    let mut at = 4 + 8;
    let Some(data_len) = int_at(src, at) else { return Ok(None) };
    at += 4 + length(data_len)?;
    let Some(count) = int_at(src, at) else { return Ok(if at > limit { Some(at) } else { None }) };
    at += 4;
    for _ in 0..length(count)? {
        for _ in 0..2 {
            if at > limit {
                return Ok(Some(at));
            }
            let Some(len) = int_at(src, at) else { return Ok(None) };
            at += 4 + length(len)?;
        }
    }
    Ok(Some(at))
}

/// A `tokio_util` decoder for the learner/leader stream: unframed [`QuorumPacket`]s back to back.
///
/// A packet larger than `max_packet` is an error as soon as its declared lengths say so, so a peer
/// cannot make the reader buffer without bound.
#[derive(Debug, Clone, Copy)]
pub struct QuorumCodec {
    max_packet: usize,
}

impl QuorumCodec {
    /// A decoder accepting packets up to `max_packet` bytes.
    pub fn new(max_packet: usize) -> QuorumCodec {
        QuorumCodec { max_packet }
    }
}

impl Decoder for QuorumCodec {
    type Item = QuorumPacket;
    type Error = FrameError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<QuorumPacket>, FrameError> {
        let known = packet_len(src, self.max_packet)?;
        let too_big = |len: usize| DecodeError::FrameLength { len: len as i64, max: self.max_packet };
        match known {
            Some(len) if len > self.max_packet => Err(too_big(len).into()),
            Some(len) if len <= src.len() => {
                let mut packet = src.split_to(len).freeze();
                let decoded = QuorumPacket::decode(&mut packet)?;
                debug_assert!(!packet.has_remaining());
                Ok(Some(decoded))
            }
            Some(len) => {
                src.reserve(len - src.len());
                Ok(None)
            }
            None if src.len() > self.max_packet => Err(too_big(src.len()).into()),
            None => Ok(None),
        }
    }
}

impl tokio_util::codec::Encoder<QuorumPacket> for QuorumCodec {
    type Error = FrameError;

    fn encode(&mut self, packet: QuorumPacket, dst: &mut BytesMut) -> Result<(), FrameError> {
        packet.encode(dst);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_decoder_handles_partial_packets() {
        let a = QuorumPacket::new(PacketType::Ack, 42);
        let b = QuorumPacket {
            packet_type: PacketType::Request.code(),
            zxid: -1,
            data: Some(Bytes::from_static(b"payload")),
            authinfo: Some(vec![Id::anyone(), Id::new("digest", "u:h")]),
        };
        let wire = [a.to_bytes(), b.to_bytes()].concat();
        let mut codec = QuorumCodec::new(1024);
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        for byte in wire {
            buf.extend_from_slice(&[byte]);
            while let Some(packet) = codec.decode(&mut buf).unwrap() {
                out.push(packet);
            }
        }
        assert_eq!(out, vec![a, b]);
        assert!(buf.is_empty());
    }

    #[test]
    fn oversized_packets_are_refused_early() {
        let mut codec = QuorumCodec::new(64);
        let mut buf = BytesMut::new();
        buf.extend_from_slice(&5i32.to_be_bytes());
        buf.extend_from_slice(&0i64.to_be_bytes());
        buf.extend_from_slice(&1_000_000i32.to_be_bytes());
        assert!(codec.decode(&mut buf).is_err());
    }

    #[test]
    fn unknown_packet_types_are_typed_errors() {
        let packet = QuorumPacket { packet_type: 99, zxid: 0, data: None, authinfo: None };
        assert!(matches!(packet.kind(), Err(DecodeError::InvalidValue { value: 99, .. })));
    }
}
