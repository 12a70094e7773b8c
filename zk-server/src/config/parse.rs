//! Reading `zoo.cfg` into a [`ServerConfig`] (`QuorumPeerConfig.parse` and `parseProperties`).

use std::path::{Path, PathBuf};

use super::server_config::{NULL_METRICS_PROVIDER, PROMETHEUS_METRICS_PROVIDER};
use super::value::{boolean, int, java_decode_int, long, port};
use super::{
    ConfigError, ConfigWarning, FourLetterWords, HostPort, LearnerType, PrometheusConfig, Properties, Property,
    QuorumConfig, ServerConfig, DEFAULT_METRICS_PROVIDER, DEFAULT_TICK_TIME,
};
use crate::session::validate_server_id;

/// The contents of a dynamic config file and the version its name carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DynamicConfig {
    /// The file's text.
    pub text: String,
    /// The version from the name (`zoo.cfg.dynamic.100000000` → 0x100000000), if any.
    pub version: Option<i64>,
}

impl DynamicConfig {
    /// The version at the end of a dynamic file name (`getVersionFromFilename`): the hex number after
    /// the last `.`, if it is one.
    pub fn version_from_file_name(name: &str) -> Option<i64> {
        let (_, suffix) = name.rsplit_once('.')?;
        i64::from_str_radix(suffix, 16).ok()
    }
}

impl ServerConfig {
    /// Parses zoo.cfg text without touching the file system: no `myid`, no dynamic file (membership in
    /// the text itself is parsed).
    pub fn parse(text: &str) -> Result<ServerConfig, ConfigError> {
        ServerConfig::from_parts(text, None, None)
    }

    /// Reads `path` as ZooKeeper does: the file, then `dataDir/myid` if it is a file, then
    /// `dynamicConfigFile` if set. Files are read as UTF-8 (invalid bytes replaced); Java reads
    /// properties as ISO-8859-1, which differs only for non-ASCII text.
    pub fn load(path: &Path) -> Result<ServerConfig, ConfigError> {
        let text = read(path)?;
        let props = Properties::parse(&text)?;
        let myid = match props.get("dataDir") {
            Some(dir) => {
                let file = PathBuf::from(dir.value.trim()).join("myid");
                if file.is_file() {
                    Some(read(&file)?)
                } else {
                    None
                }
            }
            None => None,
        };
        let dynamic = match props.get("dynamicConfigFile") {
            Some(p) => {
                let file = PathBuf::from(p.value.trim());
                let version = DynamicConfig::version_from_file_name(&file.to_string_lossy());
                Some(DynamicConfig { text: read(&file)?, version })
            }
            None => None,
        };
        ServerConfig::from_properties(&props, myid.as_deref(), dynamic.as_ref())
    }

    /// Parses zoo.cfg text with the contents of `myid` and of the dynamic config file, if any.
    pub fn from_parts(
        text: &str,
        myid: Option<&str>,
        dynamic: Option<&DynamicConfig>,
    ) -> Result<ServerConfig, ConfigError> {
        ServerConfig::from_properties(&Properties::parse(text)?, myid, dynamic)
    }

    /// Builds the configuration from parsed properties (see [`load`](Self::load) for the inputs).
    pub fn from_properties(
        props: &Properties,
        myid: Option<&str>,
        dynamic: Option<&DynamicConfig>,
    ) -> Result<ServerConfig, ConfigError> {
        let mut c = ServerConfig::with_data_dir("");
        let mut data_dir = None;
        let mut tick_time = DEFAULT_TICK_TIME;
        let (mut min_timeout, mut max_timeout) = (-1, -1);
        let (mut client_port, mut client_port_address) = (None, None::<&Property>);
        let (mut secure_port, mut secure_port_address) = (None, None::<&Property>);
        let mut metrics_class = None::<&Property>;
        let has_dynamic_file = props.contains_key("dynamicConfigFile");
        for p in props.iter() {
            let key = p.key.trim();
            let value = p.value.trim();
            match key {
                "dataDir" => data_dir = Some(PathBuf::from(value)),
                "dataLogDir" => c.data_log_dir = PathBuf::from(value),
                "clientPort" => client_port = Some(port(&trimmed(p))?),
                "clientPortAddress" => client_port_address = Some(p),
                "secureClientPort" => secure_port = Some(port(&trimmed(p))?),
                "secureClientPortAddress" => secure_port_address = Some(p),
                "observerMasterPort" => {
                    // Zero or negative means "not set", as in ZooKeeper.
                    let value = int(&trimmed(p))?;
                    c.observer_master_port = if value <= 0 { None } else { Some(port(&trimmed(p))?) };
                }
                "clientPortListenBacklog" => c.client_port_listen_backlog = int(&trimmed(p))?,
                "tickTime" => tick_time = int(&trimmed(p))?,
                "maxClientCnxns" => c.max_client_cnxns = int(&trimmed(p))?,
                "minSessionTimeout" => min_timeout = int(&trimmed(p))?,
                "maxSessionTimeout" => max_timeout = int(&trimmed(p))?,
                "initLimit" => c.init_limit = int(&trimmed(p))?,
                "syncLimit" => c.sync_limit = int(&trimmed(p))?,
                "connectToLearnerMasterLimit" => c.connect_to_learner_master_limit = int(&trimmed(p))?,
                "electionAlg" => {
                    c.election_alg = int(&trimmed(p))?;
                    if c.election_alg != 3 {
                        return Err(ConfigError::InvalidElectionAlg { line: p.line });
                    }
                }
                "quorumListenOnAllIPs" => c.quorum_listen_on_all_ips = boolean(&trimmed(p))?,
                "peerType" => {
                    c.peer_type = LearnerType::parse(value).ok_or_else(|| ConfigError::UnknownPeerType {
                        key: p.key.clone(),
                        line: p.line,
                        value: value.to_owned(),
                    })?
                }
                "syncEnabled" => c.sync_enabled = boolean(&trimmed(p))?,
                "dynamicConfigFile" => c.dynamic_config_file = Some(PathBuf::from(value)),
                "autopurge.snapRetainCount" => c.snap_retain_count = int(&trimmed(p))?,
                "autopurge.purgeInterval" => c.purge_interval = int(&trimmed(p))?,
                "standaloneEnabled" => c.standalone_enabled = boolean(&trimmed(p))?,
                "reconfigEnabled" => c.reconfig_enabled = boolean(&trimmed(p))?,
                "localSessionsEnabled" => c.local_sessions_enabled = boolean(&trimmed(p))?,
                "localSessionsUpgradingEnabled" => c.local_sessions_upgrading_enabled = boolean(&trimmed(p))?,
                "sslQuorum" => c.ssl_quorum = boolean(&trimmed(p))?,
                "portUnification" => c.port_unification = boolean(&trimmed(p))?,
                "sslQuorumReloadCertFiles" => {
                    boolean(&trimmed(p))?;
                }
                _ if is_static_membership_key(key) && has_dynamic_file => {
                    return Err(ConfigError::DynamicKeyInStaticFile { key: key.to_owned(), line: p.line })
                }
                "quorum.auth.enableSasl" => c.quorum_sasl_enabled = boolean(&trimmed(p))?,
                "quorum.auth.serverRequireSasl" => c.quorum_server_require_sasl = boolean(&trimmed(p))?,
                "quorum.auth.learnerRequireSasl" => c.quorum_learner_require_sasl = boolean(&trimmed(p))?,
                "quorum.auth.learner.saslLoginContext"
                | "quorum.auth.server.saslLoginContext"
                | "quorum.auth.kerberos.servicePrincipal"
                | "oraclePath" => {
                    c.other.insert(key.to_owned(), trimmed(p));
                }
                "quorum.cnxn.threads.size" => {
                    int(&trimmed(p))?;
                }
                "jvm.pause.info-threshold.ms" | "jvm.pause.warn-threshold.ms" | "jvm.pause.sleep.time.ms" => {
                    long(&trimmed(p))?;
                }
                "jvm.pause.monitor" => {
                    boolean(&trimmed(p))?;
                }
                "metricsProvider.className" => metrics_class = Some(p),
                _ if key.starts_with("metricsProvider.") => {
                    c.metrics.options.insert(key["metricsProvider.".len()..].to_owned(), value.to_owned());
                }
                "multiAddress.enabled" => c.multi_address_enabled = boolean(&trimmed(p))?,
                "multiAddress.reachabilityCheckTimeoutMs" => {
                    int(&trimmed(p))?;
                }
                "multiAddress.reachabilityCheckEnabled" => {
                    boolean(&trimmed(p))?;
                }
                _ if is_membership_key(key) => {}
                _ => {
                    c.other.insert(key.to_owned(), trimmed(p));
                }
            }
        }

        if !c.quorum_sasl_enabled && c.quorum_server_require_sasl {
            return Err(ConfigError::QuorumSasl(
                "quorum.auth.enableSasl is disabled, so cannot enable quorum.auth.serverRequireSasl",
            ));
        }
        if !c.quorum_sasl_enabled && c.quorum_learner_require_sasl {
            return Err(ConfigError::QuorumSasl(
                "quorum.auth.enableSasl is disabled, so cannot enable quorum.auth.learnerRequireSasl",
            ));
        }
        if !c.quorum_learner_require_sasl && c.quorum_server_require_sasl {
            return Err(ConfigError::QuorumSasl(
                "quorum.auth.learnerRequireSasl is disabled, so cannot enable quorum.auth.serverRequireSasl",
            ));
        }
        if c.snap_retain_count < 3 {
            c.warn("autopurge.snapRetainCount", props, format!("{} is below 3; using 3", c.snap_retain_count));
            c.snap_retain_count = 3;
        }

        c.data_dir = data_dir.ok_or(ConfigError::DataDirNotSet)?;
        if !props.contains_key("dataLogDir") {
            c.data_log_dir = c.data_dir.clone();
        }
        c.client_address = match (client_port, client_port_address) {
            (None, Some(address)) => return Err(ConfigError::ClientPortAddressWithoutPort { line: address.line }),
            (None, None) => None,
            (Some(port), address) => Some(HostPort::new(address.map_or("0.0.0.0", |a| a.value.trim()), port)),
        };
        c.secure_client_address = match (secure_port, secure_port_address) {
            (None, Some(address)) => {
                return Err(ConfigError::SecureClientPortAddressWithoutPort { line: address.line })
            }
            (None, None) => None,
            (Some(port), address) => Some(HostPort::new(address.map_or("0.0.0.0", |a| a.value.trim()), port)),
        };
        // ZooKeeper rejects only 0; a negative tick would break the expiry buckets, so reject it too.
        if tick_time <= 0 {
            return Err(ConfigError::TickTimeNotSet);
        }
        c.tick_time = tick_time;
        c.min_session_timeout = if min_timeout == -1 { tick_time.saturating_mul(2) } else { min_timeout };
        c.max_session_timeout = if max_timeout == -1 { tick_time.saturating_mul(20) } else { max_timeout };
        if c.min_session_timeout > c.max_session_timeout {
            return Err(ConfigError::SessionTimeoutRange { min: c.min_session_timeout, max: c.max_session_timeout });
        }
        c.apply_metrics(metrics_class)?;
        c.apply_system_properties();

        if !has_dynamic_file {
            c.setup_quorum(props, false, myid)?;
        } else if let Some(dynamic) = dynamic {
            let mut dynamic_props = Properties::parse(&dynamic.text)?;
            if let Some(version) = dynamic_props.get("version") {
                return Err(ConfigError::VersionInDynamicFile { line: version.line });
            }
            if let Some(version) = dynamic.version {
                dynamic_props.insert(Property { key: "version".into(), value: format!("{version:x}"), line: 0 });
            }
            c.setup_quorum(&dynamic_props, true, myid)?;
        }
        Ok(c)
    }

    /// `setupQuorumPeerConfig`: membership, `myid`, client address, peer type, then the quorum checks.
    fn setup_quorum(&mut self, props: &Properties, dynamic_file: bool, myid: Option<&str>) -> Result<(), ConfigError> {
        self.quorum = QuorumConfig::from_properties(props, dynamic_file, self.multi_address_enabled)?;
        let participants = self.quorum.voting_members().count();
        let observers = self.quorum.observing_members().count();
        if participants == 0 {
            if !self.standalone_enabled {
                return Err(ConfigError::InvalidMembership(
                    "standaloneEnabled = false then number of participants should be >0",
                ));
            }
            if observers > 0 {
                return Err(ConfigError::InvalidMembership("Observers w/o participants is an invalid configuration"));
            }
        } else if participants == 1 && self.standalone_enabled {
            self.warn("server.", props, "Invalid configuration, only one server specified (ignoring)".into());
            if observers > 0 {
                return Err(ConfigError::InvalidMembership("Observers w/o quorum is an invalid configuration"));
            }
        }

        if let Some(myid) = myid {
            let first_line = myid.split(['\n', '\r']).next().unwrap_or_default();
            let id = first_line.parse().map_err(|_| ConfigError::InvalidMyId { value: first_line.to_owned() })?;
            self.server_id = Some(id);
        }

        if let Some(server) = self.server_id.and_then(|id| self.quorum.servers.get_mut(&id)) {
            match (&self.client_address, &server.client_address) {
                (Some(static_address), Some(dynamic_address)) => {
                    let mismatch = if static_address.is_any_local() {
                        static_address.port != dynamic_address.port
                    } else {
                        static_address != dynamic_address
                    };
                    if mismatch {
                        return Err(ConfigError::ClientAddressMismatch {
                            server_id: server.id,
                            static_address: static_address.to_string(),
                            dynamic_address: dynamic_address.to_string(),
                        });
                    }
                    self.client_address = Some(dynamic_address.clone());
                }
                (_, Some(dynamic_address)) => self.client_address = Some(dynamic_address.clone()),
                (static_address, None) => {
                    server.client_address = static_address.clone();
                    server.client_address_from_static = true;
                }
            }
        }

        let listed_as = match self.server_id {
            Some(id) if self.quorum.observing_members().any(|s| s.id == id) => LearnerType::Observer,
            _ => LearnerType::Participant,
        };
        if listed_as != self.peer_type {
            self.warn(
                "peerType",
                props,
                format!(
                    "peerType {} differs from the server list ({}); using the list",
                    self.peer_type.as_str(),
                    listed_as.as_str()
                ),
            );
            self.peer_type = listed_as;
        }

        if self.is_distributed() {
            if self.init_limit == 0 {
                return Err(ConfigError::InitLimitNotSet);
            }
            if self.sync_limit == 0 {
                return Err(ConfigError::SyncLimitNotSet);
            }
            if self.server_id.is_none() {
                return Err(ConfigError::MyIdMissing);
            }
        }
        if let Some(server_id) = self.server_id {
            validate_server_id(server_id, self.extended_types_enabled)
                .map_err(|_| ConfigError::ServerIdTooLarge { server_id })?;
        }
        Ok(())
    }

    fn apply_metrics(&mut self, class: Option<&Property>) -> Result<(), ConfigError> {
        if let Some(class) = class {
            let name = class.value.trim();
            if ![DEFAULT_METRICS_PROVIDER, PROMETHEUS_METRICS_PROVIDER, NULL_METRICS_PROVIDER].contains(&name) {
                return Err(ConfigError::UnknownMetricsProvider { line: class.line, class: name.to_owned() });
            }
            self.metrics.class_name = name.to_owned();
        }
        if self.metrics.class_name == PROMETHEUS_METRICS_PROVIDER {
            let option = |name: &str| self.metrics.options.get(name).cloned();
            let port_text = option("httpPort").unwrap_or_else(|| "7000".to_owned());
            let port = port_text.parse::<u16>().map_err(|_| ConfigError::InvalidNumber {
                key: "metricsProvider.httpPort".into(),
                line: 0,
                value: port_text.clone(),
            })?;
            self.metrics.prometheus = Some(PrometheusConfig {
                host: option("httpHost").unwrap_or_else(|| "0.0.0.0".to_owned()),
                port,
                export_jvm_info: option("exportJvmInfo").is_none_or(|v| v.eq_ignore_ascii_case("true")),
            });
        }
        Ok(())
    }

    /// Decodes the `zookeeper.*` properties the server reads, with the lenient rules of the Java code
    /// that reads each (`Integer.getInteger` ignores malformed values, flags compare exact strings).
    fn apply_system_properties(&mut self) {
        let get = |key: &str| self.other.get(key).cloned();
        let mut warnings = Vec::new();
        let mut integer = |key: &str, default: i32| match get(key) {
            None => default,
            Some(p) => java_decode_int(&p.value).unwrap_or_else(|| {
                warnings.push(ConfigWarning {
                    key: key.to_owned(),
                    line: p.line,
                    message: format!("{:?} is not a number; using {default}", p.value),
                });
                default
            }),
        };
        let mut snap_count = integer("snapCount", 100_000);
        if snap_count < 2 {
            snap_count = 2;
        }
        let admin_port = integer("admin.serverPort", 8080);
        let admin_idle = integer("admin.idleTimeout", 30000);
        let jute_max_buffer = integer("jute.maxbuffer", 0xfffff);
        self.snap_count = snap_count;
        self.admin.idle_timeout_ms = admin_idle;
        self.jute_max_buffer = jute_max_buffer;
        match u16::try_from(admin_port) {
            Ok(port) => self.admin.port = port,
            Err(_) => warnings.push(ConfigWarning {
                key: "admin.serverPort".into(),
                line: get("admin.serverPort").map_or(0, |p| p.line),
                message: format!("port {admin_port} out of range; using 8080"),
            }),
        }
        if let Some(p) = get("preAllocSize") {
            match p.value.parse::<i64>() {
                Ok(kib) => self.pre_alloc_size_kib = kib,
                Err(_) => warnings.push(ConfigWarning {
                    key: "preAllocSize".into(),
                    line: p.line,
                    message: format!("{} is not a valid value for preAllocSize", p.value),
                }),
            }
        }
        let text = |key: &str| get(key).map(|p| p.value);
        self.force_sync = text("forceSync").as_deref() != Some("no");
        self.admin.enabled = text("admin.enableServer").as_deref() != Some("false");
        if let Some(address) = text("admin.serverAddress") {
            self.admin.address = address;
        }
        if let Some(url) = text("admin.commandURL") {
            self.admin.command_url = url;
        }
        self.extended_types_enabled = text("extendedTypesEnabled").is_some_and(|v| v.eq_ignore_ascii_case("true"));
        self.read_only_mode_enabled = text("readonlymode.enabled").as_deref() == Some("true");
        self.four_letter_words =
            FourLetterWords::new(text("4lw.commands.whitelist").as_deref(), self.read_only_mode_enabled);
        self.auth.skip_acl = text("skipACL").as_deref() == Some("yes");
        self.auth.super_digest = text("DigestAuthenticationProvider.superDigest");
        self.auth.digest_enabled =
            text("DigestAuthenticationProvider.enabled").is_none_or(|v| v.eq_ignore_ascii_case("true"));
        self.auth.x509_super_user = text("X509AuthenticationProvider.superUser");
        // `authProvider.<n>=<class>` registers a provider (QuorumPeerConfig sets it as the system
        // property `zookeeper.authProvider.<n>`, which ProviderRegistry loads). ProviderRegistry registers
        // `ip` and `digest` itself, so by default a `sasl:` or `x509:` ACL is invalid.
        let providers: Vec<String> = self
            .other
            .iter()
            .filter(|(key, _)| key.starts_with("authProvider."))
            .map(|(_, p)| p.value.trim().to_owned())
            .collect();
        self.auth.sasl_enabled = providers.iter().any(|class| class.ends_with(".SASLAuthenticationProvider"));
        self.auth.x509_enabled = providers.iter().any(|class| class.ends_with(".X509AuthenticationProvider"));
        self.auth.let_any_sasl_user_do_x = text("letAnySaslUserDoX");
        self.warnings.extend(warnings);
    }

    fn warn(&mut self, key: &str, props: &Properties, message: String) {
        let line = props.iter().find(|p| p.key.starts_with(key)).map_or(0, |p| p.line);
        tracing::warn!(key, line, "{message}");
        self.warnings.push(ConfigWarning { key: key.to_owned(), line, message });
    }
}

/// `server.*`, `group*` and `weight*`: not allowed in the static file once `dynamicConfigFile` is set.
fn is_static_membership_key(key: &str) -> bool {
    key.starts_with("server.") || key.starts_with("group") || key.starts_with("weight")
}

/// The membership keys, parsed by [`QuorumConfig`] rather than kept in `other`.
fn is_membership_key(key: &str) -> bool {
    is_static_membership_key(key) || key == "version"
}

/// The property with its value trimmed (ZooKeeper trims every value it parses).
fn trimmed(p: &Property) -> Property {
    Property { key: p.key.trim().to_owned(), value: p.value.trim().to_owned(), line: p.line }
}

fn read(path: &Path) -> Result<String, ConfigError> {
    let bytes = std::fs::read(path).map_err(|e| ConfigError::Io { path: path.to_owned(), message: e.to_string() })?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}
