//! Ensemble membership: `server.N`, `group.G`, `weight.N` and `version` entries
//! (`QuorumPeer.QuorumServer`, `QuorumMaj`, `QuorumHierarchical`).

use std::collections::BTreeMap;
use std::fmt;

use super::{value, ConfigError, Properties, Property};
use crate::acl::ip;

/// Whether a member votes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum LearnerType {
    /// A voting member.
    #[default]
    Participant,
    /// A non-voting member that follows the leader.
    Observer,
}

impl LearnerType {
    /// `participant` or `observer` in any case, surrounding whitespace ignored.
    pub fn parse(s: &str) -> Option<LearnerType> {
        match s.trim().to_ascii_lowercase().as_str() {
            "participant" => Some(LearnerType::Participant),
            "observer" => Some(LearnerType::Observer),
            _ => None,
        }
    }

    /// The name in config strings.
    pub fn as_str(self) -> &'static str {
        match self {
            LearnerType::Participant => "participant",
            LearnerType::Observer => "observer",
        }
    }
}

/// A host (name or literal, unresolved) and a port.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HostPort {
    /// The host as written (`0.0.0.0` for "any address").
    pub host: String,
    /// The port.
    pub port: u16,
}

impl HostPort {
    /// A host and port.
    pub fn new(host: impl Into<String>, port: u16) -> HostPort {
        HostPort { host: host.into(), port }
    }

    /// Whether the host is a wildcard address (`0.0.0.0` or `::`).
    pub fn is_any_local(&self) -> bool {
        matches!(self.host.parse::<std::net::IpAddr>(), Ok(ip) if ip.is_unspecified())
    }
}

impl fmt::Display for HostPort {
    /// `host:port` as ZooKeeper prints it: an IPv6 literal in brackets and in Java's uncompressed form
    /// (`[0:0:0:0:0:0:0:1]:2181`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", delimited_host(&self.host), self.port)
    }
}

/// One address of a member: where learners connect (`quorum_port`) and where election runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuorumAddress {
    /// The host.
    pub host: String,
    /// The port learners connect to on the leader.
    pub quorum_port: u16,
    /// The leader-election port.
    pub election_port: u16,
}

/// One `server.N=host:quorumPort:electionPort[:type][;[clientHost:]clientPort]` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuorumServer {
    /// The server id N.
    pub id: i64,
    /// Its addresses (several, `|`-separated, only with `multiAddress.enabled`).
    pub addresses: Vec<QuorumAddress>,
    /// Participant (default) or observer.
    pub learner_type: LearnerType,
    /// The client address from the `;` part (host defaults to `0.0.0.0`), or from the static
    /// `clientPort`/`clientPortAddress` for this server.
    pub client_address: Option<HostPort>,
    /// Whether `client_address` came from the static settings (then it is left out of config strings).
    pub client_address_from_static: bool,
}

const WRONG_FORMAT: &str = "does not have the form server_config or server_config;client_config where \
    server_config is the pipe separated list of host:port:port or host:port:port:type and client_config is \
    port or host:port";

impl QuorumServer {
    /// Parses the value of `server.<id>`. Ports are trimmed before parsing (ZooKeeper does not trim, so
    /// it rejects trailing blanks that this accepts).
    pub fn parse(id: i64, spec: &str, multi_address_enabled: bool) -> Result<QuorumServer, String> {
        let server_client: Vec<&str> = java_split(spec, ';');
        if server_client.len() > 2 || server_client.is_empty() {
            return Err(format!("{spec} {WRONG_FORMAT}"));
        }
        let mut client_address = None;
        if let Some(client) = server_client.get(1) {
            let parts = host_and_port(client)?;
            if parts.len() > 2 {
                return Err(format!("{spec} {WRONG_FORMAT}"));
            }
            let host = if parts.len() == 2 { parts[0].clone() } else { "0.0.0.0".to_owned() };
            let port = parse_port(parts.last().map(String::as_str).unwrap_or_default())
                .ok_or_else(|| format!("Address unresolved: {host}:{}", parts.last().cloned().unwrap_or_default()))?;
            client_address = Some(HostPort { host, port });
        }
        let server_parts: Vec<&str> = java_split(server_client[0], '|');
        // ZooKeeper would accept `server.N=|` as a member without addresses; reject it.
        if server_parts.is_empty() {
            return Err(format!("{spec} {WRONG_FORMAT}"));
        }
        if !multi_address_enabled && server_parts.len() > 1 {
            return Err(format!(
                "Multiple address feature is disabled, but multiple addresses were specified for sid {id}"
            ));
        }
        let mut addresses = Vec::with_capacity(server_parts.len());
        let mut learner_type = None;
        for address in server_parts {
            let parts = host_and_port(address)?;
            if parts.len() < 3 || parts.len() > 4 {
                return Err(format!("{spec} {WRONG_FORMAT}"));
            }
            let host = parts[0].clone();
            let quorum_port =
                parse_port(&parts[1]).ok_or_else(|| format!("Address unresolved: {host}:{}", parts[1]))?;
            let election_port =
                parse_port(&parts[2]).ok_or_else(|| format!("Address unresolved: {host}:{}", parts[2]))?;
            if quorum_port == election_port {
                return Err(format!(
                    "Client and election port must be different! Please update the configuration file on \
                     server.{id}"
                ));
            }
            if let Some(kind) = parts.get(3) {
                let kind = LearnerType::parse(kind).ok_or_else(|| format!("Unrecognised peertype: {kind}"))?;
                if learner_type.is_some_and(|previous| previous != kind) {
                    return Err("Multiple addresses should have similar roles".to_owned());
                }
                learner_type = Some(kind);
            }
            addresses.push(QuorumAddress { host, quorum_port, election_port });
        }
        Ok(QuorumServer {
            id,
            addresses,
            learner_type: learner_type.unwrap_or_default(),
            client_address,
            client_address_from_static: false,
        })
    }

    /// The form ZooKeeper writes to `/zookeeper/config` and dynamic files (`QuorumServer.toString`):
    /// `host:qport:eport[|...]:participant|observer[;clientHost:clientPort]`.
    pub fn config_string(&self) -> String {
        let mut addresses: Vec<&QuorumAddress> = self.addresses.iter().collect();
        addresses.sort_by(|a, b| a.host.cmp(&b.host));
        let mut out = addresses
            .iter()
            .map(|a| format!("{}:{}:{}", delimited_host(&a.host), a.quorum_port, a.election_port))
            .collect::<Vec<_>>()
            .join("|");
        out.push(':');
        out.push_str(self.learner_type.as_str());
        if let Some(client) = self.client_address.as_ref().filter(|_| !self.client_address_from_static) {
            out.push(';');
            out.push_str(&client.to_string());
        }
        out
    }
}

/// `QuorumServer.delimitedHostString`: IPv6 literals (normalized as Java prints them) in brackets.
fn delimited_host(host: &str) -> String {
    match host.parse::<std::net::Ipv6Addr>() {
        Ok(v6) => format!("[{}]", ip::java_host_address(v6.into())),
        Err(_) if host.contains(':') => format!("[{host}]"),
        Err(_) => host.to_owned(),
    }
}

fn parse_port(s: &str) -> Option<u16> {
    let value: i32 = s.trim().parse().ok()?;
    u16::try_from(value).ok()
}

/// Java's `s.split(String.valueOf(sep))`: trailing empty parts dropped.
fn java_split(s: &str, sep: char) -> Vec<&str> {
    let mut parts: Vec<&str> = s.split(sep).collect();
    while parts.last().is_some_and(|p| p.is_empty()) {
        parts.pop();
    }
    parts
}

/// `ConfigUtils.getHostAndPort`: `[v6]:p:p...` or `host:p:p...`.
fn host_and_port(s: &str) -> Result<Vec<String>, String> {
    if let Some(bracketed) = s.strip_prefix('[') {
        let close = bracketed.find(']').ok_or_else(|| format!("{s} starts with '[' but has no matching ']:'"))?;
        // Java skips the character after ']' (meant to be ':') whatever it is.
        let mut rest = bracketed[close + 1..].chars();
        match (rest.next(), rest.as_str()) {
            (Some(_), "") => return Err(format!("{s} doesn't have a port after colon")),
            (Some(_), ports) => {
                let mut parts = vec![bracketed[..close].to_owned()];
                parts.extend(java_split(ports, ':').into_iter().map(str::to_owned));
                return Ok(parts);
            }
            (None, _) => {}
        }
        return Ok(vec![s.replace(['[', ']'], "")]);
    }
    Ok(java_split(s, ':').into_iter().map(str::to_owned).collect())
}

/// The members of an ensemble: a majority quorum, or hierarchical when `group`/`weight` keys appear.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QuorumConfig {
    /// Every member by id.
    pub servers: BTreeMap<i64, QuorumServer>,
    /// Group id → member ids (hierarchical quorums).
    pub groups: BTreeMap<i64, Vec<i64>>,
    /// Member id → weight (hierarchical quorums; participants default to 1).
    pub weights: BTreeMap<i64, i64>,
    /// Whether any key started with `group` or `weight`.
    pub hierarchical: bool,
    /// The config version (`version=<hex>`, or from a dynamic file's name), 0 if absent.
    pub version: i64,
}

impl QuorumConfig {
    /// Reads the membership keys of `props`. With `dynamic_file`, keys other than `server.*`, `group*`,
    /// `weight*` and `version` are errors (`parseDynamicConfig`); in a static file they are ignored here.
    pub fn from_properties(
        props: &Properties,
        dynamic_file: bool,
        multi_address_enabled: bool,
    ) -> Result<QuorumConfig, ConfigError> {
        let mut quorum = QuorumConfig::default();
        for p in props.iter() {
            let key = p.key.trim();
            if key.starts_with("group") || key.starts_with("weight") {
                quorum.hierarchical = true;
            } else if dynamic_file && !key.starts_with("server.") && key != "version" {
                return Err(ConfigError::UnrecognisedDynamicKey { key: p.key.clone(), line: p.line });
            }
        }
        let mut group_of: BTreeMap<i64, i64> = BTreeMap::new();
        for p in props.iter() {
            if p.key.starts_with("server.") {
                let id = suffix_id(p)?;
                let server = QuorumServer::parse(id, &p.value, multi_address_enabled)
                    .map_err(|message| member_error(p, message))?;
                quorum.servers.insert(id, server);
            } else if p.key == "version" {
                quorum.version = i64::from_str_radix(p.value.trim(), 16).map_err(|_| value::invalid_number(p))?;
            } else if quorum.hierarchical && p.key.starts_with("group") {
                let group = suffix_id(p)?;
                let mut members = Vec::new();
                for sid in java_split(&p.value, ':') {
                    let sid: i64 = sid.parse().map_err(|_| value::invalid_number(p))?;
                    if group_of.insert(sid, group).is_some() {
                        return Err(member_error(p, format!("Server {sid}is in multiple groups")));
                    }
                    members.push(sid);
                }
                quorum.groups.insert(group, members);
            } else if quorum.hierarchical && p.key.starts_with("weight") {
                let sid = suffix_id(p)?;
                quorum.weights.insert(sid, p.value.parse().map_err(|_| value::invalid_number(p))?);
            }
        }
        if quorum.hierarchical {
            for server in quorum.servers.values().filter(|s| s.learner_type == LearnerType::Participant) {
                if !group_of.contains_key(&server.id) {
                    return Err(ConfigError::InvalidMember {
                        key: format!("server.{}", server.id),
                        line: props.get(&format!("server.{}", server.id)).map_or(0, |p| p.line),
                        message: format!("Server {}is not in a group", server.id),
                    });
                }
                quorum.weights.entry(server.id).or_insert(1);
            }
        }
        Ok(quorum)
    }

    /// The voting members.
    pub fn voting_members(&self) -> impl Iterator<Item = &QuorumServer> + '_ {
        self.servers.values().filter(|s| s.learner_type == LearnerType::Participant)
    }

    /// The observers.
    pub fn observing_members(&self) -> impl Iterator<Item = &QuorumServer> + '_ {
        self.servers.values().filter(|s| s.learner_type == LearnerType::Observer)
    }

    /// Parses a config string as `/zookeeper/config`, NEWLEADER and a reconfig txn carry it (ZooKeeper's
    /// `QuorumPeer.configFromString`): `server.N=...`, `group`/`weight` lines and `version=<hex>`, nothing
    /// else. Malformed text is an error, never a panic.
    pub fn from_config_text(text: &str, multi_address_enabled: bool) -> Result<QuorumConfig, ConfigError> {
        let props = Properties::parse(text)?;
        QuorumConfig::from_properties(&props, true, multi_address_enabled)
    }

    /// The membership as ZooKeeper serves it in `/zookeeper/config`: one `server.N=...` line per member
    /// in id order, then `version=<hex>`.
    pub fn config_string(&self) -> String {
        let mut out = String::new();
        for server in self.servers.values() {
            out.push_str(&format!("server.{}={}\n", server.id, server.config_string()));
        }
        out.push_str(&format!("version={:x}", self.version));
        out
    }
}

/// The number after the first `.` of the key (`Long.parseLong(key.substring(key.indexOf('.') + 1))`).
fn suffix_id(p: &Property) -> Result<i64, ConfigError> {
    let suffix = p.key.split_once('.').map_or(p.key.as_str(), |(_, rest)| rest);
    suffix.parse().map_err(|_| member_error(p, format!("{suffix:?} is not a number")))
}

fn member_error(p: &Property, message: String) -> ConfigError {
    ConfigError::InvalidMember { key: p.key.clone(), line: p.line, message }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(spec: &str) -> Result<QuorumServer, String> {
        QuorumServer::parse(1, spec, false)
    }

    #[test]
    fn server_forms() {
        let s = server("127.0.0.1:20101:20201").unwrap();
        assert_eq!(
            s.addresses,
            vec![QuorumAddress { host: "127.0.0.1".into(), quorum_port: 20101, election_port: 20201 }]
        );
        assert_eq!(s.learner_type, LearnerType::Participant);
        assert_eq!(s.client_address, None);
        let o = server("zk1.example.com:2888:3888:Observer;2181").unwrap();
        assert_eq!(o.learner_type, LearnerType::Observer);
        assert_eq!(o.client_address, Some(HostPort::new("0.0.0.0", 2181)));
        assert_eq!(o.config_string(), "zk1.example.com:2888:3888:observer;0.0.0.0:2181");
        let v6 = server("[::1]:2888:3888:participant;[::1]:2181").unwrap();
        assert_eq!(v6.addresses[0].host, "::1");
        assert_eq!(v6.client_address, Some(HostPort::new("::1", 2181)));
        assert_eq!(v6.config_string(), "[0:0:0:0:0:0:0:1]:2888:3888:participant;[0:0:0:0:0:0:0:1]:2181");
        let multi = QuorumServer::parse(2, "b:1:2|a:3:4", true).unwrap();
        assert_eq!(multi.config_string(), "a:3:4|b:1:2:participant");
    }

    #[test]
    fn server_errors() {
        assert!(server("host:2888").unwrap_err().contains("does not have the form"));
        assert!(server("host:1:2:participant:x").unwrap_err().contains("does not have the form"));
        assert!(server("host:1:2;a;b").unwrap_err().contains("does not have the form"));
        assert!(server("|").unwrap_err().contains("does not have the form"));
        assert!(server(";").unwrap_err().contains("does not have the form"));
        assert_eq!(server("host:x:2").unwrap_err(), "Address unresolved: host:x");
        assert_eq!(server("host:1:70000").unwrap_err(), "Address unresolved: host:70000");
        assert!(server("host:5:5").unwrap_err().starts_with("Client and election port must be different"));
        assert_eq!(server("host:1:2:voter").unwrap_err(), "Unrecognised peertype: voter");
        assert!(server("a:1:2|b:3:4").unwrap_err().starts_with("Multiple address feature is disabled"));
        assert!(server("[::1:2888:3888").unwrap_err().contains("no matching"));
        assert!(server("[::1]:").unwrap_err().contains("doesn't have a port"));
        assert!(server("h:1:2;c:x").unwrap_err().starts_with("Address unresolved"));
        // Java skips whatever character follows ']'; a multi-byte one must not panic.
        assert_eq!(server("[::1]é2888:3888").unwrap().addresses[0].quorum_port, 2888);
        assert!(server("[::1]é").unwrap_err().contains("doesn't have a port"));
    }

    #[test]
    fn hierarchical_membership() {
        let props = Properties::parse(
            "server.1=a:1:2\nserver.2=b:1:2\nserver.3=c:1:2:observer\ngroup.1=1:2\nweight.1=3\nversion=1a\n",
        )
        .unwrap();
        let q = QuorumConfig::from_properties(&props, false, false).unwrap();
        assert!(q.hierarchical);
        assert_eq!(q.groups, BTreeMap::from([(1, vec![1, 2])]));
        assert_eq!(q.weights, BTreeMap::from([(1, 3), (2, 1)]));
        assert_eq!(q.version, 0x1a);
        assert_eq!(q.voting_members().count(), 2);
        assert_eq!(q.observing_members().count(), 1);
        assert_eq!(
            q.config_string(),
            "server.1=a:1:2:participant\nserver.2=b:1:2:participant\nserver.3=c:1:2:observer\nversion=1a"
        );
        let missing = Properties::parse("server.1=a:1:2\nserver.2=b:1:2\ngroup.1=1\n").unwrap();
        assert!(matches!(
            QuorumConfig::from_properties(&missing, false, false),
            Err(ConfigError::InvalidMember { ref key, line: 2, .. }) if key == "server.2"
        ));
        let twice = Properties::parse("server.1=a:1:2\ngroup.1=1\ngroup.2=1\n").unwrap();
        assert!(matches!(
            QuorumConfig::from_properties(&twice, false, false),
            Err(ConfigError::InvalidMember { line: 3, .. })
        ));
    }

    #[test]
    fn dynamic_files_hold_only_membership() {
        let props = Properties::parse("server.1=a:1:2\ntickTime=2000\n").unwrap();
        assert!(QuorumConfig::from_properties(&props, false, false).is_ok());
        assert_eq!(
            QuorumConfig::from_properties(&props, true, false),
            Err(ConfigError::UnrecognisedDynamicKey { key: "tickTime".into(), line: 2 })
        );
        let bad_id = Properties::parse("server.x=a:1:2\n").unwrap();
        assert!(matches!(
            QuorumConfig::from_properties(&bad_id, true, false),
            Err(ConfigError::InvalidMember { line: 1, .. })
        ));
    }
}
