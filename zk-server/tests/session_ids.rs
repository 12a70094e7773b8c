//! Session ids stay unique across restarts: a restarted server restores the sessions of its data
//! directory (they live until they time out), so the ids it hands out next must not repeat them.
//! ZooKeeper bases them on a machine-wide clock (`System.nanoTime`) with the server id 1 of a standalone
//! server in the top byte.

mod support;

use support::raw_client::RawClient;
use support::{Options, ServerProcess};

#[test]
fn new_sessions_after_a_restart_do_not_reuse_restored_ids() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let mut ids = Vec::new();
    for _ in 0..3 {
        let mut server = ServerProcess::start(&data, &Options::default());
        // A live session that the next start restores from the txn log.
        let mut client = RawClient::connect(server.addr, 30_000).unwrap();
        client.create(&format!("/s-{}", ids.len()), b"").unwrap();
        ids.push(client.session_id);
        server.kill();
    }
    for id in &ids {
        assert_eq!((*id as u64) >> 56, 1, "a standalone server puts server id 1 in the top byte: {id:#x}");
    }
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "session ids repeated or went back after restarts: {ids:#x?}");
}
