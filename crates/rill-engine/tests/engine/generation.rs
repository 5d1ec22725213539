//! Whole generations through the engine's `Provider`: the real model, end to end.

use std::sync::atomic::Ordering;
use std::time::Duration;

use futures_util::StreamExt;
use rill_core::{ErrorKind, FinishReason, Message, Provider, Sampling, StreamEvent, Tool};
use rill_engine::{Engine, RuntimeConfig};

use super::support::*;

#[tokio::test]
async fn answers_a_question_sensibly_and_reports_usage() {
    let events = run(
        engine(),
        ask(user("What is the capital of France?"), greedy(40)),
    )
    .await;
    assert!(matches!(&events[0], StreamEvent::Start { model } if model == "smollm2"));
    let answer = text(&events);
    assert!(answer.contains("Paris"), "{answer}");
    let usage = usage(&events);
    assert!(usage.input_tokens > 20, "{usage:?}");
    assert!(usage.output_tokens > 0 && usage.output_tokens <= 40);
    assert!(matches!(
        events.last(),
        Some(StreamEvent::Finish(
            FinishReason::Stop | FinishReason::Length
        ))
    ));
}

#[tokio::test]
async fn max_tokens_ends_with_length() {
    let events = run(
        engine(),
        ask(user("Write a long story about a dragon."), greedy(5)),
    )
    .await;
    let usage = usage(&events);
    assert_eq!(usage.output_tokens, 5);
    assert_eq!(
        events.last(),
        Some(&StreamEvent::Finish(FinishReason::Length))
    );
}

#[tokio::test]
async fn same_seed_same_answer() {
    let sampling = |seed| Sampling {
        temperature: Some(0.9),
        seed: Some(seed),
        max_tokens: Some(24),
        ..Sampling::default()
    };
    let prompt = "Name three colours.";
    let a = text(&run(engine(), ask(user(prompt), sampling(11))).await);
    let b = text(&run(engine(), ask(user(prompt), sampling(11))).await);
    assert_eq!(a, b);
    let others: Vec<String> =
        futures_util::future::join_all((12..16).map(|seed| async move {
            text(&run(engine(), ask(user(prompt), sampling(seed))).await)
        }))
        .await;
    assert!(
        others.iter().any(|o| *o != a),
        "different seeds gave the same answer every time: {a}"
    );
}

#[tokio::test]
async fn stop_sequence_cuts_before_it_and_never_leaks_it() {
    let prompt = "What is the capital of France?";
    let full = text(&run(engine(), ask(user(prompt), greedy(40))).await);
    let at = full.find("Paris").expect("the greedy answer names Paris");
    let mut sampling = greedy(40);
    sampling.stop = vec!["Paris".into()];
    let events = run(engine(), ask(user(prompt), sampling)).await;
    assert_eq!(text(&events), full[..at]);
    assert_eq!(
        events.last(),
        Some(&StreamEvent::Finish(FinishReason::StopSequence))
    );
}

#[tokio::test]
async fn text_deltas_are_always_whole_utf8() {
    let events = run(
        engine(),
        ask(
            user("Écris une phrase en français avec des accents, puis un emoji 🎉."),
            greedy(40),
        ),
    )
    .await;
    for event in &events {
        if let StreamEvent::TextDelta(t) = event {
            assert!(!t.contains('\u{fffd}'), "broken UTF-8 in {t:?}");
        }
    }
    assert!(!text(&events).is_empty());
}

#[tokio::test]
async fn tools_and_json_formats_are_refused_clearly() {
    let mut request = ask(user("hi"), greedy(4));
    request.tools = vec![Tool {
        name: "f".into(),
        description: None,
        parameters: serde_json::json!({}),
    }];
    let Err(error) = engine().start(request).await else {
        panic!("tools must be refused")
    };
    assert_eq!(
        (error.kind, error.param.as_deref()),
        (ErrorKind::InvalidRequest, Some("tools"))
    );
}

#[tokio::test]
async fn a_conversation_longer_than_the_context_is_refused() {
    let long = "word ".repeat(9000);
    let Err(error) = engine().start(ask(user(&long), greedy(4))).await else {
        panic!("must not fit")
    };
    assert_eq!(error.code.as_deref(), Some("context_length_exceeded"));
}

/// Dropping the stream stops generation within a token or two.
#[tokio::test]
async fn dropping_the_stream_stops_generation() {
    let engine = Engine::load(&model_path(), "smollm2", RuntimeConfig::default()).unwrap();
    let mut stream = engine
        .start(ask(user("Count from one to one thousand."), greedy(2000)))
        .await
        .unwrap();
    let mut seen = 0;
    while seen < 5 {
        if let Some(StreamEvent::TextDelta(_)) = stream.next().await {
            seen += 1;
        }
    }
    drop(stream);
    let stats = engine.stats();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while stats.running.load(Ordering::Relaxed) > 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the engine kept generating"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let generated = stats.generated_tokens.load(Ordering::Relaxed);
    assert!(
        generated <= 8,
        "generated {generated} tokens for a reader that took 5"
    );
    assert_eq!(stats.cancelled.load(Ordering::Relaxed), 1);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        stats.generated_tokens.load(Ordering::Relaxed),
        generated,
        "nothing runs after the stop"
    );
}

#[tokio::test]
async fn a_full_queue_is_refused_with_retry_after() {
    let config = RuntimeConfig {
        queue_capacity: 1,
        max_batch: 1,
        prefix_cache_entries: 0,
    };
    let engine = Engine::load(&model_path(), "smollm2", config).unwrap();
    let long = || ask(user("Tell me a very long story."), greedy(500));
    let mut first = engine.start(long()).await.unwrap();
    assert!(
        matches!(first.next().await, Some(StreamEvent::Start { .. })),
        "the first request runs"
    );
    let _second = engine
        .start(long())
        .await
        .expect("the second waits in the queue");
    let Err(error) = engine.start(long()).await else {
        panic!("the third must be refused")
    };
    assert_eq!(error.kind, ErrorKind::RateLimited);
    assert_eq!(error.status_code(), 429);
    assert!(error.retry_after.is_some());
    assert!(error.message.contains("overloaded"), "{}", error.message);
}

/// Concurrent requests are decoded together and each gets its own, complete answer.
#[tokio::test]
async fn concurrent_requests_each_get_the_answer_they_get_alone() {
    let prompts = ["What is 2+2?", "Name a fruit.", "What colour is the sky?"];
    let mut alone = Vec::new();
    for prompt in prompts {
        alone.push(text(&run(engine(), ask(user(prompt), greedy(12))).await));
    }
    let together = futures_util::future::join_all(
        prompts
            .iter()
            .map(|p| async move { text(&run(engine(), ask(user(p), greedy(12))).await) }),
    )
    .await;
    for ((prompt, a), t) in prompts.iter().zip(&alone).zip(&together) {
        // Batched float sums may differ in the last bits; the start must agree.
        let n = a.chars().count().min(t.chars().count()).min(16);
        let prefix: String = a.chars().take(n).collect();
        assert!(
            t.starts_with(&prefix),
            "{prompt}: alone {a:?}, together {t:?}"
        );
    }
}

/// A follow-up turn reuses the KV cache of the turn before instead of recomputing it.
#[tokio::test]
async fn follow_up_turns_reuse_the_prefix() {
    let engine = Engine::load(&model_path(), "smollm2", RuntimeConfig::default()).unwrap();
    let mut messages = user("What is the capital of France?");
    let first = run(&engine, ask(messages.clone(), greedy(16))).await;
    let first_usage = usage(&first);
    assert_eq!(first_usage.cached_input_tokens, Some(0));
    messages.push(Message::Assistant {
        text: Some(text(&first)),
        tool_calls: vec![],
        reasoning: vec![],
    });
    messages.push(Message::User {
        text: "And of Germany?".into(),
    });
    let second = run(&engine, ask(messages, greedy(16))).await;
    let usage = usage(&second);
    let reused = usage.cached_input_tokens.unwrap();
    assert!(
        reused >= first_usage.input_tokens,
        "reused {reused} of {} ({usage:?})",
        usage.input_tokens
    );
    assert!(reused < usage.input_tokens);
    assert!(!text(&second).is_empty());
}
