//! Cross-crate: dynamic reconfiguration of an in-process zk-server ensemble through zk-client's
//! `reconfig`: a standby server joins as a participant, then a member leaves, and every server's
//! `/zookeeper/config` follows; writes keep replicating. Also the refusals: a client that is not the
//! super user, and an ensemble without `reconfigEnabled`.

mod common;

use std::time::Duration;

use common::{client_of, read_on, WAIT};
use zk_rs::client::{Client, CreateOptions, Error};
use zk_rs::server::testing::Ensemble;

/// `DigestAuthenticationProvider.superDigest` for `super:secret`.
const SUPER_DIGEST: &str = "super:lK75jTNcA+U9vtVEw5vB51mj/w4=";

async fn super_client_of(ensemble: &Ensemble, id: i64) -> Client {
    let client = client_of(ensemble, id).await;
    client.add_auth("digest", b"super:secret").await.unwrap();
    client
}

/// `/zookeeper/config` as server `id` serves it, after a `sync`.
async fn config_on(ensemble: &Ensemble, id: i64) -> String {
    let client = client_of(ensemble, id).await;
    client.sync("/").await.unwrap();
    let (data, stat) = client.get_config().await.unwrap();
    client.close().await.unwrap();
    let text = String::from_utf8(data.to_vec()).unwrap();
    // As ZooKeeper: data version -1, mzxid = the config's version.
    assert_eq!(stat.version, -1, "server {id}: {text}");
    assert_eq!(format!("version={:x}", stat.mzxid), text.lines().last().unwrap(), "server {id}");
    text
}

fn members(config: &str) -> Vec<i64> {
    config.lines().filter_map(|line| line.strip_prefix("server.")?.split_once('=')?.0.parse().ok()).collect()
}

/// A write through each of `writers`, then read back on every one of `readers`.
async fn writes_replicate(ensemble: &Ensemble, writers: &[i64], readers: &[i64], prefix: &str) {
    for &id in writers {
        let client = client_of(ensemble, id).await;
        let path = format!("/{prefix}-{id}");
        client.create(&path, id.to_string().as_bytes(), &CreateOptions::persistent()).await.unwrap();
        client.close().await.unwrap();
        for &reader in readers {
            assert_eq!(read_on(ensemble, reader, &path).await, Some(id.to_string().into_bytes()), "{path} on {reader}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_standby_server_joins_and_a_member_leaves() {
    let mut ensemble = Ensemble::builder()
        .voters(3)
        .standby(1)
        .config("reconfigEnabled", "true")
        .config("DigestAuthenticationProvider.superDigest", SUPER_DIGEST)
        .start()
        .await
        .unwrap();
    let leader = ensemble.leader().unwrap();
    assert_ne!(leader, 4, "the standby server has no vote");
    let first_epoch = ensemble.status(leader).unwrap().epoch;
    let initial = config_on(&ensemble, leader).await;
    assert_eq!(members(&initial), vec![1, 2, 3]);
    assert!(initial.ends_with("version=0"), "{initial}");
    let joiner = ensemble.server_spec(4).unwrap();

    // Only the super user may reconfigure (WRITE on the world-readable /zookeeper/config).
    let plain = client_of(&ensemble, leader).await;
    assert!(matches!(plain.reconfig(Some(&joiner), None, None, None).await, Err(Error::NoAuth)));
    let (data, _) = plain.get_config().await.unwrap();
    assert_eq!(String::from_utf8(data.to_vec()).unwrap(), initial, "a refused reconfig changes nothing");
    plain.close().await.unwrap();

    // A stale expected version: BadVersion.
    let admin = super_client_of(&ensemble, leader).await;
    assert!(matches!(admin.reconfig(Some(&joiner), None, None, Some(0x99)).await, Err(Error::BadVersion)));
    // Add server 4, through the leader, from the current version 0.
    let (data, stat) = admin.reconfig(Some(&joiner), None, None, Some(0)).await.unwrap();
    let joined = String::from_utf8(data.to_vec()).unwrap();
    assert_eq!(members(&joined), vec![1, 2, 3, 4]);
    assert!(joined.contains(&format!("{}\n", &joiner)) || joined.contains(&joiner), "{joined}");
    assert_eq!(joined.lines().last().unwrap(), format!("version={:x}", stat.mzxid), "version = the txn's zxid");
    let _ = admin.close().await;

    // Every server ends its term, elects again under four voters, and serves the new config.
    let new_leader = ensemble.wait_for_quorum(WAIT).await.unwrap();
    let joined_epoch = ensemble.status(new_leader).unwrap().epoch;
    assert!(joined_epoch > first_epoch, "a new term");
    for id in ensemble.ids() {
        assert_eq!(config_on(&ensemble, id).await, joined, "server {id}");
    }
    // The dynamic config file ZooKeeper would write, named for the version.
    let version = joined.lines().last().unwrap().trim_start_matches("version=").to_owned();
    for id in ensemble.ids() {
        let file = ensemble.data_dir(id).join(format!("zoo.cfg.dynamic.{version}"));
        let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        assert_eq!(text.lines().count(), 4, "{text}");
        assert!(!text.contains("version"), "{text}");
    }
    writes_replicate(&ensemble, &[4], &ensemble.ids(), "joined").await;

    // Remove server 1, through a follower this time (forwarded to the leader like any write).
    let via = ensemble.ids_except(&[1, ensemble.leader().unwrap()])[0];
    let admin = super_client_of(&ensemble, via).await;
    let (data, _) = admin.reconfig(None, Some("1"), None, None).await.unwrap();
    let _ = admin.close().await;
    let left = String::from_utf8(data.to_vec()).unwrap();
    assert_eq!(members(&left), vec![2, 3, 4]);

    let remaining = [2, 3, 4];
    let last_leader = ensemble.wait_for_quorum_among(&remaining, WAIT).await.unwrap();
    assert!(ensemble.status(last_leader).unwrap().epoch > joined_epoch, "a new term");
    for id in remaining {
        assert_eq!(config_on(&ensemble, id).await, left, "server {id}");
    }
    writes_replicate(&ensemble, &remaining, &remaining, "left").await;
    // The removed server keeps running but serves no one.
    let removed = ensemble.status(1).expect("server 1 still runs");
    assert!(!removed.serving, "{removed:?}");

    // Restarted with their original configs, the servers go by the committed config in their logs: 4
    // (started as a standby) is a voter again, 1 stays out.
    ensemble.restart(4).await.unwrap();
    ensemble.restart(1).await.unwrap();
    ensemble.wait_for_quorum_among(&remaining, WAIT).await.unwrap();
    assert_eq!(config_on(&ensemble, 4).await, left);
    writes_replicate(&ensemble, &[4], &remaining, "restarted").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!ensemble.status(1).expect("server 1 runs").serving);

    // The leader may remove itself (ZooKeeper allows it): the two others elect a leader and serve.
    let leader = ensemble.wait_for_quorum_among(&remaining, WAIT).await.unwrap();
    let admin = super_client_of(&ensemble, leader).await;
    let (data, _) = admin.reconfig(None, Some(&leader.to_string()), None, None).await.unwrap();
    let _ = admin.close().await;
    let two: Vec<i64> = remaining.iter().copied().filter(|id| *id != leader).collect();
    assert_eq!(members(std::str::from_utf8(&data).unwrap()), two);
    ensemble.wait_for_quorum_among(&two, WAIT).await.unwrap();
    writes_replicate(&ensemble, &two, &two, "two").await;
    assert!(!ensemble.status(leader).expect("the old leader runs").serving);

    // Added back, the removed server learns it from the members' election notifications and rejoins.
    let admin = super_client_of(&ensemble, two[0]).await;
    let spec = ensemble.server_spec(leader).unwrap();
    let (data, _) = admin.reconfig(Some(&spec), None, None, None).await.unwrap();
    let _ = admin.close().await;
    let readded = String::from_utf8(data.to_vec()).unwrap();
    assert_eq!(members(&readded), remaining.to_vec());
    ensemble.wait_for_quorum_among(&remaining, WAIT).await.unwrap();
    assert_eq!(config_on(&ensemble, leader).await, readded);
    writes_replicate(&ensemble, &[leader], &remaining, "readded").await;
    ensemble.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_down_during_a_reconfig_learns_it_in_the_election() {
    let mut ensemble = Ensemble::builder()
        .voters(3)
        .standby(1)
        .config("reconfigEnabled", "true")
        .config("skipACL", "yes")
        .start()
        .await
        .unwrap();
    let leader = ensemble.leader().unwrap();
    let down = ensemble.ids_except(&[leader, 4])[0];
    ensemble.kill(down).await;
    let admin = client_of(&ensemble, leader).await;
    // skipACL: no super user needed.
    let (data, _) = admin.reconfig(Some(&ensemble.server_spec(4).unwrap()), None, None, None).await.unwrap();
    let _ = admin.close().await;
    let joined = String::from_utf8(data.to_vec()).unwrap();
    assert_eq!(members(&joined), vec![1, 2, 3, 4]);
    let up = ensemble.ids_except(&[down]);
    ensemble.wait_for_quorum_among(&up, WAIT).await.unwrap();

    // Restarted with the old three-server config and no trace of the reconfig in its log, it takes the
    // newer config from the others' notifications, joins, and syncs the txn.
    ensemble.restart(down).await.unwrap();
    ensemble.wait_for_quorum(WAIT).await.unwrap();
    assert_eq!(config_on(&ensemble, down).await, joined);
    writes_replicate(&ensemble, &[down], &ensemble.ids(), "rejoined").await;
    ensemble.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconfig_is_refused_unless_enabled() {
    let ensemble = Ensemble::start(3).await.unwrap();
    let leader = ensemble.leader().unwrap();
    for id in [leader, ensemble.ids_except(&[leader])[0]] {
        let client = client_of(&ensemble, id).await;
        let result = client.reconfig(None, Some("1"), None, None).await;
        assert!(matches!(result, Err(Error::ReconfigDisabled)), "server {id}: {result:?}");
        // The ensemble's config is served all the same.
        let (data, _) = client.get_config().await.unwrap();
        assert_eq!(members(std::str::from_utf8(&data).unwrap()), vec![1, 2, 3]);
        client.close().await.unwrap();
    }
    ensemble.stop().await;
}
