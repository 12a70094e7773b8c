//! The `ip` scheme: a client's address, matched against ACL ids that are an address or a CIDR block
//! (`IPAuthenticationProvider`).

use std::net::IpAddr;

/// The scheme name.
pub const SCHEME: &str = "ip";

/// The id ZooKeeper gives a client address: Java's `InetAddress.getHostAddress()` — dotted quad for IPv4
/// (IPv4-mapped IPv6 addresses count as IPv4, as the JDK reports them), and for IPv6 all eight groups in
/// lowercase hex without leading zeros and without `::` compression (`0:0:0:0:0:0:0:1`).
pub fn java_host_address(addr: IpAddr) -> String {
    match addr {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => v6.segments().iter().map(|s| format!("{s:x}")).collect::<Vec<_>>().join(":"),
        },
    }
}

/// Whether the client address `id` falls within the ACL expression `acl_expr` (an address, or
/// `address/bits`). Both must be the same family; anything malformed does not match.
pub fn matches(id: &str, acl_expr: &str) -> bool {
    let mut parts = acl_expr.splitn(2, '/');
    let Some(mut acl_addr) = parts.next().and_then(addr_to_bytes) else {
        return false;
    };
    let bits = match parts.next() {
        Some(bits) => match parse_prefix(bits, acl_addr.len()) {
            Some(bits) => bits,
            None => return false,
        },
        None => acl_addr.len() * 8,
    };
    mask(&mut acl_addr, bits);
    let Some(mut remote) = addr_to_bytes(id) else {
        return false;
    };
    mask(&mut remote, bits);
    remote == acl_addr
}

/// Whether `id` is a valid `ip` ACL id: an IPv4 or IPv6 address, optionally followed by `/bits` within
/// the address length.
pub fn is_valid(id: &str) -> bool {
    let mut parts = id.splitn(2, '/');
    let Some(addr) = parts.next().and_then(addr_to_bytes) else {
        return false;
    };
    parts.next().is_none_or(|bits| parse_prefix(bits, addr.len()).is_some())
}

fn parse_prefix(bits: &str, addr_len: usize) -> Option<usize> {
    let bits: i32 = bits.parse().ok()?;
    usize::try_from(bits).ok().filter(|b| *b <= addr_len * 8)
}

/// Clears every bit after the first `bits` (`IPAuthenticationProvider.mask`).
fn mask(bytes: &mut [u8], bits: usize) {
    let start = bits / 8;
    let mut start_mask = !((1u16 << (8 - bits % 8)) - 1) as u8;
    for byte in bytes.iter_mut().skip(start) {
        *byte &= start_mask;
        start_mask = 0;
    }
}

/// Java's `addr2Bytes`: IPv6 if there is a `:`, else IPv4 if there is a `.`.
fn addr_to_bytes(addr: &str) -> Option<Vec<u8>> {
    if addr.contains(':') {
        v6_to_bytes(addr).map(|b| b.to_vec())
    } else if addr.contains('.') {
        v4_to_bytes(addr).map(|b| b.to_vec())
    } else {
        None
    }
}

fn v4_to_bytes(addr: &str) -> Option<[u8; 4]> {
    let parts: Vec<&str> = addr.split('.').collect();
    if parts.len() != 4 {
        return None;
    }
    let mut bytes = [0u8; 4];
    for (byte, part) in bytes.iter_mut().zip(parts) {
        // Integer.parseInt: an optional sign then decimal digits, so "+1" and "-0" pass.
        let value: i32 = part.parse().ok()?;
        *byte = u8::try_from(value).ok()?;
    }
    Some(bytes)
}

/// `parseV6addr`: full form or one `::`, each group 1-4 hex digits (parsed as Java's
/// `Integer.parseInt(group, 16)`, which also takes a sign). No embedded IPv4 and no zone.
fn v6_to_bytes(addr: &str) -> Option<[u8; 16]> {
    let halves: Vec<&str> = addr.split("::").collect();
    let split = |s: &str| -> Vec<String> {
        if s.is_empty() {
            Vec::new()
        } else {
            s.split(':').map(str::to_owned).collect()
        }
    };
    let (head, tail) = match halves.as_slice() {
        [whole] => {
            let groups: Vec<String> = whole.split(':').map(str::to_owned).collect();
            if groups.len() != 8 {
                return None;
            }
            (groups, Vec::new())
        }
        [head, tail] => {
            let (head, tail) = (split(head), split(tail));
            if head.len() + tail.len() >= 8 {
                return None;
            }
            (head, tail)
        }
        _ => return None,
    };
    let mut bytes = [0u8; 16];
    parse_groups(&mut bytes[..], 0, &head)?;
    parse_groups(&mut bytes[..], 16 - tail.len() * 2, &tail)?;
    Some(bytes)
}

fn parse_groups(bytes: &mut [u8], mut at: usize, groups: &[String]) -> Option<()> {
    for group in groups {
        if group.is_empty() || group.chars().count() > 4 {
            return None;
        }
        let value = i32::from_str_radix(group, 16).ok()?;
        *bytes.get_mut(at)? = (value >> 8) as u8;
        *bytes.get_mut(at + 1)? = value as u8;
        at += 2;
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_address_formats_like_java() {
        assert_eq!(java_host_address("10.1.2.3".parse().unwrap()), "10.1.2.3");
        assert_eq!(java_host_address("::1".parse().unwrap()), "0:0:0:0:0:0:0:1");
        assert_eq!(java_host_address("fe80::a:BC:0".parse().unwrap()), "fe80:0:0:0:0:a:bc:0");
        assert_eq!(java_host_address("::ffff:192.168.0.9".parse().unwrap()), "192.168.0.9");
    }

    #[test]
    fn ipv4_exact_and_cidr() {
        assert!(matches("10.1.2.3", "10.1.2.3"));
        assert!(!matches("10.1.2.4", "10.1.2.3"));
        assert!(matches("10.200.3.4", "10.0.0.0/8"));
        assert!(!matches("11.0.0.1", "10.0.0.0/8"));
        assert!(matches("192.168.1.77", "192.168.1.64/26"));
        assert!(!matches("192.168.1.128", "192.168.1.64/26"));
        assert!(matches("1.2.3.4", "9.9.9.9/0"));
        assert!(matches("1.2.3.4", "1.2.3.4/32"));
        assert!(!matches("1.2.3.4", "1.2.3.4/33"));
        assert!(!matches("1.2.3.4", "1.2.3.4/"));
        assert!(!matches("1.2.3.4", "1.2.3.4/-1"));
        assert!(matches("01.2.3.4", "+1.2.3.4"), "Integer.parseInt accepts leading zeros and a plus sign");
    }

    #[test]
    fn ipv6_exact_and_cidr() {
        assert!(matches("0:0:0:0:0:0:0:1", "::1"));
        assert!(matches("::1", "0:0:0:0:0:0:0:1/128"));
        assert!(matches("2001:db8:0:0:0:0:0:42", "2001:db8::/32"));
        assert!(!matches("2001:db9:0:0:0:0:0:42", "2001:db8::/32"));
        assert!(matches("fe80:0:0:0:1:2:3:4", "fe80::/10"));
        assert!(!matches("10.0.0.1", "::/0"), "families must agree");
        assert!(!matches("::1", "0.0.0.0/0"));
        assert!(!matches("::1", "::1/129"));
    }

    #[test]
    fn malformed_never_matches_nor_validates() {
        for bad in [
            "",
            "abc",
            "1.2.3",
            "1.2.3.4.5",
            "256.1.1.1",
            "1.2.3.x",
            ":::",
            "1::2::3",
            "12345::",
            "::g",
            "1:2:3:4:5:6:7:8:9",
        ] {
            assert!(!is_valid(bad), "{bad}");
            assert!(!matches("1.2.3.4", bad), "{bad}");
            assert!(!matches(bad, "0.0.0.0/0"), "{bad}");
        }
        assert!(!is_valid("1:2:3:4:5:6:7::8"), "8 explicit groups with :: is too many");
        assert!(!is_valid("::ffff:1.2.3.4"), "no embedded IPv4, as in ZooKeeper");
        assert!(!is_valid("fe80::1%eth0"));
    }

    #[test]
    fn validity() {
        assert!(is_valid("10.0.0.0/8"));
        assert!(is_valid("10.0.0.1"));
        assert!(is_valid("::/0"));
        assert!(is_valid("2001:db8::/32"));
        assert!(!is_valid("10.0.0.0/33"));
        assert!(!is_valid("10.0.0.0/x"));
        assert!(is_valid("1:2:3:4:5:6:7:8"));
        // Java parses each group with a sign allowed: "-1" is 0xffff.
        assert!(matches("ffff:0:0:0:0:0:0:0", "-1::"));
    }

    /// Oracle: IPAuthenticationProvider's parsing and matching methods copied verbatim from ZooKeeper
    /// release-3.9.5 into a Java 17 harness compiled in /tmp, which printed `matches(id, expr)` and
    /// `isValid(id)` for these inputs.
    #[test]
    fn agrees_with_zookeeper_3_9_5() {
        const MATCHES: &[(&str, &str, bool)] = &[
            ("10.1.2.3", "10.1.2.3", true),
            ("10.1.2.4", "10.1.2.3", false),
            ("10.200.3.4", "10.0.0.0/8", true),
            ("11.0.0.1", "10.0.0.0/8", false),
            ("192.168.1.77", "192.168.1.64/26", true),
            ("192.168.1.128", "192.168.1.64/26", false),
            ("1.2.3.4", "9.9.9.9/0", true),
            ("1.2.3.4", "1.2.3.4/32", true),
            ("1.2.3.4", "1.2.3.4/33", false),
            ("1.2.3.4", "1.2.3.4/", false),
            ("1.2.3.4", "1.2.3.4/-1", false),
            ("01.2.3.4", "+1.2.3.4", true),
            ("0:0:0:0:0:0:0:1", "::1", true),
            ("::1", "0:0:0:0:0:0:0:1/128", true),
            ("2001:db8:0:0:0:0:0:42", "2001:db8::/32", true),
            ("2001:db9:0:0:0:0:0:42", "2001:db8::/32", false),
            ("fe80:0:0:0:1:2:3:4", "fe80::/10", true),
            ("10.0.0.1", "::/0", false),
            ("::1", "0.0.0.0/0", false),
            ("::1", "::1/129", false),
            ("ffff:0:0:0:0:0:0:0", "-1::", true),
            ("1.2.3.4", "1:2:3:4:5:6:7::8", false),
            ("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8", true),
            ("0:0:0:0:0:ffff:102:304", "::ffff:1.2.3.4", false),
            ("1.2.3.4", ":::", false),
            ("1.2.3.4", "1::2::3", false),
            ("1.2.3.4", "12345::", false),
            ("0:0:0:0:0:0:0:0", "::", true),
            ("1:0:0:0:0:0:0:0", "1::", true),
            ("fe80:0:0:0:0:0:0:1%eth0", "fe80::1", false),
            ("1.2.3.4", "1.2.3.4/8/8", false),
        ];
        const VALID: &[(&str, bool)] = &[
            ("10.0.0.0/8", true),
            ("10.0.0.1", true),
            ("::/0", true),
            ("2001:db8::/32", true),
            ("10.0.0.0/33", false),
            ("10.0.0.0/x", false),
            ("1:2:3:4:5:6:7:8", true),
            ("", false),
            ("abc", false),
            ("1.2.3", false),
            ("256.1.1.1", false),
            (":::", false),
            ("1::2::3", false),
            ("12345::", false),
            ("::g", false),
            ("1:2:3:4:5:6:7:8:9", false),
            ("1:2:3:4:5:6:7::8", false),
            ("::ffff:1.2.3.4", false),
            ("fe80::1%eth0", false),
            ("+1.2.3.4/+8", true),
            ("-0.0.0.0", true),
        ];
        for (id, expr, expected) in MATCHES {
            assert_eq!(matches(id, expr), *expected, "matches({id}, {expr})");
        }
        for (id, expected) in VALID {
            assert_eq!(is_valid(id), *expected, "is_valid({id})");
        }
    }
}
