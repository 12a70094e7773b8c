//! The payloads of Zab packets that are raw big-endian fields rather than jute records: REQUEST,
//! REVALIDATE, PING session touches, LEADERINFO / ACKEPOCH ints and FOLLOWERINFO's `LearnerInfo`, read by
//! length as `LearnerHandler.run` does. Decoders never panic; they return `None` on short or
//! ill-sized data.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use zk_proto::Id;

/// A client request a learner forwards to the leader (`Request` in a REQUEST packet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardedRequest {
    /// The client's session.
    pub session_id: i64,
    /// The request's xid.
    pub cxid: i32,
    /// The request's op code.
    pub op_code: i32,
    /// The request record (the same bytes as the client's request body).
    pub body: Bytes,
    /// The client connection's auth ids.
    pub authinfo: Vec<Id>,
}

/// REQUEST data (`Learner.request`): long sessionId, int cxid, int type, then the record bytes.
pub fn encode_request(session_id: i64, cxid: i32, op_code: i32, body: &[u8]) -> Bytes {
    let mut buf = BytesMut::with_capacity(16 + body.len());
    buf.put_i64(session_id);
    buf.put_i32(cxid);
    buf.put_i32(op_code);
    buf.put_slice(body);
    buf.freeze()
}

/// Parses REQUEST data (`LearnerHandler.run`, `case Leader.REQUEST`); `None` when shorter than the
/// 16-byte prefix.
pub fn decode_request(data: Option<&Bytes>, authinfo: Option<&Vec<Id>>) -> Option<ForwardedRequest> {
    let mut data = data?.clone();
    if data.remaining() < 16 {
        return None;
    }
    let session_id = data.get_i64();
    let cxid = data.get_i32();
    let op_code = data.get_i32();
    Some(ForwardedRequest { session_id, cxid, op_code, body: data, authinfo: authinfo.cloned().unwrap_or_default() })
}

/// REVALIDATE request data (`Learner.validateSession`): long sessionId, int timeout.
pub fn encode_revalidate_request(session_id: i64, timeout: i32) -> Bytes {
    let mut buf = BytesMut::with_capacity(12);
    buf.put_i64(session_id);
    buf.put_i32(timeout);
    buf.freeze()
}

/// Parses REVALIDATE request data; `None` unless exactly 12 bytes.
pub fn decode_revalidate_request(data: Option<&Bytes>) -> Option<(i64, i32)> {
    let mut data = data?.clone();
    if data.remaining() != 12 {
        return None;
    }
    Some((data.get_i64(), data.get_i32()))
}

/// REVALIDATE reply data (`LearnerHandler`, `case Leader.REVALIDATE`): long sessionId, boolean valid.
pub fn encode_revalidate_reply(session_id: i64, valid: bool) -> Bytes {
    let mut buf = BytesMut::with_capacity(9);
    buf.put_i64(session_id);
    buf.put_u8(u8::from(valid));
    buf.freeze()
}

/// Parses REVALIDATE reply data (`Learner.revalidate`); `None` unless exactly 9 bytes.
pub fn decode_revalidate_reply(data: Option<&Bytes>) -> Option<(i64, bool)> {
    let mut data = data?.clone();
    if data.remaining() != 9 {
        return None;
    }
    Some((data.get_i64(), data.get_u8() != 0))
}

/// A learner's PING reply data (`Learner.ping`): (long sessionId, int timeout) per touched session.
pub fn encode_ping_sessions(sessions: &[(i64, i32)]) -> Bytes {
    let mut buf = BytesMut::with_capacity(12 * sessions.len());
    for (id, timeout) in sessions {
        buf.put_i64(*id);
        buf.put_i32(*timeout);
    }
    buf.freeze()
}

/// Parses a PING reply's session touches (`LearnerHandler`, `case Leader.PING`); no data is no
/// sessions, a length that is not a multiple of 12 is `None` (Java would hit EOF mid-record).
pub fn decode_ping_sessions(data: Option<&Bytes>) -> Option<Vec<(i64, i32)>> {
    let Some(data) = data else { return Some(Vec::new()) };
    if data.len() % 12 != 0 {
        return None;
    }
    let mut data = data.clone();
    let mut sessions = Vec::with_capacity(data.len() / 12);
    while data.has_remaining() {
        sessions.push((data.get_i64(), data.get_i32()));
    }
    Some(sessions)
}

/// A 4-byte big-endian int payload (LEADERINFO's protocol version, ACKEPOCH's current epoch).
pub(crate) fn encode_int(value: i32) -> Bytes {
    Bytes::copy_from_slice(&value.to_be_bytes())
}

/// Reads the leading int of a payload, as `ByteBuffer.wrap(data).getInt()` does; `None` if shorter.
pub(crate) fn decode_int(data: Option<&Bytes>) -> Option<i32> {
    let data = data?;
    let bytes: [u8; 4] = data.get(..4)?.try_into().ok()?;
    Some(i32::from_be_bytes(bytes))
}

/// The sid in FOLLOWERINFO / OBSERVERINFO data: `LearnerHandler.run` reads the `LearnerInfo` by length
/// and needs at least the 8-byte server id.
pub(crate) fn decode_learner_sid(data: Option<&Bytes>) -> Option<i64> {
    let data = data?;
    let bytes: [u8; 8] = data.get(..8)?.try_into().ok()?;
    Some(i64::from_be_bytes(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_round_trip_and_short_data() {
        let ids = vec![Id { scheme: "digest".into(), id: "u:x".into() }];
        let data = encode_request(7, 3, 1, b"rec");
        let req = decode_request(Some(&data), Some(&ids)).unwrap();
        assert_eq!(
            req,
            ForwardedRequest { session_id: 7, cxid: 3, op_code: 1, body: Bytes::from_static(b"rec"), authinfo: ids }
        );
        assert_eq!(decode_request(Some(&Bytes::from_static(&[0; 15])), None), None);
        assert_eq!(decode_request(None, None), None);
    }

    #[test]
    fn revalidate_and_ping_payloads() {
        assert_eq!(decode_revalidate_request(Some(&encode_revalidate_request(9, 4000))), Some((9, 4000)));
        assert_eq!(decode_revalidate_request(Some(&Bytes::from_static(&[0; 11]))), None);
        assert_eq!(decode_revalidate_reply(Some(&encode_revalidate_reply(9, true))), Some((9, true)));
        assert_eq!(decode_revalidate_reply(Some(&encode_revalidate_reply(9, false))), Some((9, false)));
        assert_eq!(decode_revalidate_reply(None), None);
        let touches = vec![(1, 3000), (-5, 10)];
        assert_eq!(decode_ping_sessions(Some(&encode_ping_sessions(&touches))), Some(touches));
        assert_eq!(decode_ping_sessions(None), Some(vec![]));
        assert_eq!(decode_ping_sessions(Some(&Bytes::from_static(&[0; 13]))), None);
    }

    #[test]
    fn ints_and_learner_info_by_length() {
        assert_eq!(decode_int(Some(&encode_int(-1))), Some(-1));
        assert_eq!(decode_int(Some(&Bytes::from_static(&[0, 1, 0]))), None);
        let info = zk_proto::LearnerInfo { server_id: 42, protocol_version: 0x10000, config_version: 0 };
        use zk_proto::Jute;
        assert_eq!(decode_learner_sid(Some(&info.to_bytes())), Some(42));
        assert_eq!(decode_learner_sid(Some(&Bytes::from_static(&[0; 7]))), None);
    }
}
