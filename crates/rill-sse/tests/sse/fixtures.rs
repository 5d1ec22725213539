//! The recorded provider streams in `tests/fixtures/**/*.sse` decode to the expected
//! events, with valid JSON data, identically at every split point.

use std::path::PathBuf;

use crate::support::decode_every_way;

/// Every recorded stream and how many events it holds.
const FIXTURES: &[(&str, usize)] = &[
    ("anthropic-messages/basic_response.sse", 9),
    (
        "anthropic-messages/incomplete_partial_json_response.sse",
        16,
    ),
    ("anthropic-messages/refusal_response.sse", 5),
    ("anthropic-messages/tool_use_response.sse", 15),
    ("openai-chat/finish_length.sse", 5),
    ("openai-chat/n3_interleaved.sse", 50),
    ("openai-chat/parallel_tool_calls.sse", 26),
    ("openai-chat/refusal.sse", 14),
    ("openai-chat/single_tool_call.sse", 18),
    ("openai-chat/text_with_usage.sse", 34),
];

fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

#[test]
fn recorded_streams_decode_to_json_events_at_every_split() {
    for &(name, count) in FIXTURES {
        let input = std::fs::read(fixtures_dir().join(name)).expect(name);
        let events = decode_every_way(&input).events;
        assert_eq!(events.len(), count, "{name}");
        let openai = name.starts_with("openai-chat/");
        for (i, event) in events.iter().enumerate() {
            assert_eq!(event.last_event_id, "", "{name} #{i}");
            if openai && i == count - 1 {
                assert_eq!(
                    (event.event.as_str(), event.data.as_str()),
                    ("message", "[DONE]")
                );
                continue;
            }
            let json: serde_json::Value = serde_json::from_str(&event.data)
                .unwrap_or_else(|e| panic!("{name} #{i}: {e}: {}", event.data));
            if openai {
                assert_eq!(event.event, "message", "{name} #{i}");
                assert_eq!(json["object"], "chat.completion.chunk", "{name} #{i}");
            } else {
                assert_eq!(json["type"], event.event.as_str(), "{name} #{i}");
            }
        }
    }
}

#[test]
fn every_recorded_stream_is_in_the_table() {
    let mut found = Vec::new();
    for dir in std::fs::read_dir(fixtures_dir()).expect("tests/fixtures") {
        let dir = dir.expect("entry").path();
        let Ok(files) = std::fs::read_dir(&dir) else {
            continue;
        };
        for file in files {
            let file = file.expect("entry").path();
            if file.extension().is_some_and(|ext| ext == "sse") {
                let relative = file.strip_prefix(fixtures_dir()).expect("prefix");
                found.push(relative.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    found.sort();
    let listed: Vec<_> = FIXTURES.iter().map(|&(name, _)| name).collect();
    assert_eq!(found, listed, "add new recorded streams to FIXTURES");
}
