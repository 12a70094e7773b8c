//! The values `GoldenVectors.java` shares between records, mirrored field for field.

use bytes::Bytes;
use zk_proto::{perms, Acl, Id, Stat};

/// `PATH`: non-ASCII, BMP only.
pub const PATH: &str = "/zk-rs/golden/ünïcödé/节点-€";

/// `DATA`.
pub const DATA: &[u8] = &[0, 1, 2, 0x7f, 0x80, 0xfe, 0xff, b'z', b'k'];

/// `PASSWD`.
pub const PASSWD: &[u8] = &[0xde, 0xad, 0xbe, 0xef, 0, 1, 2, 3, 0xff, 0xfe, 0x7f, 0x80, 0x10, 0x20, 0x30, 0x40];

/// `SESSION_ID`.
pub const SESSION_ID: i64 = 0x7201_0000_0000_00a5;

pub fn data() -> Bytes {
    Bytes::from_static(DATA)
}

pub fn path(suffix: &str) -> String {
    format!("{PATH}{suffix}")
}

pub fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// `stat()`.
pub fn stat() -> Stat {
    Stat {
        czxid: 0x0000_0005_0000_0001,
        mzxid: 0x0000_0007_0000_00ff,
        ctime: 1_700_000_000_123,
        mtime: 1_700_000_456_789,
        version: 42,
        cversion: 17,
        aversion: 3,
        ephemeral_owner: SESSION_ID,
        data_length: 9,
        num_children: 2,
        pzxid: 0x0000_0006_0000_00aa,
    }
}

/// `statExtremes()`.
pub fn stat_extremes() -> Stat {
    Stat {
        czxid: i64::MIN,
        mzxid: i64::MAX,
        ctime: -1,
        mtime: 0,
        version: i32::MIN,
        cversion: i32::MAX,
        aversion: -1,
        ephemeral_owner: 0xff00_0000_0000_03e8_u64 as i64,
        data_length: 0,
        num_children: -2,
        pzxid: -0x0123_4567_89ab_cdef,
    }
}

/// `acls()`.
pub fn acls() -> Vec<Acl> {
    vec![
        Acl::new(perms::ALL, Id::new("world", "anyone")),
        Acl::new(perms::READ | perms::ADMIN, Id::new("digest", "bøb:Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MDA=")),
        Acl::new(perms::CREATE | perms::DELETE, Id::new("ip", "10.0.0.0/8")),
    ]
}

/// `children()`.
pub fn children() -> Vec<String> {
    strings(&["child-0000000001", "ünï", "节点", ""])
}
