//! Deterministic workload inputs: a small PRNG, znode paths, operation mixes, payloads, and connect
//! string parsing.

use bytes::Bytes;

/// The root every workload works under.
pub const ROOT: &str = "/zkbench";

/// SplitMix64: tiny, fast, and reproducible from a seed.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The directory of a workload: `/zkbench/<name>`.
pub fn workload_dir(name: &str) -> String {
    format!("{ROOT}/{name}")
}

/// A shared key of W1: `/zkbench/w1/k00000042`.
pub fn shared_key(dir: &str, index: u64) -> String {
    format!("{dir}/k{index:08}")
}

/// A client's private key (created then deleted by that client only): `/zkbench/w1/c0003-00000042`.
pub fn private_key(dir: &str, client: usize, seq: u64) -> String {
    format!("{dir}/c{client:04}-{seq:08}")
}

/// W5's bucketed layout: node `index` lives in bucket `index / fanout`: `/zkbench/w5/b0001/n00001234`.
/// Returns (bucket path, node path).
pub fn tree_node(dir: &str, index: u64, fanout: u64) -> (String, String) {
    let bucket = format!("{dir}/b{:04}", index / fanout.max(1));
    let node = format!("{bucket}/n{index:08}");
    (bucket, node)
}

/// The number of buckets W5 needs for `nodes` nodes.
pub fn tree_buckets(nodes: u64, fanout: u64) -> u64 {
    nodes.div_ceil(fanout.max(1))
}

/// What a W1 client does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MixedOp {
    /// `getData` of a shared key.
    Get,
    /// `setData` of a shared key.
    Set,
    /// `create` of a private key.
    Create,
    /// `delete` of the client's oldest private key.
    Delete,
}

impl MixedOp {
    /// The name used in reports.
    pub fn name(self) -> &'static str {
        match self {
            MixedOp::Get => "get",
            MixedOp::Set => "set",
            MixedOp::Create => "create",
            MixedOp::Delete => "delete",
        }
    }
}

/// Picks the next W1 operation: a read with probability `read_ratio`, otherwise a write — half of
/// writes are `set`, the other half alternate `create`/`delete` of private keys (so the tree stays
/// bounded: a delete happens only when the client has `live_private` keys).
pub fn pick_mixed(rng: &mut Rng, read_ratio: f64, live_private: usize) -> MixedOp {
    if rng.unit() < read_ratio {
        return MixedOp::Get;
    }
    if rng.below(2) == 0 {
        MixedOp::Set
    } else if live_private >= 64 || (live_private > 0 && rng.below(2) == 0) {
        MixedOp::Delete
    } else {
        MixedOp::Create
    }
}

/// A payload of `size` bytes (a repeating pattern).
pub fn payload(size: usize) -> Bytes {
    Bytes::from((0..size).map(|i| b'a' + (i % 26) as u8).collect::<Vec<u8>>())
}

/// Splits a connect string (`host:port,host:port[/chroot]`) into addresses; a host without a port
/// gets 2181. A chroot suffix is rejected (the driver works at absolute paths).
pub fn parse_connect(connect: &str) -> Result<Vec<String>, String> {
    if connect.contains('/') {
        return Err(format!("{connect}: a chroot suffix is not supported"));
    }
    let hosts: Vec<String> = connect
        .split(',')
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .map(|h| {
            if h.rsplit_once(':').is_some_and(|(_, p)| p.parse::<u16>().is_ok()) {
                h.to_string()
            } else {
                format!("{h}:2181")
            }
        })
        .collect();
    if hosts.is_empty() {
        return Err("empty connect string".into());
    }
    Ok(hosts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rng_is_deterministic_and_in_range() {
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        for _ in 0..1000 {
            assert_eq!(a.next_u64(), b.next_u64());
            let x = a.below(10);
            assert!(x < 10);
            b.below(10);
            let u = a.unit();
            assert!((0.0..1.0).contains(&u));
            b.unit();
        }
    }

    #[test]
    fn key_formats() {
        let dir = workload_dir("w1");
        assert_eq!(dir, "/zkbench/w1");
        assert_eq!(shared_key(&dir, 42), "/zkbench/w1/k00000042");
        assert_eq!(private_key(&dir, 3, 42), "/zkbench/w1/c0003-00000042");
        assert_eq!(
            tree_node("/zkbench/w5", 1234, 1000),
            ("/zkbench/w5/b0001".into(), "/zkbench/w5/b0001/n00001234".into())
        );
        assert_eq!(tree_buckets(1_000_000, 1000), 1000);
        assert_eq!(tree_buckets(1001, 1000), 2);
        assert_eq!(tree_buckets(0, 1000), 0);
    }

    #[test]
    fn mix_follows_the_read_ratio_and_stays_bounded() {
        let mut rng = Rng::new(1);
        let mut live = 0usize;
        let mut reads = 0;
        for _ in 0..100_000 {
            match pick_mixed(&mut rng, 0.9, live) {
                MixedOp::Get => reads += 1,
                MixedOp::Set => {}
                MixedOp::Create => live += 1,
                MixedOp::Delete => {
                    assert!(live > 0, "delete without a live key");
                    live -= 1;
                }
            }
            assert!(live <= 64);
        }
        assert!((89_000..91_000).contains(&reads), "{reads}");
        assert!(pick_mixed(&mut rng, 1.0, 0) == MixedOp::Get);
        assert!((0..100).all(|_| pick_mixed(&mut rng, 0.0, 0) != MixedOp::Get));
    }

    #[test]
    fn payload_has_the_size() {
        assert_eq!(payload(1024).len(), 1024);
        assert_eq!(&payload(3)[..], b"abc");
    }

    #[test]
    fn connect_strings() {
        assert_eq!(parse_connect("a:1,b:2").unwrap(), ["a:1", "b:2"]);
        assert_eq!(parse_connect("localhost").unwrap(), ["localhost:2181"]);
        assert_eq!(parse_connect(" a:1 , ").unwrap(), ["a:1"]);
        assert!(parse_connect("a:1/app").is_err());
        assert!(parse_connect("").is_err());
    }
}
