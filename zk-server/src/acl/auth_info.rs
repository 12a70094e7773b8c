//! The identities one connection has authenticated as.

use std::net::IpAddr;

use zk_proto::{ClientInfo, ErrorCode, Id};

use super::{ip, AuthConfig};

/// The ids of a connection (`ServerCnxn.authInfo`): `ip:<client address>` from the start, then whatever
/// auth packets add. Each id appears once, in the order first added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthInfo {
    ids: Vec<Id>,
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
        }
    }

    /// Removes `id`; returns whether it was present.
    pub fn remove(&mut self, id: &Id) -> bool {
        let before = self.ids.len();
        self.ids.retain(|existing| existing != id);
        self.ids.len() != before
    }

    /// The ids, in the order added.
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
        assert_eq!(
            auth.ids(),
            &[
                Id::new("ip", "0:0:0:0:0:0:0:1"),
                Id::new("digest", "user:tpUq/4Pn5A64fVZyQ0gOJ8ZWqkY="),
                Id::new("super", ""),
                Id::new("digest", "super:lK75jTNcA+U9vtVEw5vB51mj/w4="),
            ]
        );
        assert_eq!(
            auth.who_am_i(&config),
            vec![info("ip", "0:0:0:0:0:0:0:1"), info("digest", "user"), info("super", ""), info("digest", "super")]
        );
        assert!(auth.remove(&Id::new("super", "")));
        assert!(!auth.remove(&Id::new("super", "")));
    }
}
