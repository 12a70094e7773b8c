//! ACLs: digest and ip ACLs, `addauth`, the `auth` scheme, NoAuth for every operation, getACL
//! masking, invalid ACLs and whoAmI.

use super::harness::Script;
use super::ops::*;
use zk_proto::{perms, Acl, Id, Request};

/// Denials, masking and ACL validation.
pub fn acls() -> Script {
    let alice = digest_id("alice:secret");
    let bob = digest_id("bob:pw");
    let alice_all = vec![Acl::new(perms::ALL, alice.clone())];
    let mut s = Script::default();
    s.connect(0); // alice
    s.connect(1); // anonymous
    s.connect(2); // bob
    s.auth("addauth alice", 0, "digest", "alice:secret");
    s.auth("addauth bob", 2, "digest", "bob:pw");
    s.call("whoAmI alice", 0, Request::WhoAmI);
    s.call("whoAmI anonymous", 1, Request::WhoAmI);
    s.call("create /acl (open)", 0, mk("/acl", b""));
    s.call("create /acl/secret (alice only)", 0, create("/acl/secret", b"s", alice_all.clone(), 0));
    s.call("create /acl/secret/child", 0, mk("/acl/secret/child", b""));
    s.call("alice reads", 0, get_data("/acl/secret", false));
    for (slot, who) in [(1, "anonymous"), (2, "bob")] {
        s.call(format!("{who} getData: NoAuth"), slot, get_data("/acl/secret", false));
        s.call(format!("{who} setData: NoAuth"), slot, set_data("/acl/secret", b"x", -1));
        s.call(format!("{who} exists"), slot, exists("/acl/secret", false));
        s.call(format!("{who} getChildren: NoAuth"), slot, children("/acl/secret", false));
        s.call(format!("{who} getChildren2: NoAuth"), slot, children2("/acl/secret", false));
        s.call(format!("{who} getACL: NoAuth"), slot, get_acl("/acl/secret"));
        s.call(format!("{who} setACL: NoAuth"), slot, set_acl("/acl/secret", open(), -1));
        s.call(format!("{who} create child: NoAuth"), slot, mk("/acl/secret/x", b""));
        s.call(format!("{who} create2 child: NoAuth"), slot, create2("/acl/secret/x", b"", open(), 0));
        s.call(format!("{who} createContainer child: NoAuth"), slot, create_container("/acl/secret/x", 4));
        s.call(format!("{who} createTTL child: NoAuth"), slot, create_ttl("/acl/secret/x", 5, 1000));
        s.call(format!("{who} multi create child: NoAuth"), slot, multi(vec![m_create("/acl/secret/x", b"", 0)]));
        s.call(format!("{who} getData with watch: NoAuth"), slot, get_data("/acl/secret", true));
        s.call(format!("{who} delete child: NoAuth"), slot, delete("/acl/secret/child", -1));
        s.call(format!("{who} getAllChildrenNumber"), slot, all_children("/acl/secret"));
        s.call(format!("{who} sync"), slot, sync("/acl/secret"));
        s.call(format!("{who} addWatch"), slot, add_watch("/acl/secret", 0));
        s.call(format!("{who} multi setData: NoAuth"), slot, multi(vec![m_set("/acl/secret", b"", -1)]));
        s.call(format!("{who} multi check"), slot, multi(vec![m_check("/acl/secret", -1)]));
        s.call(format!("{who} multiRead"), slot, multi_read(vec![m_get("/acl/secret"), m_children("/acl/secret")]));
        s.call(format!("{who} delete the node itself (parent is open)"), slot, delete("/acl/secret/nope", -1));
    }
    // Partial permissions: read for everyone, everything for alice.
    let mixed = vec![Acl::new(perms::READ, Id::anyone()), Acl::new(perms::ALL, alice.clone())];
    s.call("create /acl/mixed", 0, create("/acl/mixed", b"m", mixed, 0));
    s.call("anonymous getACL of a readable node (masking)", 1, get_acl("/acl/mixed"));
    s.call("alice getACL (admin)", 0, get_acl("/acl/mixed"));
    s.call("anonymous getData", 1, get_data("/acl/mixed", false));
    s.call("anonymous setData: NoAuth", 1, set_data("/acl/mixed", b"", -1));
    let admin_only = vec![Acl::new(perms::ADMIN, Id::anyone()), Acl::new(perms::ALL, bob.clone())];
    s.call("create /acl/admin (admin for all)", 2, create("/acl/admin", b"", admin_only, 0));
    s.call("anonymous getACL with ADMIN only", 1, get_acl("/acl/admin"));
    s.call("anonymous getData with ADMIN only: NoAuth", 1, get_data("/acl/admin", false));
    // The `auth` scheme.
    s.call("auth ACL without credentials: InvalidACL", 1, create("/acl/a1", b"", Acl::creator_all(), 0));
    s.call("auth ACL with credentials", 0, create2("/acl/a2", b"", Acl::creator_all(), 0));
    s.call("getACL of the auth node", 0, get_acl("/acl/a2"));
    s.auth("second digest identity for alice", 0, "digest", "carol:c");
    s.call("auth ACL with two identities", 0, create("/acl/a3", b"", Acl::creator_all(), 0));
    s.call("getACL of a3", 0, get_acl("/acl/a3"));
    s.call("whoAmI with two identities", 0, Request::WhoAmI);
    // Invalid ACLs.
    let invalid: Vec<(&str, Vec<Acl>)> = vec![
        ("empty ACL", vec![]),
        ("unknown scheme", vec![Acl::new(perms::ALL, Id::new("bogus", "x"))]),
        ("digest without colon", vec![Acl::new(perms::ALL, Id::new("digest", "nocolon"))]),
        ("bad ip", vec![Acl::new(perms::ALL, Id::new("ip", "1.2.3"))]),
        ("bad ip mask", vec![Acl::new(perms::ALL, Id::new("ip", "10.0.0.0/99"))]),
        ("world someone", vec![Acl::new(perms::ALL, Id::new("world", "someone"))]),
        ("perms 0", vec![Acl::new(0, Id::anyone())]),
        ("perms beyond ALL", vec![Acl::new(0xff, Id::anyone())]),
        ("super scheme", vec![Acl::new(perms::ALL, Id::new("super", "x"))]),
        ("sasl id", vec![Acl::new(perms::ALL, Id::new("sasl", "someone"))]),
        ("x509 id", vec![Acl::new(perms::ALL, Id::new("x509", "CN=x"))]),
        ("ipv6", vec![Acl::new(perms::ALL, Id::new("ip", "::1"))]),
        ("ipv6 subnet", vec![Acl::new(perms::ALL, Id::new("ip", "fe80::/10"))]),
        ("digest with two colons", vec![Acl::new(perms::ALL, Id::new("digest", "a:b:c"))]),
        ("auth with an id", vec![Acl::new(perms::ALL, Id::new("auth", "someone"))]),
        ("world anyone and a bad one", vec![Acl::new(perms::ALL, Id::anyone()), Acl::new(1, Id::new("ip", "x"))]),
        ("duplicate entries", vec![Acl::new(perms::READ, Id::anyone()), Acl::new(perms::READ, Id::anyone())]),
    ];
    for (name, acl) in invalid {
        s.call(format!("create with {name}"), 0, create("/acl/inv", b"", acl.clone(), 0));
        s.call(format!("setACL with {name}"), 0, set_acl("/acl/mixed", acl, -1));
        s.call(format!("getACL after {name}"), 0, get_acl("/acl/mixed"));
        s.call(format!("cleanup after {name}"), 0, delete("/acl/inv", -1));
    }
    // ip ACLs.
    let ip = vec![Acl::new(perms::READ, Id::new("ip", "127.0.0.1"))];
    s.call("create /acl/ip", 0, create("/acl/ip", b"ip", ip, 0));
    s.call("ip-permitted read", 1, get_data("/acl/ip", false));
    s.call("ip-permitted write: NoAuth", 1, set_data("/acl/ip", b"", -1));
    let subnet = vec![Acl::new(perms::ALL, Id::new("ip", "127.0.0.0/8"))];
    s.call("create /acl/subnet", 0, create("/acl/subnet", b"", subnet, 0));
    s.call("subnet write", 1, set_data("/acl/subnet", b"x", -1));
    let other = vec![Acl::new(perms::ALL, Id::new("ip", "10.1.2.3"))];
    s.call("create /acl/otherip", 0, create("/acl/otherip", b"", other, 0));
    s.call("other ip read: NoAuth", 1, get_data("/acl/otherip", false));
    // setACL versions.
    s.call("setACL version 0", 0, set_acl("/acl/mixed", vec![Acl::new(perms::ALL, alice.clone())], 0));
    s.call("setACL stale version: BadVersion", 0, set_acl("/acl/mixed", open(), 0));
    s.call("setACL any version", 0, set_acl("/acl/mixed", open(), -1));
    s.call("getACL after setACL", 1, get_acl("/acl/mixed"));
    s.call("setACL missing: NoNode", 0, set_acl("/acl/none", open(), -1));
    s.call("getACL missing: NoNode", 0, get_acl("/acl/none"));
    s.call("getACL /", 1, get_acl("/"));
    s.call("getACL /zookeeper", 1, get_acl("/zookeeper"));
    s.call("getACL /zookeeper/config", 1, get_acl("/zookeeper/config"));
    s.call("setData /zookeeper/config: NoAuth", 1, set_data("/zookeeper/config", b"x", -1));
    s.call("setACL /zookeeper/config: NoAuth", 1, set_acl("/zookeeper/config", open(), -1));
    s.call("create under /zookeeper/config", 1, mk("/zookeeper/config/x", b""));
    // Bad credentials.
    s.auth("addauth digest without colon", 1, "digest", "nocolon");
    s.call("after a bad digest", 1, Request::WhoAmI);
    s.connect(3);
    s.auth("addauth with an unknown scheme", 3, "bogus", "x");
    s.closed("connection closed after AuthFailed", 3);
    s.connect(4);
    s.auth("addauth ip", 4, "ip", "127.0.0.1");
    s.call("whoAmI after ip auth", 4, Request::WhoAmI);
    s.connect(5);
    s.auth("addauth world", 5, "world", "anyone");
    s.call("whoAmI after world auth", 5, Request::WhoAmI);
    s.connect(6);
    s.auth("addauth super", 6, "super", "x");
    s.call("whoAmI after super auth", 6, Request::WhoAmI);
    s
}

/// Watches on nodes the watcher may not read.
pub fn acl_watches() -> Script {
    let alice_all = vec![Acl::new(perms::ALL, digest_id("alice:secret"))];
    let mut s = Script::default();
    s.connect(0);
    s.connect(1);
    s.auth("addauth alice", 0, "digest", "alice:secret");
    s.call("create /aw", 0, mk("/aw", b""));
    s.call("create /aw/secret", 0, create("/aw/secret", b"", alice_all, 0));
    s.call("anonymous exists watch on the secret node", 1, exists("/aw/secret", true));
    s.call("alice setData", 0, set_data("/aw/secret", b"1", -1));
    s.events("anonymous hears of it?", 1);
    s.call("anonymous persistent watch on the secret node", 1, add_watch("/aw/secret", 0));
    s.call("alice setData again", 0, set_data("/aw/secret", b"2", -1));
    s.events("anonymous hears of it (persistent)?", 1);
    s.call("anonymous recursive watch on /aw", 1, add_watch("/aw", 1));
    s.call("alice setData a third time", 0, set_data("/aw/secret", b"3", -1));
    s.call("alice creates a child of the secret node", 0, mk("/aw/secret/c", b""));
    s.events("anonymous hears of it (recursive)?", 1);
    s.call("anonymous exists watch on a missing node", 1, exists("/aw/later", true));
    s.call(
        "alice creates it with her ACL",
        0,
        create("/aw/later", b"", vec![Acl::new(perms::ALL, digest_id("alice:secret"))], 0),
    );
    s.events("anonymous hears of the creation?", 1);
    // setWatches: catch-up events and re-registered watches on unreadable nodes.
    s.step("anonymous disconnects", super::harness::Step::Disconnect { slot: 1 });
    s.call("alice changes the secret node while anonymous is away", 0, set_data("/aw/secret", b"4", -1));
    s.step("anonymous resumes", super::harness::Step::Resume { slot: 1, bad_password: false, zxid_bump: 0 });
    s.step(
        "setWatches on unreadable nodes",
        super::harness::Step::CallXid {
            slot: 1,
            xid: zk_proto::xid::SET_WATCHES,
            request: set_watches(&["/aw/secret", "/aw/later"], &[], &["/aw/secret"]),
        },
    );
    s.call("alice changes /aw/later", 0, set_data("/aw/later", b"x", -1));
    s.call("alice adds a child to the secret node", 0, mk("/aw/secret/d", b""));
    s.events("anonymous hears of them?", 1);
    // A recursive watch on a node that later becomes unreadable, and open nodes under it.
    s.call("create /aw2 (open)", 0, mk("/aw2", b""));
    s.call("anonymous recursive watch on /aw2", 1, add_watch("/aw2", 1));
    s.call("alice creates /aw2/a (open)", 0, mk("/aw2/a", b""));
    s.events("anonymous hears of /aw2/a", 1);
    s.call("alice makes /aw2 hers", 0, set_acl("/aw2", vec![Acl::new(perms::ALL, digest_id("alice:secret"))], -1));
    s.call("alice creates /aw2/b (open) under it", 0, mk("/aw2/b", b""));
    s.call("alice changes /aw2/a (open)", 0, set_data("/aw2/a", b"x", -1));
    s.events("anonymous hears of the open nodes under an unreadable one?", 1);
    s
}
