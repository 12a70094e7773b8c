//! Operating a running server: four-letter words on the client port, the AdminServer's JSON commands
//! and the Prometheus endpoint.

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use zk_server::testing::Server;

async fn four_letter(addr: SocketAddr, word: &str) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(word.as_bytes()).await.unwrap();
    let mut out = String::new();
    stream.read_to_string(&mut out).await.unwrap();
    out
}

async fn http_get(addr: SocketAddr, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).await.unwrap();
    let status = raw.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = raw.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    (status, body)
}

#[tokio::test]
async fn four_letter_words_answer_in_zookeepers_formats() {
    let server = Server::start().await.unwrap();
    assert_eq!(four_letter(server.addr(), "ruok").await, "imok");
    assert_eq!(four_letter(server.addr(), "isro").await, "rw");
    let srvr = four_letter(server.addr(), "srvr").await;
    let lines: Vec<&str> = srvr.lines().collect();
    assert!(lines[0].starts_with("Zookeeper version: 3.9.5-"), "{srvr}");
    assert!(lines.contains(&"Mode: standalone"), "{srvr}");
    assert!(lines.contains(&"Zxid: 0x0"), "{srvr}");
    let mntr = four_letter(server.addr(), "mntr").await;
    assert!(mntr.lines().any(|l| l == "zk_server_state\tstandalone"), "{mntr}");
    assert!(mntr.lines().any(|l| l.starts_with("zk_znode_count\t")), "{mntr}");
    // Unix: the process's descriptors (this test holds sockets open, so there are several).
    let value = |key: &str| mntr.lines().find_map(|l| l.strip_prefix(key)?.strip_prefix('\t')?.parse::<i64>().ok());
    let open = value("zk_open_file_descriptor_count").expect("open descriptors");
    assert!(open > 3 && value("zk_max_file_descriptor_count").is_some_and(|max| max >= open), "{mntr}");
    assert_eq!(four_letter(server.addr(), "wchs").await, "0 connections watching 0 paths\nTotal watches:0\n");
    let conf = four_letter(server.addr(), "conf").await;
    assert!(conf.starts_with(&format!("clientPort={}\n", server.addr().port())), "{conf}");
}

#[tokio::test]
async fn admin_server_answers_json_commands() {
    let server = Server::start().await.unwrap();
    let admin = server.admin_addr().expect("admin server enabled in tests");
    let (status, body) = http_get(admin, "/commands/ruok").await;
    assert_eq!(status, 200);
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["command"], "ruok");
    assert_eq!(json["error"], serde_json::Value::Null);
    let (_, body) = http_get(admin, "/commands/mntr").await;
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["command"], "monitor");
    assert_eq!(json["server_state"], "standalone");
    assert!(json["znode_count"].as_i64().unwrap() >= 4);
    assert!(json["open_file_descriptor_count"].as_i64().unwrap() > 3);
    let (_, body) = http_get(admin, "/commands").await;
    assert!(body.contains("\"watches_by_path\""), "{body}");
    let (status, body) = http_get(admin, "/commands/nope").await;
    assert_eq!(status, 404);
    assert!(body.contains("Command not found: nope"), "{body}");
}

#[tokio::test]
async fn prometheus_endpoint_exports_gauges() {
    let server = Server::start().await.unwrap();
    let (status, body) = http_get(server.metrics_addr().unwrap(), "/metrics").await;
    assert_eq!(status, 200);
    assert!(body.lines().any(|l| l.starts_with("znode_count ")), "{body}");
    assert!(body.contains("# TYPE global_sessions gauge"), "{body}");
}
