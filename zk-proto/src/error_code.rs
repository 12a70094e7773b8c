//! `KeeperException.Code`: the error a reply carries in `ReplyHeader.err`.

use crate::int_enum::int_enum;

int_enum! {
    /// A ZooKeeper result code. `Ok` is success; system errors are -1..=-99, API errors <= -100.
    pub enum ErrorCode {
        /// Success.
        Ok = 0 => "OK",
        /// System error marker.
        SystemError = -1 => "SYSTEMERROR",
        /// A later op of a failed multi.
        RuntimeInconsistency = -2 => "RUNTIMEINCONSISTENCY",
        /// Data inconsistency found.
        DataInconsistency = -3 => "DATAINCONSISTENCY",
        /// Connection to the server lost.
        ConnectionLoss = -4 => "CONNECTIONLOSS",
        /// Error (de)serializing data.
        MarshallingError = -5 => "MARSHALLINGERROR",
        /// Operation not implemented (or disabled).
        Unimplemented = -6 => "UNIMPLEMENTED",
        /// Operation timed out.
        OperationTimeout = -7 => "OPERATIONTIMEOUT",
        /// Invalid arguments.
        BadArguments = -8 => "BADARGUMENTS",
        /// Unknown session (internal).
        UnknownSession = -12 => "UNKNOWNSESSION",
        /// No quorum of the new config is connected.
        NewConfigNoQuorum = -13 => "NEWCONFIGNOQUORUM",
        /// Another reconfig is in progress.
        ReconfigInProgress = -14 => "RECONFIGINPROGRESS",
        /// API error marker.
        ApiError = -100 => "APIERROR",
        /// The node does not exist.
        NoNode = -101 => "NONODE",
        /// Not authorized.
        NoAuth = -102 => "NOAUTH",
        /// Version mismatch.
        BadVersion = -103 => "BADVERSION",
        /// Ephemeral nodes may not have children.
        NoChildrenForEphemerals = -108 => "NOCHILDRENFOREPHEMERALS",
        /// The node already exists.
        NodeExists = -110 => "NODEEXISTS",
        /// The node has children.
        NotEmpty = -111 => "NOTEMPTY",
        /// The session has expired.
        SessionExpired = -112 => "SESSIONEXPIRED",
        /// Invalid callback.
        InvalidCallback = -113 => "INVALIDCALLBACK",
        /// Invalid ACL.
        InvalidAcl = -114 => "INVALIDACL",
        /// Authentication failed.
        AuthFailed = -115 => "AUTHFAILED",
        /// The session moved to another server.
        SessionMoved = -118 => "SESSIONMOVED",
        /// A write was sent to a read-only server.
        NotReadOnly = -119 => "NOTREADONLY",
        /// An ephemeral create on a local session.
        EphemeralOnLocalSession = -120 => "EPHEMERALONLOCALSESSION",
        /// No such watcher.
        NoWatcher = -121 => "NOWATCHER",
        /// The request timed out (client side).
        RequestTimeout = -122 => "REQUESTTIMEOUT",
        /// Reconfiguration is disabled.
        ReconfigDisabled = -123 => "RECONFIGDISABLED",
        /// The session requires SASL authentication.
        SessionClosedRequireSaslAuth = -124 => "SESSIONCLOSEDREQUIRESASLAUTH",
        /// A quota was exceeded.
        QuotaExceeded = -125 => "QUOTAEXCEEDED",
        /// The server throttled the operation.
        ThrottledOp = -127 => "THROTTLEDOP",
    }
}

impl ErrorCode {
    /// The code for a raw `err` value; codes ZooKeeper does not define map to `SystemError`.
    pub fn from_code(code: i32) -> ErrorCode {
        ErrorCode::try_from(code).unwrap_or(ErrorCode::SystemError)
    }
}
