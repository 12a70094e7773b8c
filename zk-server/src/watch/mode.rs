//! Watch modes and the set of modes one watcher holds on one path (ZooKeeper's `WatcherMode` and
//! `WatchStats`).

use zk_proto::AddWatchMode;

/// How a watch behaves when it fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WatchMode {
    /// One-shot: removed when it fires (set by getData / exists / getChildren).
    Standard,
    /// Fires for its path only and stays (addWatch mode 0).
    Persistent,
    /// Fires for its path and every descendant and stays (addWatch mode 1).
    PersistentRecursive,
}

impl From<AddWatchMode> for WatchMode {
    fn from(mode: AddWatchMode) -> WatchMode {
        match mode {
            AddWatchMode::Persistent => WatchMode::Persistent,
            AddWatchMode::PersistentRecursive => WatchMode::PersistentRecursive,
        }
    }
}

impl WatchMode {
    const fn bit(self) -> u8 {
        match self {
            WatchMode::Standard => 1,
            WatchMode::Persistent => 2,
            WatchMode::PersistentRecursive => 4,
        }
    }
}

/// The modes one watcher holds on one path: since ZooKeeper 3.9 a standard and a persistent watch on
/// the same path live side by side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Modes(u8);

impl Modes {
    /// No mode.
    pub const NONE: Modes = Modes(0);

    /// These modes plus `mode`.
    pub const fn with(self, mode: WatchMode) -> Modes {
        Modes(self.0 | mode.bit())
    }

    /// These modes minus `mode`.
    pub const fn without(self, mode: WatchMode) -> Modes {
        Modes(self.0 & !mode.bit())
    }

    /// Whether `mode` is held.
    pub const fn has(self, mode: WatchMode) -> bool {
        self.0 & mode.bit() != 0
    }

    /// Whether no mode is held.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_combine_and_remove_independently() {
        let modes = Modes::NONE.with(WatchMode::Standard).with(WatchMode::PersistentRecursive);
        assert!(modes.has(WatchMode::Standard) && modes.has(WatchMode::PersistentRecursive));
        assert!(!modes.has(WatchMode::Persistent));
        let modes = modes.without(WatchMode::Standard);
        assert!(!modes.has(WatchMode::Standard));
        assert!(modes.without(WatchMode::PersistentRecursive).is_empty());
    }
}
