//! The `digest` scheme: ids `user:base64(sha1("user:password"))` (`DigestAuthenticationProvider`).

use base64::Engine as _;
use sha1::{Digest as _, Sha1};
use zk_proto::Id;

/// The scheme name.
pub const SCHEME: &str = "digest";

/// The id for credentials `user:password`: the part before the first `:` (the whole string when there is
/// none), a `:`, then the standard padded base64 of the SHA-1 of the *whole* string
/// (`DigestAuthenticationProvider.generateDigest`).
pub fn generate_digest(id_password: &str) -> String {
    let user = id_password.split(':').next().unwrap_or_default();
    let hash = Sha1::digest(id_password.as_bytes());
    format!("{user}:{}", base64::engine::general_purpose::STANDARD.encode(hash))
}

/// The ids an `addAuth("digest", auth_data)` grants: `super:` first when the digest equals the
/// configured `super_digest`, then `digest:<generate_digest>`. Never fails: any bytes are credentials
/// (invalid UTF-8 is replaced as Java's `new String(bytes)` does).
pub fn authenticate(auth_data: &[u8], super_digest: Option<&str>) -> Vec<Id> {
    let credentials = String::from_utf8_lossy(auth_data);
    let digest = generate_digest(&credentials);
    let mut ids = Vec::with_capacity(2);
    if super_digest == Some(digest.as_str()) {
        ids.push(Id::new("super", ""));
    }
    ids.push(Id::new(SCHEME, digest));
    ids
}

/// Whether `id` is a well-formed digest ACL id: exactly two `:`-separated parts once trailing empty parts
/// are dropped (Java's `id.split(":").length == 2`, so `user:hash:` is accepted and `user:` is not).
pub fn is_valid(id: &str) -> bool {
    java_split_len(id, ':') == 2
}

/// The user part of a digest id (before the first `:`).
pub fn user_name(id: &str) -> &str {
    id.split(':').next().unwrap_or_default()
}

/// The length of Java's `s.split(String.valueOf(sep))`: trailing empty strings are removed.
fn java_split_len(s: &str, sep: char) -> usize {
    let parts: Vec<&str> = s.split(sep).collect();
    parts.iter().rposition(|p| !p.is_empty()).map_or(0, |last| last + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Oracle: `java -cp /usr/share/java/zookeeper.jar:/usr/share/java/slf4j-api.jar
    /// org.apache.zookeeper.server.auth.DigestAuthenticationProvider user:password super:secret ...`
    /// with Debian's ZooKeeper 3.8.0.
    #[test]
    fn digests_match_apache_zookeeper() {
        assert_eq!(generate_digest("user:password"), "user:tpUq/4Pn5A64fVZyQ0gOJ8ZWqkY=");
        assert_eq!(generate_digest("super:secret"), "super:lK75jTNcA+U9vtVEw5vB51mj/w4=");
        assert_eq!(generate_digest("bob:s3cr3t"), "bob:cQ0mJY/xnHbqKgUcEs5WuAVLKmk=");
        assert_eq!(generate_digest("noColon"), "noColon:1iARQVlpyO0wQkDZk1DZb1pOiC8=");
        assert_eq!(generate_digest("a:b:c"), "a:cLzgnoJ6mP5qz3w+mwvPE2vDgu0=");
        assert_eq!(generate_digest("ünï:cødé"), "ünï:xQllqDAJT4MXfIfWHQyzwXoGn8M=");
    }

    #[test]
    fn authentication_adds_super_on_a_matching_digest() {
        let super_digest = Some("super:lK75jTNcA+U9vtVEw5vB51mj/w4=");
        assert_eq!(
            authenticate(b"super:secret", super_digest),
            vec![Id::new("super", ""), Id::new("digest", "super:lK75jTNcA+U9vtVEw5vB51mj/w4=")]
        );
        assert_eq!(authenticate(b"super:wrong", super_digest).len(), 1);
        assert_eq!(authenticate(b"user:password", None), vec![Id::new("digest", "user:tpUq/4Pn5A64fVZyQ0gOJ8ZWqkY=")]);
        // Arbitrary bytes never fail.
        assert_eq!(authenticate(&[0xff, 0xfe, b':', 0], None).len(), 1);
    }

    #[test]
    fn validity_follows_java_split() {
        assert!(is_valid("user:tpUq/4Pn5A64fVZyQ0gOJ8ZWqkY="));
        assert!(is_valid("user:hash:"), "trailing empty parts are dropped");
        assert!(is_valid(":hash"), "leading empty parts are kept");
        assert!(!is_valid("user:"));
        assert!(!is_valid("user"));
        assert!(!is_valid("a:b:c"));
        assert!(!is_valid(""));
        assert!(!is_valid(":"));
        assert_eq!(user_name("bob:xyz"), "bob");
        assert_eq!(user_name(""), "");
    }
}
