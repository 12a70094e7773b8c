//! Cross-crate: zk-client against an in-process zk-server ensemble (`zk_server::testing::Ensemble`):
//! replication, reads on every server, global sessions and watches, leader failover, partitions and
//! observers. Every acknowledged write must be on every server afterwards.

mod common;

use std::time::Duration;

use common::{client_of, four_letter, read_on, WAIT};
use zk_rs::client::{Client, CreateOptions, Error, EventType};
use zk_rs::server::runtime::PeerState;
use zk_rs::server::testing::Ensemble;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_on_any_server_replicate_to_every_server() {
    let ensemble = Ensemble::start(3).await.unwrap();
    let leader = ensemble.leader().unwrap();
    let followers = ensemble.ids_except(&[leader]);
    assert_eq!(followers.len(), 2);
    for id in ensemble.ids() {
        let expected = if id == leader { PeerState::Leading } else { PeerState::Following };
        assert_eq!(ensemble.status(id).unwrap().state, expected);
    }

    // A write through a follower is forwarded, committed by a quorum and answered by the follower.
    let writer = client_of(&ensemble, followers[0]).await;
    let (path, stat) = writer.create("/replicated", b"v1", &CreateOptions::persistent()).await.unwrap();
    assert_eq!((path.as_str(), stat.version), ("/replicated", 0));
    // Read-your-writes on the same server, without sync.
    assert_eq!(&writer.get_data("/replicated").await.unwrap().0[..], b"v1");

    // A watch set on the other follower fires for a write made through the leader.
    let watcher = client_of(&ensemble, followers[1]).await;
    watcher.sync("/replicated").await.unwrap();
    let (data, _, changed) = watcher.get_data_and_watch("/replicated").await.unwrap();
    assert_eq!(&data[..], b"v1");
    let on_leader = client_of(&ensemble, leader).await;
    on_leader.set_data("/replicated", b"v2", Some(0)).await.unwrap();
    let event = tokio::time::timeout(WAIT, changed).await.expect("watch event");
    assert_eq!((event.event_type, event.path.as_str()), (EventType::NodeDataChanged, "/replicated"));

    // Failing writes through a follower get the leader's verdict.
    assert!(matches!(writer.create("/replicated", b"", &CreateOptions::persistent()).await, Err(Error::NodeExists)));
    assert!(matches!(writer.set_data("/replicated", b"x", Some(0)).await, Err(Error::BadVersion)));

    for id in ensemble.ids() {
        assert_eq!(read_on(&ensemble, id, "/replicated").await.as_deref(), Some(&b"v2"[..]), "server {id}");
    }
    for c in [writer, watcher, on_leader] {
        c.close().await.unwrap();
    }
    ensemble.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_and_ephemerals_are_global() {
    let ensemble = Ensemble::start(3).await.unwrap();
    let leader = ensemble.leader().unwrap();
    let follower = ensemble.ids_except(&[leader])[0];
    let owner = client_of(&ensemble, follower).await;
    owner.create("/members", b"", &CreateOptions::persistent()).await.unwrap();
    owner.create("/members/a", b"", &CreateOptions::ephemeral()).await.unwrap();
    let observer = client_of(&ensemble, leader).await;
    observer.sync("/members").await.unwrap();
    assert_eq!(observer.get_children("/members").await.unwrap(), vec!["a".to_owned()]);

    // The session is known everywhere: it resumes on another server with its password.
    let resumed = Client::builder()
        .with_session(owner.session_id(), &owner.session_password())
        .with_session_timeout(Duration::from_secs(6))
        .connect(&ensemble.client_addr(leader).to_string())
        .await
        .unwrap();
    assert_eq!(resumed.session_id(), owner.session_id());
    // Closing it removes its ephemerals on every server.
    resumed.close().await.unwrap();
    for id in ensemble.ids() {
        let c = client_of(&ensemble, id).await;
        c.sync("/members").await.unwrap();
        assert!(c.get_children("/members").await.unwrap().is_empty(), "server {id}");
        c.close().await.unwrap();
    }
    observer.close().await.unwrap();
    ensemble.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_leader_failover() {
    let mut ensemble = Ensemble::start(3).await.unwrap();
    let old_leader = ensemble.leader().unwrap();
    let client = Client::builder()
        .with_session_timeout(Duration::from_secs(10))
        .connect(&ensemble.connect_string())
        .await
        .unwrap();
    let mut acknowledged = Vec::new();
    for i in 0..20 {
        let path = format!("/before-{i}");
        client.create(&path, b"x", &CreateOptions::persistent()).await.unwrap();
        acknowledged.push(path);
    }
    ensemble.kill(old_leader).await;
    let new_leader = ensemble.wait_for_leader(WAIT).await.unwrap();
    assert_ne!(new_leader, old_leader);
    // The client fails over (its session survives: the new leader knows it) and keeps writing.
    for i in 0..20 {
        let path = format!("/after-{i}");
        let result = loop {
            match client.create(&path, b"y", &CreateOptions::persistent()).await {
                Err(Error::ConnectionLoss) => tokio::time::sleep(Duration::from_millis(50)).await,
                other => break other,
            }
        };
        match result {
            Ok(_) | Err(Error::NodeExists) => acknowledged.push(path),
            Err(e) => panic!("{path}: {e}"),
        }
    }
    ensemble.restart(old_leader).await.unwrap();
    ensemble.wait_for_quorum(WAIT).await.unwrap();
    for id in ensemble.ids() {
        let c = client_of(&ensemble, id).await;
        c.sync("/").await.unwrap();
        for path in &acknowledged {
            assert!(c.exists(path).await.unwrap().is_some(), "{path} missing on server {id}");
        }
        c.close().await.unwrap();
    }
    client.close().await.unwrap();
    ensemble.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partitioned_leader_is_replaced_and_rejoins() {
    let mut ensemble = Ensemble::start(3).await.unwrap();
    let old_leader = ensemble.leader().unwrap();
    let majority = ensemble.ids_except(&[old_leader]);
    ensemble.partition(&[old_leader], &majority);
    let new_leader = ensemble.wait_for_leader_among(&majority, WAIT).await.unwrap();
    // Cut off, the old leader steps down; while it elects it says it is not serving, as ZooKeeper does.
    let deadline = tokio::time::Instant::now() + WAIT;
    while ensemble.status(old_leader).is_none_or(|s| s.state != PeerState::Looking) {
        assert!(tokio::time::Instant::now() < deadline, "the cut-off leader did not step down");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let srvr = four_letter(ensemble.client_addr(old_leader), "srvr").await;
    assert_eq!(srvr, "This ZooKeeper instance is not currently serving requests\n");
    assert_eq!(four_letter(ensemble.client_addr(old_leader), "isro").await, "null");
    assert_eq!(four_letter(ensemble.client_addr(old_leader), "ruok").await, "imok");
    let client = client_of(&ensemble, majority[0]).await;
    client.create("/during-partition", b"m", &CreateOptions::persistent()).await.unwrap();
    ensemble.heal();
    let leader = ensemble.wait_for_quorum(WAIT).await.unwrap();
    assert_eq!(leader, new_leader);
    assert_eq!(read_on(&ensemble, old_leader, "/during-partition").await.as_deref(), Some(&b"m"[..]));
    client.close().await.unwrap();
    ensemble.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn observers_serve_reads_and_forward_writes() {
    let ensemble = Ensemble::builder().voters(3).observers(1).start().await.unwrap();
    ensemble.wait_for_quorum(WAIT).await.unwrap();
    let observer = 4;
    assert_eq!(ensemble.status(observer).unwrap().state, PeerState::Observing);
    let client = client_of(&ensemble, observer).await;
    client.create("/via-observer", b"o", &CreateOptions::persistent()).await.unwrap();
    for id in ensemble.ids() {
        assert_eq!(read_on(&ensemble, id, "/via-observer").await.as_deref(), Some(&b"o"[..]), "server {id}");
    }
    client.close().await.unwrap();
    ensemble.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mntr_reports_roles_and_zab_state() {
    let ensemble = Ensemble::start(3).await.unwrap();
    let leader = ensemble.leader().unwrap();
    for id in ensemble.ids() {
        let mntr = four_letter(ensemble.client_addr(id), "mntr").await;
        let (state, peer_state) =
            if id == leader { ("leader", "leading - broadcast") } else { ("follower", "following - broadcast") };
        assert!(mntr.contains(&format!("zk_server_state\t{state}\n")), "{id}: {mntr}");
        assert!(mntr.contains(&format!("zk_peer_state\t{peer_state}\n")), "{id}: {mntr}");
        assert!(mntr.contains("zk_quorum_size\t3\n"), "{id}: {mntr}");
        if id == leader {
            assert!(mntr.contains("zk_learners\t2\n") && mntr.contains("zk_synced_followers\t2\n"), "{mntr}");
        } else {
            assert!(!mntr.contains("zk_learners"), "{id}: {mntr}");
        }
        let srvr = four_letter(ensemble.client_addr(id), "srvr").await;
        assert!(srvr.contains(&format!("Mode: {state}\n")), "{id}: {srvr}");
        // `conf` adds the quorum settings and the membership, as QuorumZooKeeperServer.dumpConf.
        let conf = four_letter(ensemble.client_addr(id), "conf").await;
        assert!(conf.contains(&format!("serverId={id}\n")) && conf.contains("peerType=0\n"), "{id}: {conf}");
        assert!(conf.contains("electionAlg=3\n") && conf.contains("membership: \nserver.1="), "{id}: {conf}");
        assert!(conf.trim_end().ends_with("version=0"), "{id}: {conf}");
    }
    ensemble.stop().await;
}
