//! Turns a script and a request into a timed list of events.

use std::time::Duration;

use rill_core::{ChatRequest, Error, FinishReason, Message, StreamEvent, Usage};

use super::ScriptConfig;
use super::tokens::split_tokens;

pub(super) enum Action {
    Emit(StreamEvent),
    /// End the stream without a terminal event.
    Close,
}

pub(super) struct Step {
    /// When to act, from the start of the stream.
    pub at: Duration,
    pub action: Action,
}

pub(super) struct Plan {
    pub steps: Vec<Step>,
}

/// What one content token carries before it becomes an event.
enum Token<'a> {
    Reasoning(&'a str),
    /// Not a token: it is sent, uncounted, where it stands.
    Signature(&'a str),
    Text(&'a str),
    ToolStart {
        index: u32,
        name: &'a str,
    },
    ToolArgs {
        index: u32,
        fragment: &'a str,
    },
}

impl Plan {
    pub fn new(script: &ScriptConfig, request: &ChatRequest, model: String) -> Self {
        let text = match &script.text {
            Some(text) => text.clone(),
            None => last_user_text(request).to_owned(),
        };
        let (text, stopped) = truncate_at_stop(&text, &request.sampling.stop);

        let mut tokens = Vec::new();
        if let Some(reasoning) = &script.reasoning {
            tokens.extend(split_tokens(reasoning).into_iter().map(Token::Reasoning));
        }
        if let Some(signature) = &script.reasoning_signature {
            tokens.push(Token::Signature(signature));
        }
        tokens.extend(split_tokens(text).into_iter().map(Token::Text));
        if !stopped {
            for (index, call) in (0u32..).zip(&script.tool_calls) {
                tokens.push(Token::ToolStart {
                    index,
                    name: &call.name,
                });
                tokens.extend(
                    split_tokens(&call.arguments)
                        .into_iter()
                        .map(|fragment| Token::ToolArgs { index, fragment }),
                );
            }
        }

        let interval = match script.tokens_per_second {
            Some(rate) if rate > 0.0 => Duration::from_secs_f64(1.0 / rate),
            _ => Duration::ZERO,
        };
        let stall = Duration::from_millis(script.stall_ms.unwrap_or(0));
        let max_tokens = request
            .sampling
            .max_tokens
            .map_or(usize::MAX, |m| m as usize);

        let mut steps = vec![Step {
            at: Duration::ZERO,
            action: Action::Emit(StreamEvent::Start { model }),
        }];
        let mut at = Duration::ZERO;
        let mut sent = 0u32;
        let mut open_call: Option<u32> = None;
        let mut finish = if stopped {
            FinishReason::StopSequence
        } else if script.tool_calls.is_empty() {
            FinishReason::Stop
        } else {
            FinishReason::ToolCalls
        };
        for token in &tokens {
            if let Token::Signature(signature) = *token {
                let event = StreamEvent::ReasoningSignature(signature.to_owned());
                steps.push(Step {
                    at,
                    action: Action::Emit(event),
                });
                continue;
            }
            if let Some(action) = fault(script, sent) {
                steps.push(Step { at, action });
                return Self { steps };
            }
            if sent as usize >= max_tokens {
                finish = FinishReason::Length;
                break;
            }
            at += interval;
            if script.stall_after == sent {
                at += stall;
            }
            let event = match *token {
                Token::Reasoning(t) => StreamEvent::ReasoningDelta(t.to_owned()),
                Token::Signature(_) => continue,
                Token::Text(t) => StreamEvent::TextDelta(t.to_owned()),
                Token::ToolStart { index, name } => {
                    if let Some(prev) = open_call.replace(index) {
                        steps.push(Step {
                            at,
                            action: Action::Emit(StreamEvent::ToolCallEnd { index: prev }),
                        });
                    }
                    StreamEvent::ToolCallStart {
                        index,
                        id: call_id(),
                        name: name.to_owned(),
                    }
                }
                Token::ToolArgs { index, fragment } => StreamEvent::ToolCallDelta {
                    index,
                    arguments: fragment.to_owned(),
                },
            };
            steps.push(Step {
                at,
                action: Action::Emit(event),
            });
            sent += 1;
        }
        if let Some(index) = open_call {
            steps.push(Step {
                at,
                action: Action::Emit(StreamEvent::ToolCallEnd { index }),
            });
        }
        // A stall after the last token delays the end of the stream.
        let counted = tokens
            .iter()
            .filter(|t| !matches!(t, Token::Signature(_)))
            .count();
        if script.stall_after == sent && sent as usize == counted {
            at += stall;
        }
        if let Some(action) = fault(script, sent) {
            steps.push(Step { at, action });
            return Self { steps };
        }
        let usage = Usage {
            input_tokens: prompt_tokens(request),
            output_tokens: u64::from(sent),
            reasoning_tokens: script
                .reasoning
                .as_ref()
                .map(|r| split_tokens(r).len() as u64),
            cached_input_tokens: None,
            cache_write_tokens: None,
            cost_usd: None,
            estimated: false,
        };
        steps.push(Step {
            at,
            action: Action::Emit(StreamEvent::Usage(usage)),
        });
        steps.push(Step {
            at,
            action: Action::Emit(StreamEvent::Finish(finish)),
        });
        Self { steps }
    }
}

/// The fault the script injects once `sent` tokens went out, if any.
fn fault(script: &ScriptConfig, sent: u32) -> Option<Action> {
    if script.close_after == Some(sent) {
        return Some(Action::Close);
    }
    if script.error_after == Some(sent) {
        let error = Error::upstream(format!("scripted error after {sent} tokens"));
        return Some(Action::Emit(StreamEvent::Error(error)));
    }
    None
}

fn last_user_text(request: &ChatRequest) -> &str {
    request
        .messages
        .iter()
        .rev()
        .find_map(|m| match m {
            Message::User { text } => Some(text.as_str()),
            _ => None,
        })
        .unwrap_or("")
}

/// Cuts `text` before the earliest stop sequence; says whether one matched.
fn truncate_at_stop<'a>(text: &'a str, stops: &[String]) -> (&'a str, bool) {
    let cut = stops
        .iter()
        .filter(|s| !s.is_empty())
        .filter_map(|s| text.find(s.as_str()))
        .min();
    match cut {
        Some(at) => (&text[..at], true),
        None => (text, false),
    }
}

fn prompt_tokens(request: &ChatRequest) -> u64 {
    request
        .messages
        .iter()
        .filter_map(Message::text)
        .map(|t| split_tokens(t).len() as u64)
        .sum()
}

fn call_id() -> String {
    let suffix: String = std::iter::repeat_with(fastrand::alphanumeric)
        .take(24)
        .collect();
    format!("call_{suffix}")
}
