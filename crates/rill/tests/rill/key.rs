//! `rill key new` and `rill key hash`.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn rill(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rill"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

#[test]
fn key_new_prints_a_key_whose_hash_is_the_entry_it_prints() {
    let new = stdout(&rill(&["key", "new", "--name", "web \"app\""], ""));
    let mut lines = new.lines();
    let key = lines.next().unwrap();
    assert!(key.starts_with("sk-rill-"), "{new}");
    assert_eq!(key.len(), "sk-rill-".len() + 64, "{new}");
    let entry: Vec<&str> = lines.collect();
    assert_eq!(
        entry[..3],
        ["", "[[keys]]", r#"name = "web \"app\"""#],
        "{new}"
    );
    let digest = entry[3]
        .strip_prefix("sha256 = \"")
        .and_then(|rest| rest.strip_suffix('"'))
        .unwrap_or_else(|| panic!("{new}"));

    // Round trip: `rill key hash` of the key (with the newline `echo` adds) is the digest.
    let hashed = stdout(&rill(&["key", "hash"], &format!("{key}\n")));
    assert_eq!(hashed, format!("{digest}\n"));
    // A second key is another key.
    let again = stdout(&rill(&["key", "new"], ""));
    assert_ne!(again.lines().next(), Some(key));
    assert!(again.contains("name = \"my-app\""), "{again}");
}

#[test]
fn key_hash_is_sha256_and_refuses_nothing_or_several_keys() {
    // FIPS 180-2's test vector, as a (too short) key.
    let output = rill(&["key", "hash"], "abc");
    assert_eq!(
        stdout(&output),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n"
    );
    assert!(String::from_utf8_lossy(&output.stderr).contains("easy to guess"));
    for input in ["", "  \n", "one\ntwo\n"] {
        let output = rill(&["key", "hash"], input);
        assert!(!output.status.success(), "{input:?}");
        assert!(output.stdout.is_empty());
    }
}
