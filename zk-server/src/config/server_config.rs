//! `ServerConfig`: everything a server reads from `zoo.cfg`, typed, with ZooKeeper's defaults.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::{FourLetterWords, HostPort, LearnerType, Property, QuorumConfig};
use crate::acl::AuthConfig;
use crate::session::SessionTimeouts;

/// ZooKeeper's `DEFAULT_TICK_TIME` (used when `tickTime` is absent).
pub const DEFAULT_TICK_TIME: i32 = 3000;
/// The metrics provider used when none is configured.
pub const DEFAULT_METRICS_PROVIDER: &str = "org.apache.zookeeper.metrics.impl.DefaultMetricsProvider";
/// The Prometheus metrics provider class name.
pub const PROMETHEUS_METRICS_PROVIDER: &str = "org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider";
/// A provider that records nothing.
pub const NULL_METRICS_PROVIDER: &str = "org.apache.zookeeper.metrics.impl.NullMetricsProvider";

/// The AdminServer (HTTP commands) settings: `admin.*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminServerConfig {
    /// `admin.enableServer`: on unless exactly `false`.
    pub enabled: bool,
    /// `admin.serverAddress` (`0.0.0.0`).
    pub address: String,
    /// `admin.serverPort` (8080).
    pub port: u16,
    /// `admin.commandURL` (`/commands`).
    pub command_url: String,
    /// `admin.idleTimeout` in ms (30000).
    pub idle_timeout_ms: i32,
}

impl Default for AdminServerConfig {
    fn default() -> AdminServerConfig {
        AdminServerConfig {
            enabled: true,
            address: "0.0.0.0".to_owned(),
            port: 8080,
            command_url: "/commands".to_owned(),
            idle_timeout_ms: 30000,
        }
    }
}

/// The Prometheus exporter settings (`metricsProvider.httpHost`, `httpPort`, `exportJvmInfo`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrometheusConfig {
    /// `metricsProvider.httpHost` (`0.0.0.0`).
    pub host: String,
    /// `metricsProvider.httpPort` (7000).
    pub port: u16,
    /// `metricsProvider.exportJvmInfo` (true; meaningless here, kept for `conf`).
    pub export_jvm_info: bool,
}

/// The metrics settings: `metricsProvider.className` and its `metricsProvider.*` options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsConfig {
    /// The provider class name.
    pub class_name: String,
    /// Every `metricsProvider.<name>` option other than the class name, by `<name>`.
    pub options: BTreeMap<String, String>,
    /// Set when the provider is Prometheus.
    pub prometheus: Option<PrometheusConfig>,
}

impl Default for MetricsConfig {
    fn default() -> MetricsConfig {
        MetricsConfig { class_name: DEFAULT_METRICS_PROVIDER.to_owned(), options: BTreeMap::new(), prometheus: None }
    }
}

/// Something ZooKeeper accepts but adjusts or ignores, reported so the operator can fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigWarning {
    /// The key involved.
    pub key: String,
    /// Its line (0 when not from one line).
    pub line: usize,
    /// What happened.
    pub message: String,
}

/// A parsed `zoo.cfg`, with ZooKeeper's defaults for everything absent.
///
/// Keys `QuorumPeerConfig` parses itself are fields; every other key is kept in [`other`](Self::other)
/// (ZooKeeper turns them into `zookeeper.<key>` system properties) and the ones the server reads from
/// there (`snapCount`, `preAllocSize`, `4lw.commands.whitelist`, `admin.*`, `skipACL`, ...) are also
/// decoded into fields with the same rules as ZooKeeper (malformed numbers fall back to the default, with
/// a [`warning`](Self::warnings)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// `tickTime` in ms (3000 if absent).
    pub tick_time: i32,
    /// `dataDir`: snapshots, `myid`, epoch files.
    pub data_dir: PathBuf,
    /// `dataLogDir` (defaults to `data_dir`): transaction logs.
    pub data_log_dir: PathBuf,
    /// `clientPortAddress:clientPort` (host `0.0.0.0` without an address), or the client part of this
    /// server's `server.N` line. `None` when no client port is configured.
    pub client_address: Option<HostPort>,
    /// `secureClientPortAddress:secureClientPort`.
    pub secure_client_address: Option<HostPort>,
    /// `observerMasterPort` (positive values only).
    pub observer_master_port: Option<u16>,
    /// `clientPortListenBacklog` (-1: the OS default).
    pub client_port_listen_backlog: i32,
    /// `maxClientCnxns`: connections per client IP (60; 0 = unlimited).
    pub max_client_cnxns: i32,
    /// `minSessionTimeout` after defaulting (2 × tickTime).
    pub min_session_timeout: i32,
    /// `maxSessionTimeout` after defaulting (20 × tickTime).
    pub max_session_timeout: i32,
    /// `initLimit` in ticks (0 = unset; required in a quorum).
    pub init_limit: i32,
    /// `syncLimit` in ticks (0 = unset; required in a quorum).
    pub sync_limit: i32,
    /// `connectToLearnerMasterLimit` in ticks (0 = use initLimit).
    pub connect_to_learner_master_limit: i32,
    /// `electionAlg` (only 3).
    pub election_alg: i32,
    /// `peerType`, corrected to what the server list says for this server.
    pub peer_type: LearnerType,
    /// `quorumListenOnAllIPs` (false).
    pub quorum_listen_on_all_ips: bool,
    /// `syncEnabled` (true): observers log txns to disk.
    pub sync_enabled: bool,
    /// `dynamicConfigFile`.
    pub dynamic_config_file: Option<PathBuf>,
    /// `autopurge.snapRetainCount` (3; values below 3 are raised to 3).
    pub snap_retain_count: i32,
    /// `autopurge.purgeInterval` in hours (0 = never).
    pub purge_interval: i32,
    /// `standaloneEnabled` (true).
    pub standalone_enabled: bool,
    /// `reconfigEnabled` (false).
    pub reconfig_enabled: bool,
    /// `localSessionsEnabled` (false).
    pub local_sessions_enabled: bool,
    /// `localSessionsUpgradingEnabled` (false).
    pub local_sessions_upgrading_enabled: bool,
    /// `sslQuorum` (false).
    pub ssl_quorum: bool,
    /// `portUnification` (false).
    pub port_unification: bool,
    /// `quorum.auth.enableSasl` (false).
    pub quorum_sasl_enabled: bool,
    /// `quorum.auth.serverRequireSasl` (false).
    pub quorum_server_require_sasl: bool,
    /// `quorum.auth.learnerRequireSasl` (false).
    pub quorum_learner_require_sasl: bool,
    /// `multiAddress.enabled` (false).
    pub multi_address_enabled: bool,
    /// The metrics provider.
    pub metrics: MetricsConfig,
    /// The membership (`server.N`, `group.G`, `weight.N`); empty in standalone mode.
    pub quorum: QuorumConfig,
    /// This server's id, from `dataDir/myid` (absent in standalone mode).
    pub server_id: Option<i64>,

    /// `snapCount` (100000; at least 2): txns between snapshots.
    pub snap_count: i32,
    /// `preAllocSize` in KiB (65536): txn log preallocation.
    pub pre_alloc_size_kib: i64,
    /// `forceSync` (true unless `no`): fsync the txn log.
    pub force_sync: bool,
    /// `4lw.commands.whitelist` (only `srvr`, plus `isro` in read-only mode).
    pub four_letter_words: FourLetterWords,
    /// `admin.*`.
    pub admin: AdminServerConfig,
    /// `jute.maxbuffer` (0xfffff): the largest packet accepted. ZooKeeper reads it only as a JVM
    /// property; here it may also be set in zoo.cfg.
    pub jute_max_buffer: i32,
    /// `extendedTypesEnabled` (false): TTL nodes.
    pub extended_types_enabled: bool,
    /// `readonlymode.enabled` (false). ZooKeeper reads it only as a JVM property; here it may also be set
    /// in zoo.cfg.
    pub read_only_mode_enabled: bool,
    /// ACL settings: `skipACL` (`yes`), `DigestAuthenticationProvider.superDigest`,
    /// `DigestAuthenticationProvider.enabled`, `X509AuthenticationProvider.superUser`,
    /// `letAnySaslUserDoX`.
    pub auth: AuthConfig,
    /// Every key not parsed as a field above (`QuorumPeerConfig` would set `zookeeper.<key>`).
    pub other: BTreeMap<String, Property>,
    /// Adjustments and ignored values.
    pub warnings: Vec<ConfigWarning>,
}

impl ServerConfig {
    /// A configuration with every default and the given data directory (also the log directory).
    pub fn with_data_dir(data_dir: impl Into<PathBuf>) -> ServerConfig {
        let data_dir = data_dir.into();
        ServerConfig {
            tick_time: DEFAULT_TICK_TIME,
            data_log_dir: data_dir.clone(),
            data_dir,
            client_address: None,
            secure_client_address: None,
            observer_master_port: None,
            client_port_listen_backlog: -1,
            max_client_cnxns: 60,
            min_session_timeout: DEFAULT_TICK_TIME * 2,
            max_session_timeout: DEFAULT_TICK_TIME * 20,
            init_limit: 0,
            sync_limit: 0,
            connect_to_learner_master_limit: 0,
            election_alg: 3,
            peer_type: LearnerType::Participant,
            quorum_listen_on_all_ips: false,
            sync_enabled: true,
            dynamic_config_file: None,
            snap_retain_count: 3,
            purge_interval: 0,
            standalone_enabled: true,
            reconfig_enabled: false,
            local_sessions_enabled: false,
            local_sessions_upgrading_enabled: false,
            ssl_quorum: false,
            port_unification: false,
            quorum_sasl_enabled: false,
            quorum_server_require_sasl: false,
            quorum_learner_require_sasl: false,
            multi_address_enabled: false,
            metrics: MetricsConfig::default(),
            quorum: QuorumConfig::default(),
            server_id: None,
            snap_count: 100_000,
            pre_alloc_size_kib: 65536,
            force_sync: true,
            four_letter_words: FourLetterWords::default(),
            admin: AdminServerConfig::default(),
            jute_max_buffer: 0xfffff,
            extended_types_enabled: false,
            read_only_mode_enabled: false,
            // As ProviderRegistry without `authProvider.*` properties: only `ip` and `digest`.
            auth: AuthConfig { sasl_enabled: false, x509_enabled: false, ..AuthConfig::default() },
            other: BTreeMap::new(),
            warnings: Vec::new(),
        }
    }

    /// Whether the server runs the quorum protocol: standalone mode disabled or more than one voter
    /// (`QuorumPeerConfig.isDistributed`).
    pub fn is_distributed(&self) -> bool {
        !self.standalone_enabled || self.quorum.voting_members().count() > 1
    }

    /// The session timeout bounds.
    pub fn session_timeouts(&self) -> SessionTimeouts {
        SessionTimeouts { min: self.min_session_timeout, max: self.max_session_timeout }
    }

    /// The txn log preallocation size in bytes.
    pub fn pre_alloc_size_bytes(&self) -> i64 {
        self.pre_alloc_size_kib.saturating_mul(1024)
    }
}
