//! Sessions and the connection protocol: closeSession and its ephemerals, malformed requests,
//! unknown opcodes, bad frames, four-letter words, container and TTL reaping.

use super::harness::{Script, Step};
use super::ops::*;
use zk_proto::Request;

/// closeSession, ephemeral cleanup and reuse of a closed session.
pub fn sessions() -> Script {
    let mut s = Script::default();
    s.connect(0);
    s.connect(1);
    s.call("create /s", 0, mk("/s", b""));
    s.call("ephemeral of s1", 1, create2("/s/e1", b"", open(), 1));
    s.call("ephemeral sequential of s1", 1, create("/s/e-", b"", open(), 3));
    s.call("exists /s/e1 with watch", 0, exists("/s/e1", true));
    s.call("child watch /s", 0, children("/s", true));
    s.call("getEphemerals of s1", 1, ephemerals("/"));
    s.call("closeSession", 1, Request::CloseSession);
    s.closed("server closes after closeSession", 1);
    s.events("ephemerals deleted", 0);
    s.call("getChildren2 /s after close", 0, children2("/s", false));
    s.step("resume the closed session", Step::Resume { slot: 1, bad_password: false, zxid_bump: 0 });
    s.closed("closed session cannot be resumed", 1);
    s.connect(5);
    s.step(
        "closeSession pipelined with a request after it",
        Step::Pipeline { slot: 5, requests: vec![Request::CloseSession, exists("/s", false)] },
    );
    s.closed("after closeSession and a request", 5);
    // Expiry: a session nobody holds expires; its ephemerals go, watchers hear it.
    s.step(
        "short session",
        Step::ConnectWith { slot: 4, options: zk_testkit::ConnectOptions { timeout_ms: 4000, ..Default::default() } },
    );
    s.call("ephemeral of the short session", 4, create("/s/short", b"", open(), 1));
    s.call("watch it", 0, get_data("/s/short", true));
    s.step("drop the short session's connection", Step::Disconnect { slot: 4 });
    s.step("ephemeral gone after expiry", Step::WaitGone { slot: 0, path: "/s/short".into(), ms: 20_000 });
    s.events("NodeDeleted on expiry", 0);
    s.call("getChildren2 /s after expiry", 0, children2("/s", false));
    s.step("resume the expired session", Step::Resume { slot: 4, bad_password: false, zxid_bump: 0 });
    s.closed("expired session closes", 4);
    s.connect(2);
    s.call("ping", 2, Request::Ping);
    s.step("ping with xid -2", Step::CallXid { slot: 2, xid: -2, request: Request::Ping });
    s.call(
        "sasl without a configured mechanism",
        2,
        Request::Sasl(zk_proto::GetSaslRequest { token: b"x"[..].into() }),
    );
    s.closed("after sasl", 2);
    s.connect(3);
    s.call("reconfig (disabled)", 3, Request::Reconfig(zk_proto::ReconfigRequest::default()));
    s.call(
        "deleteContainer from a client",
        3,
        Request::DeleteContainer(zk_proto::DeleteContainerRequest { path: "/s".into() }),
    );
    s.call("after deleteContainer", 3, exists("/s", false));
    s.call("a container with a child", 3, create_container("/s/c", 4));
    s.call("its child", 3, mk("/s/c/x", b""));
    s.call(
        "deleteContainer of a non-empty container",
        3,
        Request::DeleteContainer(zk_proto::DeleteContainerRequest { path: "/s/c".into() }),
    );
    s.call(
        "deleteContainer of a missing node",
        3,
        Request::DeleteContainer(zk_proto::DeleteContainerRequest { path: "/s/none".into() }),
    );
    s
}

/// Malformed and unknown requests (each on its own connection).
pub fn protocol() -> Script {
    let mut s = Script::default();
    s.connect(0);
    s.call("create /x", 0, mk("/x", b"x"));
    s.step("unknown opcode 999", Step::Raw { slot: 0, op_code: 999, body: vec![] });
    s.closed("connection closed after Unimplemented", 0);
    s.connect(1);
    s.step("truncated getData body", Step::Raw { slot: 1, op_code: 4, body: vec![0, 0, 0, 9, b'/'] });
    s.closed("after a truncated read", 1);
    s.connect(2);
    s.step("truncated create body", Step::Raw { slot: 2, op_code: 1, body: vec![0, 0, 0, 2, b'/', b'y', 0, 0] });
    s.closed("after a truncated write", 2);
    s.connect(3);
    s.step("negative string length in setData", Step::Raw { slot: 3, op_code: 5, body: vec![0xff, 0xff, 0xff, 0xfe] });
    s.closed("after a negative length", 3);
    s.connect(4);
    let mut body = exists("/x", false).encode_to_vec();
    body.extend_from_slice(b"trailing");
    s.step("exists with trailing bytes", Step::Raw { slot: 4, op_code: 3, body });
    s.call("connection still usable after trailing bytes", 4, get_data("/x", false));
    s.step("invalid UTF-8 path", Step::Raw { slot: 4, op_code: 3, body: vec![0, 0, 0, 2, b'/', 0xff, 0] });
    s.closed("after invalid UTF-8", 4);
    s.connect(5);
    s.step("oversized frame length", Step::Bytes { slot: 5, bytes: 0x7fff_fff0_i32.to_be_bytes().to_vec() });
    s.closed("oversized frame closes", 5);
    s.connect(6);
    s.step("negative frame length", Step::Bytes { slot: 6, bytes: (-5_i32).to_be_bytes().to_vec() });
    s.closed("negative frame closes", 6);
    s.connect(7);
    let mut big = vec![0u8; 2 << 20];
    big[..4].copy_from_slice(&((2 << 20) - 4_i32).to_be_bytes());
    s.step("2 MiB frame", Step::Bytes { slot: 7, bytes: big });
    s.closed("2 MiB frame closes", 7);
    s.connect(8);
    s.call("setData just below jute.maxbuffer", 8, set_data("/x", &vec![b'a'; 0xfffff - 64], -1));
    s.call("getData of a large node", 8, exists("/x", false));
    s.call("setData in a frame just above jute.maxbuffer", 8, set_data("/x", &vec![b'b'; 0xfffff - 20], -1));
    s.closed("after the big setData", 8);
    s.connect(9);
    s.step("frame shorter than a request header", Step::Bytes { slot: 9, bytes: vec![0, 0, 0, 2, 0, 1] });
    s.closed("short header", 9);
    // Opcodes that are not client requests, and special requests with ordinary xids. (Not createSession
    // (-10): ZooKeeper takes it from a client and answers garbage.)
    for (slot, op_code, body) in [(10, 0, vec![]), (12, -1, vec![]), (13, 10, vec![]), (14, 13_000, vec![])] {
        s.connect(slot);
        s.step(format!("opcode {op_code}"), Step::Raw { slot, op_code, body });
        s.closed(format!("after opcode {op_code}"), slot);
    }
    s.connect(15);
    let auth = Request::Auth(zk_proto::AuthPacket { auth_type: 0, scheme: "digest".into(), auth: b"u:p"[..].into() });
    s.call("auth with an ordinary xid", 15, auth);
    s.call("whoAmI after it", 15, Request::WhoAmI);
    s.call("setWatches with an ordinary xid", 15, set_watches(&["/x"], &[], &[]));
    s.call("setData after setWatches", 15, set_data("/x", b"y", -1));
    s.step("connect request sent again", Step::Raw { slot: 15, op_code: 0, body: vec![0; 32] });
    s.closed("after a second connect request", 15);
    s.step(
        "read-only client",
        Step::ConnectWith {
            slot: 16,
            options: zk_testkit::ConnectOptions { read_only: Some(true), ..Default::default() },
        },
    );
    s.call("read-only client writes", 16, mk("/ro", b""));
    s.step("four-letter ruok", Step::FourLetter { command: "ruok".into() });
    s.step("four-letter srvr", Step::FourLetter { command: "srvr".into() });
    s.step("four-letter isro", Step::FourLetter { command: "isro".into() });
    s
}

/// Containers and TTL nodes are reaped (with `znode.container.checkIntervalMs` small).
pub fn reaping() -> Script {
    let mut s = Script::default();
    s.connect(0);
    s.call("container /rc", 0, create_container("/rc", 4));
    s.call("child /rc/a", 0, mk("/rc/a", b""));
    s.call("watch the container", 0, exists("/rc", true));
    s.call("container never used", 0, create_container("/rc-unused", 4));
    s.call("TTL node", 0, create_ttl("/rt", 5, 300));
    s.call("TTL node with a child", 0, create_ttl("/rt2", 5, 300));
    s.call("child of TTL node", 0, mk("/rt2/c", b""));
    s.call("delete the only child", 0, delete("/rc/a", -1));
    s.step("container reaped", Step::WaitGone { slot: 0, path: "/rc".into(), ms: 10_000 });
    s.events("NodeDeleted for the reaped container", 0);
    s.step("TTL node reaped", Step::WaitGone { slot: 0, path: "/rt".into(), ms: 10_000 });
    s.step("wait a few more checks", Step::Sleep { ms: 1000 });
    s.call("unused container stays", 0, exists("/rc-unused", false));
    s.call("TTL node with children stays", 0, exists("/rt2", false));
    s
}

trait EncodeToVec {
    fn encode_to_vec(&self) -> Vec<u8>;
}

impl EncodeToVec for Request {
    fn encode_to_vec(&self) -> Vec<u8> {
        let mut buf = Vec::new();
        self.encode(&mut buf);
        buf
    }
}
