//! The request bodies the real `useChat` sent in the node test's conversation
//! (`tests/vercel_ui/requests/<ai version>.json`, written by `conversation.test.mjs`),
//! parsed into the core conversation they stand for.

use std::fs;
use std::path::Path;

use rill_core::{Message, Reasoning, ToolCall};
use rill_wire::vercel_ui::parse_request;
use serde_json::Value;

fn user(text: &str) -> Message {
    Message::User { text: text.into() }
}

fn assistant(text: &str, tool_calls: Vec<ToolCall>) -> Message {
    Message::Assistant {
        text: Some(text.into()),
        tool_calls,
        reasoning: Vec::new(),
    }
}

fn weather(id: &str, city: &str) -> ToolCall {
    ToolCall {
        id: id.into(),
        name: "get_weather".into(),
        arguments: format!("{{\"city\":\"{city}\"}}"),
    }
}

fn tool(id: &str, text: &str) -> Message {
    Message::Tool {
        tool_call_id: id.into(),
        text: text.into(),
    }
}

/// The conversation after each request: what the model must see.
fn expected() -> Vec<(Vec<Message>, Option<&'static str>)> {
    let first = vec![user("Weather in Paris and Rome?")];
    let with_results = [
        first.clone(),
        vec![
            assistant(
                "Let me check both.",
                vec![weather("call_paris", "Paris"), weather("call_rome", "Rome")],
            ),
            tool("call_paris", r#"{"temperature":21,"sky":"sunny"}"#),
            tool("call_rome", "rain"),
        ],
    ]
    .concat();
    let second = [
        with_results.clone(),
        vec![
            assistant("Paris is sunny, Rome is rainy.", vec![]),
            user("And tomorrow?"),
        ],
    ]
    .concat();
    // The third answer's reasoning part comes back with it (unsigned: nothing sealed it).
    let third = [
        second.clone(),
        vec![
            Message::Assistant {
                text: Some("Tomorrow looks similar.".into()),
                tool_calls: vec![],
                reasoning: vec![Reasoning::unsigned("The user asks about tomorrow.")],
            },
            user("Thanks!"),
        ],
    ]
    .concat();
    vec![
        (first, None),
        // Ends with the assistant message holding the tool results: the answer continues it.
        (with_results, Some("msg-tools")),
        (second, None),
        (third.clone(), None),
        // `regenerate()`: the same conversation, `trigger: "regenerate-message"`.
        (third, None),
    ]
}

#[test]
fn real_use_chat_bodies_parse_into_the_conversation() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vercel_ui/requests");
    let mut files: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    let names: Vec<_> = files
        .iter()
        .map(|f| f.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["ai-5.0.0", "ai-5.0.277", "ai-6.0.326"]);
    for file in files {
        let bodies: Vec<Value> = serde_json::from_str(&fs::read_to_string(&file).unwrap()).unwrap();
        let expected = expected();
        assert_eq!(bodies.len(), expected.len(), "{}", file.display());
        for (i, (body, (messages, continues))) in bodies.iter().zip(expected).enumerate() {
            let at = format!("{} request {i}", file.display());
            let parsed = parse_request(body.to_string().as_bytes())
                .unwrap_or_else(|e| panic!("{at}: {e:?}"));
            assert_eq!(parsed.request.messages, messages, "{at}");
            assert_eq!(parsed.continues.as_deref(), continues, "{at}");
            // The app's `body: {model, temperature}` reaches the request.
            assert_eq!(parsed.request.model, "rill-test", "{at}");
            assert_eq!(parsed.request.sampling.temperature, Some(0.2), "{at}");
        }
    }
}
