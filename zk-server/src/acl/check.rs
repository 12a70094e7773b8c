//! The ACL check (`ZooKeeperServer.checkACL`).

use zk_proto::{Acl, ErrorCode, Id};

use super::AuthConfig;

impl AuthConfig {
    /// Whether a caller authenticated as `ids` may do `perm` (one or more [`perms`](zk_proto::perms)
    /// bits: any one suffices) on a node whose ACL is `acl`. In ZooKeeper's order:
    /// `skip_acl` passes everything; an empty ACL passes; a `super` id passes; then each ACL entry that
    /// grants one of the bits passes if it is `world:anyone` or if one of `ids` of the same scheme
    /// matches it through the scheme's provider. Otherwise `NoAuth`.
    pub fn check_acl(&self, acl: &[Acl], ids: &[Id], perm: i32) -> Result<(), ErrorCode> {
        if self.skip_acl || acl.is_empty() || ids.iter().any(|id| id.scheme == "super") {
            return Ok(());
        }
        for entry in acl.iter().filter(|entry| entry.perms & perm != 0) {
            let id = &entry.id;
            if id.scheme == "world" && id.id == "anyone" {
                return Ok(());
            }
            let Some(provider) = self.provider(&id.scheme) else {
                continue;
            };
            if ids.iter().any(|auth| auth.scheme == id.scheme && self.matches(provider, &auth.id, &id.id)) {
                return Ok(());
            }
        }
        tracing::debug!(perm, "ACL check failed");
        Err(ErrorCode::NoAuth)
    }
}

#[cfg(test)]
mod tests {
    use zk_proto::perms::{ADMIN, ALL, CREATE, DELETE, READ, WRITE};

    use super::*;

    const USER: &str = "user:tpUq/4Pn5A64fVZyQ0gOJ8ZWqkY=";

    fn ip(addr: &str) -> Id {
        Id::new("ip", addr)
    }

    #[test]
    fn world_anyone_with_the_bit() {
        let config = AuthConfig::default();
        let acl = Acl::read_unsafe();
        assert_eq!(config.check_acl(&acl, &[ip("1.2.3.4")], READ), Ok(()));
        assert_eq!(config.check_acl(&acl, &[ip("1.2.3.4")], WRITE), Err(ErrorCode::NoAuth));
        assert_eq!(config.check_acl(&acl, &[], READ | ADMIN), Ok(()), "any requested bit suffices");
        assert_eq!(config.check_acl(&Acl::open_unsafe(), &[], DELETE), Ok(()));
        assert_eq!(config.check_acl(&[Acl::new(READ, Id::new("world", "someone"))], &[], READ), Err(ErrorCode::NoAuth));
    }

    #[test]
    fn digest_and_ip_entries() {
        let config = AuthConfig::default();
        let acl = vec![Acl::new(ALL, Id::new("digest", USER)), Acl::new(READ, ip("10.0.0.0/8"))];
        let digest_user = [ip("192.168.0.1"), Id::new("digest", USER)];
        assert_eq!(config.check_acl(&acl, &digest_user, WRITE), Ok(()));
        assert_eq!(config.check_acl(&acl, &[ip("10.9.8.7")], READ), Ok(()));
        assert_eq!(config.check_acl(&acl, &[ip("10.9.8.7")], CREATE), Err(ErrorCode::NoAuth));
        assert_eq!(config.check_acl(&acl, &[ip("11.0.0.1")], READ), Err(ErrorCode::NoAuth));
        // Schemes must agree: a digest id never matches an ip entry.
        assert_eq!(config.check_acl(&acl, &[Id::new("digest", "10.0.0.1")], READ), Err(ErrorCode::NoAuth));
    }

    #[test]
    fn super_skip_and_empty() {
        let acl = vec![Acl::new(READ, Id::new("digest", USER))];
        let config = AuthConfig::default();
        assert_eq!(config.check_acl(&acl, &[Id::new("super", "")], ADMIN), Ok(()));
        assert_eq!(config.check_acl(&[], &[], ADMIN), Ok(()), "an empty ACL allows everything");
        let skip = AuthConfig { skip_acl: true, ..AuthConfig::default() };
        assert_eq!(skip.check_acl(&acl, &[], ADMIN), Ok(()));
        // An entry whose scheme has no provider never matches.
        let no_digest = AuthConfig { digest_enabled: false, ..AuthConfig::default() };
        assert_eq!(no_digest.check_acl(&acl, &[Id::new("digest", USER)], READ), Err(ErrorCode::NoAuth));
    }

    /// Oracle: `ZooKeeperServer.checkACL` of Debian's ZooKeeper 3.8.0 jar on a `new ZooKeeperServer()`,
    /// called from a Java 17 harness in /tmp (OK or NoAuthException per case).
    #[test]
    fn agrees_with_zookeeper_3_8_check_acl() {
        let config = AuthConfig::default();
        let mixed = vec![Acl::new(ALL, Id::new("digest", USER)), Acl::new(READ, ip("10.0.0.0/8"))];
        type Case<'a> = (&'a str, Vec<Acl>, Vec<Id>, i32, bool);
        let cases: Vec<Case<'_>> = vec![
            ("read_unsafe ip READ", Acl::read_unsafe(), vec![ip("1.2.3.4")], READ, true),
            ("read_unsafe ip WRITE", Acl::read_unsafe(), vec![ip("1.2.3.4")], WRITE, false),
            ("read_unsafe none READ|ADMIN", Acl::read_unsafe(), vec![], READ | ADMIN, true),
            ("world:someone", vec![Acl::new(READ, Id::new("world", "someone"))], vec![], READ, false),
            ("mixed digest WRITE", mixed.clone(), vec![ip("192.168.0.1"), Id::new("digest", USER)], WRITE, true),
            ("mixed ip10 READ", mixed.clone(), vec![ip("10.9.8.7")], READ, true),
            ("mixed ip10 CREATE", mixed.clone(), vec![ip("10.9.8.7")], CREATE, false),
            ("mixed ip11 READ", mixed.clone(), vec![ip("11.0.0.1")], READ, false),
            ("mixed digest-as-ip READ", mixed, vec![Id::new("digest", "10.0.0.1")], READ, false),
            ("super ADMIN", vec![Acl::new(READ, Id::new("digest", USER))], vec![Id::new("super", "")], ADMIN, true),
            ("empty acl", vec![], vec![], ADMIN, true),
            ("perm0 world", vec![Acl::new(0, Id::anyone())], vec![], READ, false),
            ("unknown scheme", vec![Acl::new(ALL, Id::new("foo", "bar"))], vec![Id::new("foo", "bar")], READ, false),
        ];
        for (name, acl, ids, perm, allowed) in cases {
            assert_eq!(config.check_acl(&acl, &ids, perm).is_ok(), allowed, "{name}");
        }
    }
}
