//! Typed values from property strings, read the way Java reads them.

use super::{ConfigError, Property};

/// `Integer.parseInt`: an optional sign then decimal digits, within `i32`.
pub(crate) fn int(p: &Property) -> Result<i32, ConfigError> {
    p.value.parse().map_err(|_| invalid_number(p))
}

/// `Long.parseLong`.
pub(crate) fn long(p: &Property) -> Result<i64, ConfigError> {
    p.value.parse().map_err(|_| invalid_number(p))
}

/// `QuorumPeerConfig.parseBoolean`: `true` or `false` in any case, nothing else.
pub(crate) fn boolean(p: &Property) -> Result<bool, ConfigError> {
    if p.value.eq_ignore_ascii_case("true") {
        Ok(true)
    } else if p.value.eq_ignore_ascii_case("false") {
        Ok(false)
    } else {
        Err(ConfigError::InvalidBoolean { key: p.key.clone(), line: p.line, value: p.value.clone() })
    }
}

/// A TCP port: `Integer.parseInt`, then 0..=65535 (`InetSocketAddress` rejects the rest).
pub(crate) fn port(p: &Property) -> Result<u16, ConfigError> {
    let value = int(p)?;
    u16::try_from(value).map_err(|_| ConfigError::OutOfRange {
        key: p.key.clone(),
        line: p.line,
        message: format!("port out of range: {value}"),
    })
}

pub(crate) fn invalid_number(p: &Property) -> ConfigError {
    ConfigError::InvalidNumber { key: p.key.clone(), line: p.line, value: p.value.clone() }
}

/// `Integer.decode` (what `Integer.getInteger` uses): an optional sign, then `0x`/`0X`/`#` hex, a
/// leading `0` octal, or decimal. `None` if malformed or out of range.
pub(crate) fn java_decode_int(s: &str) -> Option<i32> {
    let (negative, digits) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let (radix, digits) = if let Some(hex) = digits.strip_prefix("0x").or_else(|| digits.strip_prefix("0X")) {
        (16, hex)
    } else if let Some(hex) = digits.strip_prefix('#') {
        (16, hex)
    } else if digits.len() > 1 && digits.starts_with('0') {
        (8, &digits[1..])
    } else {
        (10, digits)
    };
    if digits.is_empty() || digits.starts_with(['-', '+']) {
        return None;
    }
    let magnitude = i64::from_str_radix(digits, radix).ok()?;
    i32::try_from(if negative { -magnitude } else { magnitude }).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prop(value: &str) -> Property {
        Property { key: "k".into(), value: value.into(), line: 3 }
    }

    #[test]
    fn java_number_rules() {
        assert_eq!(int(&prop("+42")), Ok(42));
        assert_eq!(int(&prop("-7")), Ok(-7));
        assert!(int(&prop("2147483648")).is_err());
        assert!(int(&prop("1_000")).is_err());
        assert!(int(&prop("")).is_err());
        assert_eq!(long(&prop("9223372036854775807")), Ok(i64::MAX));
        assert_eq!(port(&prop("65535")), Ok(65535));
        assert!(matches!(port(&prop("65536")), Err(ConfigError::OutOfRange { line: 3, .. })));
        assert!(port(&prop("-1")).is_err());
    }

    #[test]
    fn booleans_are_strict() {
        assert_eq!(boolean(&prop("TRUE")), Ok(true));
        assert_eq!(boolean(&prop("False")), Ok(false));
        assert_eq!(
            boolean(&prop("yes")),
            Err(ConfigError::InvalidBoolean { key: "k".into(), line: 3, value: "yes".into() })
        );
    }

    #[test]
    fn integer_decode() {
        assert_eq!(java_decode_int("100000"), Some(100000));
        assert_eq!(java_decode_int("0x10"), Some(16));
        assert_eq!(java_decode_int("#ff"), Some(255));
        assert_eq!(java_decode_int("010"), Some(8));
        assert_eq!(java_decode_int("0"), Some(0));
        assert_eq!(java_decode_int("-0x80000000"), Some(i32::MIN));
        assert_eq!(java_decode_int("0x80000000"), None);
        assert_eq!(java_decode_int("09"), None);
        assert_eq!(java_decode_int("--1"), None);
        assert_eq!(java_decode_int("abc"), None);
        assert_eq!(java_decode_int(""), None);
    }
}
