//! Core tool calls -> `tool-input-start`, `tool-input-delta`s and, once complete,
//! `tool-input-available` (or `tool-output-error`). Parallel calls may interleave: the
//! client keys every chunk by `toolCallId`.

use std::collections::BTreeMap;

use rill_sse::FrameBuf;

use super::input::tool_input;
use super::out::ChunkOut;

#[derive(Debug, Clone)]
pub(super) struct Calls {
    /// The stem of ids made up for calls that came without one.
    stem: String,
    /// Every call seen, by core index.
    calls: BTreeMap<u32, Call>,
}

#[derive(Debug, Clone)]
struct Call {
    id: String,
    name: String,
    /// The arguments so far; emptied once the call is complete.
    arguments: String,
    ended: bool,
}

impl Calls {
    pub(super) fn new(stem: String) -> Self {
        Self {
            stem,
            calls: BTreeMap::new(),
        }
    }

    /// Whether the call with core index `index` has started.
    pub(super) fn knows(&self, index: u32) -> bool {
        self.calls.contains_key(&index)
    }

    /// `tool-input-start` for a call not seen before. A call without an id gets
    /// `<stem>-call-<index>`.
    pub(super) fn start(&mut self, index: u32, id: &str, name: &str, out: &mut FrameBuf) {
        if self.knows(index) {
            return;
        }
        let id = if id.is_empty() {
            format!("{}-call-{index}", self.stem)
        } else {
            id.to_owned()
        };
        ChunkOut::ToolInputStart {
            tool_call_id: &id,
            tool_name: name,
        }
        .write(out);
        let call = Call {
            id,
            name: name.to_owned(),
            arguments: String::new(),
            ended: false,
        };
        self.calls.insert(index, call);
    }

    /// A fragment of a started call's arguments. Fragments after the call is complete
    /// are dropped: the client has its input already.
    pub(super) fn args(&mut self, index: u32, arguments: &str, out: &mut FrameBuf) {
        let Some(call) = self.calls.get_mut(&index).filter(|call| !call.ended) else {
            return;
        };
        call.arguments.push_str(arguments);
        ChunkOut::ToolInputDelta {
            tool_call_id: &call.id,
            input_text_delta: arguments,
        }
        .write(out);
    }

    /// `tool-input-available` with the parsed arguments, or `tool-output-error` when
    /// they cannot be an input (see `input.rs`); once per started call.
    pub(super) fn end(&mut self, index: u32, out: &mut FrameBuf) {
        let Some(call) = self.calls.get_mut(&index).filter(|call| !call.ended) else {
            return;
        };
        call.ended = true;
        let arguments = std::mem::take(&mut call.arguments);
        match tool_input(&call.name, &arguments) {
            Ok(input) => ChunkOut::ToolInputAvailable {
                tool_call_id: &call.id,
                tool_name: &call.name,
                input: &input,
            }
            .write(out),
            Err(error_text) => ChunkOut::ToolOutputError {
                tool_call_id: &call.id,
                error_text: &error_text,
            }
            .write(out),
        }
    }

    /// Completes every call still open, in index order: the answer is complete.
    pub(super) fn end_all(&mut self, out: &mut FrameBuf) {
        let open: Vec<u32> = self
            .calls
            .iter()
            .filter(|(_, call)| !call.ended)
            .map(|(index, _)| *index)
            .collect();
        for index in open {
            self.end(index, out);
        }
    }
}
