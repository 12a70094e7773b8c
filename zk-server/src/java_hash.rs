//! The iteration order of Java's hash sets, where ZooKeeper lets it show on the wire: the ids of a
//! connection (`whoAmI`, `auth` ACLs) live in a `ConcurrentHashMap`-backed set, and the ephemerals a
//! closing session deletes come from a cloned `HashSet<String>`, in whose order the deletes (and so
//! their watch events) happen.
//!
//! Both tables iterate bin by bin, and within a bin in insertion order; a bin is the low bits of
//! `h ^ (h >>> 16)` for the element's `hashCode` `h`.

/// Java's `String.hashCode` (over UTF-16 code units).
pub(crate) fn string_hash(s: &str) -> i32 {
    s.encode_utf16().fold(0i32, |h, unit| h.wrapping_mul(31).wrapping_add(i32::from(unit)))
}

/// The bin of `hash` in a table of `table` bins (a power of two).
pub(crate) fn bin(hash: i32, table: usize) -> usize {
    let h = hash as u32;
    (h ^ (h >> 16)) as usize & (table - 1)
}

/// The table size of a `ConcurrentHashMap` (16 bins, doubled once three quarters are used) holding
/// `len` entries added one by one.
pub(crate) fn concurrent_table(len: usize) -> usize {
    let mut table = 16;
    while len >= table * 3 / 4 {
        table *= 2;
    }
    table
}

/// The table size of a `HashMap` (16 bins, doubled when more than three quarters are used) holding
/// `len` entries added one by one.
pub(crate) fn grown_table(len: usize) -> usize {
    let mut table = 16;
    while len > table * 3 / 4 {
        table *= 2;
    }
    table
}

/// The table size of a `HashSet.clone()` of a set of `len` entries: `tableSizeFor(len / 0.75 + 1)`.
pub(crate) fn cloned_table(len: usize) -> usize {
    let wanted = (len as f32 / 0.75 + 1.0) as usize;
    wanted.max(1).next_power_of_two()
}

/// Orders the paths of a session's ephemerals as ZooKeeper's `getEphemerals(session)` clone iterates
/// them. `paths` must be in creation order (the order the original set received them).
pub(crate) fn cloned_string_set_order(paths: &mut [String]) {
    let original = grown_table(paths.len());
    let cloned = cloned_table(paths.len());
    // The clone is filled in the original's iteration order; a stable sort keeps creation order last.
    paths.sort_by_cached_key(|path| {
        let hash = string_hash(path);
        (bin(hash, cloned), bin(hash, original))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_hash_is_javas() {
        assert_eq!(string_hash(""), 0);
        assert_eq!(string_hash("hello"), 99_162_322);
        assert_eq!(string_hash("\u{1F600}"), 0xD83D * 31 + 0xDE00, "UTF-16 surrogates");
    }

    #[test]
    fn table_sizes() {
        assert_eq!((concurrent_table(11), concurrent_table(12)), (16, 32));
        assert_eq!((grown_table(12), grown_table(13)), (16, 32));
        assert_eq!((cloned_table(1), cloned_table(2), cloned_table(3), cloned_table(12)), (2, 4, 8, 32));
    }

    /// As Apache ZooKeeper 3.8 deletes a closing session's ephemerals (differential test, `sessions`
    /// script: `/s/e1` goes before `/s/e-0000000001`).
    #[test]
    fn closing_session_ephemerals_in_java_order() {
        let mut paths = vec!["/s/e1".to_owned(), "/s/e-0000000001".to_owned()];
        cloned_string_set_order(&mut paths);
        assert_eq!(paths, ["/s/e1", "/s/e-0000000001"]);
        let mut reversed = vec!["/s/e-0000000001".to_owned(), "/s/e1".to_owned()];
        cloned_string_set_order(&mut reversed);
        assert_eq!(reversed, ["/s/e1", "/s/e-0000000001"]);
    }
}
