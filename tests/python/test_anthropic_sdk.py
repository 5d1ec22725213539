"""The official `anthropic` package, unmodified, against rill's Messages endpoint."""

import json
import urllib.error
import urllib.request

import anthropic
import pytest

STORY = "Once upon a time, a stream of tokens flowed from a model to a person, one by one."
USER = [{"role": "user", "content": "tell me"}]


def test_streaming_text_arrives_in_many_events(anthropic_client):
    with anthropic_client.messages.stream(model="story", max_tokens=200, messages=USER) as stream:
        pieces = list(stream.text_stream)
        final = stream.get_final_message()
    assert "".join(pieces) == STORY
    assert len(pieces) > 10
    assert final.stop_reason == "end_turn"
    assert final.content[0].type == "text" and final.content[0].text == STORY
    assert final.usage.output_tokens > 10
    assert final.id.startswith("msg_")
    assert final.model == "story"


def test_raw_events_are_named_and_in_order(anthropic_client):
    events = list(
        anthropic_client.messages.create(model="story", max_tokens=200, messages=USER, stream=True)
    )
    types = [e.type for e in events]
    assert types[0] == "message_start"
    assert types[1] == "content_block_start"
    assert types[-2:] == ["message_delta", "message_stop"]
    assert "content_block_stop" in types
    assert events[-2].delta.stop_reason == "end_turn"


def test_non_streaming(anthropic_client):
    message = anthropic_client.messages.create(
        model="echo",
        max_tokens=50,
        system="be brief",
        messages=[{"role": "user", "content": "hello there"}],
    )
    assert message.type == "message" and message.role == "assistant"
    assert message.content[0].text == "hello there"
    assert message.stop_reason == "end_turn"
    assert message.usage.input_tokens > 0 and message.usage.output_tokens == 2


def test_parallel_tool_use(anthropic_client):
    with anthropic_client.messages.stream(
        model="weather-tool",
        max_tokens=200,
        messages=[{"role": "user", "content": "weather in Paris?"}],
        tools=[
            {"name": "get_weather", "input_schema": {"type": "object"}},
            {"name": "get_time", "input_schema": {"type": "object"}},
        ],
    ) as stream:
        final = stream.get_final_message()
    assert final.stop_reason == "tool_use"
    kinds = [block.type for block in final.content]
    assert kinds == ["text", "tool_use", "tool_use"]
    weather, time = final.content[1], final.content[2]
    assert weather.name == "get_weather"
    assert weather.input == {"city": "Paris", "unit": "celsius"}
    assert time.input == {"tz": "Europe/Paris"}
    assert weather.id and time.id and weather.id != time.id


def test_a_tool_result_turn_is_accepted(anthropic_client):
    message = anthropic_client.messages.create(
        model="echo",
        max_tokens=50,
        messages=[
            {"role": "user", "content": "weather?"},
            {
                "role": "assistant",
                "content": [
                    {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}}
                ],
            },
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": "toolu_1", "content": "sunny"},
                    {"type": "text", "text": "and now?"},
                ],
            },
        ],
    )
    assert message.content[0].text == "and now?"


def test_thinking_is_shown_only_when_asked_for(anthropic_client):
    plain = anthropic_client.messages.create(model="thinker", max_tokens=100, messages=USER)
    assert [b.type for b in plain.content] == ["text"]
    thought = anthropic_client.messages.create(
        model="thinker",
        max_tokens=2000,
        thinking={"type": "enabled", "budget_tokens": 1024},
        messages=USER,
    )
    assert [b.type for b in thought.content] == ["thinking", "text"]
    assert thought.content[0].thinking == "The question is old; the answer is known."
    assert thought.content[1].text == "42."


def test_mid_stream_error_keeps_the_partial_text(anthropic_client):
    pieces = []
    with pytest.raises(anthropic.APIStatusError) as raised:
        with anthropic_client.messages.stream(model="flaky", max_tokens=100, messages=USER) as stream:
            for text in stream.text_stream:
                pieces.append(text)
    assert "".join(pieces) == "This answer breaks off in"
    assert raised.value.body["error"]["type"]


def test_truncated_stream_is_an_error(anthropic_client):
    with pytest.raises(anthropic.APIStatusError):
        with anthropic_client.messages.stream(model="truncated", max_tokens=100, messages=USER) as stream:
            for _ in stream.text_stream:
                pass


def test_errors_are_anthropic_shaped(anthropic_client):
    with pytest.raises(anthropic.NotFoundError) as missing:
        anthropic_client.messages.create(model="no-such-model", max_tokens=10, messages=USER)
    assert missing.value.body["type"] == "error"
    assert missing.value.body["error"]["type"] == "not_found_error"
    with pytest.raises(anthropic.RateLimitError) as limited:
        anthropic_client.messages.create(model="overloaded", max_tokens=10, messages=USER)
    assert limited.value.response.headers["retry-after"]
    with pytest.raises(anthropic.BadRequestError) as bad:
        anthropic_client.messages.create(model="echo", max_tokens=10, messages=[])
    assert bad.value.body["error"]["type"] == "invalid_request_error"
    assert "messages" in bad.value.body["error"]["message"]


def test_missing_max_tokens_names_the_field(rill_url):
    request = urllib.request.Request(
        f"{rill_url}/v1/messages",
        data=json.dumps({"model": "echo", "messages": USER}).encode(),
        headers={"content-type": "application/json", "anthropic-version": "2023-06-01"},
    )
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request)
    assert raised.value.code == 400
    body = json.loads(raised.value.read())
    assert body["type"] == "error"
    assert "max_tokens" in body["error"]["message"]


def test_the_embedded_model_answers(anthropic_engine):
    with anthropic_engine.messages.stream(
        model="smollm2",
        max_tokens=40,
        messages=[{"role": "user", "content": "What is the capital of France? One word."}],
    ) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text.strip()
    assert final.usage.input_tokens > 10
    assert final.stop_reason in ("end_turn", "max_tokens")
