//! The session half of a connect handshake (`ZooKeeperServer.processConnectRequest`, `createSession`,
//! `reopenSession`, `finishSessionInit`) on a standalone server or leader.

use bytes::Bytes;
use zk_proto::{ConnectRequest, ConnectResponse};

use super::{check_password, generate_password, SessionTimeouts, SessionTracker, PASSWORD_LEN};

/// What became of the session a `ConnectRequest` asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionOpen {
    /// Session id 0: a new session was created and is tracked; the caller must now log a createSession
    /// txn with this timeout before replying.
    Created {
        /// The new session id.
        session_id: i64,
        /// The negotiated timeout.
        timeout: i32,
    },
    /// The client resumed a live session with the right password; it was touched with the newly
    /// negotiated timeout.
    Resumed {
        /// The session id.
        session_id: i64,
        /// The timeout negotiated on this connection.
        timeout: i32,
    },
    /// Wrong password, or the session is unknown or closing: the reply says so (timeout 0) and the
    /// connection is closed.
    Invalid,
}

impl SessionOpen {
    /// The `ConnectResponse` ZooKeeper sends for this outcome: the session id, timeout and password, or
    /// zeros (timeout 0, id 0, 16 zero bytes) when invalid. `read_only_server` is whether this server is
    /// in read-only mode; `old_client` (no readOnly byte in the request) leaves the flag out.
    pub fn response(&self, read_only_server: bool, old_client: bool) -> ConnectResponse {
        let (time_out, session_id, passwd) = match *self {
            SessionOpen::Created { session_id, timeout } | SessionOpen::Resumed { session_id, timeout } => {
                (timeout, session_id, Bytes::copy_from_slice(&generate_password(session_id)))
            }
            SessionOpen::Invalid => (0, 0, Bytes::from_static(&[0; PASSWORD_LEN])),
        };
        ConnectResponse {
            protocol_version: 0,
            time_out,
            session_id,
            passwd,
            read_only: if old_client { None } else { Some(read_only_server) },
        }
    }
}

impl SessionTracker {
    /// Handles the session part of `request` at `now_ms`: negotiates the timeout within `timeouts`,
    /// then creates a session (id 0) or checks the password and touches the session it names. The zxid
    /// check (a client ahead of this server is refused) and read-only checks belong to the caller.
    pub fn open(&mut self, timeouts: &SessionTimeouts, request: &ConnectRequest, now_ms: i64) -> SessionOpen {
        let timeout = timeouts.negotiate(request.time_out);
        if request.session_id == 0 {
            let session_id = self.create_session(timeout, now_ms);
            return SessionOpen::Created { session_id, timeout };
        }
        let session_id = request.session_id;
        if !check_password(session_id, &request.passwd) {
            tracing::warn!(session = format_args!("0x{session_id:x}"), "incorrect password");
            return SessionOpen::Invalid;
        }
        if self.touch_with_timeout(session_id, timeout, now_ms) {
            SessionOpen::Resumed { session_id, timeout }
        } else {
            SessionOpen::Invalid
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(session_id: i64, passwd: &[u8], time_out: i32) -> ConnectRequest {
        ConnectRequest {
            protocol_version: 0,
            last_zxid_seen: 0,
            time_out,
            session_id,
            passwd: Bytes::copy_from_slice(passwd),
            read_only: Some(false),
        }
    }

    #[test]
    fn create_then_resume() {
        let timeouts = SessionTimeouts::new(2000, -1, -1);
        let mut tracker = SessionTracker::new(2000, 0x0100_017c_2a5b_0000, 0);
        let opened = tracker.open(&timeouts, &request(0, &[0; 16], 100_000), 0);
        assert_eq!(opened, SessionOpen::Created { session_id: 0x0100_017c_2a5b_0000, timeout: 40000 });
        let response = opened.response(false, false);
        // The password of 0x0100017c2a5b0000 as Apache ZooKeeper generates it (see password.rs).
        assert_eq!(
            &response.passwd[..],
            &[0x07, 0xb2, 0x8a, 0x88, 0x88, 0x48, 0x09, 0xbc, 0xbd, 0xdd, 0x7e, 0xdc, 0x11, 0x80, 0x1a, 0xc3]
        );
        assert_eq!((response.time_out, response.read_only), (40000, Some(false)));

        let resumed = tracker.open(&timeouts, &request(0x0100_017c_2a5b_0000, &response.passwd, 6000), 1000);
        assert_eq!(resumed, SessionOpen::Resumed { session_id: 0x0100_017c_2a5b_0000, timeout: 6000 });
        assert_eq!(tracker.expiry_map().get(&8000), Some(&vec![0x0100_017c_2a5b_0000]), "moved to 1000 + 6000");
        assert_eq!(tracker.timeout_of(0x0100_017c_2a5b_0000), Some(40000), "the stored timeout is unchanged");
    }

    #[test]
    fn wrong_password_or_dead_session_is_invalid() {
        let timeouts = SessionTimeouts::new(2000, -1, -1);
        let mut tracker = SessionTracker::new(2000, 5, 0);
        let id = tracker.create_session(4000, 0);
        let good = generate_password(id);
        assert_eq!(tracker.open(&timeouts, &request(id, &[0; 16], 4000), 0), SessionOpen::Invalid);
        assert_eq!(tracker.open(&timeouts, &request(99, &generate_password(99), 4000), 0), SessionOpen::Invalid);
        tracker.set_closing(id);
        assert_eq!(tracker.open(&timeouts, &request(id, &good, 4000), 0), SessionOpen::Invalid);
        let response = SessionOpen::Invalid.response(true, true);
        assert_eq!(
            response,
            ConnectResponse {
                protocol_version: 0,
                time_out: 0,
                session_id: 0,
                passwd: Bytes::from_static(&[0; 16]),
                read_only: None
            }
        );
    }
}
