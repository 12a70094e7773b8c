//! `java.util.Properties.load`: the syntax of `zoo.cfg`.

use super::ConfigError;

/// One `key=value` entry and the line its logical line starts on (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Property {
    /// The key, unescaped.
    pub key: String,
    /// The value, unescaped; leading whitespace removed, trailing whitespace kept (as Java does).
    pub value: String,
    /// The line the entry starts on.
    pub line: usize,
}

/// The entries of a properties file. A repeated key keeps its first position but takes the last value
/// and line (Java's `Hashtable.put`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Properties {
    entries: Vec<Property>,
}

impl Properties {
    /// Parses `text` as `Properties.load` does:
    /// - lines end at `\n`, `\r` or `\r\n`; a line ending in an odd number of `\` continues on the next
    ///   line, whose leading whitespace is dropped (a `\` at the very end of the text is dropped);
    /// - blank lines and lines whose first non-blank character is `#` or `!` are skipped (a comment
    ///   line never continues);
    /// - the key ends at the first unescaped `=`, `:` or whitespace; then whitespace and at most one `=`
    ///   or `:` are skipped, and the rest is the value;
    /// - escapes `\t \n \r \f \uXXXX` are decoded and `\c` is `c` for any other `c`.
    ///
    /// Whitespace is space, tab and form feed. The only error is a malformed `\uXXXX` escape.
    pub fn parse(text: &str) -> Result<Properties, ConfigError> {
        let mut props = Properties::default();
        for (line, logical) in logical_lines(text) {
            let (key, value) = split_key_value(&logical);
            let key = unescape(key).ok_or(ConfigError::MalformedEscape { line })?;
            let value = unescape(value).ok_or(ConfigError::MalformedEscape { line })?;
            props.insert(Property { key, value, line });
        }
        Ok(props)
    }

    /// Adds or replaces an entry.
    pub fn insert(&mut self, property: Property) {
        match self.entries.iter_mut().find(|p| p.key == property.key) {
            Some(existing) => *existing = property,
            None => self.entries.push(property),
        }
    }

    /// The entry for `key`.
    pub fn get(&self, key: &str) -> Option<&Property> {
        self.entries.iter().find(|p| p.key == key)
    }

    /// Whether `key` is present.
    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// The entries in order of first appearance.
    pub fn iter(&self) -> impl Iterator<Item = &Property> + '_ {
        self.entries.iter()
    }

    /// The number of distinct keys.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

fn is_blank(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\u{c}')
}

/// Splits text into natural lines with their 1-based numbers (`\r\n` counts as one terminator).
fn natural_lines(text: &str) -> Vec<(usize, &str)> {
    let mut lines = Vec::new();
    let mut rest = text;
    let mut number = 1;
    while !rest.is_empty() {
        match rest.find(['\n', '\r']) {
            Some(end) => {
                lines.push((number, &rest[..end]));
                let skip = if rest[end..].starts_with("\r\n") { 2 } else { 1 };
                rest = &rest[end + skip..];
            }
            None => {
                lines.push((number, rest));
                rest = "";
            }
        }
        number += 1;
    }
    lines
}

/// Whether `line` ends in an odd number of backslashes.
fn continues(line: &str) -> bool {
    line.chars().rev().take_while(|c| *c == '\\').count() % 2 == 1
}

/// Joins continued lines into logical lines (leading whitespace removed), skipping blanks and comments.
fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut lines = natural_lines(text).into_iter();
    while let Some((number, line)) = lines.next() {
        let line = line.trim_start_matches(is_blank);
        if line.is_empty() || line.starts_with(['#', '!']) {
            continue;
        }
        let mut logical = String::from(line);
        while continues(&logical) {
            logical.pop();
            match lines.next() {
                Some((_, next)) => logical.push_str(next.trim_start_matches(is_blank)),
                None => break,
            }
        }
        out.push((number, logical));
    }
    out
}

/// Splits a logical line into raw (still escaped) key and value.
fn split_key_value(line: &str) -> (&str, &str) {
    let mut key_end = line.len();
    let mut value_start = line.len();
    let mut has_separator = false;
    let mut preceding_backslash = false;
    for (i, c) in line.char_indices() {
        if !preceding_backslash && (c == '=' || c == ':') {
            key_end = i;
            value_start = i + 1;
            has_separator = true;
            break;
        }
        if !preceding_backslash && is_blank(c) {
            key_end = i;
            value_start = i + 1;
            break;
        }
        preceding_backslash = c == '\\' && !preceding_backslash;
    }
    let mut rest = &line[value_start..];
    loop {
        match rest.chars().next() {
            Some(c) if is_blank(c) => rest = &rest[1..],
            Some(c) if !has_separator && (c == '=' || c == ':') => {
                has_separator = true;
                rest = &rest[1..];
            }
            _ => break,
        }
    }
    (&line[..key_end], rest)
}

/// Decodes escapes (`loadConvert`); `None` on a malformed `\uXXXX`.
fn unescape(raw: &str) -> Option<String> {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('u') => {
                let mut code = 0u32;
                for _ in 0..4 {
                    code = code * 16 + chars.next()?.to_digit(16)?;
                }
                // A lone surrogate cannot be a Rust char; keep the replacement character.
                out.push(char::from_u32(code).unwrap_or('\u{fffd}'));
            }
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('n') => out.push('\n'),
            Some('f') => out.push('\u{c}'),
            Some(other) => out.push(other),
            None => {}
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same text was loaded by `java.util.Properties.load` (Java 17, a /tmp program); its output is
    /// what the assertions expect.
    const TRICKY: &str = "  # comment\n! bang comment\nkey1=value1\nkey2 value2\nkey3:value3\n  key4 = value4  \n\
        key5=a\\\n    b\\\n c\nkey\\ 6=x\\ty\n# comment ends with backslash \\\nkey7=\n=emptykey\nkey8\n\
        key9 = = v\nkey10=\\u0041\\z\r\nkey11=trail\\\\\nkey12=cont\\\n# not a comment\nkey13\t:\tv13\n\n   \n\
        key1=override\nlast=eof\\";

    #[test]
    fn matches_java_properties() {
        let props = Properties::parse(TRICKY).unwrap();
        let mut got: Vec<(String, String)> = props.iter().map(|p| (p.key.clone(), p.value.clone())).collect();
        got.sort();
        let expected = [
            ("", "emptykey"),
            ("key 6", "x\ty"),
            ("key1", "override"),
            ("key10", "Az"),
            ("key11", "trail\\"),
            ("key12", "cont# not a comment"),
            ("key13", "v13"),
            ("key2", "value2"),
            ("key3", "value3"),
            ("key4", "value4  "),
            ("key5", "abc"),
            ("key7", ""),
            ("key8", ""),
            ("key9", "= v"),
            ("last", "eof"),
        ];
        let expected: Vec<(String, String)> = expected.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn line_numbers_and_last_wins() {
        let props = Properties::parse("a=1\n\nb=x\\\n  y\nc=3\r\na=4\n").unwrap();
        assert_eq!(props.get("a").map(|p| (p.value.as_str(), p.line)), Some(("4", 6)));
        assert_eq!(props.get("b").map(|p| (p.value.as_str(), p.line)), Some(("xy", 3)));
        assert_eq!(props.get("c").map(|p| p.line), Some(5));
        assert_eq!(props.iter().map(|p| p.key.as_str()).collect::<Vec<_>>(), ["a", "b", "c"]);
    }

    #[test]
    fn malformed_unicode_escape() {
        assert_eq!(Properties::parse("ok=1\nbad=\\u12G4\n"), Err(ConfigError::MalformedEscape { line: 2 }));
        assert_eq!(Properties::parse("bad=\\u12"), Err(ConfigError::MalformedEscape { line: 1 }));
    }
}
