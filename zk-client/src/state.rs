//! The session's observable state.

use std::fmt;

/// Where the session stands, as reported by [`Client::state`](crate::Client::state) and
/// [`Client::state_stream`](crate::Client::state_stream).
///
/// `Connecting` is the state before the first connection; after a connection loss the session is
/// `Disconnected` until it reconnects (to the same session) or learns it has `Expired`. `Expired`,
/// `AuthFailed` and `Closed` are terminal.
///
/// ```
/// use zk_client::SessionState;
///
/// assert!(SessionState::ConnectedReadOnly.is_connected());
/// assert!(SessionState::Expired.is_terminal());
/// assert!(!SessionState::Disconnected.is_terminal());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SessionState {
    /// No session yet: looking for a server.
    Connecting,
    /// Connected to a read-write server.
    Connected,
    /// Connected to a read-only server (writes fail with `NotReadOnly`).
    ConnectedReadOnly,
    /// The connection was lost; the session may still be alive and the client is reconnecting.
    /// Watches are kept and re-registered on reconnect.
    Disconnected,
    /// The server expired the session: its ephemeral nodes and watches are gone.
    Expired,
    /// The server rejected the client's credentials.
    AuthFailed,
    /// The client closed the session.
    Closed,
}

impl SessionState {
    /// Whether requests are being served.
    pub fn is_connected(self) -> bool {
        matches!(self, SessionState::Connected | SessionState::ConnectedReadOnly)
    }

    /// Whether the session is over for good.
    pub fn is_terminal(self) -> bool {
        matches!(self, SessionState::Expired | SessionState::AuthFailed | SessionState::Closed)
    }
}

impl fmt::Display for SessionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}
