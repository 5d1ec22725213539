"""The conformance matrix: every recorded or written upstream stream, replayed by an
upstream of its own dialect, out through every client dialect rill serves, read by the
official clients.

- Upstreams: each case of `tests/conformance/cases.json` is a stream file (the SDKs'
  recordings in `tests/fixtures/`, and streams written from the dialect docs in
  `crates/rill-wire/tests/fixtures/`) and the provider kind that speaks its dialect. A
  loopback replay server answers each model's request with that file's bytes, in pieces
  of 1 to 40 bytes, so every decoder sees events split anywhere.
- Clients: `openai` (Chat Completions through its stream helper, Responses through its
  stream helper), `anthropic` (Messages through its stream helper, thinking enabled), and
  the `ai` package's `DefaultChatTransport` + `readUIMessageStream` (both the strict
  5.0.0 and the newest pinned version) for the UI message stream.
- Each client's reading is brought to one shape (text, reasoning, reasoning signatures,
  refusal, tool calls with parsed arguments, finish reason, usage, error) and must equal the case's
  `expect`, as far as the dialect can carry it (`project` says where it cannot, and why).

`expect` was read from each stream file independently of rill, following the dialects'
documentation, and is kept as literals.
"""

import json
import os
import random
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jiter
import pytest

from conftest import ROOT, start_rill

HERE = ROOT / "tests" / "conformance"
CASES = json.loads((HERE / "cases.json").read_text())
DIALECTS = ["chat", "responses", "messages", "ui"]
UI_VERSIONS = ["ai-5.0.0", "ai-6.0.326"]

MEDIA_TYPES = {".sse": "text/event-stream", ".ndjson": "application/x-ndjson"}


class Replay(BaseHTTPRequestHandler):
    """`/replay/<provider>/<name>/...`: the case's stream, whatever the rest of the path
    (each provider appends its own), with the request body kept for the tests."""

    protocol_version = "HTTP/1.1"
    seen: dict = {}

    def do_POST(self):
        parts = self.path.split("/")
        case_id = f"{parts[2]}/{parts[3]}"
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        Replay.seen.setdefault(case_id, []).append(
            {"path": self.path, "body": json.loads(body)}
        )
        case = next(c for c in CASES if c["id"] == case_id)
        path = ROOT / case["fixture"]
        data = path.read_bytes()
        self.send_response(200)
        self.send_header("content-type", MEDIA_TYPES[path.suffix])
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        rng = random.Random(case_id)
        at = 0
        while at < len(data):
            piece = data[at : at + rng.randint(1, 40)]
            at += len(piece)
            self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def log_message(self, *args):
        pass


def model_config(case, upstream):
    base = f"{upstream}/replay/{case['id']}"
    lines = [
        "[[models]]",
        f'name = "{case["id"]}"',
        f'provider = "{case["provider"]}"',
        f'base_url = "{base}"',
    ]
    if case["provider"] == "gemini":
        lines.append('model = "gemini-2.5-flash"')
    return "\n".join(lines)


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Replay)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    upstream = f"http://127.0.0.1:{server.server_address[1]}"
    config = tmp_path_factory.mktemp("conformance") / "rill.toml"
    config.write_text("\n\n".join(model_config(c, upstream) for c in CASES) + "\n")
    proc, url = start_rill(config)
    yield url
    proc.terminate()
    proc.wait(timeout=30)
    server.shutdown()


@pytest.fixture(scope="module")
def ui_readings(gateway):
    """Every case read by each pinned `ai` version, in one node process."""
    out = subprocess.run(
        ["node", str(HERE / "ui_reader.mjs"), gateway, *[c["id"] for c in CASES]],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    ).stdout
    readings = [json.loads(line) for line in out.splitlines()]
    return {(r["version"], r["model"]): r for r in readings}


# ---- one shape for every reading -------------------------------------------------------


def reading(
    text="", reasoning="", signatures=(), refusal="", tool_calls=(), finish=None, usage=None, error=False
):
    return {
        "text": text,
        "reasoning": reasoning,
        "signatures": list(signatures),
        "refusal": refusal,
        "tool_calls": list(tool_calls),
        "finish": finish,
        "usage": usage,
        "error": error,
    }


def call_from_text(name, arguments):
    """A call whose dialect carries its arguments as text: the parsed value, or the
    text itself when it is not whole JSON (a call cut off by the length limit)."""
    if not arguments.strip():
        return {"name": name, "input": {}}
    try:
        return {"name": name, "input": json.loads(arguments)}
    except ValueError:
        return {"name": name, "partial": arguments}


def usage_of(input, output, reasoning, cached):
    return {"input": input, "output": output, "reasoning": reasoning, "cached": cached}


def read_chat(url, model):
    import openai

    client = openai.OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0)
    error = False
    with client.chat.completions.stream(
        model=model,
        messages=[{"role": "user", "content": "hi"}],
        stream_options={"include_usage": True},
    ) as stream:
        try:
            for _ in stream:
                pass
        except openai.APIError:
            error = True
        # The helper's accumulated completion (`get_final_completion` is the same, but
        # refuses answers cut off by the length limit).
        completion = stream.current_completion_snapshot
    choice = completion.choices[0] if completion.choices else None
    message = choice.message if choice else None
    extra = (message.model_extra or {}) if message else {}
    u = completion.usage
    return reading(
        text=(message.content or "") if message else "",
        reasoning=extra.get("reasoning_content") or "",
        refusal=(message.refusal or "") if message else "",
        tool_calls=[
            call_from_text(c.function.name, c.function.arguments)
            for c in ((message.tool_calls or []) if message else [])
        ],
        finish=None if error or not choice else choice.finish_reason,
        usage=u
        and usage_of(
            u.prompt_tokens,
            u.completion_tokens,
            u.completion_tokens_details and u.completion_tokens_details.reasoning_tokens,
            u.prompt_tokens_details and u.prompt_tokens_details.cached_tokens,
        ),
        error=error,
    )


def read_responses(url, model):
    import openai

    client = openai.OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0)
    error = False
    streamed_text = ""
    response = None
    with client.responses.stream(model=model, input="hi") as stream:
        try:
            for event in stream:
                if event.type == "response.output_text.delta":
                    streamed_text += event.delta
                # The terminal event's Response object (`get_final_response` only knows
                # `response.completed`, not `response.incomplete`).
                if event.type in ("response.completed", "response.incomplete"):
                    response = event.response
        except openai.APIError:
            error = True
    if response is None:
        return reading(text=streamed_text, error=error)
    text = refusal = reasoning = ""
    calls, signatures = [], []
    for item in response.output:
        if item.type == "message":
            for part in item.content:
                if part.type == "output_text":
                    text += part.text
                elif part.type == "refusal":
                    refusal += part.refusal
        elif item.type == "reasoning":
            reasoning += "\n\n".join(s.text for s in item.summary)
            if item.encrypted_content:
                signatures.append(item.encrypted_content)
        elif item.type == "function_call":
            calls.append(call_from_text(item.name, item.arguments))
    if response.status == "completed":
        finish = "tool_calls" if calls else "stop"
    elif response.status == "incomplete":
        reason = response.incomplete_details and response.incomplete_details.reason
        finish = "content_filter" if reason == "content_filter" else "length"
    else:
        finish = None
    u = response.usage
    return reading(
        text=text,
        reasoning=reasoning,
        signatures=signatures,
        refusal=refusal,
        tool_calls=calls,
        finish=finish,
        usage=u
        and usage_of(
            u.input_tokens,
            u.output_tokens,
            u.output_tokens_details.reasoning_tokens,
            u.input_tokens_details.cached_tokens,
        ),
        error=error,
    )


ANTHROPIC_FINISH = {
    "end_turn": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
    "stop_sequence": "stop_sequence",
}


def read_messages(url, model):
    import anthropic

    client = anthropic.Anthropic(base_url=url, api_key="unused", max_retries=0)
    error = False
    with client.messages.stream(
        model=model,
        max_tokens=4096,
        thinking={"type": "enabled", "budget_tokens": 2048},
        messages=[{"role": "user", "content": "hi"}],
    ) as stream:
        try:
            for _ in stream:
                pass
            message = stream.get_final_message()
        except anthropic.APIError:
            error = True
            message = stream.current_message_snapshot
    text = reasoning = ""
    calls, signatures = [], []
    for block in message.content:
        if block.type == "text":
            text += block.text
        elif block.type == "thinking":
            reasoning += block.thinking
            if block.signature:
                signatures.append(block.signature)
        elif block.type == "tool_use":
            calls.append({"name": block.name, "input": block.input})
    u = message.usage
    cached = u.cache_read_input_tokens
    return reading(
        text=text,
        reasoning=reasoning,
        signatures=signatures,
        tool_calls=calls,
        finish=None if error else ANTHROPIC_FINISH.get(message.stop_reason),
        usage=None
        if error
        else usage_of(
            u.input_tokens + (cached or 0) + (u.cache_creation_input_tokens or 0),
            u.output_tokens,
            None,
            cached,
        ),
        error=error,
    )


UI_FINISH = {"stop": "stop", "length": "length", "tool-calls": "tool_calls", "content-filter": "content_filter"}


def read_ui(result):
    text = reasoning = ""
    calls, signatures = [], []
    for part in result["parts"]:
        kind = part["type"]
        if kind == "text":
            text += part["text"]
        elif kind == "reasoning":
            reasoning += part["text"]
            signature = ((part.get("providerMetadata") or {}).get("rill") or {}).get("signature")
            if signature:
                signatures.append(signature)
        elif kind.startswith("tool-") or kind == "dynamic-tool":
            name = part.get("toolName") or kind[len("tool-") :]
            if part["state"] == "output-error":
                calls.append({"name": name, "error": True})
            else:
                calls.append({"name": name, "input": part.get("input")})
    metadata = result["metadata"] or {}
    u = metadata.get("usage")
    return reading(
        text=text,
        reasoning=reasoning,
        signatures=signatures,
        tool_calls=calls,
        finish=UI_FINISH.get(metadata.get("finishReason")),
        usage=u
        and usage_of(
            u["inputTokens"], u["outputTokens"], u.get("reasoningTokens"), u.get("cachedInputTokens")
        ),
        error=bool(result["errors"]),
    )


# ---- what each dialect can carry -------------------------------------------------------


def project(expect, dialect):
    """`expect` as `dialect` can show it."""
    e = json.loads(json.dumps(expect))
    calls = []
    for call in e["tool_calls"]:
        if "partial" in call and dialect == "messages":
            # Anthropic's SDK parses a cut-off `input_json_delta` itself, in jiter's
            # partial mode (`from_json(partial_mode=True)`).
            call = {"name": call["name"], "input": jiter.from_json(call["partial"].encode(), partial_mode=True)}
        elif "partial" in call and dialect == "ui":
            # Arguments that are not JSON cannot be `tool-input-available`: rill sends
            # `tool-output-error` for the call.
            call = {"name": call["name"], "error": True}
        calls.append(call)
    e["tool_calls"] = calls
    if dialect == "chat":
        # Chat Completions has no field for reasoning signatures.
        e["signatures"] = []
    if dialect != "messages" and e["finish"] == "stop_sequence":
        # Only Messages tells a stop sequence from a natural stop.
        e["finish"] = "stop"
    if dialect == "messages" and e["refusal"] and e["finish"] == "stop":
        # Messages tells a refusal by its stop reason alone.
        e["finish"] = "content_filter"
    if dialect in ("messages", "ui"):
        # Neither has a place for refusal text apart from the answer.
        e["text"] += e["refusal"]
        e["refusal"] = ""
    usage = e["usage"]
    if usage is not None:
        if dialect == "messages":
            # Messages has no reasoning-token count.
            usage["reasoning"] = None
        if dialect == "responses":
            # The Response object's usage always has both details.
            usage["reasoning"] = usage["reasoning"] or 0
            usage["cached"] = usage["cached"] or 0
    if e["error"]:
        # A stream that failed has no finish; the partial answer is kept.
        e["finish"] = None
        e["usage"] = None
    return e


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_matrix(gateway, ui_readings, case, dialect):
    expected = project(case["expect"], dialect)
    if dialect == "ui":
        for version in UI_VERSIONS:
            got = read_ui(ui_readings[(version, case["id"])])
            assert got == expected, version
        return
    reader = {"chat": read_chat, "responses": read_responses, "messages": read_messages}[dialect]
    assert reader(gateway, case["id"]) == expected


def test_every_upstream_was_asked_for_usage(gateway, ui_readings):
    """OpenAI-compatible servers only report usage when asked; rill always asks, whatever
    the client asked."""
    for dialect in DIALECTS:
        if dialect != "ui":
            reader = {"chat": read_chat, "responses": read_responses, "messages": read_messages}[dialect]
            reader(gateway, "openai/text_with_usage")
    bodies = [seen["body"] for seen in Replay.seen["openai/text_with_usage"]]
    assert len(bodies) >= 3 + len(UI_VERSIONS)
    for body in bodies:
        assert body["stream"] is True
        assert body["stream_options"] == {"include_usage": True}
