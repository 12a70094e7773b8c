//! The identities one connection has authenticated as.

use std::net::IpAddr;

use zk_proto::{ClientInfo, ErrorCode, Id};

use super::{ip, AuthConfig};
use crate::java_hash;

/// The ids of a connection (`ServerCnxn.authInfo`): `ip:<client address>` from the start, then whatever
/// auth packets add. Each id appears once.
///
/// ZooKeeper keeps them in a set backed by a `ConcurrentHashMap`, and its iteration order is visible:
/// `whoAmI` lists the ids in it, and an `auth` ACL expands to them in it. So the ids are kept in that
/// order too ([`java_set_order`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthInfo {
    ids: Vec<Id>,
}

/// The jute-generated `Id.hashCode`.
fn java_id_hash(id: &Id) -> i32 {
    let result = 37i32.wrapping_mul(17).wrapping_add(java_hash::string_hash(&id.scheme));
    37i32.wrapping_mul(result).wrapping_add(java_hash::string_hash(&id.id))
}

/// Orders ids as a `ConcurrentHashMap`-backed set iterates them: by bin, and within a bin in insertion
/// order (`ids` is in insertion order within bins already, so a stable sort keeps it).
fn java_set_order(ids: &mut [Id]) {
    let table = java_hash::concurrent_table(ids.len());
    ids.sort_by_key(|id| java_hash::bin(java_id_hash(id), table));
}

impl AuthInfo {
    /// The ids of a new connection from `client`: just `ip:<address>` in Java's text form
    /// ([`ip::java_host_address`]).
    pub fn new(client: IpAddr) -> AuthInfo {
        AuthInfo { ids: vec![Id::new(ip::SCHEME, ip::java_host_address(client))] }
    }

    /// Ids with no address (in-process callers, tests, or the admin server).
    pub fn from_ids(ids: impl IntoIterator<Item = Id>) -> AuthInfo {
        let mut info = AuthInfo { ids: Vec::new() };
        for id in ids {
            info.add(id);
        }
        info
    }

    /// Adds `id` unless already present.
    pub fn add(&mut self, id: Id) {
        if !self.ids.contains(&id) {
            self.ids.push(id);
            java_set_order(&mut self.ids);
        }
    }

    /// Removes `id`; returns whether it was present.
    pub fn remove(&mut self, id: &Id) -> bool {
        let before = self.ids.len();
        self.ids.retain(|existing| existing != id);
        self.ids.len() != before
    }

    /// The ids, in ZooKeeper's iteration order.
    pub fn ids(&self) -> &[Id] {
        &self.ids
    }

    /// Handles an auth packet: on success adds the ids the scheme grants; on failure (`AuthFailed`) the
    /// caller replies with that error and closes the connection, as ZooKeeper does.
    pub fn authenticate(&mut self, config: &AuthConfig, scheme: &str, auth_data: &[u8]) -> Result<(), ErrorCode> {
        let ip_id =
            self.ids.iter().find(|id| id.scheme == ip::SCHEME).cloned().unwrap_or_else(|| Id::new(ip::SCHEME, ""));
        for id in config.authenticate(scheme, auth_data, &ip_id)? {
            self.add(id);
        }
        Ok(())
    }

    /// The `whoAmI` reply: one `(scheme, user)` per id, where the user is the provider's user name
    /// (`digest` ids show only the user part) or "" for schemes without a provider (`super`).
    pub fn who_am_i(&self, config: &AuthConfig) -> Vec<ClientInfo> {
        self.ids
            .iter()
            .map(|id| ClientInfo { auth_scheme: id.scheme.clone(), user: config.user_name(id).to_owned() })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(scheme: &str, user: &str) -> ClientInfo {
        ClientInfo { auth_scheme: scheme.into(), user: user.into() }
    }

    #[test]
    fn starts_with_the_address_and_collects_digests() {
        let config =
            AuthConfig { super_digest: Some("super:lK75jTNcA+U9vtVEw5vB51mj/w4=".into()), ..AuthConfig::default() };
        let mut auth = AuthInfo::new("::1".parse().unwrap());
        assert_eq!(auth.ids(), &[Id::new("ip", "0:0:0:0:0:0:0:1")]);
        assert_eq!(auth.authenticate(&config, "digest", b"user:password"), Ok(()));
        assert_eq!(auth.authenticate(&config, "digest", b"user:password"), Ok(()), "added once");
        assert_eq!(auth.authenticate(&config, "digest", b"super:secret"), Ok(()));
        assert_eq!(auth.authenticate(&config, "bogus", b""), Err(ErrorCode::AuthFailed));
        // In Java's ConcurrentHashMap order (bins 6, 7, 8 and 15), not in the order added.
        assert_eq!(
            auth.ids(),
            &[
                Id::new("digest", "user:tpUq/4Pn5A64fVZyQ0gOJ8ZWqkY="),
                Id::new("super", ""),
                Id::new("digest", "super:lK75jTNcA+U9vtVEw5vB51mj/w4="),
                Id::new("ip", "0:0:0:0:0:0:0:1"),
            ]
        );
        assert_eq!(
            auth.who_am_i(&config),
            vec![info("digest", "user"), info("super", ""), info("digest", "super"), info("ip", "0:0:0:0:0:0:0:1")]
        );
        assert!(auth.remove(&Id::new("super", "")));
        assert!(!auth.remove(&Id::new("super", "")));
    }

    /// As Apache ZooKeeper 3.8 answers `whoAmI` (differential test, `acls` script).
    #[test]
    fn ids_iterate_in_java_hash_set_order() {
        let config = AuthConfig::default();
        let mut auth = AuthInfo::new("127.0.0.1".parse().unwrap());
        auth.authenticate(&config, "digest", b"alice:secret").unwrap();
        auth.authenticate(&config, "digest", b"carol:c").unwrap();
        assert_eq!(
            auth.who_am_i(&config),
            vec![info("digest", "alice"), info("digest", "carol"), info("ip", "127.0.0.1")]
        );
    }
}
