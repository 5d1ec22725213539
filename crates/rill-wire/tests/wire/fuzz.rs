//! What every client dialect's parser must survive, whatever it is sent: arbitrary bytes
//! and arbitrary JSON-ish values whose keys are mostly the dialect's own field names (so
//! that generation reaches deep into the request's structure) end in `Ok` or a 400 with
//! a message, never a panic. `fuzz_dialect!` runs those cases for one dialect; each
//! dialect's `request_fuzz.rs` adds the shapes only it has, and its nesting bombs.

use proptest::prelude::*;
use rill_core::ErrorKind;
use rill_wire::ClientDialect;
use serde_json::Value;

/// A JSON-ish value with these object keys and these strings among its leaves.
pub fn jsonish(
    keys: &'static [&'static str],
    words: &'static [&'static str],
) -> impl Strategy<Value = Value> {
    let key = prop::sample::select(keys).prop_map(str::to_owned);
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        (0.0f64..3.0).prop_map(Value::from),
        prop::sample::select(words).prop_map(|s| Value::String(s.to_owned())),
    ];
    leaf.prop_recursive(5, 64, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(key.clone(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// `body` parses, or is refused with a 400 that says why.
pub fn ok_or_400<D: ClientDialect>(body: &Value) -> Result<(), TestCaseError> {
    match D::parse(body.to_string().as_bytes()) {
        Ok(_) => Ok(()),
        Err(e) => {
            prop_assert_eq!(e.kind, ErrorKind::InvalidRequest);
            prop_assert!(!e.message.is_empty());
            Ok(())
        }
    }
}

/// The cases every dialect runs: `fuzz_dialect!(Dialect, KEYS, WORDS)`.
macro_rules! fuzz_dialect {
    ($dialect:ty, $keys:expr, $words:expr) => {
        proptest::proptest! {
            #[test]
            fn arbitrary_bytes_never_panic(body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..256)) {
                let _ = <$dialect as rill_wire::ClientDialect>::parse(&body);
            }

            #[test]
            fn arbitrary_json_never_panics(value in crate::fuzz::jsonish($keys, $words)) {
                crate::fuzz::ok_or_400::<$dialect>(&value)?;
            }
        }
    };
}

pub(crate) use fuzz_dialect;
