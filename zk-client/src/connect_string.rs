//! Connect strings: `host1:2181,host2:2181/chroot`, and the chroot path mapping.

use crate::error::Error;
use crate::path::validate_path;

/// The default ZooKeeper client port, used when a host has none.
pub const DEFAULT_PORT: u16 = 2181;

/// A parsed connect string: the servers to try and an optional chroot.
///
/// ```
/// use zk_client::ConnectString;
///
/// let cs: ConnectString = "zk1:2181,zk2,[::1]:2182/app/prod".parse().unwrap();
/// assert_eq!(cs.hosts(), ["zk1:2181", "zk2:2181", "[::1]:2182"]);
/// assert_eq!(cs.chroot(), Some("/app/prod"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectString {
    hosts: Vec<String>,
    chroot: Option<String>,
}

impl ConnectString {
    /// The `host:port` addresses, in the order given.
    pub fn hosts(&self) -> &[String] {
        &self.hosts
    }

    /// The chroot every path is relative to, if any.
    pub fn chroot(&self) -> Option<&str> {
        self.chroot.as_deref()
    }
}

impl std::str::FromStr for ConnectString {
    type Err = Error;

    fn from_str(s: &str) -> Result<ConnectString, Error> {
        let (hosts_part, chroot) = match s.find('/') {
            Some(i) => (&s[..i], Some(&s[i..])),
            None => (s, None),
        };
        let chroot = match chroot {
            None | Some("/") => None,
            Some(path) => {
                validate_path(path, false)?;
                Some(path.to_owned())
            }
        };
        let mut hosts = Vec::new();
        for host in hosts_part.split(',').map(str::trim).filter(|h| !h.is_empty()) {
            hosts.push(with_port(host)?);
        }
        if hosts.is_empty() {
            return Err(Error::InvalidArgument(format!("connect string {s:?} names no host")));
        }
        Ok(ConnectString { hosts, chroot })
    }
}

fn with_port(host: &str) -> Result<String, Error> {
    let bad = || Error::InvalidArgument(format!("invalid host {host:?}"));
    let (name, port) = if let Some(rest) = host.strip_prefix('[') {
        let end = rest.find(']').ok_or_else(bad)?;
        let port = &rest[end + 1..];
        (&host[..end + 2], port.strip_prefix(':'))
    } else {
        match host.rsplit_once(':') {
            Some((name, port)) => (name, Some(port)),
            None => (host, None),
        }
    };
    if name.is_empty() || name == "[]" {
        return Err(bad());
    }
    let port = match port {
        Some(p) => p.parse::<u16>().map_err(|_| bad())?,
        None => DEFAULT_PORT,
    };
    Ok(format!("{name}:{port}"))
}

/// Maps client paths to server paths under a chroot, and back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Chroot(Option<String>);

impl Chroot {
    pub(crate) fn new(chroot: Option<&str>) -> Chroot {
        Chroot(chroot.map(str::to_owned))
    }

    /// The server path for a (validated) client path.
    pub(crate) fn to_server(&self, path: &str) -> String {
        match &self.0 {
            None => path.to_owned(),
            Some(root) if path == "/" => root.clone(),
            Some(root) => format!("{root}{path}"),
        }
    }

    /// The client path for a server path (unchanged if it is outside the chroot).
    pub(crate) fn to_client(&self, path: &str) -> String {
        let Some(root) = &self.0 else {
            return path.to_owned();
        };
        match path.strip_prefix(root.as_str()) {
            Some("") => "/".to_owned(),
            Some(rest) if rest.starts_with('/') => rest.to_owned(),
            _ => path.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_hosts_ports_and_chroot() {
        let cs: ConnectString = "a:1, b ,c:3/".parse().unwrap();
        assert_eq!(cs.hosts(), ["a:1", "b:2181", "c:3"]);
        assert_eq!(cs.chroot(), None);
        let cs: ConnectString = "127.0.0.1:2181/x/y".parse().unwrap();
        assert_eq!(cs.chroot(), Some("/x/y"));
        let cs: ConnectString = "[::1],[fe80::1]:9".parse().unwrap();
        assert_eq!(cs.hosts(), ["[::1]:2181", "[fe80::1]:9"]);
        for bad in ["", "/x", "a:b", "a:99999", "a/x/", "a//x", "[::1"] {
            assert!(bad.parse::<ConnectString>().is_err(), "{bad}");
        }
    }

    #[test]
    fn chroot_maps_both_ways() {
        let c = Chroot::new(Some("/app"));
        assert_eq!(c.to_server("/"), "/app");
        assert_eq!(c.to_server("/x"), "/app/x");
        assert_eq!(c.to_client("/app"), "/");
        assert_eq!(c.to_client("/app/x"), "/x");
        assert_eq!(c.to_client("/apple"), "/apple");
        assert_eq!(Chroot::default().to_server("/x"), "/x");
    }
}
