"""The response cache through the official SDKs, unmodified: an answer asked through
Anthropic Messages comes back from the cache to OpenAI Chat and Responses clients, and the
other way round, with its reasoning, signature, tool call and usage."""

import uuid

QUESTION = "What is the weather in Oslo?"


def question():
    # Each test asks its own question, so that it stores its own answer.
    return f"{QUESTION} ({uuid.uuid4()})"


def test_an_anthropic_answer_is_served_to_openai_clients(anthropic_client, client):
    q = question()
    raw = anthropic_client.messages.with_raw_response.create(
        model="cached", max_tokens=100, system="Be brief.",
        messages=[{"role": "user", "content": q}],
    )
    assert raw.headers["x-rill-cache"] == "miss"
    original = raw.parse()
    thinking, text, call = original.content
    assert thinking.signature == "c2lnbmVk"

    # OpenAI Chat, streaming: the same answer, from the cache.
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": q}]
    raw = client.chat.completions.with_raw_response.create(
        model="cached", max_tokens=100, messages=messages, stream=True,
        stream_options={"include_usage": True},
    )
    assert raw.headers["x-rill-cache"] == "hit"
    chunks = list(raw.parse())
    content = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    calls = [t for c in chunks if c.choices for t in (c.choices[0].delta.tool_calls or [])]
    assert content == text.text
    assert calls[0].id == call.id and calls[0].function.name == "get_weather"
    arguments = "".join(t.function.arguments or "" for t in calls)
    assert arguments == '{"city":"Oslo"}'
    usage = chunks[-1].usage
    assert (usage.prompt_tokens, usage.completion_tokens) == (
        original.usage.input_tokens, original.usage.output_tokens)

    # OpenAI Responses, not streaming: reasoning, text and the call.
    raw = client.responses.with_raw_response.create(
        model="cached", max_output_tokens=100, instructions="Be brief.",
        input=[{"role": "user", "content": q}],
    )
    assert raw.headers["x-rill-cache"] == "hit"
    response = raw.parse()
    assert response.output_text == text.text
    (function_call,) = [item for item in response.output if item.type == "function_call"]
    assert function_call.call_id == call.id and function_call.arguments == '{"city":"Oslo"}'
    assert response.usage.output_tokens == original.usage.output_tokens


def test_an_openai_answer_is_served_to_anthropic_and_no_cache_skips_it(anthropic_client, client):
    q = question()
    messages = [{"role": "user", "content": q}]
    raw = client.chat.completions.with_raw_response.create(
        model="cached", max_tokens=100, messages=messages)
    assert raw.headers["x-rill-cache"] == "miss"
    original = raw.parse()
    # Asking for thinking changes how the answer is shown, not the question.
    with anthropic_client.messages.stream(
        model="cached", max_tokens=100, messages=messages,
        thinking={"type": "enabled", "budget_tokens": 1024},
    ) as stream:
        assert stream.response.headers["x-rill-cache"] == "hit"
        final = stream.get_final_message()
    assert final.content[0].thinking == "The user wants the weather."
    assert final.content[0].signature == "c2lnbmVk"
    assert final.content[1].text == original.choices[0].message.content
    assert final.content[2].id == original.choices[0].message.tool_calls[0].id
    fresh = client.chat.completions.with_raw_response.create(
        model="cached", max_tokens=100, messages=messages,
        extra_headers={"cache-control": "no-cache"})
    assert fresh.headers["x-rill-cache"] == "bypass"
    assert fresh.parse().choices[0].message.tool_calls[0].id != (
        original.choices[0].message.tool_calls[0].id)
