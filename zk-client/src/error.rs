//! Typed errors: one variant per ZooKeeper error code, plus the client's own failures.

use zk_proto::ErrorCode;

/// The result type of every client operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why an operation failed.
///
/// Server-reported failures map one-to-one onto ZooKeeper's `KeeperException.Code` values
/// ([`Error::code`] gives the code back). The client adds [`Error::Timeout`], [`Error::Closed`],
/// [`Error::InvalidArgument`] and [`Error::MultiFailed`].
///
/// ```
/// use zk_client::Error;
/// use zk_proto::ErrorCode;
///
/// assert_eq!(Error::from_code(-101), Error::NoNode);
/// assert_eq!(Error::NoNode.code(), Some(ErrorCode::NoNode));
/// assert!(Error::ConnectionLoss.is_retryable());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// `SYSTEMERROR` (-1).
    #[error("system error")]
    SystemError,
    /// `RUNTIMEINCONSISTENCY` (-2): an op after the failing one in a failed multi.
    #[error("runtime inconsistency")]
    RuntimeInconsistency,
    /// `DATAINCONSISTENCY` (-3).
    #[error("data inconsistency")]
    DataInconsistency,
    /// `CONNECTIONLOSS` (-4): the connection broke while the request was in flight. It may or may not
    /// have been applied; the session is still alive and the client is reconnecting.
    #[error("connection lost")]
    ConnectionLoss,
    /// `MARSHALLINGERROR` (-5).
    #[error("marshalling error")]
    MarshallingError,
    /// `UNIMPLEMENTED` (-6): the server does not implement (or has disabled) the operation.
    #[error("operation not implemented by the server")]
    Unimplemented,
    /// `OPERATIONTIMEOUT` (-7).
    #[error("operation timed out (server)")]
    OperationTimeout,
    /// `BADARGUMENTS` (-8): the server rejected the arguments.
    #[error("bad arguments")]
    BadArguments,
    /// `UNKNOWNSESSION` (-12).
    #[error("unknown session")]
    UnknownSession,
    /// `NEWCONFIGNOQUORUM` (-13).
    #[error("no quorum of the new config is connected")]
    NewConfigNoQuorum,
    /// `RECONFIGINPROGRESS` (-14).
    #[error("another reconfig is in progress")]
    ReconfigInProgress,
    /// `APIERROR` (-100).
    #[error("API error")]
    ApiError,
    /// `NONODE` (-101).
    #[error("node does not exist")]
    NoNode,
    /// `NOAUTH` (-102).
    #[error("not authorized")]
    NoAuth,
    /// `BADVERSION` (-103).
    #[error("version mismatch")]
    BadVersion,
    /// `NOCHILDRENFOREPHEMERALS` (-108).
    #[error("ephemeral nodes may not have children")]
    NoChildrenForEphemerals,
    /// `NODEEXISTS` (-110).
    #[error("node already exists")]
    NodeExists,
    /// `NOTEMPTY` (-111).
    #[error("node has children")]
    NotEmpty,
    /// `SESSIONEXPIRED` (-112): the session is gone; this client can do nothing more.
    #[error("session expired")]
    SessionExpired,
    /// `INVALIDCALLBACK` (-113).
    #[error("invalid callback")]
    InvalidCallback,
    /// `INVALIDACL` (-114).
    #[error("invalid ACL")]
    InvalidAcl,
    /// `AUTHFAILED` (-115): the server rejected the credentials and closed the session's connection.
    #[error("authentication failed")]
    AuthFailed,
    /// `SESSIONMOVED` (-118).
    #[error("session moved to another server")]
    SessionMoved,
    /// `NOTREADONLY` (-119): a write reached a read-only server.
    #[error("server is read-only")]
    NotReadOnly,
    /// `EPHEMERALONLOCALSESSION` (-120).
    #[error("ephemeral node on a local session")]
    EphemeralOnLocalSession,
    /// `NOWATCHER` (-121).
    #[error("no such watcher")]
    NoWatcher,
    /// `REQUESTTIMEOUT` (-122).
    #[error("request timed out")]
    RequestTimeout,
    /// `RECONFIGDISABLED` (-123).
    #[error("reconfig is disabled")]
    ReconfigDisabled,
    /// `SESSIONCLOSEDREQUIRESASLAUTH` (-124).
    #[error("session requires SASL authentication")]
    SessionClosedRequireSaslAuth,
    /// `QUOTAEXCEEDED` (-125).
    #[error("quota exceeded")]
    QuotaExceeded,
    /// `THROTTLEDOP` (-127).
    #[error("operation throttled")]
    ThrottledOp,
    /// An error code this client does not know.
    #[error("unknown error code {0}")]
    Unknown(i32),
    /// The client-side request timeout (see `ClientBuilder::with_request_timeout`) or the wait for the
    /// first session elapsed.
    #[error("timed out")]
    Timeout,
    /// The client was closed (explicitly or because every handle was dropped).
    #[error("client closed")]
    Closed,
    /// The request was rejected before being sent (e.g. an invalid path).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// An atomic multi failed: nothing was applied. `index` is the first failing operation.
    #[error("multi failed at operation {index}: {source}")]
    MultiFailed {
        /// Position of the first failing operation.
        index: usize,
        /// Its error.
        source: Box<Error>,
    },
}

impl Error {
    /// The error for a non-zero `ReplyHeader.err` (or multi sub-result) code.
    pub fn from_code(code: i32) -> Error {
        let Ok(code) = ErrorCode::try_from(code) else {
            return Error::Unknown(code);
        };
        match code {
            ErrorCode::Ok => Error::Unknown(0),
            ErrorCode::SystemError => Error::SystemError,
            ErrorCode::RuntimeInconsistency => Error::RuntimeInconsistency,
            ErrorCode::DataInconsistency => Error::DataInconsistency,
            ErrorCode::ConnectionLoss => Error::ConnectionLoss,
            ErrorCode::MarshallingError => Error::MarshallingError,
            ErrorCode::Unimplemented => Error::Unimplemented,
            ErrorCode::OperationTimeout => Error::OperationTimeout,
            ErrorCode::BadArguments => Error::BadArguments,
            ErrorCode::UnknownSession => Error::UnknownSession,
            ErrorCode::NewConfigNoQuorum => Error::NewConfigNoQuorum,
            ErrorCode::ReconfigInProgress => Error::ReconfigInProgress,
            ErrorCode::ApiError => Error::ApiError,
            ErrorCode::NoNode => Error::NoNode,
            ErrorCode::NoAuth => Error::NoAuth,
            ErrorCode::BadVersion => Error::BadVersion,
            ErrorCode::NoChildrenForEphemerals => Error::NoChildrenForEphemerals,
            ErrorCode::NodeExists => Error::NodeExists,
            ErrorCode::NotEmpty => Error::NotEmpty,
            ErrorCode::SessionExpired => Error::SessionExpired,
            ErrorCode::InvalidCallback => Error::InvalidCallback,
            ErrorCode::InvalidAcl => Error::InvalidAcl,
            ErrorCode::AuthFailed => Error::AuthFailed,
            ErrorCode::SessionMoved => Error::SessionMoved,
            ErrorCode::NotReadOnly => Error::NotReadOnly,
            ErrorCode::EphemeralOnLocalSession => Error::EphemeralOnLocalSession,
            ErrorCode::NoWatcher => Error::NoWatcher,
            ErrorCode::RequestTimeout => Error::RequestTimeout,
            ErrorCode::ReconfigDisabled => Error::ReconfigDisabled,
            ErrorCode::SessionClosedRequireSaslAuth => Error::SessionClosedRequireSaslAuth,
            ErrorCode::QuotaExceeded => Error::QuotaExceeded,
            ErrorCode::ThrottledOp => Error::ThrottledOp,
        }
    }

    /// The ZooKeeper code of this error, if it has one.
    pub fn code(&self) -> Option<ErrorCode> {
        Some(match self {
            Error::SystemError => ErrorCode::SystemError,
            Error::RuntimeInconsistency => ErrorCode::RuntimeInconsistency,
            Error::DataInconsistency => ErrorCode::DataInconsistency,
            Error::ConnectionLoss => ErrorCode::ConnectionLoss,
            Error::MarshallingError => ErrorCode::MarshallingError,
            Error::Unimplemented => ErrorCode::Unimplemented,
            Error::OperationTimeout => ErrorCode::OperationTimeout,
            Error::BadArguments => ErrorCode::BadArguments,
            Error::UnknownSession => ErrorCode::UnknownSession,
            Error::NewConfigNoQuorum => ErrorCode::NewConfigNoQuorum,
            Error::ReconfigInProgress => ErrorCode::ReconfigInProgress,
            Error::ApiError => ErrorCode::ApiError,
            Error::NoNode => ErrorCode::NoNode,
            Error::NoAuth => ErrorCode::NoAuth,
            Error::BadVersion => ErrorCode::BadVersion,
            Error::NoChildrenForEphemerals => ErrorCode::NoChildrenForEphemerals,
            Error::NodeExists => ErrorCode::NodeExists,
            Error::NotEmpty => ErrorCode::NotEmpty,
            Error::SessionExpired => ErrorCode::SessionExpired,
            Error::InvalidCallback => ErrorCode::InvalidCallback,
            Error::InvalidAcl => ErrorCode::InvalidAcl,
            Error::AuthFailed => ErrorCode::AuthFailed,
            Error::SessionMoved => ErrorCode::SessionMoved,
            Error::NotReadOnly => ErrorCode::NotReadOnly,
            Error::EphemeralOnLocalSession => ErrorCode::EphemeralOnLocalSession,
            Error::NoWatcher => ErrorCode::NoWatcher,
            Error::RequestTimeout => ErrorCode::RequestTimeout,
            Error::ReconfigDisabled => ErrorCode::ReconfigDisabled,
            Error::SessionClosedRequireSaslAuth => ErrorCode::SessionClosedRequireSaslAuth,
            Error::QuotaExceeded => ErrorCode::QuotaExceeded,
            Error::ThrottledOp => ErrorCode::ThrottledOp,
            Error::Unknown(_)
            | Error::Timeout
            | Error::Closed
            | Error::InvalidArgument(_)
            | Error::MultiFailed { .. } => return None,
        })
    }

    /// Whether retrying the same operation later may succeed (connection loss, timeouts, throttling).
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Error::ConnectionLoss
                | Error::Timeout
                | Error::OperationTimeout
                | Error::RequestTimeout
                | Error::ThrottledOp
        )
    }

    /// Whether the session can never be used again (expired, auth failed, or closed).
    pub fn is_terminal(&self) -> bool {
        matches!(self, Error::SessionExpired | Error::AuthFailed | Error::Closed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips() {
        for &code in ErrorCode::ALL {
            if code == ErrorCode::Ok {
                continue;
            }
            assert_eq!(Error::from_code(code.code()).code(), Some(code));
        }
        assert_eq!(Error::from_code(-126), Error::Unknown(-126));
    }
}
