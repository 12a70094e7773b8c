//! AdminServer commands (`/commands/<name>`): the four-letter words as JSON objects, under ZooKeeper's
//! command names and aliases. Every answer holds `command` and `error` (null on success).

use serde_json::{json, Map, Value};

use super::four_letter::VERSION;
use super::{HostFacts, Now, ServerCore};

/// Every command name (canonical first) and its aliases, as `GET /commands` lists them.
pub const ADMIN_COMMANDS: &[&[&str]] = &[
    &["connection_stat_reset", "crst"],
    &["configuration", "conf", "config"],
    &["connections", "cons"],
    &["dirs"],
    &["dump"],
    &["environment", "env", "envi"],
    &["get_trace_mask", "gtmk"],
    &["hash"],
    &["is_read_only", "isro"],
    &["monitor", "mntr"],
    &["ruok"],
    &["server_stats", "srvr"],
    &["set_trace_mask", "stmk"],
    &["stat_reset", "srst"],
    &["stats", "stat"],
    &["watch_summary", "wchs"],
    &["watches", "wchc"],
    &["watches_by_path", "wchp"],
];

/// The canonical name of a command or alias.
pub fn canonical(name: &str) -> Option<&'static str> {
    ADMIN_COMMANDS.iter().find(|names| names.contains(&name)).map(|names| names[0])
}

/// `key=value` lines as a JSON object (numbers where they parse).
fn key_values(text: &str) -> Map<String, Value> {
    text.lines()
        .filter_map(|line| line.split_once('='))
        .map(|(k, v)| {
            let value = v.parse::<i64>().map_or_else(|_| Value::from(v), Value::from);
            (k.to_owned(), value)
        })
        .collect()
}

impl ServerCore {
    /// Runs an admin command; `None` if no command has that name.
    pub fn admin_command(&mut self, name: &str, host: &HostFacts, now: Now) -> Option<Value> {
        let command = canonical(name)?;
        let mut body = match command {
            "connection_stat_reset" | "stat_reset" => {
                self.four_letter(if command == "stat_reset" { "srst" } else { "crst" }, true, host, now);
                Map::new()
            }
            "configuration" => key_values(&host.conf),
            "environment" => key_values(&host.envi),
            "connections" => {
                let mut map = Map::new();
                map.insert("connections".into(), self.connections_json());
                map.insert("secure_connections".into(), json!([]));
                map
            }
            "dirs" => {
                let facts: Map<String, Value> = host
                    .dirs
                    .lines()
                    .filter_map(|l| l.split_once(": "))
                    .map(|(k, v)| (k.to_owned(), v.parse::<i64>().map_or(Value::Null, Value::from)))
                    .collect();
                facts
            }
            "dump" => {
                let mut expiry = Map::new();
                for (time, ids) in self.sessions.expiry_map() {
                    let offset = now.wall_ms - now.mono_ms;
                    expiry.insert((time + offset).to_string(), json!(ids));
                }
                let mut ephemerals = Map::new();
                for session in self.tree.sessions_with_ephemerals() {
                    let paths: Vec<&str> = self.tree.ephemerals(session).collect();
                    ephemerals.insert(session.to_string(), json!(paths));
                }
                Map::from_iter([
                    ("expiry_time_to_session_ids".to_owned(), Value::Object(expiry)),
                    ("session_id_to_ephemeral_paths".to_owned(), Value::Object(ephemerals)),
                ])
            }
            "get_trace_mask" | "set_trace_mask" => Map::from_iter([("tracemask".to_owned(), json!(0))]),
            "hash" => Map::from_iter([(
                "digests".to_owned(),
                json!([{ "zxid": self.tree.last_processed_zxid(), "digest": self.tree.digest() }]),
            )]),
            "is_read_only" => Map::from_iter([("read_only".to_owned(), json!(self.is_read_only()))]),
            "monitor" => self.metrics(now).iter().map(|(k, v)| ((*k).to_owned(), Value::from(v))).collect(),
            "ruok" => Map::new(),
            "server_stats" | "stats" => {
                let mut map = self.server_stats_json(now);
                if command == "stats" {
                    map.insert("connections".into(), self.connections_json());
                    map.insert("secure_connections".into(), json!([]));
                }
                map
            }
            "watch_summary" => {
                let summary = self.watches.summary();
                Map::from_iter([
                    ("num_connections".to_owned(), json!(summary.watchers)),
                    ("num_paths".to_owned(), json!(summary.paths)),
                    ("num_total_watches".to_owned(), json!(summary.total_watches)),
                ])
            }
            "watches" => {
                let by_session: Map<String, Value> = self
                    .watches
                    .paths_by_watcher()
                    .into_iter()
                    .map(|(conn, paths)| (self.session_of(conn).to_string(), json!(paths)))
                    .collect();
                Map::from_iter([("session_id_to_watched_paths".to_owned(), Value::Object(by_session))])
            }
            "watches_by_path" => {
                let by_path: Map<String, Value> = self
                    .watches
                    .watchers_by_path()
                    .into_iter()
                    .map(|(path, conns)| {
                        let sessions: Vec<i64> = conns.into_iter().map(|c| self.session_of(c)).collect();
                        (path, json!(sessions))
                    })
                    .collect();
                Map::from_iter([("path_to_session_ids".to_owned(), Value::Object(by_path))])
            }
            _ => return None,
        };
        body.insert("command".into(), json!(command));
        body.insert("error".into(), Value::Null);
        Some(Value::Object(body))
    }

    fn session_of(&self, conn: crate::net::ConnId) -> i64 {
        self.conns.get(&conn).map_or(0, |c| c.session_id)
    }

    fn connections_json(&self) -> Value {
        let conns: Vec<Value> = self
            .conns
            .values()
            .map(|c| {
                json!({
                    "remote_socket_address": c.peer.to_string(),
                    "interest_ops": 1,
                    "outstanding_requests": c.pending.len(),
                    "packets_received": c.stats.received,
                    "packets_sent": c.stats.sent,
                    "session_id": format!("0x{:x}", c.session_id),
                    "last_operation": c.stats.last_op,
                    "session_timeout": c.timeout,
                    "last_cxid": format!("0x{:x}", c.stats.last_cxid),
                    "last_zxid": format!("0x{:x}", c.stats.last_zxid),
                    "last_response_time": c.stats.last_response_ms,
                    "last_latency": c.stats.last_latency_ms,
                    "min_latency": c.stats.min_latency_ms.unwrap_or(0),
                    "max_latency": c.stats.max_latency_ms,
                })
            })
            .collect();
        Value::Array(conns)
    }

    fn server_stats_json(&self, now: Now) -> Map<String, Value> {
        let stats = &self.stats;
        Map::from_iter([
            ("version".to_owned(), json!(VERSION)),
            ("read_only".to_owned(), json!(self.is_read_only())),
            (
                "server_stats".to_owned(),
                json!({
                    "packets_sent": stats.packets_sent,
                    "packets_received": stats.packets_received,
                    "last_processed_zxid": self.tree.last_processed_zxid(),
                    "outstanding_requests": self.outstanding(),
                    "server_state": self.config.role.mode(),
                    "avg_latency": stats.avg_latency(),
                    "max_latency": stats.max_latency(),
                    "min_latency": stats.min_latency(),
                    "num_alive_client_connections": self.conns.len(),
                    "uptime": now.mono_ms - stats.start_ms,
                    "auth_failed_count": stats.auth_failures,
                }),
            ),
            ("node_count".to_owned(), json!(self.tree.node_count())),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_resolve_to_canonical_names() {
        assert_eq!(canonical("mntr"), Some("monitor"));
        assert_eq!(canonical("monitor"), Some("monitor"));
        assert_eq!(canonical("config"), Some("configuration"));
        assert_eq!(canonical("nope"), None);
    }

    #[test]
    fn key_value_lines_become_typed_json() {
        let map = key_values("clientPort=2181\ndataDir=/d\n");
        assert_eq!(map["clientPort"], json!(2181));
        assert_eq!(map["dataDir"], json!("/d"));
    }
}
