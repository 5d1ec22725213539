//! Reading a GGUF file: metadata once, tensors on demand.

use std::collections::HashMap;
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use candle_core::Device;
use candle_core::quantized::QTensor;
use candle_core::quantized::gguf_file::{Content, Value};

use crate::EngineError;

/// An opened GGUF file. Metadata is parsed once (through a `BufReader`: unbuffered reads
/// of the metadata take several times longer); tensors are read when asked for.
pub struct Gguf {
    path: PathBuf,
    content: Content,
}

impl Gguf {
    pub fn open(path: &Path) -> Result<Self, EngineError> {
        let mut reader = Self::reader_for(path)?;
        let content = Content::read(&mut reader).map_err(|e| EngineError::Gguf(e.to_string()))?;
        Ok(Self {
            path: path.to_owned(),
            content,
        })
    }

    fn reader_for(path: &Path) -> Result<BufReader<File>, EngineError> {
        let file = File::open(path).map_err(|source| EngineError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Ok(BufReader::new(file))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn metadata(&self) -> &HashMap<String, Value> {
        &self.content.metadata
    }

    pub fn content(&self) -> &Content {
        &self.content
    }

    fn value(&self, key: &str) -> Result<&Value, EngineError> {
        self.content
            .metadata
            .get(key)
            .ok_or_else(|| EngineError::MissingMetadata(key.to_owned()))
    }

    fn bad(key: &str, expected: &'static str) -> EngineError {
        EngineError::BadMetadata {
            key: key.to_owned(),
            expected,
        }
    }

    pub fn u32(&self, key: &str) -> Result<u32, EngineError> {
        self.value(key)?
            .to_u32()
            .map_err(|_| Self::bad(key, "a u32"))
    }

    pub fn f32(&self, key: &str) -> Result<f32, EngineError> {
        self.value(key)?
            .to_f32()
            .map_err(|_| Self::bad(key, "an f32"))
    }

    pub fn bool(&self, key: &str) -> Result<bool, EngineError> {
        self.value(key)?
            .to_bool()
            .map_err(|_| Self::bad(key, "a bool"))
    }

    pub fn str(&self, key: &str) -> Result<&str, EngineError> {
        self.value(key)?
            .to_string()
            .map(String::as_str)
            .map_err(|_| Self::bad(key, "a string"))
    }

    pub fn array(&self, key: &str) -> Result<&[Value], EngineError> {
        self.value(key)?
            .to_vec()
            .map(Vec::as_slice)
            .map_err(|_| Self::bad(key, "an array"))
    }

    /// Whether the metadata has `key`.
    pub fn has(&self, key: &str) -> bool {
        self.content.metadata.contains_key(key)
    }

    /// Reads one tensor.
    pub fn tensor(&self, name: &str, device: &Device) -> Result<QTensor, EngineError> {
        let mut reader = Self::reader_for(&self.path)?;
        Ok(self.content.tensor(&mut reader, name, device)?)
    }

    /// A reader to load many tensors with [`Content::tensor`] without reopening the file.
    pub fn reader(&self) -> Result<BufReader<File>, EngineError> {
        Self::reader_for(&self.path)
    }
}
