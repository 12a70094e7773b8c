//! The configuration used when the server is started without one.

use super::{ConfigError, ServerConfig};

/// The embedded `zoo.cfg`: a standalone server on port 2181 with a 2 s tick, keeping its data in
/// `./zk-data`, with the four-letter words and the AdminServer's defaults.
pub const EMBEDDED_DEFAULT_CONFIG: &str = "\
# zk-server's built-in configuration (used when no zoo.cfg is given).
tickTime=2000
dataDir=./zk-data
clientPort=2181
maxClientCnxns=60
";

impl ServerConfig {
    /// The [embedded default configuration](EMBEDDED_DEFAULT_CONFIG).
    pub fn embedded_default() -> ServerConfig {
        // The embedded text is a constant known to parse; fall back to the same values field by field
        // rather than panic should that ever change.
        ServerConfig::parse(EMBEDDED_DEFAULT_CONFIG).unwrap_or_else(|_: ConfigError| {
            let mut config = ServerConfig::with_data_dir("./zk-data");
            config.tick_time = 2000;
            config.min_session_timeout = 4000;
            config.max_session_timeout = 40000;
            config.client_address = Some(super::HostPort::new("0.0.0.0", 2181));
            config
        })
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::config::HostPort;

    #[test]
    fn embedded_default_is_standalone_on_2181() {
        let config = ServerConfig::embedded_default();
        assert_eq!(ServerConfig::parse(EMBEDDED_DEFAULT_CONFIG).as_ref(), Ok(&config));
        assert_eq!(config.tick_time, 2000);
        assert_eq!(config.data_dir, PathBuf::from("./zk-data"));
        assert_eq!(config.data_log_dir, PathBuf::from("./zk-data"));
        assert_eq!(config.client_address, Some(HostPort::new("0.0.0.0", 2181)));
        assert_eq!((config.min_session_timeout, config.max_session_timeout), (4000, 40000));
        assert!(!config.is_distributed());
        assert!(config.quorum.servers.is_empty());
        assert!(config.warnings.is_empty());
    }
}
