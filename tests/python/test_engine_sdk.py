"""The official `openai` package against rill's embedded model (no configuration)."""

import openai
import pytest


def test_default_model_is_listed(engine_client):
    assert [m.id for m in engine_client.models.list()] == ["smollm2"]


def test_streams_a_sensible_answer_with_usage(engine_client):
    stream = engine_client.chat.completions.create(
        model="smollm2",
        messages=[{"role": "user", "content": "What is the capital of France?"}],
        stream=True,
        stream_options={"include_usage": True},
        temperature=0,
        max_tokens=40,
    )
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert "Paris" in text
    content_chunks = [c for c in chunks if c.choices and c.choices[0].delta.content]
    assert len(content_chunks) > 3
    usage = chunks[-1].usage
    assert usage.prompt_tokens > 20
    assert 0 < usage.completion_tokens <= 40
    finish = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finish in (["stop"], ["length"])


def test_non_streaming_and_max_tokens(engine_client):
    completion = engine_client.chat.completions.create(
        model="smollm2",
        messages=[{"role": "user", "content": "Write a long poem about the sea."}],
        max_tokens=8,
        temperature=0,
    )
    assert completion.choices[0].finish_reason == "length"
    assert completion.usage.completion_tokens == 8
    assert completion.choices[0].message.content


def test_same_seed_same_answer(engine_client):
    def ask():
        return engine_client.chat.completions.create(
            model="smollm2",
            messages=[{"role": "user", "content": "Name an animal."}],
            temperature=0.9,
            seed=1234,
            max_tokens=16,
        ).choices[0].message.content

    assert ask() == ask()


def test_tools_are_refused_with_bad_request(engine_client):
    with pytest.raises(openai.BadRequestError) as excinfo:
        engine_client.chat.completions.create(
            model="smollm2",
            messages=[{"role": "user", "content": "weather?"}],
            tools=[{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}],
        )
    assert excinfo.value.body["param"] == "tools"


def test_unknown_model_is_not_found(engine_client):
    with pytest.raises(openai.NotFoundError):
        engine_client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
