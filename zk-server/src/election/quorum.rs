//! Quorum verifiers: which sets of servers form a quorum (`QuorumVerifier`, `QuorumMaj`,
//! `QuorumHierarchical` in ZooKeeper's `server/quorum/flexible/`).

use std::collections::{BTreeMap, BTreeSet};

use crate::config::QuorumConfig;

/// Decides quorums for one membership (a `QuorumVerifier`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuorumVerifier {
    /// Majority of voters (`QuorumMaj`).
    Majority(MajorityVerifier),
    /// Weighted groups (`QuorumHierarchical`).
    Hierarchical(HierarchicalVerifier),
}

impl QuorumVerifier {
    /// The verifier for `config`: hierarchical when the config had `group`/`weight` keys
    /// (`QuorumPeerConfig.createQuorumVerifier`), else a majority.
    pub fn from_config(config: &QuorumConfig) -> QuorumVerifier {
        let voters: BTreeSet<i64> = config.voting_members().map(|s| s.id).collect();
        let observers: BTreeSet<i64> = config.observing_members().map(|s| s.id).collect();
        if config.hierarchical {
            let mut group_of = BTreeMap::new();
            for (gid, members) in &config.groups {
                for sid in members {
                    group_of.insert(*sid, *gid);
                }
            }
            QuorumVerifier::Hierarchical(HierarchicalVerifier::new(
                voters,
                observers,
                group_of,
                config.weights.clone(),
                config.version,
            ))
        } else {
            QuorumVerifier::Majority(MajorityVerifier::new(voters, observers, config.version))
        }
    }

    /// Whether the voters among `set` form a quorum. Non-voters in `set` are ignored, as
    /// `SyncedLearnerTracker.addAck` only records voting members.
    pub fn contains_quorum(&self, set: &BTreeSet<i64>) -> bool {
        match self {
            QuorumVerifier::Majority(m) => m.contains_quorum(set),
            QuorumVerifier::Hierarchical(h) => h.contains_quorum(set),
        }
    }

    /// A server's weight (`getWeight`): 1 for every server under a majority verifier (as
    /// `QuorumMaj.getWeight`), the configured weight (0 for unknown ids) under a hierarchical one.
    pub fn weight(&self, sid: i64) -> i64 {
        match self {
            QuorumVerifier::Majority(_) => 1,
            QuorumVerifier::Hierarchical(h) => h.weights.get(&sid).copied().unwrap_or(0),
        }
    }

    /// The voting members' ids.
    pub fn voting_members(&self) -> &BTreeSet<i64> {
        match self {
            QuorumVerifier::Majority(m) => &m.voters,
            QuorumVerifier::Hierarchical(h) => &h.voters,
        }
    }

    /// The observers' ids.
    pub fn observing_members(&self) -> &BTreeSet<i64> {
        match self {
            QuorumVerifier::Majority(m) => &m.observers,
            QuorumVerifier::Hierarchical(h) => &h.observers,
        }
    }

    /// Whether `sid` votes.
    pub fn is_voter(&self, sid: i64) -> bool {
        self.voting_members().contains(&sid)
    }

    /// The config version.
    pub fn version(&self) -> i64 {
        match self {
            QuorumVerifier::Majority(m) => m.version,
            QuorumVerifier::Hierarchical(h) => h.version,
        }
    }
}

/// A majority quorum: more than half of the voters (`QuorumMaj`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MajorityVerifier {
    voters: BTreeSet<i64>,
    observers: BTreeSet<i64>,
    version: i64,
}

impl MajorityVerifier {
    /// A majority verifier over `voters`.
    pub fn new(voters: BTreeSet<i64>, observers: BTreeSet<i64>, version: i64) -> MajorityVerifier {
        MajorityVerifier { voters, observers, version }
    }

    /// `QuorumMaj.containsQuorum`: the number of voters in `set` exceeds half of all voters.
    pub fn contains_quorum(&self, set: &BTreeSet<i64>) -> bool {
        let half = self.voters.len() / 2;
        set.iter().filter(|sid| self.voters.contains(sid)).count() > half
    }
}

/// Weighted groups (`QuorumHierarchical`): a set is a quorum when it holds more than half the weight
/// of more than half of the groups (groups of total weight 0 are not counted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HierarchicalVerifier {
    voters: BTreeSet<i64>,
    observers: BTreeSet<i64>,
    group_of: BTreeMap<i64, i64>,
    weights: BTreeMap<i64, i64>,
    group_weight: BTreeMap<i64, i64>,
    counted_groups: usize,
    version: i64,
}

impl HierarchicalVerifier {
    /// A hierarchical verifier (`computeGroupWeight`): `group_of` maps server → group, `weights` server →
    /// weight (servers without an entry weigh 0).
    pub fn new(
        voters: BTreeSet<i64>,
        observers: BTreeSet<i64>,
        group_of: BTreeMap<i64, i64>,
        weights: BTreeMap<i64, i64>,
        version: i64,
    ) -> HierarchicalVerifier {
        let mut group_weight: BTreeMap<i64, i64> = BTreeMap::new();
        for (sid, gid) in &group_of {
            let w = weights.get(sid).copied().unwrap_or(0);
            let total = group_weight.entry(*gid).or_insert(0);
            *total = total.saturating_add(w);
        }
        let counted_groups = group_weight.values().filter(|w| **w != 0).count();
        HierarchicalVerifier { voters, observers, group_of, weights, group_weight, counted_groups, version }
    }

    /// `QuorumHierarchical.containsQuorum`: count the groups in which `set` holds more than half the
    /// group's weight (integer halving, as Java); a quorum needs more than half the weighted groups.
    pub fn contains_quorum(&self, set: &BTreeSet<i64>) -> bool {
        if set.is_empty() {
            return false;
        }
        let mut expansion: BTreeMap<i64, i64> = BTreeMap::new();
        for sid in set.iter().filter(|sid| self.voters.contains(sid)) {
            let Some(gid) = self.group_of.get(sid) else { continue };
            let w = self.weights.get(sid).copied().unwrap_or(0);
            let total = expansion.entry(*gid).or_insert(0);
            *total = total.saturating_add(w);
        }
        let majority_groups = expansion
            .iter()
            .filter(|(gid, weight)| **weight > self.group_weight.get(gid).copied().unwrap_or(0) / 2)
            .count();
        majority_groups > self.counted_groups / 2
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Properties;

    fn set(ids: &[i64]) -> BTreeSet<i64> {
        ids.iter().copied().collect()
    }

    fn verifier(text: &str) -> QuorumVerifier {
        let props = Properties::parse(text).unwrap();
        QuorumVerifier::from_config(&QuorumConfig::from_properties(&props, false, false).unwrap())
    }

    #[test]
    fn majority_of_three_and_four_with_observer() {
        let q = verifier("server.1=a:1:2\nserver.2=b:1:2\nserver.3=c:1:2\nserver.4=d:1:2:observer\n");
        assert!(matches!(q, QuorumVerifier::Majority(_)));
        assert_eq!(q.voting_members(), &set(&[1, 2, 3]));
        assert_eq!(q.observing_members(), &set(&[4]));
        assert!(!q.contains_quorum(&set(&[1])));
        assert!(q.contains_quorum(&set(&[1, 3])));
        // The observer does not count.
        assert!(!q.contains_quorum(&set(&[1, 4])));
        assert!(!q.contains_quorum(&set(&[])));
        assert_eq!(q.weight(4), 1);
        let even = MajorityVerifier::new(set(&[1, 2, 3, 4]), set(&[]), 0);
        assert!(!even.contains_quorum(&set(&[1, 2])));
        assert!(even.contains_quorum(&set(&[1, 2, 3])));
    }

    #[test]
    fn hierarchical_groups_and_weights() {
        // Three groups of three; a quorum is a majority of weight in two of the three groups.
        let q = verifier(
            "server.1=a:1:2\nserver.2=a:3:4\nserver.3=a:5:6\nserver.4=a:7:8\nserver.5=a:9:10\n\
             server.6=a:11:12\nserver.7=a:13:14\nserver.8=a:15:16\nserver.9=a:17:18\n\
             group.1=1:2:3\ngroup.2=4:5:6\ngroup.3=7:8:9\n",
        );
        assert!(matches!(q, QuorumVerifier::Hierarchical(_)));
        assert!(q.contains_quorum(&set(&[1, 2, 4, 5])));
        assert!(!q.contains_quorum(&set(&[1, 2, 3, 4])));
        assert!(!q.contains_quorum(&set(&[1, 4, 7])));
        assert!(q.contains_quorum(&set(&[1, 2, 7, 9])));
        assert_eq!(q.weight(1), 1);
        assert_eq!(q.weight(42), 0);
    }

    #[test]
    fn hierarchical_weights_and_zero_weight_groups() {
        // Group 1: server 1 weighs 3, server 2 weighs 1 (total 4: need > 2). Group 2 weighs 0 and is
        // not counted, so one majority group of the one counted group is a quorum.
        let q = verifier(
            "server.1=a:1:2\nserver.2=a:3:4\nserver.3=a:5:6\ngroup.1=1:2\ngroup.2=3\nweight.1=3\nweight.3=0\n",
        );
        assert!(q.contains_quorum(&set(&[1])));
        assert!(!q.contains_quorum(&set(&[2])));
        assert!(!q.contains_quorum(&set(&[3])));
        assert_eq!(q.weight(3), 0);
        // Integer halving as Java: a group of weight 3 needs > 1.
        let h = HierarchicalVerifier::new(
            set(&[1, 2]),
            set(&[]),
            BTreeMap::from([(1, 1), (2, 1)]),
            BTreeMap::from([(1, 2), (2, 1)]),
            0,
        );
        assert!(h.contains_quorum(&set(&[1])));
        assert!(!h.contains_quorum(&set(&[2])));
    }
}
