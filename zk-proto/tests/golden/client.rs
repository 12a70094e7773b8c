//! Client records (`zookeeper.jute` modules `data` and `proto`) and multi, as `GoldenVectors.client()` and
//! `GoldenVectors.multi()` write them.

use bytes::Bytes;
use zk_proto::*;

use crate::values::*;

golden! {
    id = "Id" => Id::new("x509", "CN=Jörg Müller,O=Ünïcode Ltd");
    acl = "ACL" => Acl::new(perms::READ | perms::WRITE | perms::ADMIN, Id::new("sasl", "zk/节点@EXAMPLE.COM"));
    stat_record = "Stat" => stat();
    stat_record_extremes = "Stat-extremes" => stat_extremes();
    stat_persisted = "StatPersisted" => StatPersisted {
        czxid: 0x0000_0005_0000_0001,
        mzxid: 0x0000_0007_0000_00ff,
        ctime: 1_700_000_000_123,
        mtime: 1_700_000_456_789,
        version: -7,
        cversion: 1 << 30,
        aversion: 5,
        ephemeral_owner: i64::MIN,
        pzxid: 0x7fff_ffff_0000_0000,
    };
    client_info = "ClientInfo" => ClientInfo { auth_scheme: "digest".into(), user: "bøb".into() };

    connect_request = "ConnectRequest" => ConnectRequest {
        protocol_version: 0,
        last_zxid_seen: 0x0000_0123_0000_4567,
        time_out: 30000,
        session_id: SESSION_ID,
        passwd: Bytes::from_static(PASSWD),
        read_only: Some(true),
    };
    connect_request_legacy = "ConnectRequest-legacy" => ConnectRequest {
        protocol_version: 0,
        last_zxid_seen: 0,
        time_out: -1,
        session_id: 0,
        passwd: Bytes::new(),
        read_only: None,
    };
    connect_response = "ConnectResponse" => ConnectResponse {
        protocol_version: 0,
        time_out: 40000,
        session_id: SESSION_ID,
        passwd: Bytes::from_static(PASSWD),
        read_only: Some(false),
    };
    connect_response_legacy = "ConnectResponse-legacy" => ConnectResponse {
        protocol_version: 0,
        time_out: 0,
        session_id: 0,
        passwd: Bytes::from_static(&[0; 16]),
        read_only: None,
    };

    request_header = "RequestHeader" => RequestHeader { xid: xid::SET_WATCHES, op_code: OpCode::SetWatches2.code() };
    reply_header = "ReplyHeader" => ReplyHeader {
        xid: xid::NOTIFICATION,
        zxid: 0x1234_5678_9abc_def0,
        err: ErrorCode::NoNode.code(),
    };
    multi_header = "MultiHeader" => MultiHeader {
        op_code: OpCode::Create2.code(),
        done: false,
        err: ErrorCode::NodeExists.code(),
    };
    auth_packet = "AuthPacket" => AuthPacket {
        auth_type: 0,
        scheme: "digest".into(),
        auth: Bytes::from("bøb:pässwörd".as_bytes()),
    };
    watcher_event = "WatcherEvent" => WatcherEvent {
        event_type: EventType::NodeChildrenChanged.code(),
        state: KeeperState::SyncConnected.code(),
        path: PATH.into(),
    };
    error_response = "ErrorResponse" => ErrorResponse { err: ErrorCode::SessionExpired.code() };
    set_watches = "SetWatches" => SetWatches {
        relative_zxid: 0x0000_0009_0000_0010,
        data_watches: strings(&[PATH, "/a"]),
        exist_watches: vec![],
        child_watches: strings(&["/节点"]),
    };
    set_watches2 = "SetWatches2" => SetWatches2 {
        relative_zxid: -1,
        data_watches: strings(&["/d"]),
        exist_watches: strings(&["/e1", "/e2"]),
        child_watches: vec![],
        persistent_watches: strings(&[PATH]),
        persistent_recursive_watches: strings(&["/", "/rec"]),
    };

    create_request = "CreateRequest" => CreateRequest {
        path: PATH.into(),
        data: Some(data()),
        acl: acls(),
        flags: CreateMode::EphemeralSequential.code(),
    };
    create_request_null_data = "CreateRequest-nullData" => CreateRequest {
        path: "/null".into(),
        data: None,
        acl: Acl::open_unsafe(),
        flags: 0,
    };
    create_request_empty_data = "CreateRequest-emptyData" => CreateRequest {
        path: "/empty".into(),
        data: Some(Bytes::new()),
        acl: vec![],
        flags: CreateMode::Container.code(),
    };
    create_ttl_request = "CreateTTLRequest" => CreateTtlRequest {
        path: PATH.into(),
        data: Some(data()),
        acl: Acl::creator_all(),
        flags: CreateMode::PersistentSequentialWithTtl.code(),
        ttl: MAX_TTL,
    };
    create_response = "CreateResponse" => CreateResponse { path: path("0000000042") };
    create2_response = "Create2Response" => Create2Response { path: PATH.into(), stat: stat() };
    delete_request = "DeleteRequest" => DeleteRequest { path: PATH.into(), version: -1 };
    exists_request = "ExistsRequest" => ExistsRequest { path: PATH.into(), watch: true };
    exists_response = "ExistsResponse" => ExistsResponse { stat: stat_extremes() };
    get_data_request = "GetDataRequest" => GetDataRequest { path: "/zookeeper/config".into(), watch: false };
    get_data_response = "GetDataResponse" => GetDataResponse { data: Some(data()), stat: stat() };
    get_data_response_null_data = "GetDataResponse-nullData" => GetDataResponse { data: None, stat: stat_extremes() };
    get_data_response_empty_data = "GetDataResponse-emptyData" => GetDataResponse { data: Some(Bytes::new()), stat: stat() };
    set_data_request = "SetDataRequest" => SetDataRequest { path: PATH.into(), data: Some(data()), version: 41 };
    set_data_request_null_data = "SetDataRequest-nullData" => SetDataRequest { path: "/n".into(), data: None, version: -1 };
    set_data_response = "SetDataResponse" => SetDataResponse { stat: stat() };
    get_acl_request = "GetACLRequest" => GetAclRequest { path: PATH.into() };
    get_acl_response = "GetACLResponse" => GetAclResponse { acl: acls(), stat: stat() };
    set_acl_request = "SetACLRequest" => SetAclRequest { path: PATH.into(), acl: acls(), version: 2 };
    set_acl_response = "SetACLResponse" => SetAclResponse { stat: stat_extremes() };
    get_children_request = "GetChildrenRequest" => GetChildrenRequest { path: "/".into(), watch: true };
    get_children_response = "GetChildrenResponse" => GetChildrenResponse { children: children() };
    get_children_response_empty = "GetChildrenResponse-empty" => GetChildrenResponse { children: vec![] };
    get_children2_request = "GetChildren2Request" => GetChildren2Request { path: PATH.into(), watch: false };
    get_children2_response = "GetChildren2Response" => GetChildren2Response { children: children(), stat: stat() };
    sync_request = "SyncRequest" => SyncRequest { path: PATH.into() };
    sync_response = "SyncResponse" => SyncResponse { path: PATH.into() };
    check_version_request = "CheckVersionRequest" => CheckVersionRequest { path: PATH.into(), version: i32::MAX };
    reconfig_request = "ReconfigRequest" => ReconfigRequest {
        joining_servers: Some(
            "server.4=zk4.example.com:2888:3888:participant;2181,server.5=[::1]:2889:3889:observer;2182".into(),
        ),
        leaving_servers: Some("1,2".into()),
        new_members: Some(String::new()),
        cur_config_id: 0x1_0000_0002,
    };
    reconfig_request_nulls = "ReconfigRequest-nulls" => ReconfigRequest {
        joining_servers: None,
        leaving_servers: Some("3".into()),
        new_members: None,
        cur_config_id: -1,
    };
    check_watches_request = "CheckWatchesRequest" => CheckWatchesRequest {
        path: PATH.into(),
        watcher_type: WatcherType::Data.code(),
    };
    remove_watches_request = "RemoveWatchesRequest" => RemoveWatchesRequest {
        path: PATH.into(),
        watcher_type: WatcherType::PersistentRecursive.code(),
    };
    get_sasl_request = "GetSASLRequest" => GetSaslRequest { token: Bytes::from_static(&[0x60, 0x82, 0, 0, 0xff]) };
    set_sasl_request = "SetSASLRequest" => SetSaslRequest { token: Bytes::new() };
    set_sasl_response = "SetSASLResponse" => SetSaslResponse { token: data() };
    get_ephemerals_request = "GetEphemeralsRequest" => GetEphemeralsRequest { prefix_path: "/app/ü".into() };
    get_ephemerals_response = "GetEphemeralsResponse" => GetEphemeralsResponse {
        ephemerals: strings(&[PATH, "/app/ü/e-0000000001"]),
    };
    get_all_children_number_request = "GetAllChildrenNumberRequest" => GetAllChildrenNumberRequest { path: "/".into() };
    get_all_children_number_response = "GetAllChildrenNumberResponse" => GetAllChildrenNumberResponse {
        total_number: 1_234_567,
    };
    add_watch_request = "AddWatchRequest" => AddWatchRequest {
        path: PATH.into(),
        mode: AddWatchMode::PersistentRecursive.code(),
    };
    who_am_i_response = "WhoAmIResponse" => WhoAmIResponse {
        client_info: vec![
            ClientInfo { auth_scheme: "ip".into(), user: "127.0.0.1".into() },
            ClientInfo { auth_scheme: "digest".into(), user: "bøb".into() },
            ClientInfo { auth_scheme: "sasl".into(), user: "zk/节点".into() },
        ],
    };
    get_max_children_request = "GetMaxChildrenRequest" => GetMaxChildrenRequest { path: PATH.into() };
    get_max_children_response = "GetMaxChildrenResponse" => GetMaxChildrenResponse { max: -1 };
    set_max_children_request = "SetMaxChildrenRequest" => SetMaxChildrenRequest { path: PATH.into(), max: 1000 };
    delete_container_request = "DeleteContainerRequest" => DeleteContainerRequest { path: "/containers/ünï".into() };

    multi_operation_record = "MultiOperationRecord" => MultiRequest {
        ops: vec![
            MultiOp::Create(CreateRequest {
                path: path("/seq-"),
                data: Some(data()),
                acl: acls(),
                flags: CreateMode::PersistentSequential.code(),
            }),
            MultiOp::Create2(CreateRequest {
                path: "/c2".into(),
                data: None,
                acl: Acl::open_unsafe(),
                flags: CreateMode::Ephemeral.code(),
            }),
            MultiOp::CreateContainer(CreateRequest {
                path: "/container".into(),
                data: Some(Bytes::new()),
                acl: Acl::open_unsafe(),
                flags: CreateMode::Container.code(),
            }),
            MultiOp::CreateTtl(CreateTtlRequest {
                path: "/ttl".into(),
                data: Some(data()),
                acl: Acl::read_unsafe(),
                flags: CreateMode::PersistentWithTtl.code(),
                ttl: MAX_TTL,
            }),
            MultiOp::Delete(DeleteRequest { path: PATH.into(), version: -1 }),
            MultiOp::SetData(SetDataRequest { path: PATH.into(), data: Some(data()), version: 42 }),
            MultiOp::Check(CheckVersionRequest { path: PATH.into(), version: i32::MIN }),
        ],
    };
    multi_operation_record_read = "MultiOperationRecord-read" => MultiRequest {
        ops: vec![
            MultiOp::GetData(GetDataRequest { path: PATH.into(), watch: false }),
            MultiOp::GetChildren(GetChildrenRequest { path: "/".into(), watch: false }),
            MultiOp::GetData(GetDataRequest { path: "/zookeeper/config".into(), watch: false }),
        ],
    };
    multi_operation_record_empty = "MultiOperationRecord-empty" => MultiRequest { ops: vec![] };
    multi_response = "MultiResponse" => MultiResponse {
        results: vec![
            OpResult::Create(CreateResponse { path: path("/seq-0000000007") }),
            OpResult::Create2(Create2Response { path: "/c2".into(), stat: stat() }),
            OpResult::Delete,
            OpResult::SetData(SetDataResponse { stat: stat_extremes() }),
            OpResult::Check,
        ],
    };
    multi_response_read = "MultiResponse-read" => MultiResponse {
        results: vec![
            OpResult::GetData(GetDataResponse { data: Some(data()), stat: stat() }),
            OpResult::GetChildren(GetChildrenResponse { children: children() }),
            OpResult::Error(ErrorCode::NoNode.code()),
            OpResult::GetData(GetDataResponse { data: None, stat: stat_extremes() }),
        ],
    };
    multi_response_failed = "MultiResponse-failed" => MultiResponse {
        results: vec![
            OpResult::Error(ErrorCode::Ok.code()),
            OpResult::Error(ErrorCode::NodeExists.code()),
            OpResult::Error(ErrorCode::RuntimeInconsistency.code()),
            OpResult::Error(ErrorCode::RuntimeInconsistency.code()),
        ],
    };
    multi_response_empty = "MultiResponse-empty" => MultiResponse { results: vec![] };
}
