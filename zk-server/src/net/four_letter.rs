//! Four-letter words share the client port: a fresh connection whose first four bytes spell a known
//! command gets a text answer instead of a session.

/// Every command ZooKeeper 3.8/3.9 recognises on the client port.
pub const COMMANDS: &[&[u8; 4]] = &[
    b"conf", b"cons", b"crst", b"dirs", b"dump", b"envi", b"gtmk", b"hash", b"isro", b"mntr", b"ruok", b"srst",
    b"srvr", b"stat", b"stmk", b"wchc", b"wchp", b"wchs",
];

/// Whether the first four bytes of a connection are a four-letter word (rather than a frame length).
pub fn is_command(first: &[u8; 4]) -> bool {
    COMMANDS.contains(&first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_recognised_and_frame_lengths_are_not() {
        assert!(is_command(b"ruok"));
        assert!(is_command(b"mntr"));
        assert!(!is_command(&[0, 0, 0, 44]));
        assert!(!is_command(b"RUOK"));
    }
}
