//! `rill key new` and `rill key hash`: keys for `[[keys]]`, which holds only their SHA-256.

use std::io::{BufRead, IsTerminal, Read, Write};

use anyhow::{Context, bail};
use rill_server::{hash_key, new_key};

use crate::cli::KeyCommand;

/// Shorter keys than this can be guessed far more easily than a `rill key new` one.
const SHORT_KEY: usize = 20;

pub fn run(command: KeyCommand) -> anyhow::Result<()> {
    match command {
        KeyCommand::New { name } => new(&name),
        KeyCommand::Hash => hash(),
    }
}

fn new(name: &str) -> anyhow::Result<()> {
    if name.trim().is_empty() || name.chars().any(char::is_control) {
        bail!("the key's name must be a non-empty line of text");
    }
    let key = new_key().context("the operating system gave no random bytes")?;
    let digest = hash_key(&key);
    let mut out = std::io::stdout().lock();
    writeln!(out, "{key}")?;
    writeln!(out)?;
    writeln!(out, "[[keys]]")?;
    writeln!(out, "name = {}", toml_string(name))?;
    writeln!(out, "sha256 = \"{digest}\"")?;
    eprintln!(
        "the first line is the key: give it to the client now; rill keeps only its hash and cannot show it again"
    );
    Ok(())
}

fn hash() -> anyhow::Result<()> {
    let stdin = std::io::stdin();
    let mut key = String::new();
    if stdin.is_terminal() {
        eprint!("key (then Enter): ");
        stdin.lock().read_line(&mut key)?;
    } else {
        stdin
            .lock()
            .read_to_string(&mut key)
            .context("standard input is not UTF-8 text")?;
    }
    let key = key.trim();
    if key.is_empty() {
        bail!("no key on standard input\nhint: `rill key new` makes one");
    }
    if key.contains(['\r', '\n']) {
        bail!("standard input holds more than one line; give one key");
    }
    if key.len() < SHORT_KEY {
        eprintln!(
            "warning: a {}-character key is easy to guess; `rill key new` makes 72-character ones",
            key.len()
        );
    }
    println!("{}", hash_key(key));
    Ok(())
}

/// `text` as a TOML basic string.
fn toml_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
