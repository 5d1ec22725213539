"""The official `openai` package, unmodified, against rill's Responses endpoint."""

import json

import openai
import pytest

STORY = "Once upon a time, a stream of tokens flowed from a model to a person, one by one."


def test_streaming_text_with_the_stream_helper(client):
    with client.responses.stream(model="story", input="tell me") as stream:
        deltas = [e.delta for e in stream if e.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert "".join(deltas) == STORY
    assert len(deltas) > 10
    assert final.status == "completed"
    assert final.output_text == STORY
    assert final.usage.output_tokens > 10
    assert final.id.startswith("resp_")


def test_raw_events_are_numbered_and_named(client):
    events = list(client.responses.create(model="story", input="tell me", stream=True))
    assert [e.sequence_number for e in events] == list(range(len(events)))
    assert events[0].type == "response.created"
    assert events[-1].type == "response.completed"
    assert any(e.type == "response.output_text.done" and e.text == STORY for e in events)


def test_non_streaming_with_instructions_and_history(client):
    response = client.responses.create(
        model="echo",
        instructions="be brief",
        input=[
            {"role": "user", "content": "first"},
            {"role": "assistant", "content": "ok"},
            {"role": "user", "content": [{"type": "input_text", "text": "hello there"}]},
        ],
    )
    assert response.object == "response"
    assert response.output_text == "hello there"
    assert response.usage.input_tokens > 0


def test_parallel_function_calls(client):
    response = client.responses.create(
        model="weather-tool",
        input="weather in Paris?",
        tools=[
            {"type": "function", "name": "get_weather", "parameters": {"type": "object"}},
            {"type": "function", "name": "get_time", "parameters": {"type": "object"}},
        ],
    )
    calls = [item for item in response.output if item.type == "function_call"]
    assert [c.name for c in calls] == ["get_weather", "get_time"]
    assert json.loads(calls[0].arguments) == {"city": "Paris", "unit": "celsius"}
    assert calls[0].call_id and calls[0].call_id != calls[1].call_id


def test_function_call_output_turn_is_accepted(client):
    response = client.responses.create(
        model="echo",
        input=[
            {"role": "user", "content": "weather?"},
            {"type": "function_call", "call_id": "call_1", "name": "get_weather", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "call_1", "output": "sunny"},
            {"role": "user", "content": "and now?"},
        ],
    )
    assert response.output_text == "and now?"


def test_reasoning_is_a_summary_item(client):
    response = client.responses.create(model="thinker", input="why?")
    kinds = [item.type for item in response.output]
    assert kinds == ["reasoning", "message"]
    assert response.output[0].summary[0].text == "The question is old; the answer is known."
    assert response.output_text == "42."


def test_mid_stream_error_keeps_the_partial_text(client):
    text = ""
    with pytest.raises(openai.APIError):
        with client.responses.stream(model="flaky", input="go") as stream:
            for event in stream:
                if event.type == "response.output_text.delta":
                    text += event.delta
    assert text == "This answer breaks off in"


def test_errors(client):
    with pytest.raises(openai.NotFoundError):
        client.responses.create(model="no-such-model", input="hi")
    with pytest.raises(openai.RateLimitError):
        client.responses.create(model="overloaded", input="hi")
    with pytest.raises(openai.BadRequestError) as bad:
        client.responses.create(model="echo", input="hi", previous_response_id="resp_123")
    assert "previous_response_id" in str(bad.value)


def test_the_embedded_model_answers(engine_client):
    response = engine_client.responses.create(
        model="smollm2", input="What is the capital of France?", max_output_tokens=30
    )
    assert response.output_text.strip()
    assert response.status in ("completed", "incomplete")
