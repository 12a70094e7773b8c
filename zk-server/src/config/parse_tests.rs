//! Tests of `ServerConfig` parsing against real ZooKeeper configuration files and every validation.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::*;

/// What `/work/shared/interop/start-apache-ensemble.sh 3 /tmp/ens 20000` writes to `/tmp/ens/n1/zoo.cfg`
/// (its heredoc, with the server list ending in a newline, hence the blank last line); `myid` holds "1\n".
/// `QuorumPeerConfig.parse` of ZooKeeper 3.8.0 on this file gave the values asserted below (tick 500,
/// timeouts 1000/10000, client 0.0.0.0:20001, sid 1, distributed, and the same config string).
const ENSEMBLE_N1: &str = "tickTime=500
initLimit=10
syncLimit=5
dataDir=/tmp/ens/n1/data
clientPort=20001
admin.enableServer=false
4lw.commands.whitelist=*
extendedTypesEnabled=true
server.1=127.0.0.1:20101:20201
server.2=127.0.0.1:20102:20202
server.3=127.0.0.1:20103:20203

";

/// Debian's `/etc/zookeeper/conf/zoo.cfg` (the sample shipped with ZooKeeper 3.8), verbatim, including
/// its trailing blanks.
const DEBIAN_SAMPLE: &str = "# The number of milliseconds of each tick
tickTime=2000
# The number of ticks that the initial 
# synchronization phase can take
initLimit=10
# The number of ticks that can pass between 
# sending a request and getting an acknowledgement
syncLimit=5
# the directory where the snapshot is stored.
# do not use /tmp for storage, /tmp here is just 
# example sakes.
dataDir=/tmp/zookeeper
# the port at which the clients will connect
clientPort=2181
# the maximum number of client connections.
# increase this if you need to handle more clients
#maxClientCnxns=60
#
# Be sure to read the maintenance section of the 
# administrator guide before turning on autopurge.
#
# https://zookeeper.apache.org/doc/current/zookeeperAdmin.html#sc_maintenance
#
# The number of snapshots to retain in dataDir
#autopurge.snapRetainCount=3
# Purge task interval in hours
# Set to \"0\" to disable auto purge feature
#autopurge.purgeInterval=1

## Metrics Providers
#
# https://prometheus.io Metrics Exporter
#metricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider
#metricsProvider.httpHost=0.0.0.0
#metricsProvider.httpPort=7000
#metricsProvider.exportJvmInfo=true

";

fn err(text: &str) -> ConfigError {
    ServerConfig::parse(text).expect_err("should be rejected")
}

const BASE: &str = "tickTime=2000\ndataDir=/d\n";

#[test]
fn apache_ensemble_config() {
    let c = ServerConfig::from_parts(ENSEMBLE_N1, Some("1\n"), None).unwrap();
    assert_eq!(c.tick_time, 500);
    assert_eq!((c.init_limit, c.sync_limit), (10, 5));
    assert_eq!(c.data_dir, PathBuf::from("/tmp/ens/n1/data"));
    assert_eq!(c.data_log_dir, PathBuf::from("/tmp/ens/n1/data"));
    assert_eq!(c.client_address, Some(HostPort::new("0.0.0.0", 20001)));
    assert_eq!((c.min_session_timeout, c.max_session_timeout), (1000, 10000));
    assert_eq!(c.server_id, Some(1));
    assert!(c.is_distributed());
    assert!(!c.admin.enabled);
    assert!(c.extended_types_enabled);
    assert_eq!(c.four_letter_words.enabled().count(), ALL_FOUR_LETTER_WORDS.len());
    assert_eq!(c.quorum.servers.len(), 3);
    let s2 = &c.quorum.servers[&2];
    assert_eq!(
        s2.addresses,
        vec![QuorumAddress { host: "127.0.0.1".into(), quorum_port: 20102, election_port: 20202 }]
    );
    // This server's client address comes from the static clientPort and is left out of the config string.
    assert!(c.quorum.servers[&1].client_address_from_static);
    assert_eq!(
        c.quorum.config_string(),
        "server.1=127.0.0.1:20101:20201:participant\nserver.2=127.0.0.1:20102:20202:participant\n\
         server.3=127.0.0.1:20103:20203:participant\nversion=0"
    );
    assert_eq!(c.peer_type, LearnerType::Participant);
    let other: Vec<&str> = c.other.keys().map(String::as_str).collect();
    assert_eq!(other, ["4lw.commands.whitelist", "admin.enableServer", "extendedTypesEnabled"]);
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    // Without the myid file it is not a valid quorum member.
    assert_eq!(ServerConfig::parse(ENSEMBLE_N1), Err(ConfigError::MyIdMissing));
}

/// Oracle: `QuorumPeerConfig.parse` of Debian's ZooKeeper 3.8.0 jar on this file (with `myid` = 1)
/// reported peer type OBSERVER, client address `[0:0:0:0:0:0:0:1]:2181`, distributed, and this
/// `/zookeeper/config` string.
#[test]
fn observer_with_ipv6_client_address() {
    let text = "tickTime=2000\ndataDir=/d\nserver.1=h:1:2:Observer;[::1]:2181\nserver.2=h:3:4\nserver.3=h:5:6\n\
                initLimit=1\nsyncLimit=1\n";
    let c = ServerConfig::from_parts(text, Some("1\n"), None).unwrap();
    assert_eq!(c.peer_type, LearnerType::Observer);
    assert!(c.is_distributed());
    assert_eq!(c.client_address.as_ref().map(ToString::to_string).as_deref(), Some("[0:0:0:0:0:0:0:1]:2181"));
    assert_eq!(
        c.quorum.config_string(),
        "server.1=h:1:2:observer;[0:0:0:0:0:0:0:1]:2181\nserver.2=h:3:4:participant\nserver.3=h:5:6:participant\n\
         version=0"
    );
}

#[test]
fn load_reads_myid_from_the_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("myid"), "2\n").unwrap();
    let cfg = dir.path().join("zoo.cfg");
    std::fs::write(&cfg, ENSEMBLE_N1.replace("/tmp/ens/n1/data", &data.to_string_lossy())).unwrap();
    let c = ServerConfig::load(&cfg).unwrap();
    assert_eq!(c.server_id, Some(2));
    assert_eq!(c.data_dir, data);
    assert!(matches!(ServerConfig::load(&dir.path().join("missing.cfg")), Err(ConfigError::Io { .. })));
}

/// Oracle: QuorumPeerConfig (3.8.0) on this file: tick 2000, timeouts 4000/40000, client
/// 0.0.0.0:2181, init 10, sync 5, not distributed, dataLogDir = dataDir.
#[test]
fn debian_sample_config() {
    let c = ServerConfig::parse(DEBIAN_SAMPLE).unwrap();
    let mut expected = ServerConfig::with_data_dir("/tmp/zookeeper");
    expected.tick_time = 2000;
    expected.init_limit = 10;
    expected.sync_limit = 5;
    expected.client_address = Some(HostPort::new("0.0.0.0", 2181));
    expected.min_session_timeout = 4000;
    expected.max_session_timeout = 40000;
    assert_eq!(c, expected);
    assert!(!c.is_distributed());
    assert_eq!(c.max_client_cnxns, 60);
    assert_eq!(c.snap_retain_count, 3);
    assert_eq!(c.purge_interval, 0);
    assert_eq!(c.metrics.class_name, DEFAULT_METRICS_PROVIDER);
    assert!(c.admin.enabled);
    assert_eq!((c.admin.address.as_str(), c.admin.port, c.admin.command_url.as_str()), ("0.0.0.0", 8080, "/commands"));
    assert_eq!(c.four_letter_words.enabled().collect::<Vec<_>>(), ["srvr"]);
    assert_eq!((c.snap_count, c.pre_alloc_size_kib, c.force_sync), (100_000, 65536, true));
    assert_eq!(c.jute_max_buffer, 0xfffff);
}

#[test]
fn defaults_without_tick_time_and_all_documented_keys() {
    // Oracle: QuorumPeerConfig (3.8.0) gives tick 3000, timeouts 6000/60000, no client address.
    let c = ServerConfig::parse("dataDir=/d").unwrap();
    assert_eq!(c.tick_time, 3000);
    assert_eq!((c.min_session_timeout, c.max_session_timeout), (6000, 60000));
    assert_eq!(c.client_address, None);
    let text = format!(
        "{BASE}dataLogDir=/l\nclientPort=2181\nclientPortAddress=127.0.0.1\nsecureClientPort=2281\n\
         maxClientCnxns=0\nminSessionTimeout=3000\nmaxSessionTimeout=90000\nsnapCount=1\npreAllocSize=1024\n\
         forceSync=no\nautopurge.snapRetainCount=5\nautopurge.purgeInterval=24\n4lw.commands.whitelist=ruok, mntr\n\
         admin.serverAddress=127.0.0.1\nadmin.serverPort=9090\nadmin.commandURL=/cmd\n\
         metricsProvider.className={PROMETHEUS_METRICS_PROVIDER}\nmetricsProvider.httpPort=7001\n\
         jute.maxbuffer=0x200000\nskipACL=yes\nDigestAuthenticationProvider.superDigest=super:abc=\n\
         readonlymode.enabled=true\nlocalSessionsEnabled=TRUE\nreconfigEnabled=true\nstandaloneEnabled=true\n\
         electionAlg=3\npeerType=participant\nglobalOutstandingLimit=5000\nobserverMasterPort=2191\n"
    );
    let c = ServerConfig::parse(&text).unwrap();
    assert_eq!(c.data_log_dir, PathBuf::from("/l"));
    assert_eq!(c.client_address, Some(HostPort::new("127.0.0.1", 2181)));
    assert_eq!(c.secure_client_address, Some(HostPort::new("0.0.0.0", 2281)));
    assert_eq!(c.max_client_cnxns, 0);
    assert_eq!(c.session_timeouts(), crate::session::SessionTimeouts { min: 3000, max: 90000 });
    assert_eq!(c.snap_count, 2, "snapCount below 2 is raised to 2");
    assert_eq!(c.pre_alloc_size_bytes(), 1024 * 1024);
    assert!(!c.force_sync);
    assert_eq!((c.snap_retain_count, c.purge_interval), (5, 24));
    assert_eq!(c.four_letter_words.enabled().collect::<Vec<_>>(), ["isro", "mntr", "ruok", "srvr"]);
    assert_eq!((c.admin.address.as_str(), c.admin.port, c.admin.command_url.as_str()), ("127.0.0.1", 9090, "/cmd"));
    assert_eq!(
        c.metrics.prometheus,
        Some(PrometheusConfig { host: "0.0.0.0".into(), port: 7001, export_jvm_info: true })
    );
    assert_eq!(c.metrics.options, BTreeMap::from([("httpPort".to_owned(), "7001".to_owned())]));
    assert_eq!(c.jute_max_buffer, 0x200000);
    assert!(c.auth.skip_acl);
    assert_eq!(c.auth.super_digest.as_deref(), Some("super:abc="));
    assert!(c.read_only_mode_enabled);
    assert!(c.local_sessions_enabled && c.reconfig_enabled);
    assert_eq!(c.observer_master_port, Some(2191));
    assert_eq!(c.other.get("globalOutstandingLimit").map(|p| (p.value.as_str(), p.line)), Some(("5000", 30)));
}

#[test]
fn lenient_system_properties_and_adjustments_warn() {
    let c = ServerConfig::parse(&format!("{BASE}snapCount=lots\nautopurge.snapRetainCount=1\nskipACL=true\n")).unwrap();
    assert_eq!(c.snap_count, 100_000);
    assert_eq!(c.snap_retain_count, 3);
    assert!(!c.auth.skip_acl, "only \"yes\" skips ACLs");
    let keys: Vec<(&str, usize)> = c.warnings.iter().map(|w| (w.key.as_str(), w.line)).collect();
    assert_eq!(keys, [("autopurge.snapRetainCount", 4), ("snapCount", 3)]);
    let single = ServerConfig::parse(&format!("{BASE}server.1=h:1:2\n")).unwrap();
    assert!(!single.is_distributed(), "one voter with standaloneEnabled runs standalone");
    assert_eq!(single.warnings.len(), 1);
}

#[test]
fn dynamic_config_file() {
    let text = format!("{BASE}initLimit=5\nsyncLimit=2\ndynamicConfigFile=/conf/zoo.cfg.dynamic.100000000\n");
    assert_eq!(DynamicConfig::version_from_file_name("/conf/zoo.cfg.dynamic.100000000"), Some(0x1_0000_0000));
    assert_eq!(DynamicConfig::version_from_file_name("zoo.cfg.dynamic"), None);
    let dynamic = DynamicConfig {
        text: "server.1=10.0.0.1:2888:3888:participant;0.0.0.0:2181\nserver.2=10.0.0.2:2888:3888;2181\n\
               server.3=10.0.0.3:2888:3888:observer;2181\n"
            .into(),
        version: Some(0x1_0000_0000),
    };
    let c = ServerConfig::from_parts(&text, Some("3"), Some(&dynamic)).unwrap();
    assert_eq!(c.quorum.version, 0x1_0000_0000);
    assert_eq!(c.client_address, Some(HostPort::new("0.0.0.0", 2181)));
    assert_eq!(c.peer_type, LearnerType::Observer);
    assert_eq!(c.dynamic_config_file, Some(PathBuf::from("/conf/zoo.cfg.dynamic.100000000")));
    // Without the file's text, membership is left empty.
    assert!(ServerConfig::parse(&text).unwrap().quorum.servers.is_empty());
    let with_version = DynamicConfig { text: "server.1=a:1:2\nversion=5\n".into(), version: None };
    assert_eq!(
        ServerConfig::from_parts(&text, Some("1"), Some(&with_version)),
        Err(ConfigError::VersionInDynamicFile { line: 2 })
    );
    let stray = DynamicConfig { text: "server.1=a:1:2\ntickTime=5\n".into(), version: None };
    assert_eq!(
        ServerConfig::from_parts(&text, Some("1"), Some(&stray)),
        Err(ConfigError::UnrecognisedDynamicKey { key: "tickTime".into(), line: 2 })
    );
    assert_eq!(
        err(&format!("{text}server.1=a:1:2\n")),
        ConfigError::DynamicKeyInStaticFile { key: "server.1".into(), line: 6 }
    );
    assert_eq!(
        err(&format!("{text}weight.1=2\n")),
        ConfigError::DynamicKeyInStaticFile { key: "weight.1".into(), line: 6 }
    );
}

#[test]
fn every_validation_error() {
    assert_eq!(err("dataDir=/d\nx=\\uZZZZ\n"), ConfigError::MalformedEscape { line: 2 });
    assert_eq!(
        err(&format!("{BASE}clientPort=21 81\n")),
        ConfigError::InvalidNumber { key: "clientPort".into(), line: 3, value: "21 81".into() }
    );
    assert_eq!(
        err(&format!("{BASE}syncEnabled=yes\n")),
        ConfigError::InvalidBoolean { key: "syncEnabled".into(), line: 3, value: "yes".into() }
    );
    assert!(matches!(err(&format!("{BASE}clientPort=70000\n")), ConfigError::OutOfRange { line: 3, .. }));
    assert_eq!(err(&format!("{BASE}electionAlg=1\n")), ConfigError::InvalidElectionAlg { line: 3 });
    assert_eq!(
        err(&format!("{BASE}peerType=voter\n")),
        ConfigError::UnknownPeerType { key: "peerType".into(), line: 3, value: "voter".into() }
    );
    assert!(matches!(
        err(&format!("{BASE}server.1=h:1:1\nserver.2=h:3:4\n")),
        ConfigError::InvalidMember { ref key, line: 3, .. } if key == "server.1"
    ));
    assert!(matches!(err(&format!("{BASE}server.one=h:1:2\n")), ConfigError::InvalidMember { line: 3, .. }));
    assert_eq!(
        err(&format!("{BASE}quorum.auth.serverRequireSasl=true\n")),
        ConfigError::QuorumSasl("quorum.auth.enableSasl is disabled, so cannot enable quorum.auth.serverRequireSasl")
    );
    assert_eq!(
        err(&format!("{BASE}quorum.auth.learnerRequireSasl=true\n")),
        ConfigError::QuorumSasl("quorum.auth.enableSasl is disabled, so cannot enable quorum.auth.learnerRequireSasl")
    );
    assert_eq!(
        err(&format!("{BASE}quorum.auth.enableSasl=true\nquorum.auth.serverRequireSasl=true\n")),
        ConfigError::QuorumSasl(
            "quorum.auth.learnerRequireSasl is disabled, so cannot enable quorum.auth.serverRequireSasl"
        )
    );
    assert_eq!(err("tickTime=2000\nclientPort=2181\n"), ConfigError::DataDirNotSet);
    assert_eq!(
        err(&format!("{BASE}clientPortAddress=1.2.3.4\n")),
        ConfigError::ClientPortAddressWithoutPort { line: 3 }
    );
    assert_eq!(
        err(&format!("{BASE}secureClientPortAddress=1.2.3.4\n")),
        ConfigError::SecureClientPortAddressWithoutPort { line: 3 }
    );
    assert!(matches!(err(&format!("{BASE}observerMasterPort=65536\n")), ConfigError::OutOfRange { line: 3, .. }));
    assert_eq!(ServerConfig::parse(&format!("{BASE}observerMasterPort=-1\n")).unwrap().observer_master_port, None);
    assert_eq!(err("tickTime=0\ndataDir=/d\n"), ConfigError::TickTimeNotSet);
    assert_eq!(err("tickTime=-5\ndataDir=/d\n"), ConfigError::TickTimeNotSet);
    assert_eq!(
        err(&format!("{BASE}minSessionTimeout=50000\n")),
        ConfigError::SessionTimeoutRange { min: 50000, max: 40000 }
    );
    assert_eq!(
        err(&format!("{BASE}maxSessionTimeout=3000\n")),
        ConfigError::SessionTimeoutRange { min: 4000, max: 3000 }
    );
    assert_eq!(
        err(&format!("{BASE}metricsProvider.className=com.example.Metrics\n")),
        ConfigError::UnknownMetricsProvider { line: 3, class: "com.example.Metrics".into() }
    );
    assert_eq!(
        err(&format!("{BASE}standaloneEnabled=false\n")),
        ConfigError::InvalidMembership("standaloneEnabled = false then number of participants should be >0")
    );
    assert_eq!(
        err(&format!("{BASE}server.1=h:1:2:observer\n")),
        ConfigError::InvalidMembership("Observers w/o participants is an invalid configuration")
    );
    assert_eq!(
        err(&format!("{BASE}server.1=h:1:2\nserver.2=h:3:4:observer\n")),
        ConfigError::InvalidMembership("Observers w/o quorum is an invalid configuration")
    );
    let two = format!("{BASE}server.1=h:1:2\nserver.2=h:3:4\n");
    assert_eq!(ServerConfig::from_parts(&two, Some("1"), None), Err(ConfigError::InitLimitNotSet));
    let two = format!("{two}initLimit=5\n");
    assert_eq!(ServerConfig::from_parts(&two, Some("1"), None), Err(ConfigError::SyncLimitNotSet));
    let two = format!("{two}syncLimit=2\n");
    assert_eq!(ServerConfig::from_parts(&two, None, None), Err(ConfigError::MyIdMissing));
    assert_eq!(
        ServerConfig::from_parts(&two, Some(" 1\n"), None),
        Err(ConfigError::InvalidMyId { value: " 1".into() })
    );
    assert_eq!(ServerConfig::from_parts(&two, Some(""), None), Err(ConfigError::InvalidMyId { value: "".into() }));
    assert!(ServerConfig::from_parts(&two, Some("1\n"), None).is_ok());
    let wide = format!("{BASE}extendedTypesEnabled=true\nserver.255=h:1:2\nserver.2=h:3:4\ninitLimit=5\nsyncLimit=2\n");
    assert_eq!(
        ServerConfig::from_parts(&wide, Some("255"), None),
        Err(ConfigError::ServerIdTooLarge { server_id: 255 })
    );
    let mismatch = format!("{two}clientPort=2181\nclientPortAddress=10.0.0.1\nserver.3=h:5:6;10.0.0.2:2181\n");
    assert_eq!(
        ServerConfig::from_parts(&mismatch, Some("3"), None),
        Err(ConfigError::ClientAddressMismatch {
            server_id: 3,
            static_address: "10.0.0.1:2181".into(),
            dynamic_address: "10.0.0.2:2181".into(),
        })
    );
    let port_mismatch = format!("{two}clientPort=2181\nserver.3=h:5:6;2182\n");
    assert!(matches!(
        ServerConfig::from_parts(&port_mismatch, Some("3"), None),
        Err(ConfigError::ClientAddressMismatch { server_id: 3, .. })
    ));
    let same_port = format!("{two}clientPort=2182\nserver.3=h:5:6;10.1.1.1:2182\n");
    let c = ServerConfig::from_parts(&same_port, Some("3"), None).unwrap();
    assert_eq!(c.client_address, Some(HostPort::new("10.1.1.1", 2182)), "the server line's address wins");
}

#[test]
fn auth_providers_register_sasl_and_x509() {
    let plain = ServerConfig::from_parts(BASE, None, None).unwrap();
    assert!(!plain.auth.sasl_enabled && !plain.auth.x509_enabled, "only ip and digest by default");
    let text = format!(
        "{BASE}authProvider.1=org.apache.zookeeper.server.auth.SASLAuthenticationProvider\n\
         authProvider.x509=org.apache.zookeeper.server.auth.X509AuthenticationProvider\n"
    );
    let c = ServerConfig::from_parts(&text, None, None).unwrap();
    assert!(c.auth.sasl_enabled && c.auth.x509_enabled);
}
