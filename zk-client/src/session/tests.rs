//! Scripted tests of the sans-IO session: bytes in, bytes and outputs out.

use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use tokio_util::codec::Decoder;
use tracing::Span;
use zk_proto::*;

use super::*;

const SID: i64 = 0x0100_0000_0000_0001;

fn config() -> SessionConfig {
    SessionConfig {
        session_timeout: Duration::from_millis(3000),
        connect_timeout: Duration::from_millis(1000),
        ..SessionConfig::default()
    }
}

/// Splits what the session wants to send into frames.
fn sent(session: &mut Session) -> Vec<Bytes> {
    let mut buf = BytesMut::new();
    while let Some(bytes) = session.poll_transmit() {
        buf.extend_from_slice(&bytes);
    }
    let mut codec = FrameCodec::default();
    let mut frames = Vec::new();
    while let Some(frame) = codec.decode(&mut buf).unwrap() {
        frames.push(frame);
    }
    assert!(buf.is_empty(), "partial frame sent");
    frames
}

fn outputs(session: &mut Session) -> Vec<Output> {
    std::iter::from_fn(|| session.poll_output()).collect()
}

fn request(mut frame: Bytes) -> (RequestHeader, Request) {
    let header = RequestHeader::decode(&mut frame).unwrap();
    let body = Request::decode_raw(header.op_code, &mut frame).unwrap();
    assert!(frame.is_empty());
    (header, body)
}

fn framed(fill: impl FnOnce(&mut BytesMut)) -> Bytes {
    let mut buf = BytesMut::new();
    write_frame(&mut buf, DEFAULT_MAX_FRAME, fill).unwrap();
    buf.freeze()
}

fn connect_response(timeout: i32, session_id: i64, read_only: bool) -> Bytes {
    let response = ConnectResponse {
        protocol_version: 0,
        time_out: timeout,
        session_id,
        passwd: Bytes::from_static(&[7; 16]),
        read_only: Some(read_only),
    };
    framed(|b| response.encode(b))
}

fn reply(xid: i32, zxid: i64, err: i32, body: Option<Response>) -> Bytes {
    framed(|b| {
        ReplyHeader { xid, zxid, err }.encode(b);
        if let Some(body) = body {
            body.encode(b);
        }
    })
}

fn notification(event_type: EventType, path: &str, zxid: i64) -> Bytes {
    framed(|b| {
        ReplyHeader { xid: xid::NOTIFICATION, zxid, err: 0 }.encode(b);
        WatcherEvent { event_type: event_type.code(), state: KeeperState::SyncConnected.code(), path: path.into() }
            .encode(b);
    })
}

fn get_data(path: &str, watch: bool) -> Request {
    Request::GetData(GetDataRequest { path: path.into(), watch })
}

fn data_response(data: &'static [u8], mzxid: i64) -> Response {
    Response::GetData(GetDataResponse { data: Some(Bytes::from_static(data)), stat: Stat { mzxid, ..Stat::default() } })
}

/// A session connected to a server with session id `SID`.
fn connected(now: Instant) -> Session {
    let mut s = Session::new(config(), now);
    s.transport_connected(now);
    let frames = sent(&mut s);
    assert_eq!(frames.len(), 1);
    s.receive(&connect_response(3000, SID, false), now);
    assert!(matches!(&outputs(&mut s)[..], [Output::State(SessionState::Connected)]));
    s
}

#[test]
fn handshake_then_queued_requests_are_pipelined_in_order() {
    let now = Instant::now();
    let mut s = Session::new(config(), now);
    s.submit(1, get_data("/a", false), None, Span::none(), now);
    s.submit(2, get_data("/b", false), None, Span::none(), now);
    assert!(s.poll_transmit().is_none(), "nothing is sent before a transport exists");

    s.transport_connected(now);
    let frames = sent(&mut s);
    assert_eq!(frames.len(), 1, "only the ConnectRequest goes before the handshake");
    let connect = ConnectRequest::from_bytes(frames[0].clone()).unwrap();
    assert_eq!(
        connect,
        ConnectRequest {
            protocol_version: 0,
            last_zxid_seen: 0,
            time_out: 3000,
            session_id: 0,
            passwd: Bytes::from_static(&[0; 16]),
            read_only: Some(false),
        }
    );

    s.receive(&connect_response(4000, SID, false), now);
    assert_eq!(s.session_id(), SID);
    assert_eq!(s.negotiated_timeout(), Duration::from_millis(4000));
    let frames = sent(&mut s);
    let sent: Vec<_> = frames.into_iter().map(request).collect();
    assert_eq!(sent[0], (RequestHeader { xid: 1, op_code: 4 }, get_data("/a", false)));
    assert_eq!(sent[1], (RequestHeader { xid: 2, op_code: 4 }, get_data("/b", false)));

    // Both replies in one read, second split across reads.
    let mut wire = BytesMut::new();
    wire.extend_from_slice(&reply(1, 5, 0, Some(data_response(b"A", 3))));
    wire.extend_from_slice(&reply(2, 6, ErrorCode::NoNode.code(), None));
    let (first, second) = wire.split_at(wire.len() - 5);
    s.receive(first, now);
    s.receive(second, now);
    let out = outputs(&mut s);
    assert!(matches!(&out[0], Output::State(SessionState::Connected)));
    assert!(
        matches!(&out[1], Output::Completed { id: 1, result: Ok(Response::GetData(r)) } if r.data.as_deref() == Some(&b"A"[..]))
    );
    assert!(matches!(&out[2], Output::Completed { id: 2, result: Err(Error::NoNode) }));
    assert_eq!(s.last_zxid(), 6);
}

#[test]
fn out_of_order_reply_is_a_connection_loss() {
    let now = Instant::now();
    let mut s = connected(now);
    s.submit(1, get_data("/a", false), None, Span::none(), now);
    s.submit(2, get_data("/b", false), None, Span::none(), now);
    sent(&mut s);
    s.receive(&reply(2, 5, 0, Some(data_response(b"B", 1))), now);
    let out = outputs(&mut s);
    assert!(matches!(&out[0], Output::Completed { id: 1, result: Err(Error::ConnectionLoss) }));
    assert!(matches!(&out[1], Output::Completed { id: 2, result: Err(Error::ConnectionLoss) }));
    assert!(matches!(&out[2], Output::State(SessionState::Disconnected)));
    assert!(matches!(&out[3], Output::Disconnect));
    assert!(!s.wants_transport());
    // Requests submitted while disconnected wait for the next connection.
    s.submit(3, get_data("/c", false), None, Span::none(), now);
    assert!(outputs(&mut s).is_empty());
}

#[test]
fn malformed_bytes_never_panic_and_drop_the_connection() {
    let now = Instant::now();
    let mut s = connected(now);
    s.submit(1, get_data("/a", false), None, Span::none(), now);
    sent(&mut s);
    // A reply header claiming success but with a truncated body.
    s.receive(&framed(|b| ReplyHeader { xid: 1, zxid: 1, err: 0 }.encode(b)), now);
    let out = outputs(&mut s);
    assert!(matches!(&out[0], Output::Completed { id: 1, result: Err(Error::ConnectionLoss) }));
    assert!(matches!(out.last(), Some(Output::Disconnect)));

    // Random garbage, in any phase, never panics.
    let mut rng = fastrand::Rng::with_seed(7);
    for _ in 0..2000 {
        let mut s = Session::new(config(), now);
        s.transport_connected(now);
        if rng.bool() {
            s.receive(&connect_response(3000, SID, false), now);
            s.submit(1, get_data("/a", true), None, Span::none(), now);
        }
        let len = rng.usize(0..64);
        let mut junk: Vec<u8> = (0..len).map(|_| rng.u8(..)).collect();
        if rng.bool() && len >= 4 {
            junk[..4].copy_from_slice(&((len - 4) as i32).to_be_bytes());
        }
        s.receive(&junk, now);
        s.handle_timeout(now + Duration::from_secs(100));
        while s.poll_output().is_some() {}
    }
}

#[test]
fn pings_when_idle_and_gives_up_after_the_read_timeout() {
    let t0 = Instant::now();
    let mut s = connected(t0);
    sent(&mut s);
    // Negotiated 3000 ms: read timeout 2000 ms, ping after 1000 ms idle.
    assert_eq!(s.poll_timeout(), Some(t0 + Duration::from_millis(1000)));
    s.handle_timeout(t0 + Duration::from_millis(999));
    assert!(sent(&mut s).is_empty());
    let t1 = t0 + Duration::from_millis(1000);
    s.handle_timeout(t1);
    let frames = sent(&mut s);
    assert_eq!(frames.len(), 1);
    assert_eq!(request(frames[0].clone()), (RequestHeader { xid: -2, op_code: 11 }, Request::Ping));
    // A ping reply is not matched against requests and keeps the connection alive.
    s.receive(&reply(xid::PING, 9, 0, None), t1);
    assert!(outputs(&mut s).is_empty());
    assert_eq!(s.last_zxid(), 0, "ping replies do not move last_zxid");
    // Then silence: the read timeout (2000 ms after the last receive) drops the connection.
    s.handle_timeout(t1 + Duration::from_millis(1999));
    sent(&mut s);
    assert!(s.wants_transport());
    s.handle_timeout(t1 + Duration::from_millis(2000));
    let out = outputs(&mut s);
    assert!(matches!(&out[..], [Output::State(SessionState::Disconnected), Output::Disconnect]));
}

#[test]
fn handshake_timeout_drops_the_connection() {
    let t0 = Instant::now();
    let mut s = Session::new(config(), t0);
    s.transport_connected(t0);
    assert_eq!(s.poll_timeout(), Some(t0 + Duration::from_millis(1000)));
    s.handle_timeout(t0 + Duration::from_millis(1000));
    assert!(matches!(&outputs(&mut s)[..], [Output::Disconnect]), "still Connecting: no state change");
    assert_eq!(s.state(), SessionState::Connecting);
}

#[test]
fn watches_register_on_success_and_fire_once() {
    let now = Instant::now();
    let mut s = connected(now);
    let data = WatchRegistration { id: 100, kind: WatchKind::Data, path: "/a".into() };
    let exist = WatchRegistration { id: 101, kind: WatchKind::Data, path: "/missing".into() };
    let failed = WatchRegistration { id: 102, kind: WatchKind::Data, path: "/gone".into() };
    s.submit(1, get_data("/a", true), Some(data), Span::none(), now);
    s.submit(
        2,
        Request::Exists(ExistsRequest { path: "/missing".into(), watch: true }),
        Some(exist),
        Span::none(),
        now,
    );
    s.submit(3, get_data("/gone", true), Some(failed), Span::none(), now);
    sent(&mut s);
    s.receive(&reply(1, 10, 0, Some(data_response(b"x", 10))), now);
    s.receive(&reply(2, 10, ErrorCode::NoNode.code(), None), now);
    s.receive(&reply(3, 10, ErrorCode::NoNode.code(), None), now);
    let out = outputs(&mut s);
    assert!(matches!(&out[0], Output::Completed { id: 1, result: Ok(_) }));
    assert!(matches!(&out[1], Output::Completed { id: 2, result: Err(Error::NoNode) }));
    assert!(matches!(&out[2], Output::Unregistered(102)));
    assert!(matches!(&out[3], Output::Completed { id: 3, result: Err(Error::NoNode) }));
    assert!(s.has_watcher(100) && s.has_watcher(101) && !s.has_watcher(102));

    s.receive(&notification(EventType::NodeCreated, "/missing", 11), now);
    s.receive(&notification(EventType::NodeDataChanged, "/a", 12), now);
    s.receive(&notification(EventType::NodeDataChanged, "/a", 13), now);
    let out = outputs(&mut s);
    assert_eq!(out.len(), 2, "a one-shot watch fires once: {out:?}");
    assert!(matches!(&out[0], Output::Watch { watcher: 101, event, done: true }
        if event.event_type == EventType::NodeCreated && event.path == "/missing" && event.zxid == 11));
    assert!(matches!(&out[1], Output::Watch { watcher: 100, event, done: true }
        if event.event_type == EventType::NodeDataChanged && event.zxid == 12));
}

#[test]
fn reconnect_primes_with_credentials_and_set_watches2_at_the_last_zxid() {
    let now = Instant::now();
    let mut s = connected(now);
    s.add_auth(50, "digest".into(), Bytes::from_static(b"u:p"), now);
    let frames = sent(&mut s);
    assert_eq!(request(frames[0].clone()).0, RequestHeader { xid: xid::AUTH, op_code: 100 });
    s.receive(&reply(xid::AUTH, 0, 0, None), now);

    let data = WatchRegistration { id: 100, kind: WatchKind::Data, path: "/d".into() };
    let child = WatchRegistration { id: 101, kind: WatchKind::Child, path: "/c".into() };
    let recursive = WatchRegistration { id: 102, kind: WatchKind::PersistentRecursive, path: "/r".into() };
    s.submit(1, get_data("/d", true), Some(data), Span::none(), now);
    s.submit(
        2,
        Request::GetChildren2(GetChildren2Request { path: "/c".into(), watch: true }),
        Some(child),
        Span::none(),
        now,
    );
    let add = Request::AddWatch(AddWatchRequest { path: "/r".into(), mode: 1 });
    s.submit(3, add, Some(recursive), Span::none(), now);
    sent(&mut s);
    s.receive(&reply(1, 40, 0, Some(data_response(b"", 30))), now);
    let children = Response::GetChildren2(GetChildren2Response { children: vec![], stat: Stat::default() });
    s.receive(&reply(2, 41, 0, Some(children)), now);
    s.receive(&reply(3, 42, 0, Some(Response::AddWatch(ErrorResponse { err: 0 }))), now);
    outputs(&mut s);

    // An in-flight request when the connection dies fails with ConnectionLoss; one submitted while
    // disconnected is sent after the new handshake.
    s.submit(4, get_data("/x", false), None, Span::none(), now);
    sent(&mut s);
    s.transport_lost(now);
    let out = outputs(&mut s);
    assert!(matches!(&out[0], Output::Completed { id: 4, result: Err(Error::ConnectionLoss) }));
    s.submit(5, get_data("/y", false), None, Span::none(), now);

    s.transport_connected(now);
    let frames = sent(&mut s);
    assert_eq!(frames.len(), 3, "ConnectRequest, auth, SetWatches2");
    let connect = ConnectRequest::from_bytes(frames[0].clone()).unwrap();
    assert_eq!((connect.session_id, connect.last_zxid_seen), (SID, 42));
    assert_eq!(connect.passwd, Bytes::from_static(&[7; 16]));
    assert_eq!(
        request(frames[1].clone()),
        (
            RequestHeader { xid: xid::AUTH, op_code: 100 },
            Request::Auth(AuthPacket { auth_type: 0, scheme: "digest".into(), auth: Bytes::from_static(b"u:p") })
        )
    );
    assert_eq!(
        request(frames[2].clone()),
        (
            RequestHeader { xid: xid::SET_WATCHES, op_code: 105 },
            Request::SetWatches2(SetWatches2 {
                relative_zxid: 42,
                data_watches: vec!["/d".into()],
                exist_watches: vec![],
                child_watches: vec!["/c".into()],
                persistent_watches: vec![],
                persistent_recursive_watches: vec!["/r".into()],
            })
        )
    );
    s.receive(&connect_response(3000, SID, false), now);
    let frames = sent(&mut s);
    assert_eq!(request(frames[0].clone()), (RequestHeader { xid: 5, op_code: 4 }, get_data("/y", false)));
    // Replies: auth, SetWatches (matched in order, no caller), an event raised by re-registration,
    // then the queued request.
    s.receive(&reply(xid::AUTH, 0, 0, None), now);
    s.receive(&reply(xid::SET_WATCHES, 50, 0, None), now);
    s.receive(&notification(EventType::NodeDataChanged, "/d", -1), now);
    s.receive(&reply(5, 51, 0, Some(data_response(b"y", 1))), now);
    let out = outputs(&mut s);
    assert!(matches!(&out[0], Output::State(SessionState::Connected)));
    assert!(matches!(&out[1], Output::Watch { watcher: 100, done: true, .. }));
    assert!(matches!(&out[2], Output::Completed { id: 5, result: Ok(_) }));
    assert_eq!(out.len(), 3);
}

#[test]
fn set_watches_v1_without_persistent_watches() {
    let now = Instant::now();
    let mut s = connected(now);
    let exist = WatchRegistration { id: 1, kind: WatchKind::Data, path: "/e".into() };
    s.submit(1, Request::Exists(ExistsRequest { path: "/e".into(), watch: true }), Some(exist), Span::none(), now);
    s.receive(&reply(1, 8, ErrorCode::NoNode.code(), None), now);
    s.transport_lost(now);
    s.transport_connected(now);
    let frames = sent(&mut s);
    assert_eq!(
        request(frames.last().unwrap().clone()).1,
        Request::SetWatches(SetWatches {
            relative_zxid: 8,
            data_watches: vec![],
            exist_watches: vec!["/e".into()],
            child_watches: vec![]
        })
    );
}

#[test]
fn expiry_on_reconnect_fails_everything_and_tells_every_watcher() {
    let now = Instant::now();
    let mut s = connected(now);
    let watch = WatchRegistration { id: 9, kind: WatchKind::Persistent, path: "/p".into() };
    s.submit(1, Request::AddWatch(AddWatchRequest { path: "/p".into(), mode: 0 }), Some(watch), Span::none(), now);
    s.receive(&reply(1, 3, 0, Some(Response::AddWatch(ErrorResponse { err: 0 }))), now);
    s.transport_lost(now);
    s.submit(2, get_data("/q", false), None, Span::none(), now);
    outputs(&mut s);

    s.transport_connected(now);
    s.receive(&connect_response(0, 0, false), now);
    let out = outputs(&mut s);
    assert!(matches!(&out[0], Output::Completed { id: 2, result: Err(Error::SessionExpired) }));
    assert!(matches!(&out[1], Output::Watch { watcher: 9, event, done: true }
        if event.event_type == EventType::None && event.state == KeeperState::Expired));
    assert!(matches!(&out[2], Output::State(SessionState::Expired)));
    assert!(matches!(&out[3], Output::Disconnect));
    assert!(s.is_over());
    s.submit(3, get_data("/q", false), None, Span::none(), now);
    assert!(matches!(&outputs(&mut s)[..], [Output::Completed { id: 3, result: Err(Error::SessionExpired) }]));
}

#[test]
fn auth_failure_is_terminal() {
    let now = Instant::now();
    let mut s = connected(now);
    s.add_auth(7, "digest".into(), Bytes::from_static(b"bad"), now);
    s.submit(8, get_data("/a", false), None, Span::none(), now);
    s.receive(&reply(xid::AUTH, 0, ErrorCode::AuthFailed.code(), None), now);
    let out = outputs(&mut s);
    assert!(matches!(&out[0], Output::Completed { id: 7, result: Err(Error::AuthFailed) }));
    assert!(matches!(&out[1], Output::Completed { id: 8, result: Err(Error::AuthFailed) }));
    assert!(matches!(&out[2], Output::State(SessionState::AuthFailed)));
}

#[test]
fn close_sends_close_session_and_ends_on_its_reply() {
    let now = Instant::now();
    let mut s = connected(now);
    s.close(1, now);
    let frames = sent(&mut s);
    assert_eq!(request(frames[0].clone()), (RequestHeader { xid: 1, op_code: -11 }, Request::CloseSession));
    s.submit(2, get_data("/a", false), None, Span::none(), now);
    s.close(3, now);
    assert!(sent(&mut s).is_empty(), "one closeSession only");
    s.receive(&reply(1, 4, 0, None), now);
    let out = outputs(&mut s);
    assert!(matches!(&out[0], Output::Completed { id: 2, result: Err(Error::Closed) }));
    assert!(matches!(&out[1], Output::Completed { id: 1, result: Ok(Response::CloseSession) }));
    assert!(matches!(&out[2], Output::Completed { id: 3, result: Ok(Response::CloseSession) }));
    assert!(matches!(&out[3], Output::State(SessionState::Closed)));

    // Closing while disconnected ends the session at once.
    let mut s = Session::new(config(), now);
    s.close(1, now);
    let out = outputs(&mut s);
    assert!(matches!(&out[0], Output::State(SessionState::Closed)));
    assert!(matches!(&out[2], Output::Completed { id: 1, result: Ok(_) }));
}

#[test]
fn dropping_the_last_persistent_watcher_removes_it_on_the_server() {
    let now = Instant::now();
    let mut s = connected(now);
    for (req, id) in [(1, 20), (2, 21)] {
        let watch = WatchRegistration { id, kind: WatchKind::Persistent, path: "/p".into() };
        s.submit(
            req,
            Request::AddWatch(AddWatchRequest { path: "/p".into(), mode: 0 }),
            Some(watch),
            Span::none(),
            now,
        );
    }
    sent(&mut s);
    s.receive(&reply(1, 3, 0, Some(Response::AddWatch(ErrorResponse { err: 0 }))), now);
    s.receive(&reply(2, 3, 0, Some(Response::AddWatch(ErrorResponse { err: 0 }))), now);
    s.unwatch(20, now);
    assert!(sent(&mut s).is_empty(), "another watcher still uses the path");
    s.unwatch(21, now);
    let frames = sent(&mut s);
    assert_eq!(
        request(frames[0].clone()).1,
        Request::RemoveWatches(RemoveWatchesRequest { path: "/p".into(), watcher_type: WatcherType::Any.code() })
    );
    // Its reply (even NoWatcher) has no caller.
    s.receive(&reply(3, 3, ErrorCode::NoWatcher.code(), None), now);
    assert!(outputs(&mut s).iter().all(|o| matches!(o, Output::Completed { id: 1 | 2, .. })));
}

#[test]
fn a_watcher_dropped_before_its_reply_is_undone() {
    let now = Instant::now();
    let mut s = connected(now);
    let watch = WatchRegistration { id: 30, kind: WatchKind::PersistentRecursive, path: "/p".into() };
    s.submit(1, Request::AddWatch(AddWatchRequest { path: "/p".into(), mode: 1 }), Some(watch), Span::none(), now);
    sent(&mut s);
    s.unwatch(30, now);
    s.receive(&reply(1, 3, 0, Some(Response::AddWatch(ErrorResponse { err: 0 }))), now);
    assert!(!s.has_watcher(30));
    let frames = sent(&mut s);
    assert_eq!(
        request(frames[0].clone()).1,
        Request::RemoveWatches(RemoveWatchesRequest { path: "/p".into(), watcher_type: WatcherType::Any.code() })
    );
    let out = outputs(&mut s);
    assert!(matches!(&out[0], Output::Unregistered(30)));
    assert!(matches!(&out[1], Output::Completed { id: 1, result: Ok(_) }));
    assert!(s.cancelled.is_empty());
}

#[test]
fn read_only_server_is_reported() {
    let now = Instant::now();
    let mut s = Session::new(SessionConfig { read_only: true, ..config() }, now);
    s.transport_connected(now);
    let frames = sent(&mut s);
    assert_eq!(ConnectRequest::from_bytes(frames[0].clone()).unwrap().read_only, Some(true));
    s.receive(&connect_response(3000, SID, true), now);
    assert!(matches!(&outputs(&mut s)[..], [Output::State(SessionState::ConnectedReadOnly)]));
}

#[test]
fn a_session_seen_only_read_only_is_not_resumed() {
    let now = Instant::now();
    let mut s = Session::new(SessionConfig { read_only: true, ..config() }, now);
    s.transport_connected(now);
    sent(&mut s);
    s.receive(&connect_response(3000, SID, true), now);
    s.transport_lost(now);
    s.transport_connected(now);
    let connect = ConnectRequest::from_bytes(sent(&mut s)[0].clone()).unwrap();
    assert_eq!((connect.session_id, connect.passwd), (0, Bytes::from_static(&[0; 16])));
    // Once a read-write server has the session, it is always resumed.
    s.receive(&connect_response(3000, SID + 1, false), now);
    s.transport_lost(now);
    s.transport_connected(now);
    let connect = ConnectRequest::from_bytes(sent(&mut s)[0].clone()).unwrap();
    assert_eq!(connect.session_id, SID + 1);
    s.receive(&connect_response(3000, SID + 1, true), now);
    s.transport_lost(now);
    s.transport_connected(now);
    assert_eq!(ConnectRequest::from_bytes(sent(&mut s)[0].clone()).unwrap().session_id, SID + 1);
}

#[test]
fn xids_wrap_to_one() {
    let now = Instant::now();
    let mut s = connected(now);
    s.next_xid = i32::MAX;
    s.submit(1, get_data("/a", false), None, Span::none(), now);
    s.submit(2, get_data("/a", false), None, Span::none(), now);
    let xids: Vec<i32> = sent(&mut s).into_iter().map(|f| request(f).0.xid).collect();
    assert_eq!(xids, [i32::MAX, 1]);
}

#[test]
fn well_framed_garbage_bodies_never_panic() {
    let now = Instant::now();
    let mut rng = fastrand::Rng::with_seed(42);
    let requests = || {
        vec![
            get_data("/a", true),
            Request::Exists(ExistsRequest { path: "/a".into(), watch: true }),
            Request::GetChildren2(GetChildren2Request { path: "/a".into(), watch: true }),
            Request::GetAcl(GetAclRequest { path: "/a".into() }),
            Request::Multi(MultiRequest { ops: vec![] }),
            Request::MultiRead(MultiRequest { ops: vec![] }),
            Request::WhoAmI,
            Request::GetEphemerals(GetEphemeralsRequest { prefix_path: "/".into() }),
            Request::AddWatch(AddWatchRequest { path: "/a".into(), mode: 1 }),
            Request::Create2(CreateRequest { path: "/a".into(), data: None, acl: vec![], flags: 0 }),
        ]
    };
    for round in 0..3000 {
        let mut s = connected(now);
        for (i, request) in requests().into_iter().enumerate() {
            let watch = WatchRegistration { id: 1000 + i as u64, kind: WatchKind::Data, path: "/a".into() };
            s.submit(i as u64, request, Some(watch), Span::none(), now);
        }
        sent(&mut s);
        for n in 0..rng.usize(1..12) {
            let xid = match rng.u8(..4) {
                0 => xid::NOTIFICATION,
                1 => rng.i32(-10..20),
                _ => n as i32 + 1,
            };
            let body: Vec<u8> = (0..rng.usize(0..90)).map(|_| rng.u8(..)).collect();
            let err = if rng.u8(..8) == 0 { rng.i32(-130..1) } else { 0 };
            s.receive(
                &framed(|b| {
                    ReplyHeader { xid, zxid: rng.i64(..), err }.encode(b);
                    b.extend_from_slice(&body);
                }),
                now,
            );
        }
        s.handle_timeout(now + Duration::from_secs(round % 5));
        let out = outputs(&mut s);
        // Every request is answered exactly once, or still in flight on a live connection.
        let answered = out.iter().filter(|o| matches!(o, Output::Completed { .. })).count();
        assert!(answered == 10 || (s.wants_transport() && answered < 10), "round {round}: {answered}");
    }
}

#[test]
fn a_session_no_server_answers_for_its_timeout_expires_locally() {
    let t0 = Instant::now();
    let mut s = connected(t0);
    s.submit(1, get_data("/a", false), None, Span::none(), t0);
    s.transport_lost(t0 + Duration::from_millis(500));
    s.submit(2, get_data("/a", false), None, Span::none(), t0);
    outputs(&mut s);
    // Heard from at t0; negotiated 3000 ms.
    assert_eq!(s.poll_timeout(), Some(t0 + Duration::from_millis(3000)));
    // A handshake in progress may still find the session alive: it gets its full connect timeout.
    s.transport_connected(t0 + Duration::from_millis(2500));
    assert_eq!(s.poll_timeout(), Some(t0 + Duration::from_millis(3500)));
    s.handle_timeout(t0 + Duration::from_millis(3000));
    assert!(!s.is_over());
    s.handle_timeout(t0 + Duration::from_millis(3500));
    assert!(!s.is_over(), "the failed handshake only drops the connection");
    outputs(&mut s);
    assert_eq!(s.poll_timeout(), Some(t0 + Duration::from_millis(3000)));
    s.handle_timeout(t0 + Duration::from_millis(3500));
    let out = outputs(&mut s);
    assert!(matches!(&out[0], Output::Completed { id: 2, result: Err(Error::SessionExpired) }));
    assert!(matches!(&out[1], Output::State(SessionState::Expired)));

    // Opted out: the session waits for a server to say so.
    let mut s = Session::new(SessionConfig { local_expiry: false, ..config() }, t0);
    s.transport_connected(t0);
    s.receive(&connect_response(3000, SID, false), t0);
    s.transport_lost(t0);
    assert_eq!(s.poll_timeout(), None);
    // And before any session exists, there is nothing to expire.
    let s = Session::new(config(), t0);
    assert_eq!(s.poll_timeout(), None);
}
