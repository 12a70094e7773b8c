//! Facts about the host and configuration for the `conf`, `envi` and `dirs` four-letter words.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::Path;

use crate::config::ServerConfig;
use crate::core::{HostFacts, ProcessFacts, VERSION};

fn dir_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|e| e.metadata().ok())
                .filter(|m| m.is_file())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

/// Computes the texts (directory sizes are read now).
pub(super) fn facts(config: &ServerConfig, local_addr: SocketAddr) -> HostFacts {
    let snap_dir = config.data_dir.join(crate::persist::VERSION_DIR);
    let log_dir = config.data_log_dir.join(crate::persist::VERSION_DIR);
    let (data_size, log_size) = (dir_size(&snap_dir), dir_size(&log_dir));
    let mut conf = String::new();
    let _ = write!(
        conf,
        "clientPort={}\nsecureClientPort={}\ndataDir={}\ndataDirSize={}\ndataLogDir={}\ndataLogSize={}\ntickTime={}\nmaxClientCnxns={}\nminSessionTimeout={}\nmaxSessionTimeout={}\nclientPortListenBacklog={}\nserverId={}\n",
        local_addr.port(),
        config.secure_client_address.as_ref().map_or(-1, |a| i32::from(a.port)),
        snap_dir.display(),
        data_size,
        log_dir.display(),
        log_size,
        config.tick_time,
        config.max_client_cnxns,
        config.session_timeouts().min,
        config.session_timeouts().max,
        config.client_port_listen_backlog,
        config.server_id.unwrap_or(0),
    );
    // QuorumZooKeeperServer.dumpConf: the quorum settings and the membership.
    if let Some(me) = config.server_id.and_then(|id| config.quorum.servers.get(&id)) {
        let ports = |port: fn(&crate::config::QuorumAddress) -> u16| {
            me.addresses.iter().map(|a| port(a).to_string()).collect::<Vec<_>>().join("|")
        };
        let peer_type = match me.learner_type {
            crate::config::LearnerType::Observer => 1,
            _ => 0,
        };
        let _ = write!(
            conf,
            "initLimit={}\nsyncLimit={}\nelectionAlg={}\nelectionPort={}\nquorumPort={}\npeerType={peer_type}\nmembership: \n{}\n",
            config.init_limit,
            config.sync_limit,
            config.election_alg,
            ports(|a| a.election_port),
            ports(|a| a.quorum_port),
            config.quorum.config_string(),
        );
    }
    let mut envi = String::from("Environment:\n");
    let host_name = std::fs::read_to_string("/etc/hostname").map(|h| h.trim().to_owned()).unwrap_or_default();
    let rows = [
        ("zookeeper.version", VERSION.to_owned()),
        ("host.name", host_name),
        ("os.name", std::env::consts::OS.to_owned()),
        ("os.arch", std::env::consts::ARCH.to_owned()),
        ("user.dir", std::env::current_dir().map(|d| d.display().to_string()).unwrap_or_default()),
    ];
    for (key, value) in rows {
        let _ = writeln!(envi, "{key}={value}");
    }
    let dirs = format!("datadir_size: {data_size}\nlogdir_size: {log_size}\n");
    HostFacts { conf, envi, dirs }
}

/// Open file descriptors and their soft limit, from `/proc/self` (`None` where there is no procfs).
pub(super) fn process_facts() -> Option<ProcessFacts> {
    let open = std::fs::read_dir("/proc/self/fd").ok()?.count() as i64;
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    let soft = line.trim_start_matches("Max open files").split_whitespace().next()?;
    let max = if soft == "unlimited" { i64::MAX } else { soft.parse().ok()? };
    Some(ProcessFacts { open_file_descriptors: open, max_file_descriptors: max })
}
