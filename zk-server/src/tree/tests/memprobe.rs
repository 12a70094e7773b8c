//! A manual probe of memory and speed with a million znodes (`--release -- --ignored --nocapture`).

use zk_proto::{Acl, OpCode};

use super::txns::*;
use crate::tree::DataTree;

fn resident_kib() -> i64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let line = status.lines().find(|line| line.starts_with("VmRSS")).unwrap_or("VmRSS: 0 kB");
    line.split_whitespace().nth(1).and_then(|kib| kib.parse().ok()).unwrap_or(0)
}

#[test]
#[ignore = "manual probe: cargo test -p zk-server --lib --release million_znodes -- --ignored --nocapture"]
fn million_znodes_memory_and_apply_rate() {
    let before = resident_kib();
    let started = std::time::Instant::now();
    let mut tree = DataTree::new();
    let mut zxid = 0;
    for dir in 0..1000 {
        zxid += 1;
        let body = create(&format!("/zkbench-w5-b{dir:04}"), data(&[7u8; 128]), Acl::open_unsafe(), false, dir + 1);
        tree.apply(&entry(1, zxid, OpCode::Create, body));
        for child in 0..1000 {
            zxid += 1;
            // The path and data sizes of zk-bench's W5 (`/zkbench/w5/b0001/n00001234`, 128 B).
            let path = format!("/zkbench-w5-b{dir:04}/n{:08}", dir * 1000 + child);
            tree.apply(&entry(
                1,
                zxid,
                OpCode::Create,
                create(&path, data(&[7u8; 128]), Acl::open_unsafe(), false, child + 1),
            ));
        }
    }
    let built = started.elapsed();
    let grown = resident_kib() - before;
    let snapshot = tree.clone();
    let started = std::time::Instant::now();
    let walked = snapshot.snapshot_nodes().count();
    eprintln!(
        "{} znodes: {} bytes/znode resident, {:?}/create, snapshot walk of {walked} in {:?}",
        tree.node_count(),
        grown * 1024 / tree.node_count() as i64,
        built / zxid as u32,
        started.elapsed()
    );
}
