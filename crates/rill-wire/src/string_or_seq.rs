//! Deserialising a "string or array" field, shared by the dialects' request types.

/// Implements `Deserialize` for an enum with a `String` variant and a `Vec<_>` variant.
///
/// Hand-written rather than `#[serde(untagged)]`, which buffers the value, loses the
/// error path and says only "did not match any variant".
macro_rules! string_or_seq {
    ($ty:ident, $one:ident, $many:ident, $expecting:literal) => {
        impl<'de> ::serde::Deserialize<'de> for $ty {
            fn deserialize<D: ::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> Result<Self, D::Error> {
                struct V;
                impl<'de> ::serde::de::Visitor<'de> for V {
                    type Value = $ty;
                    fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        f.write_str($expecting)
                    }
                    fn visit_str<E: ::serde::de::Error>(self, v: &str) -> Result<$ty, E> {
                        Ok($ty::$one(v.to_owned()))
                    }
                    fn visit_string<E: ::serde::de::Error>(self, v: String) -> Result<$ty, E> {
                        Ok($ty::$one(v))
                    }
                    fn visit_seq<A: ::serde::de::SeqAccess<'de>>(
                        self,
                        seq: A,
                    ) -> Result<$ty, A::Error> {
                        ::serde::Deserialize::deserialize(
                            ::serde::de::value::SeqAccessDeserializer::new(seq),
                        )
                        .map($ty::$many)
                    }
                }
                deserializer.deserialize_any(V)
            }
        }
    };
}

pub(crate) use string_or_seq;
