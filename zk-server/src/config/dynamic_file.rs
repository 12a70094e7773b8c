//! The dynamic config file a server writes when it activates a new membership (ZooKeeper's
//! `QuorumPeerConfig.writeDynamicConfig`, called from `QuorumPeer.setQuorumVerifier`).
//!
//! ZooKeeper writes `<zoo.cfg path>.dynamic.<version hex>` next to its static file and rewrites the
//! static file's `dynamicConfigFile` line (`editStaticConfig`). A server here does not always have a
//! static file (the in-process ensemble builds its configuration from text), so the file goes into the
//! directory of the configured `dynamicConfigFile` if there is one, else into `dataDir`, under the same
//! name ZooKeeper gives it (`zoo.cfg.dynamic.<version hex>`); the static file is left as it is.

use std::path::{Path, PathBuf};

use super::QuorumConfig;

/// `zoo.cfg.dynamic.<version hex>`: the name ZooKeeper gives the dynamic file of `version`
/// (`getVersionFromFilename` reads the version back from it).
pub fn dynamic_file_name(version: i64) -> String {
    format!("zoo.cfg.dynamic.{version:x}")
}

/// The file's contents, as `writeDynamicConfig(.., needKeepVersion = false)` writes them: every
/// `key=value` line of the config string but `version`, sorted as strings, joined by newlines (no final
/// newline). The version lives in the file name.
pub fn dynamic_file_text(config: &QuorumConfig) -> String {
    let mut lines: Vec<String> = config
        .config_string()
        .lines()
        .filter(|line| !line.trim_start().starts_with("version"))
        .map(|line| match line.split_once('=') {
            Some((key, value)) => format!("{}={}", key.trim(), value.trim()),
            None => line.trim().to_owned(),
        })
        .collect();
    lines.sort();
    lines.join("\n")
}

/// Where the dynamic file of `config` goes for a server whose `dynamicConfigFile` is `configured` and
/// whose data directory is `data_dir` (see the module docs).
pub fn dynamic_file_path(configured: Option<&Path>, data_dir: &Path, config: &QuorumConfig) -> PathBuf {
    let dir = configured.and_then(Path::parent).filter(|dir| !dir.as_os_str().is_empty()).unwrap_or(data_dir);
    dir.join(dynamic_file_name(config.version))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{DynamicConfig, Properties};

    #[test]
    fn file_holds_sorted_members_without_version_and_reads_back() {
        let text = "server.10=h:1:2:participant;0.0.0.0:3\nserver.2=h:4:5:observer;0.0.0.0:6\nversion=100000003";
        let config = QuorumConfig::from_config_text(text, false).unwrap();
        assert_eq!(config.version, 0x1_0000_0003);
        let file = dynamic_file_text(&config);
        assert_eq!(file, "server.10=h:1:2:participant;0.0.0.0:3\nserver.2=h:4:5:observer;0.0.0.0:6");
        let name = dynamic_file_name(config.version);
        assert_eq!(name, "zoo.cfg.dynamic.100000003");
        assert_eq!(DynamicConfig::version_from_file_name(&name), Some(config.version));
        let back = QuorumConfig::from_properties(&Properties::parse(&file).unwrap(), true, false).unwrap();
        assert_eq!(back.servers, config.servers);
        assert_eq!(
            dynamic_file_path(None, Path::new("/data"), &config),
            PathBuf::from("/data/zoo.cfg.dynamic.100000003")
        );
        assert_eq!(
            dynamic_file_path(Some(Path::new("/etc/zk/zoo.cfg.dynamic.0")), Path::new("/data"), &config),
            PathBuf::from("/etc/zk/zoo.cfg.dynamic.100000003")
        );
    }

    #[test]
    fn config_text_rejects_other_keys() {
        assert!(QuorumConfig::from_config_text("server.1=h:1:2\ntickTime=5\n", false).is_err());
        assert!(QuorumConfig::from_config_text("server.x=h:1:2\n", false).is_err());
        assert!(QuorumConfig::from_config_text("version=zz\n", false).is_err());
    }
}
