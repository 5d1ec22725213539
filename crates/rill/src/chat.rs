//! `rill chat` and `rill models`: a terminal client that prints the answer as it streams.

use std::io::{IsTerminal, Write};
use std::time::Instant;

use anyhow::Context;
use futures_util::StreamExt;
use rill_client::Client;
use rill_core::{ChatRequest, Message, Sampling, StreamEvent, ToolCall, ToolCallAccumulator};
use rustyline::error::ReadlineError;
use secrecy::SecretString;

use crate::cli::{ChatArgs, ClientArgs};

pub async fn models(args: ClientArgs) -> anyhow::Result<()> {
    for model in client(&args)?.models().await? {
        println!("{model}");
    }
    Ok(())
}

pub async fn chat(args: ChatArgs) -> anyhow::Result<()> {
    let client = client(&args.client)?;
    let model = match args.model.clone() {
        Some(model) => model,
        None => client
            .models()
            .await?
            .into_iter()
            .next()
            .context("the server offers no models")?,
    };
    let mut conversation = Conversation {
        model,
        sampling: sampling(&args),
        messages: Vec::new(),
    };
    if let Some(system) = &args.system {
        conversation.messages.push(Message::System {
            text: system.clone(),
        });
    }
    match args.prompt {
        Some(prompt) => {
            conversation.messages.push(Message::User { text: prompt });
            let answer = answer(&client, conversation.request()).await;
            // `answer` already reported any error where it happened in the output.
            match answer.error {
                Some(_) => std::process::exit(1),
                None if answer.interrupted => std::process::exit(130),
                None => Ok(()),
            }
        }
        None => repl(&client, conversation).await,
    }
}

fn client(args: &ClientArgs) -> anyhow::Result<Client> {
    let key = args.api_key.clone().map(SecretString::from);
    Ok(Client::new(&args.url, key)?)
}

fn sampling(args: &ChatArgs) -> Sampling {
    Sampling {
        max_tokens: args.max_tokens,
        temperature: args.temperature,
        ..Sampling::default()
    }
}

struct Conversation {
    model: String,
    sampling: Sampling,
    messages: Vec<Message>,
}

impl Conversation {
    fn request(&self) -> ChatRequest {
        ChatRequest {
            model: self.model.clone(),
            messages: self.messages.clone(),
            sampling: self.sampling.clone(),
            ..ChatRequest::default()
        }
    }
}

async fn repl(client: &Client, mut conversation: Conversation) -> anyhow::Result<()> {
    eprintln!(
        "chatting with `{}` (Ctrl-C stops an answer, Ctrl-D quits, /reset clears the conversation)",
        conversation.model
    );
    let mut editor = rustyline::DefaultEditor::new().context("cannot read the terminal")?;
    loop {
        let (returned, line) = tokio::task::spawn_blocking(move || {
            let line = editor.readline("> ");
            (editor, line)
        })
        .await?;
        editor = returned;
        let line = match line {
            Ok(line) => line,
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => return Ok(()),
            Err(error) => return Err(error).context("cannot read the terminal"),
        };
        let prompt = line.trim();
        match prompt {
            "" => continue,
            "/exit" | "/quit" => return Ok(()),
            "/reset" => {
                conversation
                    .messages
                    .retain(|m| matches!(m, Message::System { .. }));
                eprintln!("(conversation cleared)");
                continue;
            }
            _ => {}
        }
        let _ = editor.add_history_entry(prompt);
        conversation.messages.push(Message::User {
            text: prompt.to_owned(),
        });
        let answer = answer(client, conversation.request()).await;
        if answer.error.is_some() && answer.text.is_empty() && answer.tool_calls.is_empty() {
            // Nothing was said: forget the question so the next turn starts clean.
            conversation.messages.pop();
            continue;
        }
        // What the person saw is what the conversation remembers, even when cut short.
        // Chat Completions, which `rill chat` speaks, takes no reasoning back.
        conversation.messages.push(Message::Assistant {
            text: Some(answer.text),
            tool_calls: answer.tool_calls,
            reasoning: Vec::new(),
        });
    }
}

/// What one answer produced.
struct Answer {
    text: String,
    tool_calls: Vec<ToolCall>,
    interrupted: bool,
    error: Option<rill_core::Error>,
}

/// Streams one answer to stdout, flushed per delta; reasoning and statistics go to stderr.
/// Ctrl-C stops the answer: the stream is dropped, which closes the connection and makes
/// the server stop generating.
async fn answer(client: &Client, request: ChatRequest) -> Answer {
    let started = Instant::now();
    let mut out = Answer {
        text: String::new(),
        tool_calls: Vec::new(),
        interrupted: false,
        error: None,
    };
    let mut stream = tokio::select! {
        stream = client.stream_chat(&request) => match stream {
            Ok(stream) => stream,
            Err(error) => {
                eprintln!("error: {}", error.message);
                out.error = Some(error);
                return out;
            }
        },
        _ = tokio::signal::ctrl_c() => {
            out.interrupted = true;
            return out;
        }
    };
    let styled = std::io::stderr().is_terminal();
    let mut stdout = std::io::stdout().lock();
    let mut first_token: Option<Instant> = None;
    let mut deltas = 0u64;
    let mut usage = None;
    let mut tools = ToolCallAccumulator::default();
    loop {
        let event = tokio::select! {
            event = stream.next() => event,
            _ = tokio::signal::ctrl_c() => {
                out.interrupted = true;
                break;
            }
        };
        let Some(event) = event else { break };
        if event.is_content() {
            first_token.get_or_insert_with(Instant::now);
            deltas += 1;
        }
        match event {
            StreamEvent::TextDelta(text) | StreamEvent::RefusalDelta(text) => {
                let _ = stdout.write_all(text.as_bytes());
                let _ = stdout.flush();
                out.text.push_str(&text);
            }
            StreamEvent::ReasoningDelta(text) => {
                if styled {
                    eprint!("\x1b[2m{text}\x1b[0m");
                } else {
                    eprint!("{text}");
                }
            }
            StreamEvent::ToolCallEnd { index } => {
                if let Some(call) = tools.get(index) {
                    let _ = writeln!(stdout, "\n[tool call] {}({})", call.name, call.arguments);
                }
            }
            StreamEvent::ToolCallStart { .. } | StreamEvent::ToolCallDelta { .. } => {
                tools.apply(&event)
            }
            StreamEvent::Usage(u) => usage = Some(u),
            StreamEvent::Start { .. }
            | StreamEvent::ReasoningSignature(_)
            | StreamEvent::ReasoningRedacted(_)
            | StreamEvent::Finish(_) => {}
            StreamEvent::Error(error) => {
                let _ = writeln!(stdout);
                eprintln!("error: {}", error.message);
                out.error = Some(error);
                break;
            }
        }
    }
    drop(stream);
    out.tool_calls = tools.into_calls();
    let _ = writeln!(stdout);
    let _ = stdout.flush();
    let tokens = usage.map_or(deltas, |u| u.output_tokens);
    eprintln!("{}", stats(started, first_token, tokens, out.interrupted));
    out
}

fn stats(started: Instant, first_token: Option<Instant>, tokens: u64, interrupted: bool) -> String {
    let end = Instant::now();
    let mut line = String::from("[");
    if interrupted {
        line.push_str("stopped · ");
    }
    match first_token {
        Some(first) => {
            let ttft = first.duration_since(started);
            let decode = end.duration_since(first).as_secs_f64();
            line.push_str(&format!("ttft {} ms · {tokens} tokens", ttft.as_millis()));
            if tokens > 1 && decode > 0.0 {
                line.push_str(&format!(" · {:.1} tok/s", (tokens - 1) as f64 / decode));
            }
        }
        None => line.push_str("no tokens"),
    }
    line.push(']');
    line
}
