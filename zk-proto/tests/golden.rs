//! Golden vectors: bytes produced by Apache ZooKeeper's own jute classes (see `golden/GoldenVectors.java`
//! and `golden/generate.sh`), committed under `golden/data/`.
//!
//! For every fixture a test decodes the bytes with the matching zk-proto type (which must consume all of
//! them), compares the result with the same value built literally in Rust (so swapped or mistyped fields
//! show up), and re-encodes it byte for byte (the exceptions, `Notification-v1` and `TxnEntry-createV0`,
//! are explained in `golden/server.rs`). `fixtures_and_checks_match` keeps the fixture set and the
//! checks in step, and `generator_reproduces_fixtures` re-runs the Java generator when a JDK and
//! ZooKeeper's jars are installed.

use std::collections::BTreeSet;
use std::fmt::Debug;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use bytes::Bytes;
use zk_proto::Jute;

/// Declares one test per fixture, `test_name = "FixtureName" => expected value;`, and the list of the
/// fixture names checked (`FIXTURES`). The value's type selects the decoder.
macro_rules! golden {
    ($( $test:ident = $file:literal => $value:expr; )*) => {
        $(
            #[test]
            fn $test() {
                crate::check($file, $value);
            }
        )*

        /// The fixtures this module checks.
        pub const FIXTURES: &[&str] = &[$($file),*];
    };
}

#[path = "golden/client.rs"]
mod client;
#[path = "golden/server.rs"]
mod server;
#[path = "golden/values.rs"]
mod values;

/// Every module's checked fixtures.
fn checked_fixtures() -> Vec<&'static str> {
    [client::FIXTURES, server::FIXTURES, server::DECODE_ONLY_FIXTURES].concat()
}

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn data_dir() -> PathBuf {
    golden_dir().join("data")
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .chunks(16)
        .map(|line| line.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Decodes `golden/data/<name>.bin` as a `T` (which must consume all of it), checks it equals `expected`,
/// and returns the bytes.
fn check_decode<T: Jute + PartialEq + Debug>(name: &str, expected: &T) -> Bytes {
    let path = data_dir().join(format!("{name}.bin"));
    let wire = Bytes::from(fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())));
    match T::from_bytes(wire.clone()) {
        Ok(decoded) => assert_eq!(&decoded, expected, "{name}: decoded value differs from the Rust literal"),
        Err(e) => panic!("{name}: decoding {} bytes failed: {e}\n{}", wire.len(), hex(&wire)),
    }
    wire
}

/// [`check_decode`], then checks that encoding the value gives back exactly ZooKeeper's bytes.
fn check<T: Jute + PartialEq + Debug>(name: &str, expected: T) {
    let wire = check_decode(name, &expected);
    let encoded = expected.to_bytes();
    assert!(
        encoded == wire,
        "{name}: re-encoding differs from ZooKeeper's bytes\njava ({} bytes):\n{}\nrust ({} bytes):\n{}",
        wire.len(),
        hex(&wire),
        encoded.len(),
        hex(&encoded)
    );
    assert_eq!(expected.encoded_len(), wire.len(), "{name}: encoded_len");
}

/// The fixture names (file stems) in `dir`, failing on anything that is not a `.bin` file.
fn fixture_names(dir: &Path) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for entry in fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        match (path.file_stem().and_then(|s| s.to_str()), path.extension().and_then(|s| s.to_str())) {
            (Some(stem), Some("bin")) if path.is_file() => {
                names.insert(stem.to_owned());
            }
            _ => panic!("unexpected entry in {}: {}", dir.display(), path.display()),
        }
    }
    names
}

#[test]
fn fixtures_and_checks_match() {
    let checked = checked_fixtures();
    let checks: BTreeSet<String> = checked.iter().map(|s| s.to_string()).collect();
    assert_eq!(checks.len(), checked.len(), "a fixture is checked twice");

    let files = fixture_names(&data_dir());
    let unchecked: Vec<_> = files.difference(&checks).collect();
    let missing: Vec<_> = checks.difference(&files).collect();
    assert!(unchecked.is_empty(), "fixtures without a Rust check: {unchecked:?}");
    assert!(missing.is_empty(), "checks without a fixture file: {missing:?}");
}

fn have_oracle() -> Result<(), String> {
    let javac = Command::new("javac").arg("-version").output();
    if !matches!(javac, Ok(ref out) if out.status.success()) {
        return Err("javac not found".into());
    }
    let jar = Path::new(&std::env::var("ZK_JAVA_DIR").unwrap_or_else(|_| "/usr/share/java".into()))
        .join("zookeeper-jute.jar");
    if !jar.is_file() {
        return Err(format!("{} not found", jar.display()));
    }
    Ok(())
}

/// Runs the Java generator into a temporary directory and compares its output with the committed fixtures.
#[test]
fn generator_reproduces_fixtures() {
    if let Err(why) = have_oracle() {
        if std::env::var("ZK_RS_REQUIRE_ORACLE").is_ok_and(|v| v == "1") {
            panic!("ZK_RS_REQUIRE_ORACLE=1 but the Java oracle is unavailable: {why}");
        }
        eprintln!("SKIPPED: generator_reproduces_fixtures: {why} (install a JDK and the zookeeper package)");
        return;
    }

    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("golden-{}", std::process::id()));
    let _ = fs::remove_dir_all(&out);
    let run = Command::new("bash").arg(golden_dir().join("generate.sh")).arg(&out).output().expect("running bash");
    assert!(
        run.status.success(),
        "generate.sh failed ({}):\n{}{}",
        run.status,
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );

    let committed = fixture_names(&data_dir());
    let generated = fixture_names(&out);
    assert_eq!(generated, committed, "the generator's fixture set differs from the committed one");
    let differing: Vec<_> = committed
        .iter()
        .filter(|name| {
            let file = format!("{name}.bin");
            fs::read(out.join(&file)).unwrap() != fs::read(data_dir().join(&file)).unwrap()
        })
        .collect();
    assert!(differing.is_empty(), "regenerated fixtures differ from the committed ones: {differing:?}");
    fs::remove_dir_all(&out).unwrap();
}
