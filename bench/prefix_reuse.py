"""Time to first token of a conversation's second turn, with and without prefix reuse,
through `rill serve` and the official openai SDK.

Starts two servers from the given binary: one as configured by default, one with
`RILL_ENGINE__PREFIX_CACHE_ENTRIES=0`. For each of several conversations (a long first
message, so the prefix matters) it asks turn 1, then streams turn 2 and times its first
token. Usage: python bench/prefix_reuse.py --rill target/release/rill [--conversations 5]
"""

import argparse
import os
import re
import statistics
import subprocess
import time

import openai

TOPICS = ["rivers", "mountains", "bridges", "gardens", "libraries", "harbours", "forests"]


def start(binary, env_extra):
    env = dict(os.environ, **env_extra)
    proc = subprocess.Popen([binary, "serve", "--port", "0"], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, env=env)
    for line in proc.stdout:
        match = re.search(r"listening on (http://\S+)", line)
        if match:
            return proc, match.group(1)
    raise RuntimeError("rill did not start")


def turn2_ttft(url, topic):
    client = openai.OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0)
    context = (f"Here are some notes about {topic}. " + "They matter to many people in many places. " * 60)
    messages = [{"role": "user", "content": context + f"Summarise the notes about {topic}."}]
    first = client.chat.completions.create(model="smollm2", messages=messages, max_tokens=24,
                                           temperature=0)
    messages += [{"role": "assistant", "content": first.choices[0].message.content},
                 {"role": "user", "content": "Now say it in five words."}]
    t0 = time.perf_counter()
    stream = client.chat.completions.create(model="smollm2", messages=messages, max_tokens=8,
                                            temperature=0, stream=True,
                                            stream_options={"include_usage": True})
    ttft, usage = None, None
    for chunk in stream:
        if ttft is None and chunk.choices and chunk.choices[0].delta.content:
            ttft = (time.perf_counter() - t0) * 1e3
        if chunk.usage:
            usage = chunk.usage
    cached = (usage.prompt_tokens_details.cached_tokens
              if usage and usage.prompt_tokens_details else 0)
    return ttft, usage.prompt_tokens, cached


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--rill", required=True)
    p.add_argument("--conversations", type=int, default=5)
    a = p.parse_args()
    results = {}
    for label, env in (("with prefix reuse", {}),
                       ("without", {"RILL_ENGINE__PREFIX_CACHE_ENTRIES": "0"})):
        proc, url = start(a.rill, env)
        try:
            runs = [turn2_ttft(url, TOPICS[i % len(TOPICS)]) for i in range(a.conversations)]
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        results[label] = runs
    print("| turn 2 | prompt tokens | cached tokens | TTFT median | TTFT min..max |")
    print("|---|---|---|---|---|")
    for label, runs in results.items():
        ttfts = [r[0] for r in runs]
        print(f"| {label} | {runs[0][1]} | {runs[0][2]} | {statistics.median(ttfts):.0f} ms | "
              f"{min(ttfts):.0f}..{max(ttfts):.0f} ms |")


if __name__ == "__main__":
    main()
