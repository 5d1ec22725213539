//! The conformance table: WHATWG examples from the spec discussion, ports of the web-platform-tests
//! `eventsource/format-*` cases, and our own edge cases. Each runs whole, split in two at
//! every byte, and one byte at a time.
//!
//! WPT serves `message` followed by `\n\n\n` (or `\n` with `newline=none`); the ports
//! below spell out those bytes.

use crate::support::{Outcome, decode_every_way, escape, event};
use rill_sse::Event;

pub struct Case {
    pub name: &'static str,
    pub input: Vec<u8>,
    pub expected: Outcome,
}

fn case(name: &'static str, input: impl Into<Vec<u8>>) -> Case {
    Case {
        name,
        input: input.into(),
        expected: Outcome {
            events: Vec::new(),
            retry: None,
            last_event_id: String::new(),
        },
    }
}

impl Case {
    /// Expects a `message` event with no last event ID.
    fn msg(self, data: &str) -> Self {
        self.event(event("message", data, ""))
    }

    fn event(mut self, event: Event) -> Self {
        self.expected.events.push(event);
        self
    }

    fn retry(mut self, ms: u64) -> Self {
        self.expected.retry = Some(ms);
        self
    }

    /// Expects this last event ID at the end of the stream.
    fn last_id(mut self, id: &str) -> Self {
        self.expected.last_event_id = id.to_owned();
        self
    }
}

pub fn cases() -> Vec<Case> {
    let long = "x".repeat(2048);
    vec![
        // Tricky line-ending and BOM cases, exact.
        case("protocols-newlines", "data:test\r\ndata\ndata:test\r\n\r").msg("test\n\ntest"),
        case("protocols-field-data", "data:\n\ndata\ndata\n\ndata:").msg("").msg("\n"),
        case("protocols-leading-space", "data:\ttest\rdata: \ndata:test\n\n").msg("\ttest\n\ntest"),
        case("protocols-bom", "\u{FEFF}data:1\n\n\u{FEFF}data:2\n\ndata:3\n\n").msg("1").msg("3"),
        // web-platform-tests eventsource/format-*.
        case("format-bom", "\u{FEFF}data:1\n\n\u{FEFF}data:2\n\ndata:3\n\n\n").msg("1").msg("3"),
        case("format-bom-2", "\u{FEFF}\u{FEFF}data:1\n\ndata:2\n\ndata:3\n\n\n").msg("2").msg("3"),
        case(
            "format-comments",
            format!("data:1\r:\0\n:\r\ndata:2\n:{long}\rdata:3\n:data:fail\r:{long}\ndata:4\n\n"),
        )
        .msg("1\n2\n3\n4"),
        case(
            "format-field-parsing",
            "data:\0\ndata:  2\rData:1\ndata\0:2\ndata:1\r\0data:4\nda-ta:3\rdata_5\ndata:3\rdata:\r\n data:32\ndata:4\n\n",
        )
        .msg("\0\n 2\n1\n3\n\n4"),
        case("format-newlines", "data:test\r\ndata\ndata:test\r\n\r\n").msg("test\n\ntest"),
        case("format-leading-space", "data:\ttest\rdata: \ndata:test\n\n\n").msg("\ttest\n\ntest"),
        case("format-field-data", "data:\n\ndata\ndata\n\ndata:test\n\n\n").msg("").msg("\n").msg("test"),
        case("format-null-character", "data:\0\n\n\n\n").msg("\0"),
        case("format-field-id", "id: \u{2026}\nretry: 200\ndata: hello\n\n")
            .event(event("message", "hello", "\u{2026}"))
            .retry(200)
            .last_id("\u{2026}"),
        case("format-field-id-2-persists", "id: 1\ndata: 1\n\ndata:2\n\n")
            .event(event("message", "1", "1"))
            .event(event("message", "2", "1"))
            .last_id("1"),
        case("format-field-id-2-changes", "id: 1\ndata: 1\n\nid: 2\ndata:2\n\ndata:3\n\n")
            .event(event("message", "1", "1"))
            .event(event("message", "2", "2"))
            .event(event("message", "3", "2"))
            .last_id("2"),
        case("format-field-id-2-resets", "id: 1\ndata: 1\n\nid:\ndata:2\n\ndata:3\n\n")
            .event(event("message", "1", "1"))
            .msg("2")
            .msg("3"),
        // The spec ignores an `id` containing NUL (older WPT revisions expected otherwise).
        case("format-field-id-null", "id: \0\0\nretry: 200\ndata: hello\n\n").msg("hello").retry(200),
        case("format-field-retry", "retry:02000\ndata:x\n\n\n").msg("x").retry(2000),
        case("format-field-retry-bogus", "retry:2000\nretry:1000x\ndata:x\n\n\n").msg("x").retry(2000),
        case("format-field-retry-empty", "retry\ndata:test\n\n\n").msg("test"),
        case("format-field-event", "event:test\ndata:x\n\ndata:x\n\n\n")
            .event(event("test", "x", ""))
            .msg("x"),
        case("format-field-event-empty", "event: \ndata:data\n\n\n").msg("data"),
        case(
            "format-field-unknown",
            "data:test\n data\ndata\nfoobar:xxx\njustsometext\n:thisisacommentyay\ndata:test\n\n\n",
        )
        .msg("test\n\ntest"),
        case(
            "format-data-before-final-empty-line",
            "retry:1000\ndata:test1\n\nid:test\ndata:test2\n",
        )
        .msg("test1")
        .retry(1000),
        case("format-utf-8", b"data:ok\xE2\x80\xA6\n\n\n".to_vec()).msg("ok\u{2026}"),
        // Invalid UTF-8 becomes U+FFFD (one per maximal invalid subpart), never an error.
        case("invalid-byte", b"data:a\xFFb\n\n".to_vec()).msg("a\u{FFFD}b"),
        case("truncated-sequence", b"data:\xE2\x80\n\n".to_vec()).msg("\u{FFFD}"),
        case("truncated-before-line-end", b"data:\xF0\x9F\x98\rdata:\xE2\n\n".to_vec())
            .msg("\u{FFFD}\n\u{FFFD}"),
        case("overlong", b"data:\xC0\xAF\n\n".to_vec()).msg("\u{FFFD}\u{FFFD}"),
        case("surrogate", b"data:\xED\xA0\x80\n\n".to_vec()).msg("\u{FFFD}\u{FFFD}\u{FFFD}"),
        case("four-byte-char", b"data:\xF0\x9F\x98\x80\n\n".to_vec()).msg("\u{1F600}"),
        case("invalid-event-type", b"event:\xFF\ndata:x\n\n".to_vec())
            .event(event("\u{FFFD}", "x", "")),
        case("invalid-id", b"id:\xFF\ndata:x\n\n".to_vec())
            .event(event("message", "x", "\u{FFFD}"))
            .last_id("\u{FFFD}"),
        case("invalid-field-name", b"dat\xFF:x\n\n".to_vec()),
        // BOM handling.
        case("partial-bom", b"\xEF\xBBdata:1\n\ndata:2\n\n".to_vec()).msg("2"),
        case("bom-first-byte-only", b"\xEFdata:1\n\ndata:2\n\n".to_vec()).msg("2"),
        case("bom-alone", b"\xEF\xBB\xBF".to_vec()),
        case("bom-then-blank-line", "\u{FEFF}\ndata:1\n\n").msg("1"),
        case("bom-in-value-kept", "data:\u{FEFF}1\n\n").msg("\u{FEFF}1"),
        // Line ends, including CR / LF pairs that a chunk boundary may separate.
        case("crlf-is-one-line-end", "data:a\r\ndata:b\r\n\r\n").msg("a\nb"),
        case("cr-cr-is-two-line-ends", "data:a\r\rdata:b\r\r").msg("a").msg("b"),
        case("lf-cr-is-two-line-ends", "data:a\n\rdata:b\n\r").msg("a").msg("b"),
        case("final-lone-cr", "data:x\r\r").msg("x"),
        case("final-lone-cr-after-lf", "data:x\n\r").msg("x"),
        case("crlf-then-cr", "data:x\r\n\r").msg("x"),
        // Field parsing.
        case("case-sensitive-names", "Data:x\n\nDATA:y\n\nEvent:z\ndata:w\n\n").msg("w"),
        case("colon-in-value", "data:a:b\n\ndata::\n\n").msg("a:b").msg(":"),
        case("one-space-removed", "data:  x\n\ndata: \n\n").msg(" x").msg(""),
        case("tab-not-removed", "data:\tx\n\n").msg("\tx"),
        case("no-colon-data", "data\n\n").msg(""),
        case("empty-data-line-adds-lf", "data:a\ndata:\n\n").msg("a\n"),
        case("comments-only", ": ping\n\n:\n\n"),
        case("empty-stream", ""),
        // Dispatch.
        case("unterminated-event-not-dispatched", "data:x\n"),
        case("unterminated-line-not-dispatched", "data:x"),
        case("type-reset-after-dispatch", "event:a\ndata:1\n\ndata:2\n\n")
            .event(event("a", "1", ""))
            .msg("2"),
        case("type-reset-by-empty-dispatch", "event:a\n\ndata:2\n\n").msg("2"),
        case("id-committed-without-data", "id:5\n\ndata:x\n\n")
            .event(event("message", "x", "5"))
            .last_id("5"),
        case("id-not-committed-without-blank-line", "id:1\ndata:a\n\nid:2\ndata:b\n")
            .event(event("message", "a", "1"))
            .last_id("1"),
        case("id-persists-and-resets", "id:1\ndata:a\n\ndata:b\n\nid\ndata:c\n\n")
            .event(event("message", "a", "1"))
            .event(event("message", "b", "1"))
            .msg("c"),
        case("id-with-nul-ignored", "id:1\ndata:a\n\nid:2\u{0}3\ndata:b\n\n")
            .event(event("message", "a", "1"))
            .event(event("message", "b", "1"))
            .last_id("1"),
        case("id-keeps-spaces", "id:  7 \ndata:a\n\n")
            .event(event("message", "a", " 7 "))
            .last_id(" 7 "),
        // Retry.
        case("retry-plus", "retry:+5\ndata:x\n\n").msg("x"),
        case("retry-underscore", "retry:1_000\ndata:x\n\n").msg("x"),
        case("retry-suffix", "retry:1000x\ndata:x\n\n").msg("x"),
        case("retry-negative", "retry:-1\ndata:x\n\n").msg("x"),
        case("retry-two-spaces", "retry:  1000\ndata:x\n\n").msg("x"),
        case("retry-overflow", "retry:18446744073709551616\ndata:x\n\n").msg("x"),
        case("retry-one-space", "retry: 1000\n").retry(1000),
        case("retry-zero", "retry:0\n").retry(0),
        case("retry-last-valid-wins", "retry:1\nretry:x\nretry:3\nretry:\n").retry(3),
    ]
}

#[test]
fn every_case_decodes_the_same_whole_split_and_bytewise() {
    let cases = cases();
    assert!(cases.len() > 70);
    for case in cases {
        let outcome = decode_every_way(&case.input);
        assert_eq!(
            outcome,
            case.expected,
            "case {} ({:?})",
            case.name,
            escape(&case.input)
        );
    }
}

#[test]
fn case_names_are_unique() {
    let mut names: Vec<_> = cases().iter().map(|case| case.name).collect();
    names.sort_unstable();
    let count = names.len();
    names.dedup();
    assert_eq!(names.len(), count);
}
