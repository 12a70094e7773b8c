//! Client-side path validation (ZooKeeper's `PathUtils.validatePath`), so a bad path fails fast
//! without a round trip.

use crate::error::Error;

/// Checks `path` against ZooKeeper's path rules. `sequential` allows a trailing `/` (the server appends
/// the sequence number).
pub(crate) fn validate_path(path: &str, sequential: bool) -> Result<(), Error> {
    let bad = |why: &str| Err(Error::InvalidArgument(format!("invalid path {path:?}: {why}")));
    if path.is_empty() {
        return bad("empty");
    }
    if !path.starts_with('/') {
        return bad("must start with /");
    }
    if path.len() == 1 {
        return if sequential { bad("root cannot be sequential") } else { Ok(()) };
    }
    let body = if sequential && path.ends_with('/') { &path[..path.len() - 1] } else { path };
    if body.ends_with('/') {
        return bad("must not end with /");
    }
    for segment in body[1..].split('/') {
        match segment {
            "" => return bad("empty segment"),
            "." | ".." => return bad("relative segment"),
            _ => {}
        }
    }
    // (Surrogates U+D800..U+DFFF, also banned by ZooKeeper, cannot occur in a Rust string.)
    for c in body.chars() {
        let invalid = matches!(c,
            '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '\u{e000}'..='\u{f8ff}' | '\u{fff0}'..='\u{ffff}');
        if invalid {
            return bad("invalid character");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_rejects_like_zookeeper() {
        for ok in ["/", "/a", "/a/b", "/a.b/..c", "/zookeeper/config"] {
            assert_eq!(validate_path(ok, false), Ok(()), "{ok}");
        }
        for bad in ["", "a", "/a/", "//", "/a//b", "/a/./b", "/a/..", "/a\u{0}b", "/a\u{1}"] {
            assert!(validate_path(bad, false).is_err(), "{bad:?}");
        }
        assert_eq!(validate_path("/q/", true), Ok(()));
        assert_eq!(validate_path("/q/item-", true), Ok(()));
        assert!(validate_path("/", true).is_err());
    }
}
