//! `ExpiryQueue`: elements grouped in fixed-width time buckets.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::Hash;

/// Elements tracked in time buckets of `interval` ms, as ZooKeeper's `ExpiryQueue`.
///
/// An element updated at `now` with `timeout` lands in the bucket ending at
/// `(now + timeout) / interval * interval + interval`, so expiry is rounded up to the next bucket boundary
/// and everything in one bucket expires together. [`poll`](Self::poll) hands out one bucket per interval;
/// a bucket whose time has passed is handed out the next time it is polled.
#[derive(Debug, Clone)]
pub struct ExpiryQueue<E> {
    elems: HashMap<E, i64>,
    buckets: BTreeMap<i64, BTreeSet<E>>,
    next_expiration_time: i64,
    interval: i64,
}

impl<E: Clone + Eq + Hash + Ord> ExpiryQueue<E> {
    /// An empty queue with buckets `interval` ms wide (at least 1), the first one ending after `now_ms`.
    pub fn new(interval: i32, now_ms: i64) -> ExpiryQueue<E> {
        let interval = i64::from(interval.max(1));
        let mut queue =
            ExpiryQueue { elems: HashMap::new(), buckets: BTreeMap::new(), next_expiration_time: 0, interval };
        queue.next_expiration_time = queue.round_to_next_interval(now_ms);
        queue
    }

    /// The bucket width in ms.
    pub fn interval(&self) -> i64 {
        self.interval
    }

    /// `(time / interval + 1) * interval`: the end of the bucket holding `time`.
    pub fn round_to_next_interval(&self, time: i64) -> i64 {
        (time / self.interval).saturating_add(1).saturating_mul(self.interval)
    }

    /// Removes `elem`, returning the time it was due to expire.
    pub fn remove(&mut self, elem: &E) -> Option<i64> {
        let expiry = self.elems.remove(elem)?;
        if let Some(set) = self.buckets.get_mut(&expiry) {
            set.remove(elem);
        }
        Some(expiry)
    }

    /// Adds `elem` or moves it to the bucket for `now_ms + timeout_ms`. Returns the new expiry time, or
    /// `None` when it was already in that bucket.
    pub fn update(&mut self, elem: E, timeout_ms: i32, now_ms: i64) -> Option<i64> {
        let new_expiry = self.round_to_next_interval(now_ms.saturating_add(i64::from(timeout_ms)));
        let previous = self.elems.insert(elem.clone(), new_expiry);
        if previous == Some(new_expiry) {
            return None;
        }
        if let Some(set) = previous.and_then(|prev| self.buckets.get_mut(&prev)) {
            set.remove(&elem);
        }
        self.buckets.entry(new_expiry).or_default().insert(elem);
        Some(new_expiry)
    }

    /// The expiry time of `elem`, if tracked.
    pub fn expiry_of(&self, elem: &E) -> Option<i64> {
        self.elems.get(elem).copied()
    }

    /// Milliseconds until the next bucket boundary, or 0 when it has passed.
    pub fn wait_time(&self, now_ms: i64) -> i64 {
        (self.next_expiration_time - now_ms).max(0)
    }

    /// The time at which the next bucket expires: when the driver should call [`poll`](Self::poll).
    pub fn next_expiration_time(&self) -> i64 {
        self.next_expiration_time
    }

    /// If the next bucket boundary has passed, removes that one bucket and returns its elements (possibly
    /// none) and advances the boundary by one interval; otherwise returns nothing. The returned elements
    /// stay counted in [`len`](Self::len) until [`remove`](Self::remove)d, as in ZooKeeper. Call it until
    /// [`wait_time`](Self::wait_time) is positive to catch up after a late wake-up.
    pub fn poll(&mut self, now_ms: i64) -> Vec<E> {
        if now_ms < self.next_expiration_time {
            return Vec::new();
        }
        let expiration_time = self.next_expiration_time;
        self.next_expiration_time = expiration_time.saturating_add(self.interval);
        // As in ZooKeeper, polled elements stay known (with their old expiry time) until removed or updated.
        self.buckets.remove(&expiration_time).map(|set| set.into_iter().collect()).unwrap_or_default()
    }

    /// Every bucket due by `now_ms` at once, in time order: what calling [`poll`](Self::poll) until
    /// [`wait_time`](Self::wait_time) is positive returns, without stepping through each interval (so a
    /// clock jump costs nothing). Afterwards the next boundary is the first one after `now_ms`.
    pub fn poll_all(&mut self, now_ms: i64) -> Vec<E> {
        if now_ms < self.next_expiration_time {
            return Vec::new();
        }
        let later = self.buckets.split_off(&now_ms.saturating_add(1));
        let due = std::mem::replace(&mut self.buckets, later);
        self.next_expiration_time = self.round_to_next_interval(now_ms);
        due.into_values().flatten().collect()
    }

    /// The number of tracked elements.
    pub fn len(&self) -> usize {
        self.elems.len()
    }

    /// Whether nothing is tracked.
    pub fn is_empty(&self) -> bool {
        self.elems.is_empty()
    }

    /// The number of buckets, including emptied ones not yet polled (as ZooKeeper's `dump` counts them).
    pub fn bucket_count(&self) -> usize {
        self.buckets.len()
    }

    /// The buckets in time order: expiry time → elements.
    pub fn buckets(&self) -> impl Iterator<Item = (i64, &BTreeSet<E>)> + '_ {
        self.buckets.iter().map(|(time, set)| (*time, set))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_up_to_the_next_boundary() {
        let q: ExpiryQueue<i64> = ExpiryQueue::new(2000, 0);
        assert_eq!(q.round_to_next_interval(0), 2000);
        assert_eq!(q.round_to_next_interval(1999), 2000);
        assert_eq!(q.round_to_next_interval(2000), 4000);
        assert_eq!(q.next_expiration_time(), 2000);
    }

    #[test]
    fn update_moves_between_buckets() {
        let mut q = ExpiryQueue::new(1000, 0);
        assert_eq!(q.update(7_i64, 3000, 100), Some(4000));
        assert_eq!(q.update(7, 3000, 500), None, "same bucket: unchanged");
        assert_eq!(q.update(7, 3000, 1500), Some(5000));
        let buckets: Vec<_> = q.buckets().map(|(t, s)| (t, s.len())).collect();
        assert_eq!(buckets, vec![(4000, 0), (5000, 1)]);
        assert_eq!(q.remove(&7), Some(5000));
        assert_eq!(q.remove(&7), None);
        assert!(q.is_empty());
    }

    #[test]
    fn poll_hands_out_one_bucket_per_interval() {
        let mut q = ExpiryQueue::new(1000, 0);
        q.update(1_i64, 1500, 0); // 2000
        q.update(2_i64, 2500, 0); // 3000
        assert_eq!(q.wait_time(0), 1000);
        assert!(q.poll(999).is_empty());
        assert!(q.poll(1000).is_empty(), "the 1000 bucket is empty");
        assert_eq!(q.next_expiration_time(), 2000);
        assert_eq!(q.poll(5000), vec![1]);
        assert_eq!(q.poll(5000), vec![2]);
        assert_eq!(q.len(), 2, "polled elements stay until removed");
        assert_eq!(q.wait_time(5000), 0);
        assert!(q.poll(5000).is_empty());
        assert_eq!(q.next_expiration_time(), 5000);
        assert!(q.poll(5000).is_empty());
        assert_eq!(q.wait_time(5000), 1000);
    }

    #[test]
    fn poll_all_equals_repeated_poll() {
        let mut stepped = ExpiryQueue::new(1000, 0);
        for (elem, timeout) in [(1_i64, 1500), (2, 2500), (3, 2600), (4, 9000)] {
            stepped.update(elem, timeout, 0);
        }
        let mut at_once = stepped.clone();
        let mut polled = Vec::new();
        while stepped.wait_time(5500) == 0 {
            polled.extend(stepped.poll(5500));
        }
        assert_eq!(polled, vec![1, 2, 3]);
        assert_eq!(at_once.poll_all(5500), polled);
        assert_eq!(at_once.next_expiration_time(), stepped.next_expiration_time());
        assert_eq!(at_once.next_expiration_time(), 6000);
        assert!(at_once.poll_all(5999).is_empty());
        // A huge jump is one step.
        assert_eq!(at_once.poll_all(i64::MAX / 2), vec![4]);
    }
}
