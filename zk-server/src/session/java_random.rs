//! `java.util.Random`: the JDK's 48-bit linear congruential generator.
//!
//! ZooKeeper derives session passwords from it, so every server of a mixed ensemble must reproduce its
//! output bit for bit.

const MULTIPLIER: u64 = 0x5_DEEC_E66D;
const ADDEND: u64 = 0xB;
const MASK: u64 = (1 << 48) - 1;

/// A `java.util.Random` with the same seed scrambling, step and output functions as the JDK.
#[derive(Debug, Clone)]
pub struct JavaRandom {
    seed: u64,
}

impl JavaRandom {
    /// `new Random(seed)`: the seed is scrambled as `(seed ^ 0x5DEECE66D) & (2^48 - 1)`.
    pub fn new(seed: i64) -> JavaRandom {
        JavaRandom { seed: (seed as u64 ^ MULTIPLIER) & MASK }
    }

    /// `next(bits)`: advances the generator and returns its top `bits` bits (1..=32).
    fn next(&mut self, bits: u32) -> i32 {
        self.seed = self.seed.wrapping_mul(MULTIPLIER).wrapping_add(ADDEND) & MASK;
        (self.seed >> (48 - bits)) as u32 as i32
    }

    /// `nextInt()`: 32 random bits.
    pub fn next_int(&mut self) -> i32 {
        self.next(32)
    }

    /// `nextBytes(bytes)`: fills `bytes` from successive `nextInt()`s, least significant byte first.
    pub fn next_bytes(&mut self, bytes: &mut [u8]) {
        for chunk in bytes.chunks_mut(4) {
            let mut rnd = self.next_int();
            for byte in chunk {
                *byte = rnd as u8;
                rnd >>= 8;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_int_matches_the_jdk() {
        // `new java.util.Random(42).nextInt()` is -1170105035 in every JDK (the algorithm is specified).
        let mut r = JavaRandom::new(42);
        assert_eq!(r.next_int(), -1_170_105_035);
        assert_eq!(r.next_int(), 234_785_527);
    }

    #[test]
    fn next_bytes_uses_a_fresh_int_per_four_bytes() {
        let mut a = JavaRandom::new(7);
        let mut bytes = [0u8; 6];
        a.next_bytes(&mut bytes);
        let mut b = JavaRandom::new(7);
        let first = b.next_int().to_le_bytes();
        let second = b.next_int().to_le_bytes();
        assert_eq!(bytes, [first[0], first[1], first[2], first[3], second[0], second[1]]);
    }
}
