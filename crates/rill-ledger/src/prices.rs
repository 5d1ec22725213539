//! The prices of well-known models at their providers' public APIs, for models whose
//! config sets no `price`: `data/prices.json`, taken from LiteLLM's maintained public price
//! list (MIT licence) by `scripts/refresh-prices`, which notes the source in the file.

use std::collections::HashMap;
use std::sync::LazyLock;

use serde::Deserialize;

use crate::record::Price;

#[derive(Deserialize)]
struct Table {
    /// Provider kind -> the provider's model id -> its price.
    models: HashMap<String, HashMap<String, Price>>,
}

static TABLE: LazyLock<Option<Table>> =
    LazyLock::new(|| serde_json::from_str(include_str!("../data/prices.json")).ok());

/// A provider whose models the table prices: rill's `provider` kinds at their public APIs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PricedProvider {
    /// OpenAI's Chat Completions and Responses APIs.
    OpenAi,
    Anthropic,
    Gemini,
    Cohere,
}

impl PricedProvider {
    fn key(self) -> &'static str {
        match self {
            Self::OpenAi => "openai",
            Self::Anthropic => "anthropic",
            Self::Gemini => "gemini",
            Self::Cohere => "cohere",
        }
    }
}

/// The bundled price of `model` (the provider's own id for it) at `provider`'s public API.
pub fn bundled_price(provider: PricedProvider, model: &str) -> Option<Price> {
    TABLE
        .as_ref()?
        .models
        .get(provider.key())?
        .get(model)
        .copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_table_parses_and_prices_well_known_models() {
        let table = TABLE.as_ref().expect("data/prices.json does not parse");
        assert!(table.models.values().map(HashMap::len).sum::<usize>() > 50);
        let mini = bundled_price(PricedProvider::OpenAi, "gpt-4o-mini").unwrap();
        assert_eq!((mini.input_per_mtok, mini.output_per_mtok), (0.15, 0.6));
        assert_eq!(mini.cached_input_per_mtok, Some(0.075));
        let sonnet = bundled_price(PricedProvider::Anthropic, "claude-sonnet-4-5").unwrap();
        assert_eq!(sonnet.cache_write_per_mtok, Some(3.75));
        assert!(bundled_price(PricedProvider::Gemini, "gemini-2.5-flash").is_some());
        assert_eq!(
            bundled_price(PricedProvider::OpenAi, "llama-3-8b-local"),
            None
        );
    }
}
