//! Znode path rules and helpers.
//!
//! [`validate_path`] accepts exactly the paths ZooKeeper's `PathUtils.validatePath` accepts. Java walks the
//! path one UTF-16 code unit at a time; every character outside the Basic Multilingual Plane is a surrogate
//! pair there and surrogates are rejected, so checking Unicode scalar values gives the same verdict.

use zk_proto::ErrorCode;

/// Checks a znode path as ZooKeeper's `PathUtils.validatePath` does.
///
/// A valid path starts with `/`, does not end with `/` (unless it is the root), has no empty segment, no
/// `.` or `..` segment, no NUL and no character in U+0001–U+001F, U+007F–U+009F, U+D800–U+F8FF or
/// U+FFF0–U+FFFF (nor beyond U+FFFF). Anything else is [`ErrorCode::BadArguments`].
pub fn validate_path(path: &str) -> Result<(), ErrorCode> {
    let bytes = path.as_bytes();
    match bytes {
        [] => return Err(ErrorCode::BadArguments),
        [b'/'] => return Ok(()),
        [first, ..] if *first != b'/' => return Err(ErrorCode::BadArguments),
        [.., b'/'] => return Err(ErrorCode::BadArguments),
        _ => {}
    }
    // Segments between slashes: none empty, none "." or "..".
    for segment in path[1..].split('/') {
        if segment.is_empty() || segment == "." || segment == ".." {
            return Err(ErrorCode::BadArguments);
        }
    }
    if path.chars().any(is_forbidden_char) {
        return Err(ErrorCode::BadArguments);
    }
    Ok(())
}

/// Checks the path of a sequential create: the server appends a counter, so the requested path may end
/// in `/` (`PathUtils.validatePath(path, true)` checks `path + "1"`).
pub fn validate_sequential_path(path: &str) -> Result<(), ErrorCode> {
    let mut with_suffix = String::with_capacity(path.len() + 1);
    with_suffix.push_str(path);
    with_suffix.push('1');
    validate_path(&with_suffix)
}

/// Checks a path for a create, sequential or not.
pub fn validate_create_path(path: &str, sequential: bool) -> Result<(), ErrorCode> {
    if sequential {
        validate_sequential_path(path)
    } else {
        validate_path(path)
    }
}

fn is_forbidden_char(c: char) -> bool {
    // Surrogates (U+D800–U+DFFF) cannot occur in a `str`; U+E000–U+F8FF is the rest of Java's range.
    matches!(c, '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '\u{e000}'..='\u{f8ff}' | '\u{fff0}'..)
}

/// The parent of a path: `/a/b` → `/a`, `/a` → `/`. `None` for the root and for strings without a `/`.
pub fn parent(path: &str) -> Option<&str> {
    let slash = path.rfind('/')?;
    if path == "/" {
        return None;
    }
    Some(if slash == 0 { "/" } else { &path[..slash] })
}

/// The last segment of a path: `/a/b` → `b`; the root's name is the empty string.
pub fn name(path: &str) -> &str {
    path.rfind('/').map_or(path, |slash| &path[slash + 1..])
}

/// Splits a path into ZooKeeper's `(parentName, childName)`: the text before and after the last `/`.
/// The root's children have parent `""` (ZooKeeper's internal root name). `None` if there is no `/`.
pub(crate) fn split_last(path: &str) -> Option<(&str, &str)> {
    let slash = path.rfind('/')?;
    Some((&path[..slash], &path[slash + 1..]))
}

/// A path's length in UTF-16 code units (Java's `String.length()`), used by ZooKeeper's size accounting.
pub(crate) fn java_len(path: &str) -> usize {
    if path.is_ascii() {
        path.len()
    } else {
        path.chars().map(char::len_utf16).sum()
    }
}

/// The path of a sequential node: `path` followed by the counter as `%010d` (negative counters keep their
/// sign, as Java's `String.format` does).
pub fn sequential_path(path: &str, counter: i32) -> String {
    format!("{path}{counter:010}")
}

/// The ancestors of a path from the path itself up to the root: `/a/b`, `/a`, `/` (ZooKeeper's
/// `PathParentIterator.forAll`).
pub fn self_and_ancestors(path: &str) -> impl Iterator<Item = &str> {
    let mut next = if path.is_empty() { None } else { Some(path) };
    std::iter::from_fn(move || {
        let current = next?;
        next = if current == "/" {
            None
        } else {
            match current.rfind('/') {
                Some(0) => Some("/"),
                Some(slash) => Some(&current[..slash]),
                None => None,
            }
        };
        Some(current)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validate_path_accepts_what_zookeeper_accepts() {
        for ok in ["/", "/a", "/a/b", "/a.b", "/...", "/a/.b", "/a/b..", "/ü", "/a b", "/\u{a0}", "/\u{ffef}"] {
            assert_eq!(validate_path(ok), Ok(()), "{ok:?}");
        }
    }

    #[test]
    fn validate_path_rejects_what_zookeeper_rejects() {
        for bad in [
            "",
            "a",
            "a/b",
            "/a/",
            "//",
            "/a//b",
            "/.",
            "/..",
            "/a/.",
            "/a/..",
            "/./a",
            "/../a",
            "/a\0b",
            "/a\u{1}",
            "/\u{1f}",
            "/\u{7f}",
            "/\u{9f}",
            "/\u{d7ff}\u{e000}",
            "/\u{f8ff}",
            "/\u{fff0}",
            "/\u{ffff}",
            "/😀",
        ] {
            assert_eq!(validate_path(bad), Err(ErrorCode::BadArguments), "{bad:?}");
        }
    }

    #[test]
    fn sequential_paths_may_end_with_a_slash() {
        assert_eq!(validate_sequential_path("/a/"), Ok(()));
        assert_eq!(validate_sequential_path("/"), Ok(()));
        assert_eq!(validate_sequential_path("/a//"), Err(ErrorCode::BadArguments));
        assert_eq!(validate_create_path("/a/", false), Err(ErrorCode::BadArguments));
        assert_eq!(sequential_path("/q/n-", 7), "/q/n-0000000007");
        assert_eq!(sequential_path("/q/", -5), "/q/-000000005");
    }

    #[test]
    fn parent_and_name_split_paths() {
        assert_eq!(parent("/a/b"), Some("/a"));
        assert_eq!(parent("/a"), Some("/"));
        assert_eq!(parent("/"), None);
        assert_eq!(parent("nothing"), None);
        assert_eq!(name("/a/b"), "b");
        assert_eq!(name("/"), "");
        assert_eq!(split_last("/a"), Some(("", "a")));
        assert_eq!(split_last("/a/b"), Some(("/a", "b")));
    }

    #[test]
    fn ancestors_walk_up_to_the_root() {
        assert_eq!(self_and_ancestors("/a/b").collect::<Vec<_>>(), ["/a/b", "/a", "/"]);
        assert_eq!(self_and_ancestors("/").collect::<Vec<_>>(), ["/"]);
        assert_eq!(self_and_ancestors("").count(), 0);
    }

    #[test]
    fn java_len_counts_utf16_units() {
        assert_eq!(java_len("/abc"), 4);
        assert_eq!(java_len("/ü"), 2);
    }
}
