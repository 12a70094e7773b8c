//! Every operation, with exact results.

use std::time::Duration;

use futures::future::join_all;
use zk_client::{perms, Acl, Client, CreateMode, CreateOptions, Error, Id, MultiReadResult, MultiResult, SessionState};

use crate::{client, shared_server, test_root};

#[tokio::test]
async fn crud_with_versions_and_errors() {
    let server = shared_server!("crud_with_versions_and_errors");
    let zk = client(&server, "").await;
    let root = test_root(&zk, "crud").await;
    let a = format!("{root}/a");

    let (path, stat) = zk.create(&a, b"one", &CreateOptions::persistent()).await.unwrap();
    assert_eq!(path, a);
    assert_eq!((stat.version, stat.data_length, stat.num_children, stat.ephemeral_owner), (0, 3, 0, 0));
    assert_eq!(stat.czxid, stat.mzxid);
    assert_eq!(stat.czxid, stat.pzxid);

    assert_eq!(zk.create(&a, b"", &CreateOptions::persistent()).await, Err(Error::NodeExists));
    let (data, got) = zk.get_data(&a).await.unwrap();
    assert_eq!((&data[..], got), (&b"one"[..], stat.clone()));
    assert_eq!(zk.exists(&a).await.unwrap(), Some(stat.clone()));
    assert_eq!(zk.exists(&format!("{root}/nope")).await.unwrap(), None);

    let stat2 = zk.set_data(&a, b"two", Some(0)).await.unwrap();
    assert_eq!(stat2.version, 1);
    assert!(stat2.mzxid > stat.mzxid);
    assert_eq!(zk.set_data(&a, b"x", Some(0)).await, Err(Error::BadVersion));
    assert_eq!(zk.set_data(&format!("{root}/nope"), b"x", None).await, Err(Error::NoNode));

    zk.create(&format!("{a}/child"), b"", &CreateOptions::persistent()).await.unwrap();
    assert_eq!(zk.delete(&a, None).await, Err(Error::NotEmpty));
    zk.delete(&format!("{a}/child"), Some(0)).await.unwrap();
    assert_eq!(zk.delete(&a, Some(0)).await, Err(Error::BadVersion));
    zk.delete(&a, Some(1)).await.unwrap();
    assert_eq!(zk.delete(&a, None).await, Err(Error::NoNode));
    assert_eq!(zk.get_data(&a).await, Err(Error::NoNode));

    assert!(matches!(zk.get_data("no-slash").await, Err(Error::InvalidArgument(_))));
    assert!(matches!(zk.create("/a/", b"", &CreateOptions::persistent()).await, Err(Error::InvalidArgument(_))));
    assert_eq!(
        zk.create(&format!("{root}/missing/child"), b"", &CreateOptions::persistent()).await,
        Err(Error::NoNode)
    );
    zk.close().await.unwrap();
}

#[tokio::test]
async fn create_modes() {
    let server = shared_server!("create_modes");
    let zk = client(&server, "").await;
    let root = test_root(&zk, "modes").await;

    let (p1, _) = zk.create(&format!("{root}/s-"), b"", &CreateOptions::persistent_sequential()).await.unwrap();
    let (p2, _) = zk.create(&format!("{root}/s-"), b"", &CreateOptions::persistent_sequential()).await.unwrap();
    let seq = |p: &str| p.rsplit('-').next().unwrap().to_owned();
    assert_eq!(seq(&p1).len(), 10);
    assert_eq!(seq(&p2).parse::<u64>().unwrap(), seq(&p1).parse::<u64>().unwrap() + 1);

    let (eph, stat) = zk.create(&format!("{root}/e"), b"", &CreateOptions::ephemeral()).await.unwrap();
    assert_eq!(stat.ephemeral_owner, zk.session_id());
    assert_eq!(
        zk.create(&format!("{eph}/child"), b"", &CreateOptions::persistent()).await,
        Err(Error::NoChildrenForEphemerals)
    );
    let (es, stat) = zk.create(&format!("{root}/es-"), b"", &CreateOptions::ephemeral_sequential()).await.unwrap();
    assert!(es.starts_with(&format!("{root}/es-")));
    assert_eq!(stat.ephemeral_owner, zk.session_id());

    // Containers and TTL nodes: ZooKeeper hides their owner marker from clients (ephemeralOwner 0), so
    // check what they do: a container goes once its last child goes, a TTL node once its TTL passes.
    let (c, stat) = zk.create(&format!("{root}/c"), b"", &CreateOptions::container()).await.unwrap();
    assert_eq!((stat.ephemeral_owner, stat.version), (0, 0));
    zk.create(&format!("{c}/child"), b"", &CreateOptions::persistent()).await.unwrap();
    let (ttl, _) =
        zk.create(&format!("{root}/ttl"), b"", &CreateOptions::ttl(Duration::from_millis(300))).await.unwrap();
    let (keep, _) =
        zk.create(&format!("{root}/keep"), b"", &CreateOptions::ttl(Duration::from_secs(3600))).await.unwrap();
    zk.delete(&format!("{c}/child"), None).await.unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while zk.exists(&c).await.unwrap().is_some() || zk.exists(&ttl).await.unwrap().is_some() {
        assert!(std::time::Instant::now() < deadline, "container / TTL node never reaped");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(zk.exists(&keep).await.unwrap().is_some());
    let opts = CreateOptions::new(CreateMode::PersistentSequentialWithTtl).with_ttl(Duration::from_secs(60));
    let (ttl_seq, _) = zk.create(&format!("{root}/ttls-"), b"", &opts).await.unwrap();
    assert_eq!(seq(&ttl_seq).len(), 10);

    // Client-side argument checks.
    let no_ttl = CreateOptions::new(CreateMode::PersistentWithTtl);
    assert!(matches!(zk.create(&format!("{root}/x"), b"", &no_ttl).await, Err(Error::InvalidArgument(_))));
    let ttl_on_plain = CreateOptions::persistent().with_ttl(Duration::from_secs(1));
    assert!(matches!(zk.create(&format!("{root}/x"), b"", &ttl_on_plain).await, Err(Error::InvalidArgument(_))));

    // Ephemerals of this session, relative paths.
    let mut mine = zk.get_ephemerals(&root).await.unwrap();
    mine.sort();
    assert_eq!(mine, vec![eph.clone(), es.clone()]);
    zk.close().await.unwrap();

    let other = client(&server, "").await;
    assert_eq!(other.exists(&eph).await.unwrap(), None, "ephemerals go with the closed session");
    assert_eq!(other.exists(&es).await.unwrap(), None);
    other.close().await.unwrap();
}

#[tokio::test]
async fn children_counts_and_sync() {
    let server = shared_server!("children_counts_and_sync");
    let zk = client(&server, "").await;
    let root = test_root(&zk, "children").await;
    for name in ["b", "a", "c"] {
        zk.create(&format!("{root}/{name}"), b"", &CreateOptions::persistent()).await.unwrap();
    }
    zk.create(&format!("{root}/a/deep"), b"", &CreateOptions::persistent()).await.unwrap();
    let mut children = zk.get_children(&root).await.unwrap();
    children.sort();
    assert_eq!(children, ["a", "b", "c"]);
    let (_, stat) = zk.get_children_and_stat(&root).await.unwrap();
    assert_eq!(stat.num_children, 3);
    assert_eq!(zk.get_all_children_number(&root).await.unwrap(), 4);
    assert_eq!(zk.get_children(&format!("{root}/zz")).await, Err(Error::NoNode));
    zk.sync(&root).await.unwrap();
    zk.close().await.unwrap();
}

#[tokio::test]
async fn acl_auth_and_who_am_i() {
    let server = shared_server!("acl_auth_and_who_am_i");
    let zk = client(&server, "").await;
    let root = test_root(&zk, "acl").await;
    let secret = format!("{root}/secret");

    zk.add_auth("digest", b"alice:pw").await.unwrap();
    let who = zk.who_am_i().await.unwrap();
    assert!(who.iter().any(|c| c.auth_scheme == "digest" && c.user == "alice"), "{who:?}");
    zk.create(&secret, b"s", &CreateOptions::persistent().with_acl(Acl::creator_all())).await.unwrap();
    let (acl, stat) = zk.get_acl(&secret).await.unwrap();
    assert_eq!(acl.len(), 1);
    assert_eq!(acl[0].perms, perms::ALL);
    assert_eq!(acl[0].id.scheme, "digest");
    assert!(acl[0].id.id.starts_with("alice:"));
    assert_eq!(stat.aversion, 0);

    let stranger = client(&server, "").await;
    assert_eq!(stranger.get_data(&secret).await, Err(Error::NoAuth));
    // Credentials given at build time are sent with the handshake.
    let alice = Client::builder().with_auth("digest", b"alice:pw").connect(&server.connect_string()).await.unwrap();
    assert_eq!(&alice.get_data(&secret).await.unwrap().0[..], b"s");

    let open = vec![Acl::new(perms::READ, Id::anyone())];
    assert_eq!(zk.set_acl(&secret, &open, Some(5)).await, Err(Error::BadVersion));
    let stat = zk.set_acl(&secret, &open, Some(0)).await.unwrap();
    assert_eq!(stat.aversion, 1);
    assert_eq!(&stranger.get_data(&secret).await.unwrap().0[..], b"s");
    assert_eq!(stranger.set_data(&secret, b"x", None).await, Err(Error::NoAuth));
    assert_eq!(zk.set_acl(&secret, &[], None).await, Err(Error::InvalidAcl));

    for c in [zk, stranger, alice] {
        c.close().await.unwrap();
    }
}

#[tokio::test]
async fn bad_credentials_fail_the_session() {
    let server = shared_server!("bad_credentials_fail_the_session");
    let result = Client::builder().with_auth("no-such-scheme", b"x").connect(&server.connect_string()).await;
    assert_eq!(result.err(), Some(Error::AuthFailed));

    let zk = client(&server, "").await;
    let mut states = zk.state_stream();
    use futures::StreamExt;
    assert_eq!(states.next().await, Some(SessionState::Connected));
    assert_eq!(zk.add_auth("no-such-scheme", b"x").await, Err(Error::AuthFailed));
    assert_eq!(states.next().await, Some(SessionState::AuthFailed));
    assert_eq!(states.next().await, None);
    assert_eq!(zk.exists("/").await, Err(Error::AuthFailed));
}

#[tokio::test]
async fn multi_and_multi_read() {
    let server = shared_server!("multi_and_multi_read");
    let zk = client(&server, "").await;
    let root = test_root(&zk, "multi").await;
    let n = format!("{root}/n");

    let results = zk
        .multi()
        .create(&n, b"0", &CreateOptions::persistent())
        .create(&format!("{root}/q-"), b"", &CreateOptions::persistent_sequential())
        .set_data(&n, b"1", Some(0))
        .check(&n, 1)
        .commit()
        .await
        .unwrap();
    assert_eq!(results.len(), 4);
    let MultiResult::Create { path, stat } = &results[0] else { panic!("{results:?}") };
    assert_eq!(path.as_str(), n.as_str());
    let MultiResult::Create { path, .. } = &results[1] else { panic!("{results:?}") };
    assert_eq!(path, &format!("{root}/q-0000000001"));
    let MultiResult::SetData { stat: set } = &results[2] else { panic!("{results:?}") };
    assert_eq!(set.version, 1);
    assert_eq!(results[3], MultiResult::Check);
    // One multi, one zxid. (Apache ZooKeeper 3.8 sends zeroed stats for creates inside a multi.)
    assert_eq!(set.czxid, set.mzxid);
    assert!(*stat == zk_client::Stat::default() || stat.mzxid == set.mzxid, "{stat:?}");

    // Atomic failure: nothing applies, the first failing op is named.
    let failed = zk
        .multi()
        .create(&format!("{root}/never"), b"", &CreateOptions::persistent())
        .check(&n, 7)
        .delete(&n, None)
        .commit()
        .await;
    assert_eq!(failed, Err(Error::MultiFailed { index: 1, source: Box::new(Error::BadVersion) }));
    assert_eq!(zk.exists(&format!("{root}/never")).await.unwrap(), None);
    assert_eq!(zk.check(&n, 1).await, Ok(()));
    assert_eq!(zk.check(&n, 0).await, Err(Error::BadVersion));
    assert_eq!(zk.check(&format!("{root}/none"), 0).await, Err(Error::NoNode));

    let reads = zk.multi_read().get_data(&n).get_children(&root).get_data(&format!("{root}/none")).commit().await;
    let reads = reads.unwrap();
    assert!(matches!(&reads[0], Ok(MultiReadResult::Data { data, stat }) if &data[..] == b"1" && stat.version == 1));
    let Ok(MultiReadResult::Children { children }) = &reads[1] else { panic!("{reads:?}") };
    let mut children = children.clone();
    children.sort();
    assert_eq!(children, ["n", "q-0000000001"]);
    assert_eq!(reads[2], Err(Error::NoNode));
    assert_eq!(zk.multi().commit().await, Ok(vec![]));
    zk.close().await.unwrap();
}

#[tokio::test]
async fn chroot_maps_every_path() {
    let server = shared_server!("chroot_maps_every_path");
    let root_client = client(&server, "").await;
    let root = test_root(&root_client, "chroot").await;
    let zk = client(&server, &root).await;

    let (path, _) = zk.create("/job-", b"j", &CreateOptions::ephemeral_sequential()).await.unwrap();
    assert!(path.starts_with("/job-"), "{path}");
    assert_eq!(&root_client.get_data(&format!("{root}{path}")).await.unwrap().0[..], b"j");
    assert_eq!(zk.get_children("/").await.unwrap(), vec![path[1..].to_owned()]);
    assert_eq!(zk.get_ephemerals("/").await.unwrap(), vec![path.clone()]);
    let results = zk.multi().create("/m", b"", &CreateOptions::persistent()).commit().await.unwrap();
    assert!(matches!(&results[0], MultiResult::Create { path, .. } if path == "/m"));
    // get_config ignores the chroot.
    let (_config, stat) = zk.get_config().await.unwrap();
    assert!(stat.czxid >= 0);
    zk.close().await.unwrap();
    root_client.close().await.unwrap();
}

#[tokio::test]
async fn pipelined_requests_complete_in_submission_order() {
    let server = shared_server!("pipelined_requests_complete_in_submission_order");
    let zk = client(&server, "").await;
    let root = test_root(&zk, "pipeline").await;
    let clones: Vec<Client> = (0..4).map(|_| zk.clone()).collect();
    let futures = (0..200).map(|i| {
        let c = clones[i % 4].clone();
        let root = root.clone();
        async move {
            c.create(&format!("{root}/s-"), format!("{i}").as_bytes(), &CreateOptions::persistent_sequential()).await
        }
    });
    // join_all polls in order, so submission order is the index order.
    let results = join_all(futures).await;
    for (i, result) in results.into_iter().enumerate() {
        let (path, _) = result.unwrap();
        assert_eq!(path, format!("{root}/s-{i:010}"));
    }
    assert_eq!(zk.get_all_children_number(&root).await.unwrap(), 200);
    drop(clones);
    zk.close().await.unwrap();
}

#[tokio::test]
async fn config_reconfig_and_session_resume() {
    let server = shared_server!("config_reconfig_and_session_resume");
    let zk = client(&server, "").await;
    let (_config, _stat) = zk.get_config().await.unwrap();
    assert_eq!(zk.reconfig(None, Some("1"), None, None).await, Err(Error::ReconfigDisabled));
    assert_eq!(zk.remove_watches("/", zk_client::WatcherType::Any).await, Err(Error::NoWatcher));

    zk.close().await.unwrap();

    // A session held by a client cut off from the server is resumed by another one, ephemerals intact.
    let proxy = crate::proxy::Proxy::start(server.addr()).await;
    let zk = Client::connect(&proxy.addr().to_string()).await.unwrap();
    let root = test_root(&zk, "resume").await;
    let (eph, _) = zk.create(&format!("{root}/e"), b"", &CreateOptions::ephemeral()).await.unwrap();
    proxy.set_mode(crate::proxy::Mode::Refuse);
    let twin = Client::builder()
        .with_session(zk.session_id(), &zk.session_password())
        .connect(&server.connect_string())
        .await
        .unwrap();
    assert_eq!(twin.session_id(), zk.session_id());
    assert_eq!(twin.get_ephemerals(&root).await.unwrap(), vec![eph.clone()]);
    twin.close().await.unwrap();
    // The twin closed the shared session: resuming it again is an expiry.
    let late =
        Client::builder().with_session(zk.session_id(), &zk.session_password()).connect(&server.connect_string()).await;
    assert_eq!(late.err(), Some(Error::SessionExpired));
    let bogus = Client::builder().with_session(0x1234, &[0; 16]).connect(&server.connect_string()).await;
    assert_eq!(bogus.err(), Some(Error::SessionExpired));
}

#[tokio::test]
async fn close_and_drop() {
    let server = shared_server!("close_and_drop");
    let zk = client(&server, "").await;
    let root = test_root(&zk, "close").await;
    let (eph, _) = zk.create(&format!("{root}/e"), b"", &CreateOptions::ephemeral()).await.unwrap();
    let clone = zk.clone();
    zk.close().await.unwrap();
    assert_eq!(zk.state(), SessionState::Closed);
    assert_eq!(clone.get_data("/").await, Err(Error::Closed));
    zk.close().await.unwrap();

    // Dropping every handle closes the session too.
    let watcher = client(&server, "").await;
    let dropped = client(&server, "").await;
    let (eph2, _) = dropped.create(&format!("{root}/e2"), b"", &CreateOptions::ephemeral()).await.unwrap();
    let (stat, watch) = watcher.exists_and_watch(&eph2).await.unwrap();
    assert!(stat.is_some());
    drop(dropped);
    let event = crate::within(Duration::from_secs(5), "ephemeral deleted after drop", watch).await;
    assert_eq!(event.event_type, zk_client::EventType::NodeDeleted);
    assert_eq!(watcher.exists(&eph).await.unwrap(), None);
    watcher.close().await.unwrap();
}

#[tokio::test]
async fn large_payloads_and_the_frame_limit() {
    let server = shared_server!("large_payloads_and_the_frame_limit");
    let zk = client(&server, "").await;
    let root = test_root(&zk, "large").await;
    let big: Vec<u8> = (0..900 * 1024).map(|i| (i % 251) as u8).collect();
    let (path, stat) = zk.create(&format!("{root}/big"), &big, &CreateOptions::persistent()).await.unwrap();
    assert_eq!(stat.data_length as usize, big.len());
    let (data, _) = zk.get_data(&path).await.unwrap();
    assert_eq!(&data[..], &big[..]);
    // Over the 1 MiB frame limit: refused before sending, and the connection is unharmed.
    let huge = vec![0u8; 1024 * 1024];
    assert!(matches!(zk.set_data(&path, &huge, None).await, Err(Error::InvalidArgument(_))));
    assert_eq!(zk.get_data(&path).await.unwrap().1, stat);
    zk.close().await.unwrap();
}
