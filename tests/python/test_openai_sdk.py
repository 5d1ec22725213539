"""The official `openai` package, unmodified, against rill's Chat Completions endpoint."""

import json

import openai
import pytest

STORY = "Once upon a time, a stream of tokens flowed from a model to a person, one by one."


def test_models_list_and_retrieve(client):
    ids = [m.id for m in client.models.list()]
    assert "story" in ids and "echo" in ids
    assert client.models.retrieve("story").id == "story"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("no-such-model")


def test_streaming_text_arrives_in_many_chunks(client):
    stream = client.chat.completions.create(
        model="story", messages=[{"role": "user", "content": "tell me"}], stream=True
    )
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == STORY
    content_chunks = [c for c in chunks if c.choices and c.choices[0].delta.content]
    assert len(content_chunks) > 10
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert len({c.id for c in chunks}) == 1
    assert all(c.object == "chat.completion.chunk" for c in chunks)


def test_streaming_include_usage(client):
    stream = client.chat.completions.create(
        model="echo",
        messages=[{"role": "user", "content": "one two three"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert all(c.usage is None for c in chunks[:-1])
    last = chunks[-1]
    assert last.choices == []
    assert last.usage.prompt_tokens == 3
    assert last.usage.completion_tokens == 3
    assert last.usage.total_tokens == 6
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "one two three"


def test_non_streaming(client):
    completion = client.chat.completions.create(
        model="echo",
        messages=[
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": "hello there"},
        ],
    )
    assert completion.object == "chat.completion"
    assert completion.choices[0].message.role == "assistant"
    assert completion.choices[0].message.content == "hello there"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage.completion_tokens == 2


def test_max_tokens_finishes_with_length(client):
    completion = client.chat.completions.create(
        model="story", messages=[{"role": "user", "content": "x"}], max_tokens=3
    )
    assert completion.choices[0].message.content == "Once upon a"
    assert completion.choices[0].finish_reason == "length"


def test_streamed_parallel_tool_calls(client):
    stream = client.chat.completions.create(
        model="weather-tool",
        messages=[{"role": "user", "content": "weather in Paris?"}],
        tools=[
            {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}},
            {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object"}}},
        ],
        stream=True,
    )
    calls = {}
    finish = None
    for chunk in stream:
        if not chunk.choices:
            continue
        choice = chunk.choices[0]
        for tc in choice.delta.tool_calls or []:
            call = calls.setdefault(tc.index, {"id": None, "name": None, "arguments": ""})
            if tc.id:
                call["id"] = tc.id
            if tc.function and tc.function.name:
                call["name"] = tc.function.name
            if tc.function and tc.function.arguments:
                call["arguments"] += tc.function.arguments
        finish = choice.finish_reason or finish
    assert finish == "tool_calls"
    assert [calls[i]["name"] for i in sorted(calls)] == ["get_weather", "get_time"]
    assert json.loads(calls[0]["arguments"]) == {"city": "Paris", "unit": "celsius"}
    assert json.loads(calls[1]["arguments"]) == {"tz": "Europe/Paris"}
    assert all(c["id"].startswith("call_") for c in calls.values())


def test_non_streaming_tool_calls(client):
    completion = client.chat.completions.create(
        model="weather-tool", messages=[{"role": "user", "content": "weather?"}]
    )
    message = completion.choices[0].message
    assert completion.choices[0].finish_reason == "tool_calls"
    assert message.content == "Checking."
    assert [c.function.name for c in message.tool_calls] == ["get_weather", "get_time"]
    assert json.loads(message.tool_calls[0].function.arguments)["city"] == "Paris"


def test_tool_results_round_trip_in_a_follow_up(client):
    completion = client.chat.completions.create(
        model="echo",
        messages=[
            {"role": "user", "content": "weather?"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
            {"role": "user", "content": "thanks"},
        ],
    )
    assert completion.choices[0].message.content == "thanks"


def test_stream_helper_accumulates(client):
    with client.chat.completions.stream(
        model="story", messages=[{"role": "user", "content": "go"}]
    ) as stream:
        final = stream.get_final_completion()
    assert final.choices[0].message.content == STORY


def test_mid_stream_error_raises_after_partial_text(client):
    stream = client.chat.completions.create(
        model="flaky", messages=[{"role": "user", "content": "x"}], stream=True
    )
    text = ""
    with pytest.raises(openai.APIError) as excinfo:
        for chunk in stream:
            if chunk.choices:
                text += chunk.choices[0].delta.content or ""
    assert text == "This answer breaks off in"
    assert "scripted error" in str(excinfo.value)


def test_truncated_upstream_is_an_error_not_a_clean_end(client):
    stream = client.chat.completions.create(
        model="truncated", messages=[{"role": "user", "content": "x"}], stream=True
    )
    with pytest.raises(openai.APIError) as excinfo:
        for _ in stream:
            pass
    assert "ended before" in str(excinfo.value)


def test_bad_requests_raise_bad_request_error(client):
    with pytest.raises(openai.BadRequestError) as excinfo:
        client.chat.completions.create(model="echo", messages=[])
    assert "messages" in str(excinfo.value)
    with pytest.raises(openai.BadRequestError) as excinfo:
        client.chat.completions.create(
            model="echo", messages=[{"role": "user", "content": "x"}], temperature="hot"
        )
    assert "temperature" in str(excinfo.value)
    with pytest.raises(openai.BadRequestError) as excinfo:
        client.chat.completions.create(
            model="echo", messages=[{"role": "wizard", "content": "x"}]
        )
    assert "role" in str(excinfo.value)
    with pytest.raises(openai.BadRequestError) as excinfo:
        client.chat.completions.create(
            model="echo", messages=[{"role": "user", "content": "x"}], n=3
        )
    assert excinfo.value.body["param"] == "n"


def test_unknown_model_raises_not_found(client):
    with pytest.raises(openai.NotFoundError) as excinfo:
        client.chat.completions.create(model="gpt-nope", messages=[{"role": "user", "content": "x"}])
    assert excinfo.value.code == "model_not_found"
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(
            model="gpt-nope", messages=[{"role": "user", "content": "x"}], stream=True
        )


def test_rate_limited_upstream_raises_with_retry_after(client):
    with pytest.raises(openai.RateLimitError) as excinfo:
        client.chat.completions.create(model="overloaded", messages=[{"role": "user", "content": "x"}])
    assert excinfo.value.response.headers["retry-after"] == "1"


def test_raw_response_headers_for_streams(client):
    raw = client.chat.completions.with_raw_response.create(
        model="echo", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    assert raw.headers["content-type"] == "text/event-stream"
    assert raw.headers["cache-control"] == "no-cache"
    assert raw.headers["x-accel-buffering"] == "no"
    assert "content-encoding" not in raw.headers
    assert "".join(c.choices[0].delta.content or "" for c in raw.parse() if c.choices) == "hi"


def test_reasoning_streams_as_reasoning_content(client):
    stream = client.chat.completions.create(
        model="thinker", messages=[{"role": "user", "content": "meaning of life?"}], stream=True
    )
    reasoning, text = "", ""
    for chunk in stream:
        if not chunk.choices:
            continue
        delta = chunk.choices[0].delta
        reasoning += getattr(delta, "reasoning_content", None) or ""
        text += delta.content or ""
    assert reasoning == "The question is old; the answer is known."
    assert text == "42."
