//! A deliberately naive reference decoder, written straight from the WHATWG text: decode
//! the whole stream as UTF-8 first, strip one BOM, split into lines, interpret. It has
//! none of the real decoder's incremental machinery, so agreeing with it on arbitrary
//! input is strong evidence. Shared with the fuzz target (`fuzz/fuzz_targets/decode.rs`).

use rill_sse::Event;

/// Events, reconnection time and last event ID of a complete stream.
pub fn reference_decode(input: &[u8]) -> (Vec<Event>, Option<u64>, String) {
    let text = String::from_utf8_lossy(input);
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(&text);

    let mut lines = Vec::new();
    let mut line = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' | '\n' => {
                if c == '\r' && chars.peek() == Some(&'\n') {
                    chars.next();
                }
                lines.push(std::mem::take(&mut line));
            }
            c => line.push(c),
        }
    }
    // Whatever is left in `line` never got its line end: it is ignored.

    let (mut events, mut retry) = (Vec::new(), None);
    let (mut data, mut event_type, mut id_buffer, mut last_event_id) =
        (String::new(), String::new(), String::new(), String::new());
    for line in lines {
        if line.is_empty() {
            last_event_id = id_buffer.clone();
            if data.is_empty() {
                event_type.clear();
                continue;
            }
            if data.ends_with('\n') {
                data.pop();
            }
            events.push(Event {
                event: if event_type.is_empty() {
                    "message".to_owned()
                } else {
                    std::mem::take(&mut event_type)
                },
                data: std::mem::take(&mut data),
                last_event_id: last_event_id.clone(),
            });
            continue;
        }
        if line.starts_with(':') {
            continue;
        }
        let (name, value) = match line.split_once(':') {
            Some((name, value)) => (name, value.strip_prefix(' ').unwrap_or(value)),
            None => (line.as_str(), ""),
        };
        match name {
            "event" => event_type = value.to_owned(),
            "data" => {
                data.push_str(value);
                data.push('\n');
            }
            "id" if !value.contains('\0') => id_buffer = value.to_owned(),
            "retry" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
                if let Ok(ms) = value.parse() {
                    retry = Some(ms);
                }
            }
            _ => {}
        }
    }
    (events, retry, last_event_id)
}
