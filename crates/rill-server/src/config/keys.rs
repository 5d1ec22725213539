//! `[[keys]]`: virtual API keys, stored as SHA-256 digests, and how to make them.

use std::fmt;
use std::num::{NonZeroU32, NonZeroU64};

use rill_ledger::Period;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

/// What `rill key new` puts before the random part: it tells people (and secret scanners)
/// what the string is.
pub const KEY_PREFIX: &str = "sk-rill-";

/// One client's key: who it is (for logs and metrics) and what it may do. The key itself
/// is never stored, only its SHA-256.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct KeyConfig {
    /// Shown in logs and metrics (never the key).
    pub name: String,
    /// The SHA-256 of the key, 64 hex digits (`rill key hash` prints it).
    pub sha256: KeyDigest,
    /// Generations (streams and non-streaming requests) this key may have in flight.
    #[serde(default)]
    pub max_concurrent: Option<NonZeroU32>,
    /// Generation requests admitted in any 60 s.
    #[serde(default)]
    pub requests_per_minute: Option<NonZeroU32>,
    /// Prompt plus completion tokens, as the providers report them, in any 60 s.
    #[serde(default)]
    pub tokens_per_minute: Option<NonZeroU64>,
    /// The models this key may use; absent: all of them.
    #[serde(default)]
    pub models: Option<Vec<String>>,
    /// May read every key's usage (`GET /v1/usage`).
    #[serde(default)]
    pub admin: bool,
    /// US dollars this key may spend per `budget_period`, at the models' prices; once
    /// spent, 429 until the period starts over.
    #[serde(default)]
    pub budget_usd: Option<f64>,
    /// `day` or `month` (the default), starting at UTC midnight.
    #[serde(default)]
    pub budget_period: Period,
}

impl KeyConfig {
    /// A key with no limits and every model.
    pub fn new(name: &str, sha256: KeyDigest) -> Self {
        Self {
            name: name.to_owned(),
            sha256,
            max_concurrent: None,
            requests_per_minute: None,
            tokens_per_minute: None,
            models: None,
            admin: false,
            budget_usd: None,
            budget_period: Period::default(),
        }
    }
}

/// A key's SHA-256, read from and written as 64 hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyDigest(pub(crate) [u8; 32]);

/// The digest of `key`, as `[[keys]]` stores it. Leading and trailing whitespace is not
/// part of a key (a pasted key often ends with a newline).
pub fn hash_key(key: &str) -> KeyDigest {
    KeyDigest(Sha256::digest(key.trim().as_bytes()).into())
}

/// A fresh key: [`KEY_PREFIX`] and 256 random bits from the operating system, in hex.
pub fn new_key() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(format!("{KEY_PREFIX}{}", hex(&bytes)))
}

impl KeyDigest {
    /// Parses 64 hex digits (either case).
    pub fn from_hex(text: &str) -> Option<Self> {
        let text = text.as_bytes();
        if text.len() != 64 {
            return None;
        }
        let mut out = [0u8; 32];
        for (byte, pair) in out.iter_mut().zip(text.chunks_exact(2)) {
            let digit = |c: u8| char::from(c).to_digit(16);
            *byte = u8::try_from(digit(pair[0])? * 16 + digit(pair[1])?).ok()?;
        }
        Some(Self(out))
    }

    pub fn to_hex(&self) -> String {
        hex(&self.0)
    }
}

/// Not secret, but not needed in logs either: the first digits tell keys apart.
impl fmt::Debug for KeyDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyDigest({}...)", &self.to_hex()[..8])
    }
}

impl fmt::Display for KeyDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl Serialize for KeyDigest {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for KeyDigest {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::from_hex(text.trim()).ok_or_else(|| {
            serde::de::Error::custom(
                "`sha256` must be the 64 hex digits of the key's SHA-256 (`rill key hash` prints them)",
            )
        })
    }
}

fn hex(bytes: &[u8]) -> String {
    use fmt::Write;
    bytes.iter().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

/// A `[[keys]]` table that cannot work.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("invalid configuration: a key in `[[keys]]` has an empty `name`")]
    EmptyName,
    #[error("invalid configuration: two keys are named `{0}`")]
    DuplicateName(String),
    #[error(
        "invalid configuration: keys `{0}` and `{1}` have the same `sha256`\nhint: give each client a key of its own (`rill key new`)"
    )]
    DuplicateDigest(String, String),
    #[error(
        "invalid configuration: key `{key}` lists the model `{model}`, which is not configured"
    )]
    UnknownModel { key: String, model: String },
    #[error(
        "invalid configuration: key `{key}` has `budget_usd = {budget}`\nhint: a budget is US dollars, 0 or more"
    )]
    BadBudget { key: String, budget: f64 },
}

/// Checks that every key has a name of its own and a digest of its own (a digest names
/// exactly one key, so the name in logs and metrics is always the right one).
pub fn validate(keys: &[KeyConfig]) -> Result<(), KeyError> {
    let mut names = std::collections::HashSet::new();
    let mut digests = std::collections::HashMap::new();
    for key in keys {
        if key.name.trim().is_empty() {
            return Err(KeyError::EmptyName);
        }
        if !names.insert(key.name.as_str()) {
            return Err(KeyError::DuplicateName(key.name.clone()));
        }
        if let Some(budget) = key.budget_usd
            && !(budget.is_finite() && budget >= 0.0)
        {
            return Err(KeyError::BadBudget {
                key: key.name.clone(),
                budget,
            });
        }
        if let Some(other) = digests.insert(key.sha256, key.name.as_str()) {
            return Err(KeyError::DuplicateDigest(
                other.to_owned(),
                key.name.clone(),
            ));
        }
    }
    Ok(())
}

/// Checks that every model a key lists is one of `models`.
pub fn validate_models(keys: &[KeyConfig], models: impl Fn(&str) -> bool) -> Result<(), KeyError> {
    for key in keys {
        for model in key.models.iter().flatten() {
            if !models(model) {
                return Err(KeyError::UnknownModel {
                    key: key.name.clone(),
                    model: model.clone(),
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_are_sha256_in_hex_both_ways() {
        // FIPS 180-2's "abc".
        let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(hash_key("abc").to_hex(), abc);
        assert_eq!(hash_key(" abc\n"), hash_key("abc"));
        assert_eq!(KeyDigest::from_hex(abc), Some(hash_key("abc")));
        assert_eq!(
            KeyDigest::from_hex(&abc.to_uppercase()),
            Some(hash_key("abc"))
        );
        for bad in [
            "",
            "abc",
            &abc[..63],
            &format!("{abc}0"),
            &abc.replace('a', "g"),
        ] {
            assert_eq!(KeyDigest::from_hex(bad), None, "{bad}");
        }
        assert!(!format!("{:?}", hash_key("abc")).contains(abc));
    }

    #[test]
    fn new_keys_are_long_random_and_prefixed() {
        let (a, b) = (new_key().unwrap(), new_key().unwrap());
        assert_ne!(a, b);
        assert!(a.starts_with(KEY_PREFIX), "{a}");
        assert_eq!(a.len(), KEY_PREFIX.len() + 64);
    }

    #[test]
    fn names_and_digests_must_be_unique() {
        let a = KeyConfig::new("a", hash_key("one"));
        let b = KeyConfig::new("b", hash_key("two"));
        assert!(validate(&[a.clone(), b.clone()]).is_ok());
        let same_name = KeyConfig::new("a", hash_key("three"));
        assert!(matches!(
            validate(&[a.clone(), same_name]),
            Err(KeyError::DuplicateName(n)) if n == "a"
        ));
        let same_digest = KeyConfig::new("c", hash_key("one"));
        assert!(matches!(
            validate(&[a.clone(), same_digest]),
            Err(KeyError::DuplicateDigest(..))
        ));
        assert!(matches!(
            validate(&[KeyConfig::new(" ", hash_key("x"))]),
            Err(KeyError::EmptyName)
        ));
        let picky = KeyConfig {
            models: Some(vec!["gpt".into()]),
            ..b
        };
        assert!(validate_models(std::slice::from_ref(&picky), |m| m == "gpt").is_ok());
        assert!(matches!(
            validate_models(&[picky], |m| m == "claude"),
            Err(KeyError::UnknownModel { model, .. }) if model == "gpt"
        ));
    }
}
