//! Session-level records: the connect handshake, auth, SASL, whoAmI and reconfig.

use bytes::{Buf, BufMut, Bytes};

use crate::error::DecodeError;
use crate::jute::{jute_record, Jute};

/// The first message of a connection, client to server (no request header).
///
/// The trailing `read_only` flag is optional on the wire (clients before 3.4 omit it), so it is an
/// `Option`: `None` means the byte was absent, and a server then answers without it too.
#[derive(Debug, Clone, PartialEq, Eq, Default, Hash)]
pub struct ConnectRequest {
    /// Always 0.
    pub protocol_version: i32,
    /// The highest zxid the client has seen (a server behind it refuses the connection).
    pub last_zxid_seen: i64,
    /// The requested session timeout in ms.
    pub time_out: i32,
    /// 0 for a new session, else the session to resume.
    pub session_id: i64,
    /// The session password (16 bytes), empty or zeros for a new session.
    pub passwd: Bytes,
    /// Whether the client accepts a read-only server.
    pub read_only: Option<bool>,
}

/// The server's answer to a [`ConnectRequest`] (no reply header).
///
/// A `time_out` of 0 or less means the session is invalid or expired.
#[derive(Debug, Clone, PartialEq, Eq, Default, Hash)]
pub struct ConnectResponse {
    /// Always 0.
    pub protocol_version: i32,
    /// The negotiated session timeout in ms.
    pub time_out: i32,
    /// The session id.
    pub session_id: i64,
    /// The session password.
    pub passwd: Bytes,
    /// Whether the server is in read-only mode (`None`: the byte was absent, an old peer).
    pub read_only: Option<bool>,
}

fn decode_optional_bool(buf: &mut Bytes) -> Result<Option<bool>, DecodeError> {
    if buf.has_remaining() {
        bool::decode(buf).map(Some)
    } else {
        Ok(None)
    }
}

impl Jute for ConnectRequest {
    const MIN_LEN: usize = 4 + 8 + 4 + 8 + 4;
    fn encode<B: BufMut>(&self, buf: &mut B) {
        self.protocol_version.encode(buf);
        self.last_zxid_seen.encode(buf);
        self.time_out.encode(buf);
        self.session_id.encode(buf);
        self.passwd.encode(buf);
        if let Some(read_only) = self.read_only {
            read_only.encode(buf);
        }
    }
    fn decode(buf: &mut Bytes) -> Result<Self, DecodeError> {
        Ok(ConnectRequest {
            protocol_version: Jute::decode(buf)?,
            last_zxid_seen: Jute::decode(buf)?,
            time_out: Jute::decode(buf)?,
            session_id: Jute::decode(buf)?,
            passwd: Jute::decode(buf)?,
            read_only: decode_optional_bool(buf)?,
        })
    }
    fn encoded_len(&self) -> usize {
        Self::MIN_LEN + self.passwd.len() + usize::from(self.read_only.is_some())
    }
}

impl Jute for ConnectResponse {
    const MIN_LEN: usize = 4 + 4 + 8 + 4;
    fn encode<B: BufMut>(&self, buf: &mut B) {
        self.protocol_version.encode(buf);
        self.time_out.encode(buf);
        self.session_id.encode(buf);
        self.passwd.encode(buf);
        if let Some(read_only) = self.read_only {
            read_only.encode(buf);
        }
    }
    fn decode(buf: &mut Bytes) -> Result<Self, DecodeError> {
        Ok(ConnectResponse {
            protocol_version: Jute::decode(buf)?,
            time_out: Jute::decode(buf)?,
            session_id: Jute::decode(buf)?,
            passwd: Jute::decode(buf)?,
            read_only: decode_optional_bool(buf)?,
        })
    }
    fn encoded_len(&self) -> usize {
        Self::MIN_LEN + self.passwd.len() + usize::from(self.read_only.is_some())
    }
}

#[cfg(feature = "arbitrary")]
mod arbitrary_impls {
    use super::*;
    use crate::arbitrary::{any_jute, JuteStrategy};
    use proptest::prelude::*;

    impl JuteStrategy for ConnectRequest {
        fn strategy() -> BoxedStrategy<Self> {
            (any::<i32>(), any::<i64>(), any::<i32>(), any::<i64>(), any_jute::<Bytes>(), any::<Option<bool>>())
                .prop_map(|(protocol_version, last_zxid_seen, time_out, session_id, passwd, read_only)| {
                    ConnectRequest { protocol_version, last_zxid_seen, time_out, session_id, passwd, read_only }
                })
                .boxed()
        }
    }

    impl JuteStrategy for ConnectResponse {
        fn strategy() -> BoxedStrategy<Self> {
            (any::<i32>(), any::<i32>(), any::<i64>(), any_jute::<Bytes>(), any::<Option<bool>>())
                .prop_map(|(protocol_version, time_out, session_id, passwd, read_only)| ConnectResponse {
                    protocol_version,
                    time_out,
                    session_id,
                    passwd,
                    read_only,
                })
                .boxed()
        }
    }
}

jute_record! {
    /// Header of every request after the handshake.
    pub struct RequestHeader {
        /// The request id (or a special xid, see [`crate::xid`]).
        pub xid: i32,
        /// An [`crate::OpCode`] code.
        pub op_code: i32,
    }
}

jute_record! {
    /// Header of every reply after the handshake.
    pub struct ReplyHeader {
        /// The xid of the request answered (or a special xid).
        pub xid: i32,
        /// The txn zxid of a write, the server's last processed zxid otherwise.
        pub zxid: i64,
        /// An [`crate::ErrorCode`] code; the body is present only when 0.
        pub err: i32,
    }
}

jute_record! {
    /// `auth` (op 100, xid -4): add credentials to the connection.
    pub struct AuthPacket {
        /// Always 0.
        pub auth_type: i32,
        /// The scheme (e.g. `digest`).
        pub scheme: String,
        /// The credentials (e.g. `user:password`).
        pub auth: Bytes,
    }
}

jute_record! {
    /// One authenticated identity, as `whoAmI` reports it.
    pub struct ClientInfo {
        /// The scheme.
        pub auth_scheme: String,
        /// The user within it.
        pub user: String,
    }
}

jute_record! {
    /// Reply to `whoAmI` (op 107).
    pub struct WhoAmIResponse {
        /// The caller's identities.
        pub client_info: Vec<ClientInfo>,
    }
}

jute_record! {
    /// `sasl` (op 102): a client SASL token.
    pub struct GetSaslRequest {
        /// The token.
        pub token: Bytes,
    }
}

jute_record! {
    /// A SASL token sent by the client (legacy record).
    pub struct SetSaslRequest {
        /// The token.
        pub token: Bytes,
    }
}

jute_record! {
    /// Reply to `sasl`: the server's token.
    pub struct SetSaslResponse {
        /// The token.
        pub token: Bytes,
    }
}

jute_record! {
    /// `reconfig` (op 16). Unused fields are null.
    pub struct ReconfigRequest {
        /// Servers to add (`server.N=...` specs, comma separated).
        pub joining_servers: Option<String>,
        /// Server ids to remove, comma separated.
        pub leaving_servers: Option<String>,
        /// A complete new membership (non-incremental reconfig).
        pub new_members: Option<String>,
        /// The expected current config version, or -1.
        pub cur_config_id: i64,
    }
}
