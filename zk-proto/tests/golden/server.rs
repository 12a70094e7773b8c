//! Server records: txns and txn entries, file headers, quorum packets and election notifications, as
//! `GoldenVectors.txn()`, `.quorum()` and `.election()` write them.

use bytes::Bytes;
use zk_proto::*;

use crate::values::*;

const TXN_TIME: i64 = 1_700_000_000_999;

fn digest() -> TxnDigest {
    TxnDigest { version: 2, tree_digest: -0x1122_3344_5566_7788 }
}

fn multi_txn() -> MultiTxn {
    MultiTxn {
        txns: vec![
            TxnBody::Create(CreateTxn {
                path: path("/seq-0000000007"),
                data: Some(data()),
                acl: acls(),
                ephemeral: false,
                parent_c_version: 3,
            })
            .to_sub_txn(OpCode::Create),
            TxnBody::CreateTtl(CreateTtlTxn {
                path: "/ttl".into(),
                data: Some(data()),
                acl: Acl::read_unsafe(),
                parent_c_version: 1,
                ttl: MAX_TTL,
            })
            .to_sub_txn(OpCode::CreateTtl),
            TxnBody::CreateContainer(CreateContainerTxn {
                path: "/container".into(),
                data: Some(Bytes::new()),
                acl: Acl::open_unsafe(),
                parent_c_version: 0,
            })
            .to_sub_txn(OpCode::CreateContainer),
            TxnBody::Delete(DeleteTxn { path: PATH.into() }).to_sub_txn(OpCode::Delete),
            TxnBody::SetData(SetDataTxn { path: PATH.into(), data: Some(data()), version: 43 })
                .to_sub_txn(OpCode::SetData),
            TxnBody::Check(CheckVersionTxn { path: PATH.into(), version: 42 }).to_sub_txn(OpCode::Check),
        ],
    }
}

fn error_sub_txn(err: ErrorCode) -> Txn {
    TxnBody::Error(ErrorTxn { err: err.code() }).to_sub_txn(OpCode::Error)
}

fn create_header() -> TxnHeader {
    TxnHeader { client_id: SESSION_ID, cxid: 7, zxid: 0x0000_0005_0000_0043, time: TXN_TIME, op_code: 1 }
}

fn create_txn() -> CreateTxn {
    CreateTxn { path: PATH.into(), data: Some(data()), acl: acls(), ephemeral: true, parent_c_version: 12 }
}

fn create_entry() -> TxnEntry {
    TxnEntry { header: create_header(), body: TxnBody::Create(create_txn()), digest: Some(digest()) }
}

fn header(cxid: i32, zxid: i64, time: i64, op: OpCode) -> TxnHeader {
    TxnHeader { client_id: SESSION_ID, cxid, zxid, time, op_code: op.code() }
}

const CONFIG: &str = "server.1=zk1.example.com:2888:3888:participant;0.0.0.0:2181\n\
                      server.2=[2001:db8::2]:2888:3888:observer;2181\n\
                      version=500000043";

golden! {
    txn_header = "TxnHeader" => TxnHeader {
        client_id: SESSION_ID,
        cxid: 1_234_567,
        zxid: 0x0000_0005_0000_0042,
        time: TXN_TIME,
        op_code: OpCode::Create2.code(),
    };
    txn_digest = "TxnDigest" => digest();
    create_txn_record = "CreateTxn" => create_txn();
    create_txn_null_data = "CreateTxn-nullData" => CreateTxn {
        path: "/n".into(),
        data: None,
        acl: Acl::open_unsafe(),
        ephemeral: false,
        parent_c_version: -1,
    };
    create_txn_v0 = "CreateTxnV0" => CreateTxnV0 { path: PATH.into(), data: Some(data()), acl: acls(), ephemeral: false };
    create_ttl_txn = "CreateTTLTxn" => CreateTtlTxn {
        path: PATH.into(),
        data: Some(data()),
        acl: Acl::creator_all(),
        parent_c_version: 5,
        ttl: MAX_TTL,
    };
    create_container_txn = "CreateContainerTxn" => CreateContainerTxn {
        path: "/containers/ünï".into(),
        data: Some(Bytes::new()),
        acl: Acl::open_unsafe(),
        parent_c_version: i32::MAX,
    };
    delete_txn = "DeleteTxn" => DeleteTxn { path: PATH.into() };
    set_data_txn = "SetDataTxn" => SetDataTxn { path: PATH.into(), data: Some(data()), version: 43 };
    set_data_txn_null_data = "SetDataTxn-nullData" => SetDataTxn { path: "/n".into(), data: None, version: 0 };
    check_version_txn = "CheckVersionTxn" => CheckVersionTxn { path: PATH.into(), version: 42 };
    set_acl_txn = "SetACLTxn" => SetAclTxn { path: PATH.into(), acl: acls(), version: 4 };
    create_session_txn = "CreateSessionTxn" => CreateSessionTxn { time_out: 30000 };
    close_session_txn = "CloseSessionTxn" => CloseSessionTxn { paths2_delete: strings(&[PATH, "/eph/1"]) };
    close_session_txn_empty = "CloseSessionTxn-empty" => CloseSessionTxn { paths2_delete: vec![] };
    error_txn = "ErrorTxn" => ErrorTxn { err: ErrorCode::NoNode.code() };
    set_max_children_txn = "SetMaxChildrenTxn" => SetMaxChildrenTxn { path: PATH.into(), max: 100 };
    txn = "Txn" => Txn {
        op_code: OpCode::Delete.code(),
        data: [&(PATH.len() as i32).to_be_bytes()[..], PATH.as_bytes()].concat().into(),
    };
    multi_txn_record = "MultiTxn" => multi_txn();
    multi_txn_failed = "MultiTxn-failed" => MultiTxn {
        txns: vec![
            error_sub_txn(ErrorCode::Ok),
            error_sub_txn(ErrorCode::NodeExists),
            error_sub_txn(ErrorCode::RuntimeInconsistency),
        ],
    };

    txn_entry = "TxnEntry" => create_entry();
    txn_entry_multi = "TxnEntry-multi" => TxnEntry {
        header: header(8, 0x0000_0005_0000_0044, TXN_TIME + 1, OpCode::Multi),
        body: TxnBody::Multi(multi_txn()),
        digest: Some(digest()),
    };
    txn_entry_create_session = "TxnEntry-createSession" => TxnEntry {
        header: header(0, 0x0000_0005_0000_0001, TXN_TIME, OpCode::CreateSession),
        body: TxnBody::CreateSession(CreateSessionTxn { time_out: 30000 }),
        digest: Some(digest()),
    };
    txn_entry_error = "TxnEntry-error" => TxnEntry {
        header: header(9, 0x0000_0005_0000_0045, TXN_TIME, OpCode::Error),
        body: TxnBody::Error(ErrorTxn { err: ErrorCode::NodeExists.code() }),
        digest: Some(digest()),
    };
    txn_entry_close_session_no_digest = "TxnEntry-closeSession-noDigest" => TxnEntry {
        header: header(10, 0x0000_0005_0000_0046, TXN_TIME, OpCode::CloseSession),
        body: TxnBody::CloseSession(Some(CloseSessionTxn { paths2_delete: strings(&[PATH]) })),
        digest: None,
    };
    txn_entry_close_session_legacy = "TxnEntry-closeSession-legacy" => TxnEntry {
        header: header(11, 0x0000_0005_0000_0047, TXN_TIME, OpCode::CloseSession),
        body: TxnBody::CloseSession(None),
        digest: None,
    };
    txn_entry_close_session_digest_only = "TxnEntry-closeSession-digestOnly" => TxnEntry {
        header: header(12, 0x0000_0005_0000_0048, TXN_TIME, OpCode::CloseSession),
        body: TxnBody::CloseSession(None),
        digest: Some(digest()),
    };

    file_header = "FileHeader" => {
        let log = FileHeader { magic: 0x5a4b_4c47, version: 2, dbid: 0 };
        assert_eq!(log, FileHeader::txn_log());
        log
    };
    file_header_snapshot = "FileHeader-snapshot" => {
        let snap = FileHeader { magic: 0x5a4b_534e, version: 2, dbid: -1 };
        assert_eq!(snap, FileHeader::snapshot());
        snap
    };

    quorum_packet = "QuorumPacket" => QuorumPacket {
        packet_type: PacketType::Ack.code(),
        zxid: 0x0000_0005_0000_0043,
        data: None,
        authinfo: None,
    };
    quorum_packet_request = "QuorumPacket-request" => QuorumPacket {
        packet_type: PacketType::Request.code(),
        zxid: -1,
        data: Some(
            [
                &SESSION_ID.to_be_bytes()[..],
                &7i32.to_be_bytes(),
                &OpCode::SetData.code().to_be_bytes(),
                &SetDataRequest { path: PATH.into(), data: Some(data()), version: -1 }.to_bytes(),
            ]
            .concat()
            .into(),
        ),
        authinfo: Some(vec![Id::new("digest", "bøb:Zm9vYmFy"), Id::new("ip", "127.0.0.1")]),
    };
    quorum_packet_proposal = "QuorumPacket-proposal" => QuorumPacket {
        packet_type: PacketType::Proposal.code(),
        zxid: 0x0000_0005_0000_0043,
        data: Some(create_entry().to_bytes()),
        authinfo: None,
    };
    quorum_packet_empty = "QuorumPacket-empty" => QuorumPacket {
        packet_type: PacketType::NewLeader.code(),
        zxid: 0x0000_0006_0000_0000,
        data: Some(Bytes::new()),
        authinfo: Some(vec![]),
    };
    learner_info = "LearnerInfo" => LearnerInfo { server_id: 3, protocol_version: 0x10000, config_version: 0x1_0000_0000 };
    quorum_auth_packet = "QuorumAuthPacket" => QuorumAuthPacket {
        magic: 0x5f24_3501_3501_edcc, // QuorumAuth.QUORUM_AUTH_MAGIC_NUMBER
        status: -1,                   // QuorumAuth.Status.ERROR
        token: Bytes::from_static(&[1, 2, 3, 0xff]),
    };

    notification = "Notification" => Notification {
        state: server_state::FOLLOWING,
        leader: 3,
        zxid: 0x0000_0005_0000_0043,
        election_epoch: 7,
        peer_epoch: 5,
        version: Notification::CURRENT_VERSION,
        config: Some(Bytes::from_static(CONFIG.as_bytes())),
    };
    notification_empty_config = "Notification-emptyConfig" => Notification {
        state: server_state::LOOKING,
        leader: i64::MAX,
        zxid: -1,
        election_epoch: 1,
        peer_epoch: 0,
        version: 2,
        config: Some(Bytes::new()),
    };
}

/// Fixtures checked by hand below (they do not re-encode to the same bytes).
pub const DECODE_ONLY_FIXTURES: &[&str] = &["Notification-v1", "TxnEntry-createV0"];

/// A legacy create entry decodes, as in ZooKeeper's `SerializeUtils.deserializeTxn`, as a `CreateTxn` with
/// parentCVersion -1, and so re-encodes in the current form: the V0 bytes plus that field.
#[test]
fn txn_entry_create_v0() {
    let v0 = CreateTxnV0 { path: PATH.into(), data: Some(data()), acl: acls(), ephemeral: true };
    let expected = TxnEntry {
        header: header(13, 0x0000_0005_0000_0049, TXN_TIME, OpCode::Create),
        body: TxnBody::Create(CreateTxn::from(v0.clone())),
        digest: None,
    };
    assert_eq!(expected.body, TxnBody::Create(CreateTxn { parent_c_version: -1, ..create_txn() }));
    let wire = crate::check_decode("TxnEntry-createV0", &expected);
    assert_eq!(&wire[TxnHeader::MIN_LEN..], &v0.to_bytes()[..]);
    assert_eq!(expected.to_bytes(), [&wire[..], &(-1i32).to_be_bytes()].concat());
}

/// `buildMsg` without a config writes the 40-byte message of 3.4 servers, ending in version 1. ZooKeeper
/// (and zk-proto) read any 40-byte message as the older form whose last 4 bytes carry no version, so it
/// decodes with version 0 and re-encodes with 0 in those bytes.
#[test]
fn notification_v1() {
    let expected = Notification {
        state: server_state::LEADING,
        leader: 1,
        zxid: 0x0000_0004_0000_0010,
        election_epoch: 3,
        peer_epoch: 4,
        version: 0,
        config: None,
    };
    let wire = crate::check_decode("Notification-v1", &expected);
    assert_eq!(wire.len(), 40);
    assert_eq!(&wire[36..], &[0, 0, 0, 1], "Java writes version 1");
    let encoded = expected.to_bytes();
    assert_eq!(&encoded[..36], &wire[..36]);
    assert_eq!(&encoded[36..], &[0, 0, 0, 0]);
}
