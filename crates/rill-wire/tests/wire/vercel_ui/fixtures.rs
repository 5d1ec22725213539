//! Writes what the node test (`crates/rill-wire/tests/vercel_ui/`) feeds the real `ai`
//! package: each scenario's SSE bytes as `<target>/vercel-ui-fixtures/<name>.sse`, and
//! an HTTP error body as `error_body.txt`. Run `cargo test -p rill-wire` before
//! `node --test` there.

use std::fs;
use std::path::PathBuf;

use rill_core::Error;
use rill_wire::vercel_ui::error_body;

use super::scenarios;
use super::support::{encode, wire};

/// `<target>/vercel-ui-fixtures`, next to cargo's own `tmp` dir (so a custom
/// `CARGO_TARGET_DIR` is honoured; the node test reads `RILL_VERCEL_UI_FIXTURES` then).
fn fixtures_dir() -> PathBuf {
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    tmp.parent().unwrap_or(&tmp).join("vercel-ui-fixtures")
}

#[test]
fn write_fixtures_for_the_node_test() {
    let dir = fixtures_dir();
    fs::create_dir_all(&dir).unwrap();
    let mut names = Vec::new();
    for scenario in scenarios::all() {
        let sse = wire(&encode(scenario.encoder, &scenario.events));
        fs::write(dir.join(format!("{}.sse", scenario.name)), sse).unwrap();
        names.push(scenario.name);
    }
    let body = error_body(&Error::model_not_found("gpt-nope"));
    assert_eq!(body, "the model `gpt-nope` does not exist");
    fs::write(dir.join("error_body.txt"), body).unwrap();
    names.sort_unstable();
    names.dedup();
    assert_eq!(
        names.len(),
        scenarios::all().len(),
        "scenario names are unique"
    );
}
