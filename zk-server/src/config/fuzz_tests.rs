//! Property tests: arbitrary configuration text never panics the parser.

use proptest::prelude::*;

use super::{Properties, QuorumServer, ServerConfig};

proptest! {
    #[test]
    fn properties_parse_is_total(text in "(?s).{0,200}") {
        let _ = Properties::parse(&text);
    }

    #[test]
    fn properties_parse_is_total_on_config_like_text(
        lines in proptest::collection::vec("[a-zA-Z.\\\\ =:#!\\t0-9\\[\\];|/é]{0,30}", 0..12),
        myid in proptest::option::of("[0-9 \\n]{0,4}"),
    ) {
        let text = lines.join("\n");
        let _ = ServerConfig::from_parts(&text, myid.as_deref(), None);
        let _ = ServerConfig::parse(&format!("dataDir=/d\n{text}"));
    }

    #[test]
    fn server_specs_are_total(spec in "[a-z0-9:;|\\[\\]é.\\- ]{0,40}", multi in any::<bool>()) {
        if let Ok(server) = QuorumServer::parse(1, &spec, multi) {
            prop_assert!(!server.addresses.is_empty());
            let _ = server.config_string();
        }
    }
}
