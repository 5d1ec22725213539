"""rill's embedded engine against llama.cpp, in one run: same GGUF, same token ids,
same thread count, greedy. Prints time to first token (prefill + first token) and
decode tokens/s, medians, and the ratios rill / llama.cpp.

Usage: python bench/engine.py --model PATH --rill target/release/examples/engine_speed
       [--threads 2] [--tokens 200] [--runs 3] [--long 512]
(`bench/run engine` sets everything up and calls this.)
"""

import argparse
import re
import statistics
import subprocess
import time

# The default system prompt + "Write a haiku about the sea." in ChatML, as llama.cpp
# tokenizes it; the same ids `engine_speed` uses.
PROMPT = [1, 9690, 198, 2683, 359, 253, 5356, 5646, 11173, 3365, 3511, 308, 34519, 28, 7018, 411, 407,
          19712, 8182, 2, 198, 1, 4093, 198, 19161, 253, 421, 30614, 563, 260, 3426, 30, 2, 198, 1, 520,
          9531, 198]


def prompt_of(n):
    """The prompt `engine_speed --prompt-tokens n` builds: the system text repeated."""
    prompt = list(PROMPT)
    while len(prompt) < n:
        prompt[3:3] = PROMPT[3:19]
    return prompt[:max(n, 1)]


def rill(binary, model, threads, tokens, runs, prompt_tokens):
    out = subprocess.run(
        [binary, "--model", model, "--threads", str(threads), "--tokens", str(tokens),
         "--runs", str(runs), "--prompt-tokens", str(prompt_tokens)],
        check=True, capture_output=True, text=True).stdout
    match = re.search(r"median: TTFT ([\d.]+) ms, decode ([\d.]+) tok/s", out)
    return float(match.group(1)), float(match.group(2))


def llama(model, threads, tokens, runs, prompt):
    import llama_cpp
    import numpy as np

    # llama-cpp-python keeps one row of scores per batch slot: n_batch must cover the prompt.
    m = llama_cpp.Llama(model_path=model, n_ctx=2048, n_batch=2048, n_threads=threads, n_threads_batch=threads,
                        verbose=False)
    ttfts, rates = [], []
    for run in range(runs + 1):
        m.reset()
        t0 = time.perf_counter()
        m.eval(prompt)
        tok = int(np.argmax(m.scores[m.n_tokens - 1]))
        t1 = time.perf_counter()
        for _ in range(tokens - 1):
            m.eval([tok])
            tok = int(np.argmax(m.scores[m.n_tokens - 1]))
        t2 = time.perf_counter()
        if run == 0:
            continue  # warm-up, as rill's model warms up at load
        ttfts.append((t1 - t0) * 1e3)
        rates.append((tokens - 1) / (t2 - t1))
    return statistics.median(ttfts), statistics.median(rates)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True)
    p.add_argument("--rill", required=True)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--tokens", type=int, default=200)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--long", type=int, default=512)
    a = p.parse_args()
    rows = []
    for name, n in (("short", len(PROMPT)), ("long", a.long)):
        r_ttft, r_rate = rill(a.rill, a.model, a.threads, a.tokens, a.runs, n)
        l_ttft, l_rate = llama(a.model, a.threads, a.tokens, a.runs, prompt_of(n))
        rows.append((f"{name} ({n} tok)", r_ttft, l_ttft, r_rate, l_rate))
    print(f"{a.threads} threads, {a.tokens} greedy tokens, median of {a.runs}")
    print("| prompt | TTFT rill | TTFT llama.cpp | ratio | decode rill | decode llama.cpp | ratio |")
    print("|---|---|---|---|---|---|---|")
    for name, rt, lt, rr, lr in rows:
        print(f"| {name} | {rt:.0f} ms | {lt:.0f} ms | {rt / lt:.2f}x | {rr:.1f} tok/s | {lr:.1f} tok/s | {rr / lr:.2f}x |")


if __name__ == "__main__":
    main()
