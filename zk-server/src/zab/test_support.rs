//! Helpers for the Zab unit tests: a 3-voter + 1-observer ensemble, txns and packet builders.

use std::time::{Duration, Instant};

use bytes::Bytes;
use zk_proto::{Jute, LearnerInfo, OpCode, PacketType, QuorumPacket, SetDataTxn, TxnBody, TxnEntry, TxnHeader};

use super::*;
use crate::config::{Properties, QuorumConfig};

pub(crate) const CONFIG: &str = "server.1=h:1:2\nserver.2=h:3:4\nserver.3=h:5:6\nserver.4=h:7:8:observer\n";

pub(crate) fn config(my_id: i64) -> ZabConfig {
    let quorum = QuorumConfig::from_properties(&Properties::parse(CONFIG).unwrap(), false, false).unwrap();
    ZabConfig {
        my_id,
        verifier: QuorumVerifier::from_config(&quorum),
        tick: Duration::from_millis(100),
        init_limit: 10,
        sync_limit: 5,
        config_text: Bytes::from(quorum.config_string()),
        commit_log_count: DEFAULT_COMMIT_LOG_COUNT,
    }
}

pub(crate) fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

pub(crate) fn z(epoch: i64, counter: i64) -> i64 {
    make_zxid(epoch, counter)
}

pub(crate) fn txn(zxid: i64) -> TxnEntry {
    TxnEntry {
        header: TxnHeader { client_id: 7, cxid: 1, zxid, time: 0, op_code: OpCode::SetData.code() },
        body: TxnBody::SetData(SetDataTxn {
            path: "/a".into(),
            data: Some(Bytes::from(zxid.to_be_bytes().to_vec())),
            version: 1,
        }),
        digest: None,
    }
}

pub(crate) fn packet(kind: PacketType, zxid: i64, data: Option<Bytes>) -> QuorumPacket {
    QuorumPacket { packet_type: kind.code(), zxid, data, authinfo: None }
}

pub(crate) fn learner_info(kind: PacketType, sid: i64, accepted_epoch: i64) -> QuorumPacket {
    let info = LearnerInfo { server_id: sid, protocol_version: PROTOCOL_VERSION, config_version: 0 };
    packet(kind, z(accepted_epoch, 0), Some(info.to_bytes()))
}

pub(crate) fn ack_epoch(last_zxid: i64, current_epoch: i32) -> QuorumPacket {
    packet(PacketType::AckEpoch, last_zxid, Some(wire::encode_int(current_epoch)))
}

pub(crate) fn proposal(entry: &TxnEntry) -> QuorumPacket {
    packet(PacketType::Proposal, entry.header.zxid, Some(entry.to_bytes()))
}

pub(crate) fn state(accepted_epoch: i64, current_epoch: i64, last_logged_zxid: i64) -> PersistedState {
    PersistedState { accepted_epoch, current_epoch, last_logged_zxid }
}

pub(crate) fn leader_outputs(leader: &mut Leader) -> Vec<LeaderOutput> {
    std::iter::from_fn(|| leader.poll_output()).collect()
}

pub(crate) fn learner_outputs(learner: &mut Learner) -> Vec<LearnerOutput> {
    std::iter::from_fn(|| learner.poll_output()).collect()
}

/// The packets sent on `link`, in order.
pub(crate) fn sent_on(outputs: &[LeaderOutput], link: LinkId) -> Vec<QuorumPacket> {
    outputs
        .iter()
        .filter_map(|o| match o {
            LeaderOutput::Send { link: l, packet } if *l == link => Some(packet.clone()),
            _ => None,
        })
        .collect()
}

/// The (type, zxid) of packets.
pub(crate) fn shapes(packets: &[QuorumPacket]) -> Vec<(PacketType, i64)> {
    packets.iter().map(|p| (p.kind().unwrap(), p.zxid)).collect()
}

/// The packets a learner sent.
pub(crate) fn learner_sent(outputs: &[LearnerOutput]) -> Vec<QuorumPacket> {
    outputs
        .iter()
        .filter_map(|o| match o {
            LearnerOutput::Send(p) => Some(p.clone()),
            _ => None,
        })
        .collect()
}

pub(crate) fn is_shutdown_leader(outputs: &[LeaderOutput]) -> bool {
    outputs.iter().any(|o| matches!(o, LeaderOutput::Shutdown { .. }))
}

pub(crate) fn is_shutdown_learner(outputs: &[LearnerOutput]) -> bool {
    outputs.iter().any(|o| matches!(o, LearnerOutput::Shutdown { .. }))
}

/// A leader (sid 1) of a fresh ensemble established in epoch 1 with followers 2 (link 2) and 3
/// (link 3) and observer 4 (link 4) in broadcast; outputs drained.
pub(crate) fn established_leader(t0: Instant) -> Leader {
    let mut leader = Leader::new(config(1), state(0, 0, 0), Vec::new(), t0);
    for sid in 2..=4 {
        let kind = if sid == 4 { PacketType::ObserverInfo } else { PacketType::FollowerInfo };
        leader.link_up(sid as LinkId, t0);
        leader.handle_packet(sid as LinkId, learner_info(kind, sid, 0), t0);
    }
    for sid in 2..=4 {
        leader.handle_packet(sid as LinkId, ack_epoch(0, 0), t0);
    }
    for sid in 2..=4 {
        leader.handle_packet(sid as LinkId, packet(PacketType::Ack, z(1, 0), None), t0);
    }
    assert_eq!(leader.phase(), ZabPhase::Broadcast);
    leader_outputs(&mut leader);
    leader
}
