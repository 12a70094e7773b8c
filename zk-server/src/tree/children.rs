//! The child set of a node: a persistent, ordered set of the children's full paths.
//!
//! Most znodes have no or few children, and a persistent B-tree node costs more than a kilobyte, so small
//! sets are a shared sorted slice (copied on write, at most [`SMALL_MAX`] entries) and only large ones use
//! `imbl::OrdSet`. Entries are the children's full paths, the same `Arc<str>` the tree's path map uses as
//! key, so a child costs one pointer here. Sorting full paths of siblings sorts them by name.

use std::sync::Arc;

use imbl::OrdSet;

/// The largest child count kept as a sorted slice.
const SMALL_MAX: usize = 32;

/// The children of one node (see the module docs).
#[derive(Debug, Clone, Default)]
pub(crate) enum Children {
    /// No children (no allocation).
    #[default]
    Empty,
    /// Up to [`SMALL_MAX`] sorted paths.
    Small(Arc<[Arc<str>]>),
    /// Many paths.
    Large(OrdSet<Arc<str>>),
}

impl Children {
    /// The number of children.
    pub(crate) fn len(&self) -> usize {
        match self {
            Children::Empty => 0,
            Children::Small(paths) => paths.len(),
            Children::Large(paths) => paths.len(),
        }
    }

    /// Whether `path` is a child.
    pub(crate) fn contains(&self, path: &str) -> bool {
        match self {
            Children::Empty => false,
            Children::Small(paths) => paths.binary_search_by(|p| (**p).cmp(path)).is_ok(),
            Children::Large(paths) => paths.contains(path),
        }
    }

    /// Adds a child; false if it was already there.
    pub(crate) fn insert(&mut self, path: Arc<str>) -> bool {
        match self {
            Children::Empty => {
                *self = Children::Small(Arc::from([path]));
                true
            }
            Children::Small(paths) => match paths.binary_search_by(|p| (**p).cmp(&*path)) {
                Ok(_) => false,
                Err(at) if paths.len() < SMALL_MAX => {
                    let mut grown = Vec::with_capacity(paths.len() + 1);
                    grown.extend_from_slice(&paths[..at]);
                    grown.push(path);
                    grown.extend_from_slice(&paths[at..]);
                    *paths = grown.into();
                    true
                }
                Err(_) => {
                    let mut set: OrdSet<Arc<str>> = paths.iter().cloned().collect();
                    set.insert(path);
                    *self = Children::Large(set);
                    true
                }
            },
            Children::Large(paths) => paths.insert(path).is_none(),
        }
    }

    /// Removes a child; false if it was not there.
    pub(crate) fn remove(&mut self, path: &str) -> bool {
        match self {
            Children::Empty => false,
            Children::Small(paths) => match paths.binary_search_by(|p| (**p).cmp(path)) {
                Err(_) => false,
                Ok(_) if paths.len() == 1 => {
                    *self = Children::Empty;
                    true
                }
                Ok(at) => {
                    let shrunk: Vec<Arc<str>> =
                        paths.iter().enumerate().filter(|(i, _)| *i != at).map(|(_, p)| p.clone()).collect();
                    *paths = shrunk.into();
                    true
                }
            },
            Children::Large(paths) => {
                let removed = paths.remove(path).is_some();
                // Shrink back well below the threshold so a set at the boundary does not flap.
                if paths.len() <= SMALL_MAX / 2 {
                    let small: Vec<Arc<str>> = paths.iter().cloned().collect();
                    *self = if small.is_empty() { Children::Empty } else { Children::Small(small.into()) };
                }
                removed
            }
        }
    }

    /// The children's full paths in order.
    pub(crate) fn iter(&self) -> ChildIter<'_> {
        match self {
            Children::Empty => ChildIter::Slice([].iter()),
            Children::Small(paths) => ChildIter::Slice(paths.iter()),
            Children::Large(paths) => ChildIter::Set(paths.iter()),
        }
    }
}

/// An iterator over child paths, in order.
pub(crate) enum ChildIter<'a> {
    Slice(std::slice::Iter<'a, Arc<str>>),
    Set(imbl::ordset::Iter<'a, Arc<str>, imbl::shared_ptr::DefaultSharedPtr>),
}

impl std::fmt::Debug for ChildIter<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChildIter")
    }
}

impl<'a> Iterator for ChildIter<'a> {
    type Item = &'a Arc<str>;

    fn next(&mut self) -> Option<&'a Arc<str>> {
        match self {
            ChildIter::Slice(iter) => iter.next(),
            ChildIter::Set(iter) => iter.next(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(children: &Children) -> Vec<String> {
        children.iter().map(|p| p.to_string()).collect()
    }

    #[test]
    fn insert_keeps_order_and_rejects_duplicates() {
        let mut children = Children::default();
        assert!(children.insert("/b".into()));
        assert!(children.insert("/a".into()));
        assert!(!children.insert("/a".into()));
        assert_eq!(names(&children), ["/a", "/b"]);
        assert!(children.contains("/b"));
        assert!(!children.contains("/c"));
    }

    #[test]
    fn sets_grow_into_a_btree_and_shrink_back() {
        let mut children = Children::default();
        let paths: Vec<String> = (0..100).map(|i| format!("/p/{i:03}")).collect();
        for path in paths.iter().rev() {
            assert!(children.insert(path.as_str().into()));
        }
        assert!(matches!(children, Children::Large(_)));
        assert_eq!(names(&children), paths);
        for path in &paths[..99] {
            assert!(children.remove(path));
        }
        assert!(matches!(children, Children::Small(_)));
        assert_eq!(names(&children), [paths[99].clone()]);
        assert!(children.remove(&paths[99]));
        assert!(matches!(children, Children::Empty));
        assert!(!children.remove("/p/000"));
    }

    #[test]
    fn clones_are_independent() {
        let mut a = Children::default();
        a.insert("/x".into());
        let b = a.clone();
        a.insert("/y".into());
        assert_eq!(b.len(), 1);
        assert_eq!(a.len(), 2);
    }
}
