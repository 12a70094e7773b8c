//! Cross-crate: zk-client against an in-process zk-server, the flow of `examples/quickstart.rs` with
//! its results asserted.

use zk_rs::client::{Client, CreateOptions, Error, EventType};
use zk_rs::server::testing::Server;

#[tokio::test]
async fn client_and_server_work_together() {
    let mut server = Server::start().await.unwrap();
    let client = Client::connect(&server.connect_string()).await.unwrap();
    let (path, stat) = client.create("/app", b"v1", &CreateOptions::persistent()).await.unwrap();
    assert_eq!((path.as_str(), stat.version, stat.data_length), ("/app", 0, 2));

    let (data, stat, changed) = client.get_data_and_watch("/app").await.unwrap();
    assert_eq!(&data[..], b"v1");
    let after = client.set_data("/app", b"v2", Some(stat.version)).await.unwrap();
    assert_eq!(after.version, 1);
    let event = changed.await;
    assert_eq!((event.event_type, event.path.as_str()), (EventType::NodeDataChanged, "/app"));

    let failed = client.multi().check("/app", 0).create("/app/never", b"", &CreateOptions::persistent()).commit().await;
    assert!(matches!(failed, Err(Error::MultiFailed { index: 0, .. })), "{failed:?}");
    assert_eq!(client.exists("/app/never").await.unwrap(), None);

    let member = Client::connect(&server.connect_string()).await.unwrap();
    let (me, _) = member.create("/app/member-", b"", &CreateOptions::ephemeral_sequential()).await.unwrap();
    assert_eq!(me, "/app/member-0000000000");
    assert_eq!(client.get_children("/app").await.unwrap(), vec!["member-0000000000".to_owned()]);
    member.close().await.unwrap();
    assert!(client.get_children("/app").await.unwrap().is_empty());
    client.close().await.unwrap();

    // Acknowledged data survives a restart.
    server.restart().await.unwrap();
    let again = Client::connect(&server.connect_string()).await.unwrap();
    assert_eq!(&again.get_data("/app").await.unwrap().0[..], b"v2");
    again.close().await.unwrap();
}
