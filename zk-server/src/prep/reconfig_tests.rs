//! `reconfig` preparation: each of ZooKeeper's errors, incremental and wholesale changes, and the txn.

use std::collections::BTreeSet;

use zk_proto::{ErrorCode, Id, OpCode, ReconfigRequest, Request, SetDataTxn, TxnBody};

use super::{prepare, reconfig, PrepContext, ReconfigContext};
use crate::acl::AuthConfig;
use crate::config::QuorumConfig;
use crate::tree::{DataTree, CONFIG_PATH};

const ZXID: i64 = 0x2_0000_0005;

fn member(id: i64) -> String {
    format!("server.{id}=127.0.0.1:{}:{}:participant;127.0.0.1:{}", 2000 + id, 3000 + id, 4000 + id)
}

fn three() -> QuorumConfig {
    let text = format!("{}\n{}\n{}\nversion=100000000", member(1), member(2), member(3));
    QuorumConfig::from_config_text(&text, false).unwrap()
}

fn super_ids() -> Vec<Id> {
    vec![Id { scheme: "super".into(), id: String::new() }]
}

fn request(joining: Option<&str>, leaving: Option<&str>, new_members: Option<&str>, from: i64) -> ReconfigRequest {
    ReconfigRequest {
        joining_servers: joining.map(str::to_owned),
        leaving_servers: leaving.map(str::to_owned),
        new_members: new_members.map(str::to_owned),
        cur_config_id: from,
    }
}

struct Setup {
    tree: DataTree,
    auth: AuthConfig,
    ids: Vec<Id>,
    current: QuorumConfig,
    synced: BTreeSet<i64>,
    in_progress: bool,
    standalone_enabled: bool,
    enabled: bool,
}

impl Setup {
    fn new() -> Setup {
        Setup {
            tree: DataTree::new(),
            auth: AuthConfig::default(),
            ids: super_ids(),
            current: three(),
            synced: BTreeSet::from([1, 2, 3]),
            in_progress: false,
            standalone_enabled: true,
            enabled: true,
        }
    }

    fn run(&self, request: &ReconfigRequest) -> Result<(SetDataTxn, QuorumConfig), ErrorCode> {
        let ensemble = ReconfigContext {
            current: &self.current,
            in_progress: self.in_progress,
            synced: &self.synced,
            zxid: ZXID,
            standalone_enabled: self.standalone_enabled,
        };
        let ctx = PrepContext {
            auth: &self.auth,
            ids: &self.ids,
            session_id: 1,
            extended_types: false,
            reconfig_enabled: self.enabled,
            enforce_quota: false,
            ensemble: Some(ensemble),
        };
        let prepared = reconfig(&self.tree, &ctx, ctx.ensemble.as_ref(), request)?;
        assert_eq!(prepared.prepared.op_code, OpCode::Reconfig);
        // `prepare` gives the same txn.
        assert_eq!(prepare(&self.tree, &ctx, &Request::Reconfig(request.clone())), Ok(prepared.prepared.clone()));
        match prepared.prepared.body {
            TxnBody::SetData(txn) => Ok((txn, prepared.config)),
            other => panic!("not a SetDataTxn: {other:?}"),
        }
    }
}

#[test]
fn adding_a_server_gives_the_set_data_txn_zookeeper_writes() {
    let setup = Setup::new();
    let (txn, config) = setup.run(&request(Some(&member(4)), None, None, -1)).unwrap();
    let expected = format!("{}\n{}\n{}\n{}\nversion=200000005", member(1), member(2), member(3), member(4));
    assert_eq!(txn.path, CONFIG_PATH);
    assert_eq!(txn.version, -1);
    assert_eq!(txn.data.as_deref(), Some(expected.as_bytes()));
    assert_eq!(config.version, ZXID);
    assert_eq!(config.voting_members().count(), 4);
    // The version it was prepared from may be named.
    assert!(setup.run(&request(Some(&member(4)), None, None, 0x1_0000_0000)).is_ok());
    // Re-adding a member replaces its entry; joiners and leavers combine; blanks are ignored.
    let observer = "server.2=127.0.0.1:2002:3002:observer;127.0.0.1:4002";
    let (_, config) = setup.run(&request(Some(&format!(" {observer} , ")), Some(" ,"), None, -1)).unwrap();
    assert_eq!(config.voting_members().map(|s| s.id).collect::<Vec<_>>(), vec![1, 3]);
    assert_eq!(config.observing_members().count(), 1);
}

#[test]
fn removing_servers() {
    let mut setup = Setup::new();
    let (txn, config) = setup.run(&request(None, Some("1"), None, -1)).unwrap();
    let expected = format!("{}\n{}\nversion=200000005", member(2), member(3));
    assert_eq!(txn.data.as_deref(), Some(expected.as_bytes()));
    assert_eq!(config.servers.keys().copied().collect::<Vec<_>>(), vec![2, 3]);
    // Removing an unknown id changes nothing but the version.
    assert_eq!(setup.run(&request(None, Some("9"), None, -1)).unwrap().1.servers, three().servers);
    // Every voter, or all but one with standaloneEnabled: BadArguments.
    assert_eq!(setup.run(&request(None, Some("1,2,3"), None, -1)), Err(ErrorCode::BadArguments));
    assert_eq!(setup.run(&request(None, Some("1,2"), None, -1)), Err(ErrorCode::BadArguments));
    setup.standalone_enabled = false;
    assert_eq!(setup.run(&request(None, Some("1,2"), None, -1)).unwrap().1.servers.len(), 1);
    assert_eq!(setup.run(&request(None, Some("1,2,3"), None, -1)), Err(ErrorCode::BadArguments));
}

#[test]
fn non_incremental_membership() {
    let setup = Setup::new();
    let members = format!("{},{},{}", member(2), member(3), member(4));
    let (txn, config) = setup.run(&request(Some("ignored"), None, Some(&members), -1)).unwrap();
    let expected = format!("{}\n{}\n{}\nversion=200000005", member(2), member(3), member(4));
    assert_eq!(txn.data.as_deref(), Some(expected.as_bytes()));
    assert_eq!(config.servers.len(), 3);
    // Newlines separate entries too.
    assert!(setup.run(&request(None, None, Some(&members.replace(',', "\n")), -1)).is_ok());
    for bad in ["server.2=127.0.0.1:1", "server.x=127.0.0.1:1:2", "tickTime=2000", "server.2=h:5:5"] {
        assert_eq!(setup.run(&request(None, None, Some(bad), -1)), Err(ErrorCode::BadArguments), "{bad}");
    }
}

#[test]
fn malformed_joiners_and_leavers() {
    let setup = Setup::new();
    let run = |joining: &str| setup.run(&request(Some(joining), None, None, -1)).map(|_| ());
    assert_eq!(run("server.4"), Err(ErrorCode::BadArguments));
    assert_eq!(run("server.4=a=b"), Err(ErrorCode::BadArguments));
    assert_eq!(run("server.4=127.0.0.1:1"), Err(ErrorCode::BadArguments));
    assert_eq!(run("server.4=127.0.0.1:2004:2004;4004"), Err(ErrorCode::BadArguments));
    // Without a client port ("each server should have at least 3 ports specified").
    assert_eq!(run("server.4=127.0.0.1:2004:3004"), Err(ErrorCode::BadArguments));
    // Sharing server 1's election address.
    assert_eq!(run("server.4=127.0.0.1:2004:3001;4004"), Err(ErrorCode::BadArguments));
    // Java's NumberFormatException escapes the KeeperException handling: MarshallingError.
    assert_eq!(run("server.x=127.0.0.1:2004:3004;4004"), Err(ErrorCode::MarshallingError));
    assert_eq!(setup.run(&request(None, Some("one"), None, -1)).map(|_| ()), Err(ErrorCode::MarshallingError));
}

#[test]
fn errors_in_zookeepers_order() {
    let mut setup = Setup::new();
    let add = request(Some(&member(4)), None, None, -1);
    // Quorum: adding 4 and 5 to 1..3 needs 3 synced voters of 5.
    let add_two = request(Some(&format!("{},{}", member(4), member(5))), None, None, -1);
    setup.synced = BTreeSet::from([1, 2]);
    assert_eq!(setup.run(&add_two), Err(ErrorCode::NewConfigNoQuorum));
    setup.synced = BTreeSet::from([1, 2, 4]);
    assert!(setup.run(&add_two).is_ok());
    // Synced servers outside the new config do not count.
    setup.synced = BTreeSet::from([1, 9]);
    assert_eq!(setup.run(&add), Err(ErrorCode::NewConfigNoQuorum));
    setup.synced = BTreeSet::from([1, 2, 3]);

    // The ACL check comes last: a client that is not the super user gets NoAuth; skipACL lets it pass.
    setup.ids = vec![Id { scheme: "digest".into(), id: "bob:x".into() }];
    assert_eq!(setup.run(&add), Err(ErrorCode::NoAuth));
    assert_eq!(setup.run(&request(None, Some("1,2,3"), None, -1)), Err(ErrorCode::BadArguments));
    setup.auth.skip_acl = true;
    assert!(setup.run(&add).is_ok());
    setup.auth.skip_acl = false;
    setup.ids = super_ids();

    assert_eq!(setup.run(&request(Some(&member(4)), None, None, 7)), Err(ErrorCode::BadVersion));
    setup.in_progress = true;
    assert_eq!(setup.run(&request(Some(&member(4)), None, None, 7)), Err(ErrorCode::ReconfigInProgress));
    setup.enabled = false;
    assert_eq!(setup.run(&add), Err(ErrorCode::ReconfigDisabled));
}

#[test]
fn standalone_and_disabled() {
    let auth = AuthConfig::default();
    let tree = DataTree::new();
    let ids = super_ids();
    let mut ctx = PrepContext {
        auth: &auth,
        ids: &ids,
        session_id: 1,
        extended_types: false,
        reconfig_enabled: false,
        enforce_quota: false,
        ensemble: None,
    };
    let add = Request::Reconfig(request(Some(&member(4)), None, None, -1));
    assert_eq!(prepare(&tree, &ctx, &add), Err(ErrorCode::ReconfigDisabled));
    ctx.reconfig_enabled = true;
    assert_eq!(prepare(&tree, &ctx, &add), Err(ErrorCode::Unimplemented));
}

#[test]
fn incremental_changes_need_a_majority_config() {
    let mut setup = Setup::new();
    setup.current.hierarchical = true;
    assert_eq!(setup.run(&request(Some(&member(4)), None, None, -1)), Err(ErrorCode::BadArguments));
    let members = format!("{},{},{}", member(1), member(2), member(3));
    assert!(setup.run(&request(None, None, Some(&members), -1)).is_ok());
}
