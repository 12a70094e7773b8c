//! Which four-letter words a server answers (`FourLetterCommands.isEnabled`).

use std::collections::BTreeSet;

/// Every four-letter word ZooKeeper knows (`*` enables all of them).
pub const ALL_FOUR_LETTER_WORDS: &[&str] = &[
    "conf",
    "cons",
    "crst",
    "dirs",
    "dump",
    "envi",
    "gtmk",
    "ruok",
    "stmk",
    "srst",
    "srvr",
    "stat",
    "wchc",
    "wchp",
    "wchs",
    "mntr",
    "isro",
    "telnet close",
    "hash",
];

/// The enabled four-letter words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FourLetterWords {
    enabled: BTreeSet<String>,
}

impl FourLetterWords {
    /// From `4lw.commands.whitelist` (comma separated, entries trimmed, empty ones ignored; a `*` enables
    /// every word and ends the list). `srvr` is always enabled (zkServer.sh uses it) and `isro` is added
    /// in read-only mode, as ZooKeeper does.
    pub fn new(whitelist: Option<&str>, read_only_mode_enabled: bool) -> FourLetterWords {
        let mut enabled = BTreeSet::new();
        for word in whitelist.unwrap_or_default().split(',').map(str::trim) {
            if word == "*" {
                enabled.extend(ALL_FOUR_LETTER_WORDS.iter().map(|w| w.to_string()));
                break;
            }
            if !word.is_empty() {
                enabled.insert(word.to_owned());
            }
        }
        if read_only_mode_enabled {
            enabled.insert("isro".to_owned());
        }
        enabled.insert("srvr".to_owned());
        FourLetterWords { enabled }
    }

    /// Whether `word` is answered.
    pub fn is_enabled(&self, word: &str) -> bool {
        self.enabled.contains(word)
    }

    /// The enabled words, sorted.
    pub fn enabled(&self) -> impl Iterator<Item = &str> + '_ {
        self.enabled.iter().map(String::as_str)
    }
}

impl Default for FourLetterWords {
    /// Only `srvr`.
    fn default() -> FourLetterWords {
        FourLetterWords::new(None, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whitelist_rules() {
        assert_eq!(FourLetterWords::default().enabled().collect::<Vec<_>>(), ["srvr"]);
        assert_eq!(FourLetterWords::new(None, true).enabled().collect::<Vec<_>>(), ["isro", "srvr"]);
        let some = FourLetterWords::new(Some(" stat, ruok,,mntr "), false);
        assert_eq!(some.enabled().collect::<Vec<_>>(), ["mntr", "ruok", "srvr", "stat"]);
        assert!(!some.is_enabled("dump"));
        let all = FourLetterWords::new(Some("ruok, *"), false);
        assert_eq!(all.enabled().count(), ALL_FOUR_LETTER_WORDS.len());
        assert!(all.is_enabled("telnet close"));
        assert!(all.is_enabled("dump"));
    }
}
