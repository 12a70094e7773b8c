//! Fixing up a submitted ACL (`PrepRequestProcessor.fixupACL`).

use zk_proto::{Acl, ErrorCode, Id};

use super::AuthConfig;

impl AuthConfig {
    /// The ACL to store for a create or setACL that submitted `submitted`, from a caller authenticated as
    /// `ids`. As ZooKeeper: exact duplicates are removed first (keeping the first of each); an empty list is
    /// `InvalidAcl`; `world:anyone` is kept; an `auth` entry (whatever its id) becomes one entry with its
    /// perms per authenticated id of the caller, in order (ids whose provider does not authenticate, such
    /// as `ip`, and ids without a provider, such as `super`, are skipped; none left is `InvalidAcl`);
    /// any other entry must name a registered scheme whose provider accepts the id, or it is `InvalidAcl`.
    /// Perms are not checked. Entries produced by `auth` expansion are not deduplicated again.
    pub fn fix_acl(&self, submitted: &[Acl], ids: &[Id]) -> Result<Vec<Acl>, ErrorCode> {
        let unique = remove_duplicates(submitted);
        if unique.is_empty() {
            return Err(ErrorCode::InvalidAcl);
        }
        let mut fixed = Vec::with_capacity(unique.len());
        for acl in unique {
            let id = &acl.id;
            if id.scheme == "world" && id.id == "anyone" {
                fixed.push(acl.clone());
            } else if id.scheme == "auth" {
                let before = fixed.len();
                for caller in ids {
                    match self.provider(&caller.scheme) {
                        Some(provider) if provider.is_authenticated() => {
                            fixed.push(Acl::new(acl.perms, caller.clone()))
                        }
                        Some(_) => {}
                        None => tracing::debug!(scheme = %caller.scheme, "no provider for an authenticated id"),
                    }
                }
                if fixed.len() == before {
                    return Err(ErrorCode::InvalidAcl);
                }
            } else {
                match self.provider(&id.scheme) {
                    Some(provider) if provider.is_valid(&id.id) => fixed.push(acl.clone()),
                    _ => return Err(ErrorCode::InvalidAcl),
                }
            }
        }
        Ok(fixed)
    }
}

/// `removeDuplicates`: the first occurrence of each distinct entry, in order.
fn remove_duplicates(acls: &[Acl]) -> Vec<&Acl> {
    let mut unique: Vec<&Acl> = Vec::with_capacity(acls.len());
    for acl in acls {
        if !unique.contains(&acl) {
            unique.push(acl);
        }
    }
    unique
}

#[cfg(test)]
mod tests {
    use zk_proto::perms::{ALL, READ, WRITE};

    use super::*;

    const USER: &str = "user:tpUq/4Pn5A64fVZyQ0gOJ8ZWqkY=";

    fn caller() -> Vec<Id> {
        vec![Id::new("ip", "127.0.0.1"), Id::new("super", ""), Id::new("digest", USER), Id::new("sasl", "alice")]
    }

    #[test]
    fn auth_expands_to_authenticated_ids() {
        let config = AuthConfig { sasl_enabled: true, x509_enabled: true, ..AuthConfig::default() };
        assert_eq!(
            config.fix_acl(&Acl::creator_all(), &caller()),
            Ok(vec![Acl::new(ALL, Id::new("digest", USER)), Acl::new(ALL, Id::new("sasl", "alice"))])
        );
        // Only an address: nothing authenticated.
        assert_eq!(config.fix_acl(&Acl::creator_all(), &[Id::new("ip", "127.0.0.1")]), Err(ErrorCode::InvalidAcl));
        assert_eq!(config.fix_acl(&Acl::creator_all(), &[]), Err(ErrorCode::InvalidAcl));
        // The id of an auth entry is ignored.
        assert_eq!(
            config.fix_acl(&[Acl::new(READ, Id::new("auth", "whatever"))], &caller()[2..3]),
            Ok(vec![Acl::new(READ, Id::new("digest", USER))])
        );
    }

    #[test]
    fn duplicates_removed_before_expansion() {
        let config = AuthConfig::default();
        let world = Acl::new(READ, Id::anyone());
        let digest = Acl::new(ALL, Id::new("digest", USER));
        assert_eq!(
            config.fix_acl(&[world.clone(), world.clone(), digest.clone(), world.clone()], &[]),
            Ok(vec![world.clone(), digest.clone()])
        );
        // Same id with other perms is not a duplicate.
        let digest_read = Acl::new(READ, Id::new("digest", USER));
        assert_eq!(config.fix_acl(&[digest.clone(), digest_read.clone()], &[]), Ok(vec![digest.clone(), digest_read]));
        // Expansion may reintroduce a duplicate; ZooKeeper keeps it.
        assert_eq!(
            config.fix_acl(&[digest.clone(), Acl::new(ALL, Id::auth_ids())], &caller()[2..3]),
            Ok(vec![digest.clone(), digest])
        );
    }

    #[test]
    fn validation_per_scheme() {
        let config = AuthConfig { sasl_enabled: true, x509_enabled: true, ..AuthConfig::default() };
        let ok = |acl: Acl| assert_eq!(config.fix_acl(std::slice::from_ref(&acl), &[]), Ok(vec![acl]));
        let bad = |acl: Acl| assert_eq!(config.fix_acl(&[acl], &[]), Err(ErrorCode::InvalidAcl));
        ok(Acl::new(ALL, Id::anyone()));
        ok(Acl::new(0, Id::anyone()));
        ok(Acl::new(WRITE, Id::new("ip", "10.0.0.0/8")));
        ok(Acl::new(WRITE, Id::new("ip", "::1")));
        ok(Acl::new(READ, Id::new("digest", USER)));
        ok(Acl::new(READ, Id::new("sasl", "zk/host@REALM")));
        ok(Acl::new(READ, Id::new("x509", "CN=client,O=Org")));
        bad(Acl::new(READ, Id::new("digest", "user:password:extra")));
        bad(Acl::new(READ, Id::new("digest", "plainuser")));
        bad(Acl::new(READ, Id::new("ip", "10.0.0.0/40")));
        bad(Acl::new(READ, Id::new("ip", "localhost")));
        bad(Acl::new(READ, Id::new("world", "everyone")));
        bad(Acl::new(READ, Id::new("super", "")));
        bad(Acl::new(READ, Id::new("", "")));
        bad(Acl::new(READ, Id::new("sasl", "a@b@c")));
        bad(Acl::new(READ, Id::new("x509", "garbage")));
        assert_eq!(config.fix_acl(&[], &caller()), Err(ErrorCode::InvalidAcl));
    }

    /// Oracle: `PrepRequestProcessor.fixupACL` of Debian's ZooKeeper 3.8.0 jar, called from a Java 17
    /// harness in /tmp (that registry has only `ip` and `digest`, and 3.8 knows no IPv6 ACLs, so those
    /// cases are left out; `None` stands for InvalidACLException).
    #[test]
    fn agrees_with_zookeeper_3_8_fixup_acl() {
        let config = AuthConfig { sasl_enabled: false, x509_enabled: false, ..AuthConfig::default() };
        let digest = |perms| Acl::new(perms, Id::new("digest", USER));
        let expanded = config.fix_acl(&Acl::creator_all(), &caller()).ok();
        assert_eq!(expanded, Some(vec![digest(ALL)]), "sasl unregistered: only the digest id");
        assert_eq!(config.fix_acl(&Acl::creator_all(), &caller()[..1]).ok(), None);
        let twice = config.fix_acl(&[digest(ALL), Acl::new(ALL, Id::new("auth", "x"))], &caller()[2..3]).ok();
        assert_eq!(twice, Some(vec![digest(ALL), digest(ALL)]));
        let world = Acl::new(READ, Id::anyone());
        let uh = Acl::new(ALL, Id::new("digest", "u:h"));
        let deduped = config.fix_acl(&[world.clone(), world.clone(), uh.clone(), world.clone()], &caller()).ok();
        assert_eq!(deduped, Some(vec![world, uh]));
        assert_eq!(config.fix_acl(&[], &caller()).ok(), None);
        let cases: &[(&str, &str, bool)] = &[
            ("digest", "user:hash:", true),
            ("digest", ":hash", true),
            ("digest", "user:", false),
            ("digest", "a:b:c", false),
            ("digest", "plain", false),
            ("ip", "10.0.0.0/8", true),
            ("ip", "10.0.0.0/33", false),
            ("ip", "localhost", false),
            ("ip", "+1.2.3.4", true),
            ("ip", "1.2.3.4/+8", true),
            ("ip", "::ffff:1.2.3.4", false),
            ("world", "everyone", false),
            ("super", "", false),
            ("sasl", "x", false),
            ("x509", "CN=a", false),
            ("", "", false),
        ];
        for (scheme, id, valid) in cases {
            let acl = Acl::new(READ, Id::new(*scheme, *id));
            let fixed = config.fix_acl(std::slice::from_ref(&acl), &caller()).ok();
            assert_eq!(fixed, valid.then(|| vec![acl.clone()]), "{scheme}:{id}");
        }
    }
}
