//! Property tests: every record survives encode → decode unchanged, `encoded_len` is exact, and every
//! strict prefix of an encoding fails to decode with a typed error instead of a panic.

use bytes::Bytes;
use proptest::prelude::*;
use zk_proto::arbitrary::{any_jute, JuteStrategy};
use zk_proto::*;

fn check_round_trip<T: Jute + JuteStrategy + PartialEq>(value: T) -> Result<(), TestCaseError> {
    let bytes = value.to_bytes();
    prop_assert_eq!(bytes.len(), value.encoded_len());
    let decoded = T::from_bytes(bytes.clone());
    prop_assert_eq!(decoded.as_ref(), Ok(&value));
    Ok(())
}

/// Records whose encoding is self-delimiting: every strict prefix must be rejected.
fn check_prefixes_fail<T: Jute + std::fmt::Debug>(bytes: &Bytes) -> Result<(), TestCaseError> {
    for cut in 0..bytes.len() {
        prop_assert!(T::from_bytes(bytes.slice(..cut)).is_err(), "prefix of {} bytes decoded", cut);
    }
    Ok(())
}

macro_rules! round_trip_tests {
    ($($name:ident: $ty:ty),* $(,)?) => {
        proptest! {
            #![proptest_config(ProptestConfig::with_cases(64))]
            $(
                #[test]
                fn $name(value in any_jute::<$ty>()) {
                    let bytes = value.to_bytes();
                    check_round_trip(value)?;
                    check_prefixes_fail::<$ty>(&bytes)?;
                }
            )*
        }
    };
}

round_trip_tests! {
    id: Id, acl: Acl, stat: Stat, stat_persisted: StatPersisted, client_info: ClientInfo,
    request_header: RequestHeader, reply_header: ReplyHeader, multi_header: MultiHeader,
    auth_packet: AuthPacket, watcher_event: WatcherEvent, error_response: ErrorResponse,
    set_watches: SetWatches, set_watches2: SetWatches2, create_request: CreateRequest,
    create_ttl_request: CreateTtlRequest, create_response: CreateResponse, create2_response: Create2Response,
    delete_request: DeleteRequest, delete_container_request: DeleteContainerRequest, exists_request: ExistsRequest,
    exists_response: ExistsResponse, get_data_request: GetDataRequest, get_data_response: GetDataResponse,
    set_data_request: SetDataRequest, set_data_response: SetDataResponse, get_acl_request: GetAclRequest,
    get_acl_response: GetAclResponse, set_acl_request: SetAclRequest, set_acl_response: SetAclResponse,
    get_children_request: GetChildrenRequest, get_children_response: GetChildrenResponse,
    get_children2_request: GetChildren2Request, get_children2_response: GetChildren2Response,
    sync_request: SyncRequest, sync_response: SyncResponse, check_version_request: CheckVersionRequest,
    reconfig_request: ReconfigRequest, check_watches_request: CheckWatchesRequest,
    remove_watches_request: RemoveWatchesRequest, get_sasl_request: GetSaslRequest,
    set_sasl_request: SetSaslRequest, set_sasl_response: SetSaslResponse,
    get_ephemerals_request: GetEphemeralsRequest, get_ephemerals_response: GetEphemeralsResponse,
    get_all_children_number_request: GetAllChildrenNumberRequest,
    get_all_children_number_response: GetAllChildrenNumberResponse, add_watch_request: AddWatchRequest,
    who_am_i_response: WhoAmIResponse, get_max_children_request: GetMaxChildrenRequest,
    get_max_children_response: GetMaxChildrenResponse, set_max_children_request: SetMaxChildrenRequest,
    multi_request: MultiRequest, multi_response: MultiResponse,
    txn_header: TxnHeader, txn_digest: TxnDigest, create_txn: CreateTxn, create_txn_v0: CreateTxnV0,
    create_ttl_txn: CreateTtlTxn, create_container_txn: CreateContainerTxn, delete_txn: DeleteTxn,
    set_data_txn: SetDataTxn, check_version_txn: CheckVersionTxn, set_acl_txn: SetAclTxn,
    create_session_txn: CreateSessionTxn, close_session_txn: CloseSessionTxn, error_txn: ErrorTxn,
    txn: Txn, multi_txn: MultiTxn, set_max_children_txn: SetMaxChildrenTxn,
    quorum_packet: QuorumPacket, learner_info: LearnerInfo, quorum_auth_packet: QuorumAuthPacket,
    file_header: FileHeader,
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    // These have optional trailing parts, so a prefix can be a valid shorter value: round trip only.
    #[test]
    fn connect_request(value in any_jute::<ConnectRequest>()) { check_round_trip(value)?; }

    #[test]
    fn connect_response(value in any_jute::<ConnectResponse>()) { check_round_trip(value)?; }

    #[test]
    fn txn_entry(value in any_jute::<TxnEntry>()) { check_round_trip(value)?; }

    #[test]
    fn notification(value in any_jute::<Notification>()) { check_round_trip(value)?; }

    #[test]
    fn initial_message(value in any_jute::<InitialMessage>()) { check_round_trip(value)?; }

    #[test]
    fn request_bodies(request in any_jute::<Request>()) {
        let mut wire = bytes::BytesMut::new();
        request.encode(&mut wire);
        prop_assert_eq!(wire.len(), request.encoded_len());
        let mut wire = wire.freeze();
        prop_assert_eq!(Request::decode(request.op_code(), &mut wire), Ok(request));
        prop_assert!(wire.is_empty());
    }

    #[test]
    fn response_bodies(response in any_jute::<Response>()) {
        let mut wire = bytes::BytesMut::new();
        response.encode(&mut wire);
        prop_assert_eq!(wire.len(), response.encoded_len());
        let mut wire = wire.freeze();
        prop_assert_eq!(Response::decode(response.op_code(), &mut wire), Ok(response));
        prop_assert!(wire.is_empty());
    }

    #[test]
    fn multi_vectors_are_allocated_at_their_exact_length(request in any_jute::<MultiRequest>(), response in any_jute::<MultiResponse>()) {
        // Counting the entries before decoding them: no slack capacity, no reallocation.
        let ops = MultiRequest::from_bytes(request.to_bytes()).unwrap().ops;
        prop_assert_eq!(ops.capacity(), ops.len());
        let results = MultiResponse::from_bytes(response.to_bytes()).unwrap().results;
        prop_assert_eq!(results.capacity(), results.len());
    }

    #[test]
    fn txn_bodies_by_sub_txn(body in any_jute::<TxnBody>()) {
        // Any body wrapped as a multi sub-txn decodes back to itself (old body-less closeSession aside).
        prop_assume!(body != TxnBody::CloseSession(None));
        prop_assert_eq!(body.to_sub_txn(body.op_code()).body(), Ok(body));
    }
}
