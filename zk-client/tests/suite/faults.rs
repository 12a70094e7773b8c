//! Fault tests through a loopback proxy: connection loss, stalls, refusal, expiry.

use std::time::{Duration, Instant};

use futures::StreamExt;
use zk_client::{Client, CreateOptions, Error, EventType, KeeperState, SessionState};

use crate::proxy::{Mode, Proxy};
use crate::{client, shared_server, test_root, within};

const WAIT: Duration = Duration::from_secs(10);

async fn via(proxy: &Proxy, timeout: Duration) -> Client {
    crate::init_logs();
    // Generous connect and establish timeouts: a loaded CI machine can be slow to create a session.
    Client::builder()
        .with_session_timeout(timeout)
        .with_connect_timeout(Duration::from_secs(5))
        .with_establish_timeout(Duration::from_secs(20))
        .with_backoff(Duration::from_millis(10), Duration::from_millis(200))
        .connect(&proxy.addr().to_string())
        .await
        .expect("connect through proxy")
}

async fn next_state(states: &mut (impl futures::Stream<Item = SessionState> + Unpin)) -> SessionState {
    within(WAIT, "state change", states.next()).await.expect("state stream ended")
}

#[tokio::test]
async fn reconnect_resumes_the_session_with_ephemerals_and_fails_in_flight_requests() {
    let server = shared_server!("reconnect_resumes_the_session");
    let proxy = Proxy::start(server.addr()).await;
    let zk = via(&proxy, Duration::from_secs(10)).await;
    let direct = client(&server, "").await;
    let root = test_root(&direct, "reconnect").await;
    let (eph, _) = zk.create(&format!("{root}/e"), b"", &CreateOptions::ephemeral()).await.unwrap();
    let id = zk.session_id();
    let mut states = zk.state_stream();
    assert_eq!(next_state(&mut states).await, SessionState::Connected);

    // Stall, put requests in flight, then cut: they fail with ConnectionLoss, never hang.
    proxy.set_mode(Mode::Stall);
    let in_flight: Vec<_> = (0..5)
        .map(|_| {
            tokio::spawn({
                let zk = zk.clone();
                let root = root.clone();
                async move { zk.get_data(&root).await }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(100)).await;
    proxy.drop_all();
    for task in in_flight {
        assert_eq!(within(WAIT, "in-flight failure", task).await.unwrap(), Err(Error::ConnectionLoss));
    }
    assert_eq!(next_state(&mut states).await, SessionState::Disconnected);

    // Requests made while disconnected wait for the reconnect.
    let waiting = tokio::spawn({
        let zk = zk.clone();
        let eph = eph.clone();
        async move { zk.exists(&eph).await }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    proxy.set_mode(Mode::Pass);
    assert_eq!(next_state(&mut states).await, SessionState::Connected);
    assert_eq!(zk.session_id(), id, "same session");
    let stat = within(WAIT, "queued request", waiting).await.unwrap().unwrap().expect("ephemeral survived");
    assert_eq!(stat.ephemeral_owner, id);
    zk.close().await.unwrap();
    direct.close().await.unwrap();
}

#[tokio::test]
async fn watches_are_reregistered_and_outage_changes_delivered() {
    let server = shared_server!("watches_are_reregistered");
    let proxy = Proxy::start(server.addr()).await;
    let zk = via(&proxy, Duration::from_secs(10)).await;
    let direct = client(&server, "").await;
    let root = test_root(&direct, "rewatch").await;
    let data = format!("{root}/data");
    let later = format!("{root}/later");
    let quiet = format!("{root}/quiet");
    direct.create(&data, b"1", &CreateOptions::persistent()).await.unwrap();
    direct.create(&quiet, b"", &CreateOptions::persistent()).await.unwrap();

    let (_, _, on_data) = zk.get_data_and_watch(&data).await.unwrap();
    let (_, on_create) = zk.exists_and_watch(&later).await.unwrap();
    let (_, _, on_children) = zk.get_children_and_watch(&root).await.unwrap();
    let (_, _, on_quiet) = zk.get_data_and_watch(&quiet).await.unwrap();
    let mut recursive = zk.watch(&quiet, zk_client::AddWatchMode::PersistentRecursive).await.unwrap();
    let mut states = zk.state_stream();
    assert_eq!(next_state(&mut states).await, SessionState::Connected);

    proxy.set_mode(Mode::Refuse);
    assert_eq!(next_state(&mut states).await, SessionState::Disconnected);
    // Changes while the client is away.
    direct.set_data(&data, b"2", None).await.unwrap();
    direct.create(&later, b"", &CreateOptions::persistent()).await.unwrap();
    proxy.set_mode(Mode::Pass);
    assert_eq!(next_state(&mut states).await, SessionState::Connected);

    // SetWatches with the last zxid seen makes the server fire what changed meanwhile.
    assert_eq!(within(WAIT, "data changed", on_data).await.event_type, EventType::NodeDataChanged);
    assert_eq!(within(WAIT, "created", on_create).await.event_type, EventType::NodeCreated);
    assert_eq!(within(WAIT, "children", on_children).await.event_type, EventType::NodeChildrenChanged);
    // Unchanged watches are re-registered and still fire later.
    direct.set_data(&quiet, b"q", None).await.unwrap();
    assert_eq!(within(WAIT, "quiet", on_quiet).await.event_type, EventType::NodeDataChanged);
    let e = within(WAIT, "recursive after reconnect", recursive.next()).await.unwrap();
    assert_eq!((e.event_type, e.path.as_str()), (EventType::NodeDataChanged, quiet.as_str()));
    zk.close().await.unwrap();
    direct.close().await.unwrap();
}

#[tokio::test]
async fn a_stalled_server_is_detected_by_the_read_timeout() {
    let server = shared_server!("a_stalled_server_is_detected");
    let proxy = Proxy::start(server.addr()).await;
    let zk = via(&proxy, Duration::from_millis(1500)).await;
    assert_eq!(zk.session_timeout(), Duration::from_millis(1500));
    proxy.set_mode(Mode::Stall);
    let started = Instant::now();
    let result = within(WAIT, "stalled request", zk.get_data("/")).await;
    assert_eq!(result, Err(Error::ConnectionLoss));
    // Read timeout = 2/3 of 1500 ms = 1000 ms after the last bytes received, which came at most a ping
    // interval (500 ms) before the stall.
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(450) && waited < Duration::from_secs(5), "{waited:?}");
    proxy.set_mode(Mode::Pass);
    within(WAIT, "request after the stall", zk.get_data("/")).await.unwrap();
    zk.close().await.unwrap();
}

#[tokio::test]
async fn an_outage_longer_than_the_timeout_surfaces_expiry() {
    let server = shared_server!("an_outage_longer_than_the_timeout_surfaces_expiry");
    let proxy = Proxy::start(server.addr()).await;
    // The server's word, not the local deadline: see the next test for that.
    let zk = Client::builder()
        .with_session_timeout(Duration::from_millis(1000))
        .with_connect_timeout(Duration::from_secs(5))
        .with_establish_timeout(Duration::from_secs(20))
        .with_local_expiry(false)
        .with_backoff(Duration::from_millis(10), Duration::from_millis(200))
        .connect(&proxy.addr().to_string())
        .await
        .unwrap();
    let direct = client(&server, "").await;
    let root = test_root(&direct, "expiry").await;
    let (eph, _) = zk.create(&format!("{root}/e"), b"", &CreateOptions::ephemeral()).await.unwrap();
    let (_, _, watcher) = zk.get_data_and_watch(&root).await.unwrap();
    let mut states = zk.state_stream();
    assert_eq!(next_state(&mut states).await, SessionState::Connected);

    proxy.set_mode(Mode::Refuse);
    assert_eq!(next_state(&mut states).await, SessionState::Disconnected);
    let pending = tokio::spawn({
        let zk = zk.clone();
        async move { zk.get_data("/").await }
    });
    // Wait until the server has expired the session (its ephemeral is gone).
    let deadline = Instant::now() + WAIT;
    while direct.exists(&eph).await.unwrap().is_some() {
        assert!(Instant::now() < deadline, "server never expired the session");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    proxy.set_mode(Mode::Pass);
    assert_eq!(next_state(&mut states).await, SessionState::Expired);
    assert_eq!(within(WAIT, "stream end", states.next()).await, None);
    assert_eq!(within(WAIT, "queued request", pending).await.unwrap(), Err(Error::SessionExpired));
    let last = within(WAIT, "watcher told", watcher).await;
    assert_eq!((last.event_type, last.state), (EventType::None, KeeperState::Expired));
    assert_eq!(zk.get_data("/").await, Err(Error::SessionExpired));
    assert_eq!(zk.state(), SessionState::Expired);
    direct.close().await.unwrap();
}

#[tokio::test]
async fn hosts_are_cycled_past_dead_ones() {
    let server = shared_server!("hosts_are_cycled_past_dead_ones");
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let proxy = Proxy::start(server.addr()).await;
    let zk = Client::builder()
        .with_shuffled_hosts(false)
        .with_backoff(Duration::from_millis(10), Duration::from_millis(100))
        .connect(&format!("{dead},{}", proxy.addr()))
        .await
        .unwrap();
    zk.exists("/").await.unwrap();
    // Cut the connection: the client goes back through the dead host to the live one.
    let mut states = zk.state_stream();
    assert_eq!(next_state(&mut states).await, SessionState::Connected);
    proxy.drop_all();
    assert_eq!(next_state(&mut states).await, SessionState::Disconnected);
    assert_eq!(next_state(&mut states).await, SessionState::Connected);
    zk.close().await.unwrap();
}

#[tokio::test]
async fn connect_gives_up_when_nothing_answers() {
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let started = Instant::now();
    let result = Client::builder().with_establish_timeout(Duration::from_millis(500)).connect(&dead.to_string()).await;
    assert_eq!(result.err(), Some(Error::Timeout));
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn a_read_only_connection_keeps_looking_for_a_read_write_server() {
    let server = shared_server!("a_read_only_connection_keeps_looking_for_a_read_write_server");
    let fake = crate::fake_ro::start().await;
    let zk = Client::builder()
        .with_read_only(true)
        .with_shuffled_hosts(false)
        .connect(&format!("{fake},{}", server.connect_string()))
        .await
        .unwrap();
    let mut states = zk.state_stream();
    let first = next_state(&mut states).await;
    if first == SessionState::ConnectedReadOnly {
        assert_eq!(zk.session_id(), crate::fake_ro::FAKE_SESSION);
        assert_eq!(next_state(&mut states).await, SessionState::Disconnected);
        assert_eq!(next_state(&mut states).await, SessionState::Connected);
    } else {
        // The probe already moved the client on before the stream was opened.
        assert_eq!(first, SessionState::Connected);
    }
    // A session only seen by a read-only server is not resumed: the read-write server made a new one.
    assert_ne!(zk.session_id(), crate::fake_ro::FAKE_SESSION);
    zk.exists("/").await.unwrap();
    zk.close().await.unwrap();
}

#[tokio::test]
async fn a_client_cut_off_for_the_session_timeout_reports_expiry_itself() {
    let server = shared_server!("a_client_cut_off_for_the_session_timeout_reports_expiry_itself");
    let proxy = Proxy::start(server.addr()).await;
    let zk = via(&proxy, Duration::from_millis(1200)).await;
    let direct = client(&server, "").await;
    let root = test_root(&direct, "local-expiry").await;
    let (eph, _) = zk.create(&format!("{root}/e"), b"", &CreateOptions::ephemeral()).await.unwrap();
    let mut states = zk.state_stream();
    assert_eq!(next_state(&mut states).await, SessionState::Connected);
    let started = Instant::now();
    proxy.set_mode(Mode::Refuse);
    assert_eq!(next_state(&mut states).await, SessionState::Disconnected);
    // The outage never ends, yet the expiry is not silent.
    assert_eq!(next_state(&mut states).await, SessionState::Expired);
    // 1200 ms after the server was last heard from, at most a ping interval (400 ms) before the cut.
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(750) && waited < Duration::from_secs(6), "{waited:?}");
    assert_eq!(zk.exists("/").await, Err(Error::SessionExpired));
    // And the server agrees soon after: the ephemeral goes.
    let deadline = Instant::now() + WAIT;
    while direct.exists(&eph).await.unwrap().is_some() {
        assert!(Instant::now() < deadline, "server never expired the session");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    direct.close().await.unwrap();
}

#[tokio::test]
async fn the_session_survives_a_server_restart() {
    let server = crate::own_server!("the_session_survives_a_server_restart");
    crate::init_logs();
    let zk = Client::builder()
        .with_session_timeout(Duration::from_secs(20))
        .with_connect_timeout(Duration::from_secs(2))
        .with_backoff(Duration::from_millis(10), Duration::from_millis(200))
        .connect(&server.connect_string())
        .await
        .unwrap();
    let id = zk.session_id();
    let (eph, _) = zk.create("/restart-e", b"", &CreateOptions::ephemeral()).await.unwrap();
    zk.create("/restart-p", b"0", &CreateOptions::persistent()).await.unwrap();
    let (_, _, on_change) = zk.get_data_and_watch("/restart-p").await.unwrap();
    let mut states = zk.state_stream();
    assert_eq!(next_state(&mut states).await, SessionState::Connected);

    let restarted = server.clone();
    tokio::task::spawn_blocking(move || restarted.restart()).await.unwrap();
    assert_eq!(next_state(&mut states).await, SessionState::Disconnected);
    assert_eq!(within(Duration::from_secs(30), "reconnect", states.next()).await, Some(SessionState::Connected));
    assert_eq!(zk.session_id(), id);
    assert_eq!(zk.exists(&eph).await.unwrap().map(|s| s.ephemeral_owner), Some(id));
    let other = client(&server, "").await;
    other.set_data("/restart-p", b"1", None).await.unwrap();
    assert_eq!(within(WAIT, "watch after restart", on_change).await.event_type, EventType::NodeDataChanged);
    other.close().await.unwrap();
    zk.close().await.unwrap();
    server.stop();
}

#[tokio::test]
async fn many_watches_are_reregistered_in_batches() {
    let server = shared_server!("many_watches_are_reregistered_in_batches");
    let proxy = Proxy::start(server.addr()).await;
    let zk = via(&proxy, Duration::from_secs(10)).await;
    let direct = client(&server, "").await;
    let root = test_root(&direct, "batches").await;
    // 1500 paths of ~110 bytes: more than one 128 KiB SetWatches batch.
    let paths: Vec<String> = (0..1500).map(|i| format!("{root}/{}-{i:05}", "n".repeat(100))).collect();
    let persistent = CreateOptions::persistent();
    let creates = paths.iter().map(|p| direct.create(p, b"", &persistent));
    for result in futures::future::join_all(creates).await {
        result.unwrap();
    }
    let watches = futures::future::join_all(paths.iter().map(|p| zk.get_data_and_watch(p))).await;
    let mut watchers: Vec<_> = watches.into_iter().map(|r| r.unwrap().2).collect();
    let mut states = zk.state_stream();
    assert_eq!(next_state(&mut states).await, SessionState::Connected);
    proxy.drop_all();
    assert_eq!(next_state(&mut states).await, SessionState::Disconnected);
    assert_eq!(next_state(&mut states).await, SessionState::Connected);
    zk.sync("/").await.unwrap();
    // Changes after the reconnect reach watches from the first and the last batch.
    let last = watchers.pop().unwrap();
    let first = watchers.swap_remove(0);
    direct.set_data(&paths[0], b"x", None).await.unwrap();
    direct.set_data(&paths[1499], b"x", None).await.unwrap();
    assert_eq!(within(WAIT, "first batch", first).await.path, paths[0]);
    assert_eq!(within(WAIT, "last batch", last).await.path, paths[1499]);
    zk.close().await.unwrap();
    direct.close().await.unwrap();
}
