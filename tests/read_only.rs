//! Cross-crate: read-only mode (`readonlymode.enabled`) of an in-process zk-server ensemble, seen by
//! zk-client. A follower cut off from the quorum serves read-only clients from its own tree while it
//! looks for a leader, refuses writes with `NotReadOnly` and read-write clients altogether, and serves
//! read-write again once it rejoins.

mod common;

use std::time::Duration;

use common::{four_letter, WAIT};
use zk_rs::client::{Client, CreateOptions, Error, SessionState};
use zk_rs::server::runtime::PeerState;
use zk_rs::server::testing::Ensemble;

/// Every file under `dir` with its length: the data directory as the disk holds it.
fn files(dir: &std::path::Path) -> Vec<(std::path::PathBuf, u64)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let meta = entry.metadata().unwrap();
        if meta.is_dir() {
            out.extend(files(&entry.path()));
        } else {
            out.push((entry.path(), meta.len()));
        }
    }
    out.sort();
    out
}

/// Waits until `client` reports `state`.
async fn wait_for_state(client: &Client, state: SessionState) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while client.state() != state {
        assert!(tokio::time::Instant::now() < deadline, "still {:?}, not {state:?}", client.state());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partitioned_follower_serves_read_only_clients_until_it_rejoins() {
    let mut ensemble = Ensemble::builder().voters(3).config("readonlymode.enabled", "true").start().await.unwrap();
    let leader = ensemble.wait_for_quorum(WAIT).await.unwrap();
    let follower = ensemble.ids_except(&[leader])[0];
    let others = ensemble.ids_except(&[follower]);
    let addr = ensemble.client_addr(follower).to_string();
    assert_eq!(four_letter(ensemble.client_addr(follower), "isro").await, "rw");

    // Written through the follower: acknowledged there, so applied to its tree.
    let writer = Client::builder().with_session_timeout(Duration::from_secs(6)).connect(&addr).await.unwrap();
    writer.create("/before", b"old", &CreateOptions::persistent()).await.unwrap();
    writer.close().await.unwrap();

    ensemble.partition(&[follower], &others);
    ensemble.wait_for_read_only(follower, WAIT).await.unwrap();
    let on_disk = files(ensemble.data_dir(follower));
    assert!(on_disk.iter().any(|(path, _)| path.to_string_lossy().contains("log.")), "{on_disk:?}");
    let status = ensemble.status(follower).unwrap();
    assert_eq!((status.state, status.serving), (PeerState::Looking, false));
    assert_eq!(four_letter(ensemble.client_addr(follower), "isro").await, "ro");
    let mntr = four_letter(ensemble.client_addr(follower), "mntr").await;
    assert!(mntr.contains("zk_server_state\tread-only\n"), "{mntr}");
    assert!(four_letter(ensemble.client_addr(follower), "srvr").await.contains("Mode: read-only\n"));

    // A read-only client reads what was written before the partition; writes and syncs are refused.
    let reader = Client::builder()
        .with_session_timeout(Duration::from_secs(6))
        .with_read_only(true)
        .connect(&addr)
        .await
        .unwrap();
    assert_eq!(reader.state(), SessionState::ConnectedReadOnly);
    assert_eq!(&reader.get_data("/before").await.unwrap().0[..], b"old");
    assert!(reader.get_children("/").await.unwrap().contains(&"before".to_owned()));
    assert!(matches!(reader.create("/during", b"x", &CreateOptions::persistent()).await, Err(Error::NotReadOnly)));
    assert!(matches!(reader.set_data("/before", b"new", None).await, Err(Error::NotReadOnly)));
    assert!(matches!(reader.delete("/before", None).await, Err(Error::NotReadOnly)));
    assert!(matches!(reader.sync("/before").await, Err(Error::NotReadOnly)));
    assert!(matches!(reader.exists("/during").await, Ok(None)));
    assert_eq!(&reader.get_data("/before").await.unwrap().0[..], b"old");

    // A client that did not ask for read-only service is refused there.
    let refused = Client::builder()
        .with_session_timeout(Duration::from_secs(6))
        .with_establish_timeout(Duration::from_secs(3))
        .connect(&addr)
        .await;
    assert!(matches!(refused, Err(Error::Timeout)), "{refused:?}");

    reader.close().await.unwrap();
    assert_eq!(files(ensemble.data_dir(follower)), on_disk, "nothing is logged in read-only mode");
    let reader = Client::builder()
        .with_session_timeout(Duration::from_secs(6))
        .with_read_only(true)
        .connect(&addr)
        .await
        .unwrap();

    // The majority goes on meanwhile.
    let majority = Client::builder()
        .with_session_timeout(Duration::from_secs(6))
        .connect(&ensemble.client_addr(others[0]).to_string())
        .await
        .unwrap();
    majority.create("/during-partition", b"m", &CreateOptions::persistent()).await.unwrap();
    assert!(matches!(reader.exists("/during-partition").await, Ok(None)), "the partitioned tree is not updated");

    // Healed: the follower rejoins and serves read-write again; the read-only client reconnects with
    // a new, read-write session.
    ensemble.heal();
    assert_eq!(ensemble.wait_for_quorum(WAIT).await.unwrap(), leader);
    assert!(!ensemble.status(follower).unwrap().read_only);
    wait_for_state(&reader, SessionState::Connected).await;
    reader.sync("/during-partition").await.unwrap();
    assert_eq!(&reader.get_data("/during-partition").await.unwrap().0[..], b"m");
    reader.create("/after", b"rw", &CreateOptions::persistent()).await.unwrap();
    let rw = Client::builder().with_session_timeout(Duration::from_secs(6)).connect(&addr).await.unwrap();
    rw.set_data("/before", b"new", None).await.unwrap();
    assert_eq!(four_letter(ensemble.client_addr(follower), "isro").await, "rw");
    for client in [reader, rw, majority] {
        client.close().await.unwrap();
    }
    ensemble.stop().await;
}
