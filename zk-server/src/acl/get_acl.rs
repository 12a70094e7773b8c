//! What getACL shows (`FinalRequestProcessor`, case getACL).

use zk_proto::{perms, Acl, ErrorCode, Id};

use super::AuthConfig;

impl AuthConfig {
    /// The ACL a getACL of a node with ACL `acl` returns to a caller authenticated as `ids`: `NoAuth`
    /// without READ or ADMIN; the ACL as stored with ADMIN; otherwise with digest hashes hidden
    /// ([`mask_digest_ids`]).
    pub fn acl_for_get_acl(&self, acl: &[Acl], ids: &[Id]) -> Result<Vec<Acl>, ErrorCode> {
        self.check_acl(acl, ids, perms::READ | perms::ADMIN)?;
        match self.check_acl(acl, ids, perms::ADMIN) {
            Ok(()) => Ok(acl.to_vec()),
            Err(_) => Ok(mask_digest_ids(acl)),
        }
    }
}

/// `acl` with every `digest` id's hash replaced by `x` (`user:hash` → `user:x`): Java's
/// `id.replaceAll(":.*", ":x")`, which works line by line since `.` does not cross line terminators.
pub fn mask_digest_ids(acl: &[Acl]) -> Vec<Acl> {
    acl.iter()
        .map(|entry| {
            if entry.id.scheme == "digest" {
                Acl::new(entry.perms, Id::new("digest", mask_hash(&entry.id.id)))
            } else {
                entry.clone()
            }
        })
        .collect()
}

fn mask_hash(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    let mut in_match = false;
    for c in id.chars() {
        let terminator = matches!(c, '\n' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}');
        if terminator {
            in_match = false;
            out.push(c);
        } else if in_match {
            continue;
        } else if c == ':' {
            in_match = true;
            out.push_str(":x");
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use zk_proto::perms::{ADMIN, ALL, READ};

    use super::*;

    const USER: &str = "user:tpUq/4Pn5A64fVZyQ0gOJ8ZWqkY=";

    #[test]
    fn masking() {
        assert_eq!(mask_hash(USER), "user:x");
        assert_eq!(mask_hash("nocolon"), "nocolon");
        assert_eq!(mask_hash("a:b:c"), "a:x");
        assert_eq!(mask_hash(":"), ":x");
        assert_eq!(mask_hash("u:a\nv:b"), "u:x\nv:x");
        let acl = vec![Acl::new(ALL, Id::new("digest", USER)), Acl::new(READ, Id::new("ip", "1.2.3.4"))];
        assert_eq!(mask_digest_ids(&acl), vec![Acl::new(ALL, Id::new("digest", "user:x")), acl[1].clone()]);
    }

    #[test]
    fn get_acl_needs_read_or_admin_and_admin_sees_hashes() {
        let config = AuthConfig::default();
        let acl = vec![Acl::new(ADMIN, Id::new("digest", USER)), Acl::new(READ, Id::anyone())];
        assert_eq!(config.acl_for_get_acl(&acl, &[Id::new("digest", USER)]), Ok(acl.clone()));
        assert_eq!(
            config.acl_for_get_acl(&acl, &[Id::new("ip", "1.1.1.1")]),
            Ok(vec![Acl::new(ADMIN, Id::new("digest", "user:x")), Acl::new(READ, Id::anyone())])
        );
        let private = vec![Acl::new(ALL, Id::new("digest", USER))];
        assert_eq!(config.acl_for_get_acl(&private, &[Id::new("ip", "1.1.1.1")]), Err(ErrorCode::NoAuth));
        assert_eq!(config.acl_for_get_acl(&private, &[Id::new("super", "")]), Ok(private.clone()));
    }
}
