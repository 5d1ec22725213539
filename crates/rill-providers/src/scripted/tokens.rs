//! A tokenizer for scripted text: realistic-looking pieces, not a model's vocabulary.

/// Splits `text` into tokens: a run of letters or digits with the whitespace before it,
/// or a single other character with the whitespace before it. Concatenating the tokens
/// gives back `text` exactly.
pub fn split_tokens(text: &str) -> Vec<&str> {
    let mut tokens = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((_, c)) = chars.peek().copied() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        chars.next();
        if c.is_alphanumeric() {
            while let Some((_, next)) = chars.peek().copied() {
                if !next.is_alphanumeric() {
                    break;
                }
                chars.next();
            }
        }
        let end = chars.peek().map_or(text.len(), |(i, _)| *i);
        tokens.push(&text[start..end]);
        start = end;
    }
    if start < text.len() {
        // Trailing whitespace rides on a token of its own.
        tokens.push(&text[start..]);
    }
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_words_punctuation_and_keeps_every_byte() {
        let text = "Hello, world! 42 naïve  café\n- ok ";
        let tokens = split_tokens(text);
        assert_eq!(tokens.concat(), text);
        assert_eq!(
            tokens,
            vec![
                "Hello", ",", " world", "!", " 42", " naïve", "  café", "\n-", " ok", " "
            ]
        );
    }

    #[test]
    fn empty_text_has_no_tokens() {
        assert!(split_tokens("").is_empty());
        assert_eq!(split_tokens("   "), vec!["   "]);
    }
}
