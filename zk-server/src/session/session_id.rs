//! Session id allocation (`SessionTrackerImpl.initializeNextSessionId`).

use zk_proto::CONTAINER_EPHEMERAL_OWNER;

/// The largest server id allowed when extended types (TTL nodes) are enabled (`EphemeralType`).
pub const MAX_EXTENDED_SERVER_ID: i64 = 0xfe;

/// The first session id a server hands out: the server id in the top byte, the low 40 bits of
/// `elapsed_ms` (a monotonic clock, as `Time.currentElapsedTime()`) in bits 16..56 and zeros in the low
/// 16 bits. Later sessions take the following ids (`id + 1`, ...).
///
/// If the result equals the container marker (`0x8000000000000000`) it is moved up by one, as ZooKeeper
/// does, so no session id can be mistaken for a container's ephemeral owner.
pub fn initial_session_id(server_id: i64, elapsed_ms: i64) -> i64 {
    let mut next = (((elapsed_ms as u64) << 24) >> 8) as i64;
    next |= server_id.wrapping_shl(56);
    if next == CONTAINER_EPHEMERAL_OWNER {
        next += 1;
    }
    next
}

/// `EphemeralType.validateServerId`: with extended types enabled the server id must fit in
/// [`MAX_EXTENDED_SERVER_ID`], because TTL nodes use the top byte of the ephemeral owner.
pub fn validate_server_id(server_id: i64, extended_types_enabled: bool) -> Result<(), String> {
    if extended_types_enabled && server_id > MAX_EXTENDED_SERVER_ID {
        return Err(format!(
            "extendedTypesEnabled is true but Server ID is too large. Cannot be larger than {MAX_EXTENDED_SERVER_ID}"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initial_id_layout_matches_java() {
        // Oracle: Java's `((t << 24) >>> 8) | (sid << 56)` printed by the /tmp javac program.
        assert_eq!(initial_session_id(1, 0x17c_2a5b_1234), 0x017c_2a5b_1234_0000);
        assert_eq!(initial_session_id(255, 0xfedc_ba98_7654_3210_u64 as i64), 0xff98_7654_3210_0000_u64 as i64);
        assert_eq!(initial_session_id(0, 0), 0);
    }

    #[test]
    fn container_marker_is_skipped() {
        // Server id 128 with a zero clock would produce exactly the container marker.
        assert_eq!(initial_session_id(128, 0), CONTAINER_EPHEMERAL_OWNER + 1);
        assert_eq!(initial_session_id(128, 1), CONTAINER_EPHEMERAL_OWNER | 0x1_0000);
    }

    #[test]
    fn server_id_limit_with_extended_types() {
        assert!(validate_server_id(254, true).is_ok());
        assert!(validate_server_id(255, true).is_err());
        assert!(validate_server_id(1000, false).is_ok());
    }
}
