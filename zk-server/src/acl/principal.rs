//! Syntax checks for principal names in `sasl` and `x509` ACL ids.

/// `SASLAuthenticationProvider.isValid`: a name without `@` is always valid; one with `@` must have the
/// Kerberos shape `service[/host]@REALM` (exactly one `@`, at most one `/` before it, none after it).
pub fn is_valid_kerberos_name(id: &str) -> bool {
    let Some((principal, realm)) = id.split_once('@') else {
        return true;
    };
    !realm.contains(['@', '/']) && principal.matches('/').count() <= 1
}

/// `X509AuthenticationProvider.isValid` accepts what `new X500Principal(id)` accepts: an RFC 2253
/// distinguished name. This checks its structure: RDNs separated by `,` or `;`, attribute-value pairs
/// joined by `+`, each `type=value` where the type is a keyword or a dotted OID (optionally prefixed
/// `OID.`) and the value is quoted, `#hex`, or a string whose special characters are `\`-escaped.
/// (The JDK also rejects keywords it does not know; any alphanumeric keyword passes here.)
pub fn is_valid_x500_name(id: &str) -> bool {
    if id.trim().is_empty() {
        return true;
    }
    split_unescaped(id, &[',', ';', '+']).is_some_and(|avas| avas.iter().all(|ava| is_valid_ava(ava)))
}

fn is_valid_ava(ava: &str) -> bool {
    let Some((key, value)) = ava.split_once('=') else {
        return false;
    };
    let key = key.trim();
    let key = key.strip_prefix("OID.").or_else(|| key.strip_prefix("oid.")).unwrap_or(key);
    let keyword = key.starts_with(|c: char| c.is_ascii_alphabetic())
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    let oid = !key.is_empty() && key.split('.').all(|arc| !arc.is_empty() && arc.chars().all(|c| c.is_ascii_digit()));
    if !keyword && !oid {
        return false;
    }
    let value = value.trim();
    if let Some(hex) = value.strip_prefix('#') {
        return !hex.is_empty() && hex.len() % 2 == 0 && hex.chars().all(|c| c.is_ascii_hexdigit());
    }
    // Unquoted '=' is allowed by the JDK's parser in values; quotes must be whole.
    if value.starts_with('"') {
        return value.len() >= 2 && value.ends_with('"');
    }
    !value.contains('"')
}

/// Splits at separators that are neither quoted nor escaped; `None` if a quote is unclosed or the input
/// ends in a lone backslash.
fn split_unescaped(s: &str, separators: &[char]) -> Option<Vec<String>> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                current.push(c);
                current.push(chars.next()?);
            }
            '"' => {
                quoted = !quoted;
                current.push(c);
            }
            c if !quoted && separators.contains(&c) => parts.push(std::mem::take(&mut current)),
            c => current.push(c),
        }
    }
    if quoted {
        return None;
    }
    parts.push(current);
    Some(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kerberos_names() {
        assert!(is_valid_kerberos_name("zkclient"));
        assert!(is_valid_kerberos_name("zookeeper/host.example.com@EXAMPLE.COM"));
        assert!(is_valid_kerberos_name("user@EXAMPLE.COM"));
        assert!(is_valid_kerberos_name("a/b/c"), "no @: taken as a plain service name");
        assert!(!is_valid_kerberos_name("a/b/c@REALM"));
        assert!(!is_valid_kerberos_name("a@b@c"));
        assert!(!is_valid_kerberos_name("a@REALM/x"));
    }

    #[test]
    fn x500_names() {
        assert!(is_valid_x500_name("CN=zk-client,OU=Eng,O=Example\\, Inc.,C=US"));
        assert!(is_valid_x500_name("CN=a+UID=b"));
        assert!(is_valid_x500_name("CN=\"quoted, value\""));
        assert!(is_valid_x500_name("1.2.840.113549.1.9.1=#0403616263"));
        assert!(is_valid_x500_name("OID.2.5.4.3=x"));
        assert!(is_valid_x500_name(""));
        assert!(!is_valid_x500_name("not a dn"));
        assert!(!is_valid_x500_name("CN=\"unclosed"));
        assert!(!is_valid_x500_name("CN=x\\"));
        assert!(!is_valid_x500_name("=x"));
        assert!(!is_valid_x500_name("CN=#abc"));
    }
}
