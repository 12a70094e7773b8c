//! Property tests: ACL code fed arbitrary (network-controlled) strings never panics and stays
//! consistent.

use proptest::prelude::*;
use zk_proto::{perms, Acl, Id};

use super::{digest, ip, mask_digest_ids, AuthConfig, AuthInfo};

fn scheme() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("world".to_owned()),
        Just("auth".to_owned()),
        Just("digest".to_owned()),
        Just("ip".to_owned()),
        Just("sasl".to_owned()),
        Just("x509".to_owned()),
        Just("super".to_owned()),
        ".{0,6}",
    ]
}

fn id_text() -> impl Strategy<Value = String> {
    prop_oneof![".{0,24}", "[0-9a-f:./%\\-+]{0,40}", "[0-9.]{0,16}(/[0-9+\\-]{0,3})?"]
}

fn acl() -> impl Strategy<Value = Acl> {
    (any::<i32>(), scheme(), id_text()).prop_map(|(perms, scheme, id)| Acl::new(perms, Id::new(scheme, id)))
}

proptest! {
    #[test]
    fn ip_functions_are_total(id in id_text(), expr in id_text()) {
        let valid = ip::is_valid(&expr);
        let matched = ip::matches(&id, &expr);
        // Anything that matches was a valid expression.
        prop_assert!(!matched || valid);
    }

    #[test]
    fn every_address_matches_itself(addr in any::<std::net::IpAddr>()) {
        let text = ip::java_host_address(addr);
        prop_assert!(ip::is_valid(&text));
        prop_assert!(ip::matches(&text, &text));
        let bits = if text.contains(':') { 128 } else { 32 };
        let cidr = format!("{text}/{bits}");
        prop_assert!(ip::matches(&text, &cidr));
    }

    #[test]
    fn digest_functions_are_total(credentials in proptest::collection::vec(any::<u8>(), 0..64), id in id_text()) {
        let ids = digest::authenticate(&credentials, Some(&id));
        prop_assert!(!ids.is_empty());
        let last = &ids[ids.len() - 1];
        prop_assert_eq!(last.scheme.as_str(), "digest");
        let _ = digest::is_valid(&id);
        let _ = digest::user_name(&id);
    }

    #[test]
    fn acl_operations_are_total(
        submitted in proptest::collection::vec(acl(), 0..6),
        callers in proptest::collection::vec((scheme(), id_text()), 0..4),
        perm in any::<i32>(),
    ) {
        let config = AuthConfig::default();
        let ids: Vec<Id> = callers.into_iter().map(|(s, i)| Id::new(s, i)).collect();
        if let Ok(fixed) = config.fix_acl(&submitted, &ids) {
            prop_assert!(!fixed.is_empty());
            prop_assert!(fixed.iter().all(|a| a.id.scheme != "auth"));
        }
        let _ = config.check_acl(&submitted, &ids, perm);
        let _ = config.acl_for_get_acl(&submitted, &ids);
        let masked = mask_digest_ids(&submitted);
        prop_assert_eq!(masked.len(), submitted.len());
        let info = AuthInfo::from_ids(ids);
        prop_assert_eq!(info.who_am_i(&config).len(), info.ids().len());
        // The super user passes every check.
        prop_assert!(config.check_acl(&submitted, &[Id::new("super", "")], perms::ALL).is_ok());
    }
}
