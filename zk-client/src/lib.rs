//! `zk-client`: an async ZooKeeper client.
