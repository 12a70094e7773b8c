//! The auth providers a server knows and the settings they read (`ProviderRegistry` and the
//! `zookeeper.*` properties of each provider).

use zk_proto::{ErrorCode, Id};

use super::{digest, ip, principal};

/// A registered auth scheme (`AuthenticationProvider`). `world` and `super` are not providers: ACL checks
/// handle them directly, and `auth` is expanded by [`AuthConfig::fix_acl`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Provider {
    /// `ip`: the client address, or a CIDR block in ACLs.
    Ip,
    /// `digest`: `user:base64(sha1(user:password))`.
    Digest,
    /// `sasl`: a SASL (Kerberos, DIGEST-MD5) principal.
    Sasl,
    /// `x509`: the subject DN of a TLS client certificate.
    X509,
}

impl Provider {
    /// The scheme name.
    pub fn scheme(self) -> &'static str {
        match self {
            Provider::Ip => ip::SCHEME,
            Provider::Digest => digest::SCHEME,
            Provider::Sasl => "sasl",
            Provider::X509 => "x509",
        }
    }

    /// Whether an id of this scheme proves who the client is (`isAuthenticated`); only such ids replace
    /// the `auth` scheme in submitted ACLs. An address proves nothing.
    pub fn is_authenticated(self) -> bool {
        !matches!(self, Provider::Ip)
    }

    /// Whether `id` is well formed for an ACL of this scheme (`isValid`).
    pub fn is_valid(self, id: &str) -> bool {
        match self {
            Provider::Ip => ip::is_valid(id),
            Provider::Digest => digest::is_valid(id),
            Provider::Sasl => principal::is_valid_kerberos_name(id),
            Provider::X509 => principal::is_valid_x500_name(id),
        }
    }

    /// The user name `whoAmI` reports for an id of this scheme (`getUserName`).
    pub fn user_name(self, id: &str) -> &str {
        match self {
            Provider::Digest => digest::user_name(id),
            Provider::Ip | Provider::Sasl | Provider::X509 => id,
        }
    }
}

/// The ACL and authentication settings of a server: which providers are registered and the
/// `zookeeper.*` properties that change their behaviour. `Default` is Apache ZooKeeper's default
/// (`ip` and `digest`, no super user, ACLs enforced); `sasl` and `x509` ACLs are valid only once their
/// providers are registered (`authProvider.<n>` in the configuration), as in ZooKeeper, where a `sasl`
/// or `x509` ACL is otherwise InvalidACL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthConfig {
    /// `zookeeper.skipACL=yes`: every ACL check passes.
    pub skip_acl: bool,
    /// `zookeeper.DigestAuthenticationProvider.superDigest`: `super:<base64 sha1>`; a client that adds
    /// digest credentials hashing to it becomes the super user, who passes every ACL check.
    pub super_digest: Option<String>,
    /// `zookeeper.DigestAuthenticationProvider.enabled` (true).
    pub digest_enabled: bool,
    /// Whether the `sasl` scheme is registered (`authProvider.<n>=...SASLAuthenticationProvider`).
    pub sasl_enabled: bool,
    /// Whether the `x509` scheme is registered (`authProvider.<n>=...X509AuthenticationProvider`).
    pub x509_enabled: bool,
    /// `zookeeper.X509AuthenticationProvider.superUser`: an x509 id that matches every x509 ACL.
    pub x509_super_user: Option<String>,
    /// `zookeeper.letAnySaslUserDoX`: a sasl ACL id every sasl user matches.
    pub let_any_sasl_user_do_x: Option<String>,
}

impl Default for AuthConfig {
    fn default() -> AuthConfig {
        AuthConfig {
            skip_acl: false,
            super_digest: None,
            digest_enabled: true,
            sasl_enabled: false,
            x509_enabled: false,
            x509_super_user: None,
            let_any_sasl_user_do_x: None,
        }
    }
}

impl AuthConfig {
    /// The provider registered for `scheme` (`ProviderRegistry.getProvider`).
    pub fn provider(&self, scheme: &str) -> Option<Provider> {
        match scheme {
            ip::SCHEME => Some(Provider::Ip),
            digest::SCHEME if self.digest_enabled => Some(Provider::Digest),
            "sasl" if self.sasl_enabled => Some(Provider::Sasl),
            "x509" if self.x509_enabled => Some(Provider::X509),
            _ => None,
        }
    }

    /// Whether the caller's `id` of `provider`'s scheme satisfies the ACL id `acl_expr` (`matches`).
    pub fn matches(&self, provider: Provider, id: &str, acl_expr: &str) -> bool {
        match provider {
            Provider::Ip => ip::matches(id, acl_expr),
            Provider::Digest => id == acl_expr,
            Provider::Sasl => {
                id == "super" || id == acl_expr || self.let_any_sasl_user_do_x.as_deref() == Some(acl_expr)
            }
            Provider::X509 => id == acl_expr || self.x509_super_user.as_deref() == Some(id),
        }
    }

    /// The ids an auth packet (`addAuth(scheme, auth_data)`) from `client_ip_id` (the connection's
    /// `ip` id) grants, or `AuthFailed` (after which ZooKeeper closes the connection). `digest` always
    /// succeeds; `ip` re-adds the address; `sasl` is negotiated by its own op and `x509` by the TLS
    /// handshake, so auth packets for them fail, as do unknown schemes.
    pub fn authenticate(&self, scheme: &str, auth_data: &[u8], client_ip_id: &Id) -> Result<Vec<Id>, ErrorCode> {
        match self.provider(scheme) {
            Some(Provider::Digest) => Ok(digest::authenticate(auth_data, self.super_digest.as_deref())),
            Some(Provider::Ip) => Ok(vec![client_ip_id.clone()]),
            Some(Provider::Sasl | Provider::X509) | None => {
                tracing::warn!(scheme, "authentication failed");
                Err(ErrorCode::AuthFailed)
            }
        }
    }

    /// The user name `whoAmI` reports for `id`: the provider's user name, or "" for schemes without a
    /// provider (such as `super`).
    pub fn user_name<'a>(&self, id: &'a Id) -> &'a str {
        self.provider(&id.scheme).map_or("", |p| p.user_name(&id.id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry() {
        let config = AuthConfig::default();
        assert_eq!(config.provider("ip"), Some(Provider::Ip));
        assert_eq!(config.provider("digest"), Some(Provider::Digest));
        // As in ZooKeeper (differential test, `acls` script): sasl and x509 only once registered.
        assert_eq!(config.provider("sasl"), None);
        assert_eq!(config.provider("x509"), None);
        let registered = AuthConfig { sasl_enabled: true, x509_enabled: true, ..AuthConfig::default() };
        assert_eq!(registered.provider("sasl"), Some(Provider::Sasl));
        assert_eq!(registered.provider("x509"), Some(Provider::X509));
        assert_eq!(config.provider("world"), None);
        assert_eq!(config.provider("super"), None);
        assert_eq!(config.provider("auth"), None);
        let no_digest = AuthConfig { digest_enabled: false, ..AuthConfig::default() };
        assert_eq!(no_digest.provider("digest"), None);
        assert!(!Provider::Ip.is_authenticated());
        assert!(Provider::Digest.is_authenticated());
    }

    #[test]
    fn authenticate_by_scheme() {
        let config = AuthConfig::default();
        let ip = Id::new("ip", "127.0.0.1");
        assert_eq!(
            config.authenticate("digest", b"user:password", &ip),
            Ok(vec![Id::new("digest", "user:tpUq/4Pn5A64fVZyQ0gOJ8ZWqkY=")])
        );
        assert_eq!(config.authenticate("ip", b"", &ip), Ok(vec![ip.clone()]));
        assert_eq!(config.authenticate("sasl", b"x", &ip), Err(ErrorCode::AuthFailed));
        assert_eq!(config.authenticate("nope", b"x", &ip), Err(ErrorCode::AuthFailed));
    }

    #[test]
    fn sasl_and_x509_matching() {
        let config = AuthConfig {
            x509_super_user: Some("CN=admin".into()),
            let_any_sasl_user_do_x: Some("anyone-ok".into()),
            ..AuthConfig::default()
        };
        assert!(config.matches(Provider::Sasl, "alice", "alice"));
        assert!(config.matches(Provider::Sasl, "super", "alice"));
        assert!(config.matches(Provider::Sasl, "bob", "anyone-ok"));
        assert!(!config.matches(Provider::Sasl, "bob", "alice"));
        assert!(config.matches(Provider::X509, "CN=admin", "CN=other"));
        assert!(!config.matches(Provider::X509, "CN=x", "CN=other"));
    }
}
