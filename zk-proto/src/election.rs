//! Fast leader election messages: the connection handshake and the vote notification.
//!
//! Election connections carry the handshake ([`InitialMessage`]) and then frames of a 4-byte length
//! (at most [`ELECTION_MAX_FRAME`]) and a [`Notification`].

use bytes::{Buf, BufMut, Bytes};

use crate::error::DecodeError;
use crate::jute::Jute;

/// The largest election frame ZooKeeper accepts (`QuorumCnxManager.PACKETMAXSIZE`).
pub const ELECTION_MAX_FRAME: usize = 512 * 1024;

/// The longest address list a handshake may carry.
pub const MAX_HANDSHAKE_ADDRESS_LEN: usize = 2048;

/// Handshake protocol version 1.
pub const PROTOCOL_VERSION_V1: i64 = -65536;
/// Handshake protocol version 2 (several `|`-separated addresses, with `multiAddress.enabled`).
pub const PROTOCOL_VERSION_V2: i64 = -65535;

/// `Notification.state`: what the sender is doing.
pub mod server_state {
    /// Electing.
    pub const LOOKING: i32 = 0;
    /// Following a leader.
    pub const FOLLOWING: i32 = 1;
    /// Leading.
    pub const LEADING: i32 = 2;
    /// Observing.
    pub const OBSERVING: i32 = 3;
}

/// The first bytes on an election connection, from the dialing server.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum InitialMessage {
    /// The current form: protocol version, server id and election address(es).
    Versioned {
        /// [`PROTOCOL_VERSION_V1`] or [`PROTOCOL_VERSION_V2`].
        protocol_version: i64,
        /// The dialing server's id.
        sid: i64,
        /// `host:port`, several separated by `|` in version 2.
        addresses: String,
    },
    /// A pre-3.5 peer: only its (non-negative) server id.
    Legacy {
        /// The dialing server's id.
        sid: i64,
    },
}

impl InitialMessage {
    /// The dialing server's id.
    pub fn sid(&self) -> i64 {
        match self {
            InitialMessage::Versioned { sid, .. } | InitialMessage::Legacy { sid } => *sid,
        }
    }
}

impl Jute for InitialMessage {
    const MIN_LEN: usize = 8;
    fn encode<B: BufMut>(&self, buf: &mut B) {
        match self {
            InitialMessage::Versioned { protocol_version, sid, addresses } => {
                buf.put_i64(*protocol_version);
                buf.put_i64(*sid);
                addresses.encode(buf);
            }
            InitialMessage::Legacy { sid } => buf.put_i64(*sid),
        }
    }
    fn decode(buf: &mut Bytes) -> Result<Self, DecodeError> {
        let first = i64::decode(buf)?;
        if first >= 0 {
            return Ok(InitialMessage::Legacy { sid: first });
        }
        if first != PROTOCOL_VERSION_V1 && first != PROTOCOL_VERSION_V2 {
            return Err(DecodeError::InvalidValue { what: "election protocol version", value: first });
        }
        let sid = i64::decode(buf)?;
        let len = i32::decode(buf)?;
        if len < 0 || len as usize > MAX_HANDSHAKE_ADDRESS_LEN {
            return Err(DecodeError::InvalidLength(len));
        }
        if buf.remaining() < len as usize {
            return Err(DecodeError::UnexpectedEof);
        }
        // Strict, unlike jute strings (and unlike ZooKeeper here): see `DecodeError::InvalidUtf8`.
        let addresses = std::str::from_utf8(&buf[..len as usize]).map_err(|_| DecodeError::InvalidUtf8)?.to_owned();
        buf.advance(len as usize);
        Ok(InitialMessage::Versioned { protocol_version: first, sid, addresses })
    }
    fn encoded_len(&self) -> usize {
        match self {
            InitialMessage::Versioned { addresses, .. } => 16 + addresses.encoded_len(),
            InitialMessage::Legacy { .. } => 8,
        }
    }
}

/// A vote, as sent in an election frame. Its decoding depends on the frame length (older servers send
/// shorter messages), so [`Jute::decode`] consumes the whole buffer it is given.
#[derive(Debug, Clone, PartialEq, Eq, Default, Hash)]
pub struct Notification {
    /// The sender's [`server_state`].
    pub state: i32,
    /// The proposed leader's id.
    pub leader: i64,
    /// The proposed leader's last zxid.
    pub zxid: i64,
    /// The election round (logical clock).
    pub election_epoch: i64,
    /// The proposed leader's epoch.
    pub peer_epoch: i64,
    /// The message version (2 carries the config).
    pub version: i32,
    /// The sender's quorum config text (`server.N=...` lines and `version=<hex>`), version 2 only.
    pub config: Option<Bytes>,
}

impl Notification {
    /// The current message version.
    pub const CURRENT_VERSION: i32 = 2;
}

impl Jute for Notification {
    const MIN_LEN: usize = 28;
    fn encode<B: BufMut>(&self, buf: &mut B) {
        buf.put_i32(self.state);
        buf.put_i64(self.leader);
        buf.put_i64(self.zxid);
        buf.put_i64(self.election_epoch);
        buf.put_i64(self.peer_epoch);
        buf.put_i32(self.version);
        if self.version > 1 {
            self.config.clone().unwrap_or_default().encode(buf);
        }
    }
    fn decode(buf: &mut Bytes) -> Result<Self, DecodeError> {
        let total = buf.remaining();
        if total < 28 {
            return Err(DecodeError::UnexpectedEof);
        }
        let state = buf.get_i32();
        let leader = buf.get_i64();
        let zxid = buf.get_i64();
        let election_epoch = buf.get_i64();
        let mut message = Notification { state, leader, zxid, election_epoch, ..Notification::default() };
        if total == 28 {
            // Oldest form: the epoch is derived from the zxid.
            message.peer_epoch = zxid >> 32;
        } else {
            message.peer_epoch = i64::decode(buf)?;
            if total != 40 {
                message.version = i32::decode(buf)?;
            }
            if message.version > 1 {
                let len = i32::decode(buf)?;
                if len < 0 || len as usize > buf.remaining() {
                    return Err(DecodeError::InvalidLength(len));
                }
                message.config = Some(buf.split_to(len as usize));
            }
        }
        // ZooKeeper ignores whatever else the frame holds (e.g. the 4 spare bytes of the 40-byte form).
        buf.advance(buf.remaining());
        Ok(message)
    }
    fn encoded_len(&self) -> usize {
        40 + if self.version > 1 { 4 + self.config.as_ref().map_or(0, Bytes::len) } else { 0 }
    }
}

#[cfg(feature = "arbitrary")]
mod arbitrary_impls {
    use super::*;
    use crate::arbitrary::{any_jute, JuteStrategy};
    use proptest::prelude::*;

    impl JuteStrategy for Notification {
        fn strategy() -> BoxedStrategy<Self> {
            // Only the current form: a version-1 message is 40 bytes long, which ZooKeeper (and we) read
            // as the older 36-byte form, so it cannot round-trip.
            (0..4i32, any::<i64>(), any::<i64>(), any::<i64>(), any::<i64>(), any_jute::<Bytes>())
                .prop_map(|(state, leader, zxid, election_epoch, peer_epoch, config)| Notification {
                    state,
                    leader,
                    zxid,
                    election_epoch,
                    peer_epoch,
                    version: Notification::CURRENT_VERSION,
                    config: Some(config),
                })
                .boxed()
        }
    }

    impl JuteStrategy for InitialMessage {
        fn strategy() -> BoxedStrategy<Self> {
            prop_oneof![
                (0..=i64::MAX).prop_map(|sid| InitialMessage::Legacy { sid }),
                (prop::bool::ANY, any::<i64>(), "[a-z0-9.:|]{0,40}").prop_map(|(v2, sid, addresses)| {
                    let protocol_version = if v2 { PROTOCOL_VERSION_V2 } else { PROTOCOL_VERSION_V1 };
                    InitialMessage::Versioned { protocol_version, sid, addresses }
                }),
            ]
            .boxed()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn current_notification_layout() {
        let n = Notification {
            state: server_state::LOOKING,
            leader: 3,
            zxid: 0x2_0000_0007,
            election_epoch: 5,
            peer_epoch: 2,
            version: 2,
            config: Some(Bytes::from_static(b"server.1=a:1:2:participant\nversion=0")),
        };
        let bytes = n.to_bytes();
        assert_eq!(bytes.len(), 44 + n.config.as_ref().unwrap().len());
        assert_eq!(&bytes[36..40], &[0, 0, 0, 2]);
        assert_eq!(Notification::from_bytes(bytes), Ok(n));
    }

    #[test]
    fn legacy_28_byte_notification_derives_the_epoch() {
        let mut raw = Vec::new();
        raw.extend_from_slice(&1i32.to_be_bytes());
        raw.extend_from_slice(&2i64.to_be_bytes());
        raw.extend_from_slice(&0x5_0000_0001i64.to_be_bytes());
        raw.extend_from_slice(&9i64.to_be_bytes());
        let n = Notification::from_bytes(Bytes::from(raw)).unwrap();
        assert_eq!((n.peer_epoch, n.version, n.config), (5, 0, None));
    }

    #[test]
    fn hostile_config_length_is_rejected() {
        let mut n = Notification { version: 2, config: Some(Bytes::from_static(b"x")), ..Default::default() };
        let mut raw = n.to_bytes().to_vec();
        raw[40..44].copy_from_slice(&i32::MAX.to_be_bytes());
        assert_eq!(Notification::from_bytes(Bytes::from(raw)), Err(DecodeError::InvalidLength(i32::MAX)));
        n.config = None;
        assert_eq!(Notification::from_bytes(n.to_bytes()).unwrap().config, Some(Bytes::new()));
    }

    #[test]
    fn handshake_forms() {
        let v1 = InitialMessage::Versioned {
            protocol_version: PROTOCOL_VERSION_V1,
            sid: 2,
            addresses: "127.0.0.1:3888".into(),
        };
        assert_eq!(InitialMessage::from_bytes(v1.to_bytes()), Ok(v1));
        assert_eq!(
            InitialMessage::from_bytes(Bytes::from(7i64.to_be_bytes().to_vec())),
            Ok(InitialMessage::Legacy { sid: 7 })
        );
        let mut bad = Vec::from(PROTOCOL_VERSION_V1.to_be_bytes());
        bad.extend_from_slice(&1i64.to_be_bytes());
        bad.extend_from_slice(&4096i32.to_be_bytes());
        assert_eq!(InitialMessage::from_bytes(Bytes::from(bad)), Err(DecodeError::InvalidLength(4096)));
        // The one strict string: addresses that are not UTF-8 are refused.
        let mut not_text = Vec::from(PROTOCOL_VERSION_V2.to_be_bytes());
        not_text.extend_from_slice(&1i64.to_be_bytes());
        not_text.extend_from_slice(&7i32.to_be_bytes());
        not_text.extend_from_slice(b"a\xff:2888");
        assert_eq!(InitialMessage::from_bytes(Bytes::from(not_text)), Err(DecodeError::InvalidUtf8));
    }
}
