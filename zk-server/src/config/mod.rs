//! Server configuration: `zoo.cfg` in ZooKeeper's Java-properties syntax, its keys, defaults and
//! validations (`QuorumPeerConfig`, `ServerConfig`, and the `zookeeper.*` properties the server reads).

mod default;
mod dynamic_file;
mod error;
mod four_letter;
#[cfg(test)]
mod fuzz_tests;
mod parse;
#[cfg(test)]
mod parse_tests;
mod properties;
mod quorum;
mod server_config;
mod value;

pub use default::EMBEDDED_DEFAULT_CONFIG;
pub use dynamic_file::{dynamic_file_name, dynamic_file_path, dynamic_file_text};
pub use error::ConfigError;
pub use four_letter::{FourLetterWords, ALL_FOUR_LETTER_WORDS};
pub use parse::DynamicConfig;
pub use properties::{Properties, Property};
pub use quorum::{HostPort, LearnerType, QuorumAddress, QuorumConfig, QuorumServer};
pub use server_config::{
    AdminServerConfig, ConfigWarning, MetricsConfig, PrometheusConfig, ServerConfig, DEFAULT_METRICS_PROVIDER,
    DEFAULT_TICK_TIME, NULL_METRICS_PROVIDER, PROMETHEUS_METRICS_PROVIDER,
};
