//! Session passwords: 16 bytes any server can regenerate from the session id alone.

use super::JavaRandom;

/// The length of a session password.
pub const PASSWORD_LEN: usize = 16;

/// ZooKeeper's `superSecret`, XORed into the session id to seed the password generator.
pub const SUPER_SECRET: i64 = 0xB341_5C00;

/// The password of `session_id`, exactly as Apache ZooKeeper computes it
/// (`new Random(sessionId ^ 0xB3415C00).nextBytes(new byte[16])`).
pub fn generate_password(session_id: i64) -> [u8; PASSWORD_LEN] {
    let mut password = [0u8; PASSWORD_LEN];
    JavaRandom::new(session_id ^ SUPER_SECRET).next_bytes(&mut password);
    password
}

/// Whether `password` is the password of `session_id` (`ZooKeeperServer.checkPasswd`): session id 0 never
/// has a valid password. The bytes are compared in constant time; only the length may end it early.
pub fn check_password(session_id: i64, password: &[u8]) -> bool {
    if session_id == 0 || password.len() != PASSWORD_LEN {
        return false;
    }
    let expected = generate_password(session_id);
    let diff = expected.iter().zip(password).fold(0u8, |acc, (a, b)| acc | (a ^ b));
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Oracle: produced by a Java 17 program compiled with `javac` in /tmp, which for each id printed
    /// `Random r = new Random(id ^ 0XB3415C00L); byte[] p = new byte[16]; r.nextBytes(p);` as unsigned
    /// bytes (the same code as `ZooKeeperServer.generatePasswd`).
    const ORACLE: &[(i64, [u8; 16])] = &[
        (1, [0x05, 0x4c, 0xc7, 0x4a, 0x37, 0x32, 0x7d, 0xb2, 0x15, 0xe7, 0x02, 0xe2, 0x0c, 0x73, 0xf0, 0x05]),
        (
            0x0100_0000_0000_0000,
            [0xf2, 0x2a, 0xcd, 0x4a, 0x97, 0xe6, 0x9d, 0x6d, 0x20, 0xa4, 0x9b, 0xb6, 0x38, 0xea, 0xdb, 0x38],
        ),
        (
            0x0100_017c_2a5b_0000,
            [0x07, 0xb2, 0x8a, 0x88, 0x88, 0x48, 0x09, 0xbc, 0xbd, 0xdd, 0x7e, 0xdc, 0x11, 0x80, 0x1a, 0xc3],
        ),
        (-1, [0x20, 0xf6, 0x2c, 0xb5, 0x64, 0x8d, 0xc2, 0xd7, 0x71, 0x47, 0x1c, 0x8a, 0x24, 0x86, 0xa9, 0xee]),
        (i64::MAX, [0x20, 0xf6, 0x2c, 0xb5, 0x64, 0x8d, 0xc2, 0xd7, 0x71, 0x47, 0x1c, 0x8a, 0x24, 0x86, 0xa9, 0xee]),
        (0, [0xf2, 0x2a, 0xcd, 0x4a, 0x97, 0xe6, 0x9d, 0x6d, 0x20, 0xa4, 0x9b, 0xb6, 0x38, 0xea, 0xdb, 0x38]),
        (
            0x0a00_abcd_ef12_0005,
            [0xfb, 0xf4, 0x45, 0xba, 0x19, 0xb9, 0x90, 0x66, 0xa4, 0xa0, 0x63, 0x79, 0x8c, 0xaa, 0x20, 0x04],
        ),
    ];

    #[test]
    fn passwords_match_apache_zookeeper() {
        for (id, expected) in ORACLE {
            assert_eq!(generate_password(*id), *expected, "session 0x{id:016x}");
        }
    }

    #[test]
    fn check_password_accepts_only_the_generated_bytes() {
        let id = 0x0100_017c_2a5b_0000;
        let good = generate_password(id);
        assert!(check_password(id, &good));
        let mut bad = good;
        bad[15] ^= 1;
        assert!(!check_password(id, &bad));
        assert!(!check_password(id, &good[..15]));
        assert!(!check_password(id, &[]));
        // Session id 0 is never valid, even with its "password".
        assert!(!check_password(0, &generate_password(0)));
    }
}
