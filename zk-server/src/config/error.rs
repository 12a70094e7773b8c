//! Why a configuration was rejected.

use std::path::PathBuf;

/// A configuration error. Errors about one entry carry its key and the line it starts on (1-based) in
/// the file it came from; errors about the configuration as a whole name the keys involved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A file could not be read.
    #[error("error processing {path}: {message}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        message: String,
    },
    /// A `\uXXXX` escape is not four hex digits.
    #[error("line {line}: malformed \\uxxxx encoding")]
    MalformedEscape {
        /// The line.
        line: usize,
    },
    /// A value that must be a number is not one (Java's `Integer.parseInt` / `Long.parseLong` rules).
    #[error("line {line}: {key}: {value:?} is not a valid number")]
    InvalidNumber {
        /// The key.
        key: String,
        /// The line.
        line: usize,
        /// The value.
        value: String,
    },
    /// A value that must be `true` or `false` (any case) is neither.
    #[error("line {line}: invalid option {value} for {key}. Choose 'true' or 'false.'")]
    InvalidBoolean {
        /// The key.
        key: String,
        /// The line.
        line: usize,
        /// The value.
        value: String,
    },
    /// A value is out of the range the key allows.
    #[error("line {line}: {key}: {message}")]
    OutOfRange {
        /// The key.
        key: String,
        /// The line.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// `electionAlg` other than 3.
    #[error("line {line}: Invalid electionAlg value. Only 3 is supported.")]
    InvalidElectionAlg {
        /// The line.
        line: usize,
    },
    /// `peerType` (or a server's type) is not `participant` or `observer`.
    #[error("line {line}: {key}: Unrecognised peertype: {value}")]
    UnknownPeerType {
        /// The key.
        key: String,
        /// The line.
        line: usize,
        /// The value.
        value: String,
    },
    /// A membership key (`server.`, `group`, `weight`) in the static file while `dynamicConfigFile` is
    /// set.
    #[error("line {line}: parameter: {key} must be in a separate dynamic config file")]
    DynamicKeyInStaticFile {
        /// The key.
        key: String,
        /// The line.
        line: usize,
    },
    /// A key other than `server.*`, `group*`, `weight*` in a dynamic config file.
    #[error("line {line}: Unrecognised parameter: {key}")]
    UnrecognisedDynamicKey {
        /// The key.
        key: String,
        /// The line.
        line: usize,
    },
    /// A `version` line inside a dynamic config file (the version comes from its file name).
    #[error("line {line}: dynamic file shouldn't have version inside")]
    VersionInDynamicFile {
        /// The line.
        line: usize,
    },
    /// A malformed `server.N`, `group.N` or `weight.N` entry.
    #[error("line {line}: {key}: {message}")]
    InvalidMember {
        /// The key.
        key: String,
        /// The line.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// Inconsistent quorum SASL switches.
    #[error("{0}")]
    QuorumSasl(&'static str),
    /// `dataDir` is missing.
    #[error("dataDir is not set")]
    DataDirNotSet,
    /// `clientPortAddress` without `clientPort`.
    #[error("line {line}: clientPortAddress is set but clientPort is not set")]
    ClientPortAddressWithoutPort {
        /// The line of `clientPortAddress`.
        line: usize,
    },
    /// `secureClientPortAddress` without `secureClientPort`.
    #[error("line {line}: secureClientPortAddress is set but secureClientPort is not set")]
    SecureClientPortAddressWithoutPort {
        /// The line of `secureClientPortAddress`.
        line: usize,
    },
    /// `tickTime` is 0 or negative (ZooKeeper only rejects 0; a negative tick breaks expiry buckets).
    #[error("tickTime is not set")]
    TickTimeNotSet,
    /// `minSessionTimeout` (after defaulting) above `maxSessionTimeout`.
    #[error("minSessionTimeout must not be larger than maxSessionTimeout (min {min}, max {max})")]
    SessionTimeoutRange {
        /// The effective minimum.
        min: i32,
        /// The effective maximum.
        max: i32,
    },
    /// A `metricsProvider.className` this server does not provide.
    #[error("line {line}: metrics provider class was not found: {class}")]
    UnknownMetricsProvider {
        /// The line.
        line: usize,
        /// The class name.
        class: String,
    },
    /// Membership that cannot form a valid configuration.
    #[error("{0}")]
    InvalidMembership(&'static str),
    /// A quorum configuration without `initLimit`.
    #[error("initLimit is not set")]
    InitLimitNotSet,
    /// A quorum configuration without `syncLimit`.
    #[error("syncLimit is not set")]
    SyncLimitNotSet,
    /// A quorum configuration without a `myid` file.
    #[error("myid file is missing")]
    MyIdMissing,
    /// The first line of `myid` is not a number.
    #[error("serverid {value} is not a number")]
    InvalidMyId {
        /// The line read.
        value: String,
    },
    /// A server id too large for extended types (TTL nodes).
    #[error("extendedTypesEnabled is true but Server ID {server_id} is too large. Cannot be larger than 254")]
    ServerIdTooLarge {
        /// The server id.
        server_id: i64,
    },
    /// The static client address disagrees with the one in this server's `server.N` line.
    #[error(
        "client address for this server (id = {server_id}) in static config file is {static_address} is \
         different from client address found in dynamic file: {dynamic_address}"
    )]
    ClientAddressMismatch {
        /// This server's id.
        server_id: i64,
        /// `clientPortAddress:clientPort`.
        static_address: String,
        /// The client part of `server.N`.
        dynamic_address: String,
    },
}
