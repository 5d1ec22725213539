"""rill in front of a server nobody here wrote: llama.cpp's OpenAI-compatible server
(llama-cpp-python[server], the same GGUF rill embeds), streamed through rill by the
official SDKs in each client dialect rill speaks.

Usage (bench/run sets up bench/.venv with llama-cpp-python; add its server extras; the
UI message stream is read by the `ai` package installed in tests/conformance):
    bench/.venv/bin/pip install "llama-cpp-python[server]==0.3.36" anthropic==2.14.0
    (cd tests/conformance && npm ci)
    bench/.venv/bin/python scripts/llama-cpp-upstream.py --rill target/debug/rill

Everything listens on loopback ports picked at random. Exits non-zero on any failure.
"""

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import anthropic
import openai


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_llama(model, port):
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", model, "--host", "127.0.0.1",
         "--port", str(port), "--n_threads", "2", "--n_ctx", "2048", "--model_alias", "smollm2-q4"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models", timeout=1)
            return proc
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError("llama.cpp's server did not start")


def start_rill(binary, config):
    proc = subprocess.Popen([binary, "serve", "--config", config, "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    for line in proc.stdout:
        match = re.search(r"listening on (http://\S+)", line)
        if match:
            return proc, match.group(1)
    raise RuntimeError("rill did not start")


def check(label, text, ttft, usage, finish):
    ok = bool(text.strip()) and finish is not None
    print(f"{label}: ttft {ttft * 1e3:.0f} ms, finish {finish}, usage {usage}")
    print(f"    {text.strip()[:160]!r}")
    if not ok:
        raise SystemExit(f"{label} failed")


def via_openai(url):
    client = openai.OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0)
    t0 = time.perf_counter()
    ttft, text, finish, usage = None, "", None, None
    for chunk in client.chat.completions.create(
            model="llama", messages=[{"role": "user", "content": "Explain HTTP in 30 words."}],
            max_tokens=60, stream=True, stream_options={"include_usage": True}):
        if chunk.choices and chunk.choices[0].delta.content:
            ttft = ttft or time.perf_counter() - t0
            text += chunk.choices[0].delta.content
        if chunk.choices and chunk.choices[0].finish_reason:
            finish = chunk.choices[0].finish_reason
        usage = chunk.usage or usage
    check("openai chat through rill", text, ttft, usage, finish)


def via_anthropic(url):
    client = anthropic.Anthropic(base_url=url, api_key="unused", max_retries=0)
    t0 = time.perf_counter()
    ttft, text = None, ""
    with client.messages.stream(model="llama", max_tokens=60,
                                messages=[{"role": "user", "content": "Name three colours."}]) as stream:
        for piece in stream.text_stream:
            ttft = ttft or time.perf_counter() - t0
            text += piece
        final = stream.get_final_message()
    # llama-cpp-python's server ignores `stream_options.include_usage`: rill has no
    # counts to pass on, and reports zeros.
    check("anthropic messages through rill", text, ttft, final.usage, final.stop_reason)


def via_responses(url):
    client = openai.OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0)
    t0 = time.perf_counter()
    ttft, text, final = None, "", None
    with client.responses.stream(model="llama", input="Name three fruits.",
                                 max_output_tokens=60) as stream:
        for event in stream:
            if event.type == "response.output_text.delta":
                ttft = ttft or time.perf_counter() - t0
                text += event.delta
            if event.type in ("response.completed", "response.incomplete"):
                final = event.response
    finish = final and (final.incomplete_details.reason if final.incomplete_details else final.status)
    check("openai responses through rill", text, ttft, final and final.usage, finish)


def via_ui(url):
    """The `ai` package's own transport and reader (tests/conformance, after npm ci there)."""
    reader = os.path.join(os.path.dirname(__file__), "..", "tests", "conformance", "ui_reader.mjs")
    t0 = time.perf_counter()
    out = subprocess.run(["node", reader, url, "llama"], check=True, capture_output=True,
                         text=True, timeout=120).stdout
    for line in out.splitlines():
        result = json.loads(line)
        if result["errors"]:
            raise SystemExit(f"ai ({result['version']}) failed: {result['errors']}")
        text = "".join(p["text"] for p in result["parts"] if p["type"] == "text")
        metadata = result["metadata"] or {}
        # The reader gives whole messages: this is the time to the whole answer.
        check(f"ai {result['version']} UI message stream through rill", text,
              time.perf_counter() - t0, metadata.get("usage"), metadata.get("finishReason"))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--rill", default="target/debug/rill")
    a = p.parse_args()
    model = subprocess.run([a.rill, "fetch"], check=True, capture_output=True, text=True).stdout.strip()
    port = free_port()
    llama = start_llama(model, port)
    with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as config:
        config.write(f'[[models]]\nname = "llama"\nprovider = "openai"\n'
                     f'base_url = "http://127.0.0.1:{port}/v1"\nmodel = "smollm2-q4"\n')
    rill, url = start_rill(a.rill, config.name)
    try:
        via_openai(url)
        via_anthropic(url)
        via_responses(url)
        via_ui(url)
    finally:
        rill.terminate()
        llama.terminate()
        rill.wait(timeout=30)
        llama.wait(timeout=30)
        os.unlink(config.name)
    print("llama.cpp upstream: all dialects ok")


if __name__ == "__main__":
    main()
