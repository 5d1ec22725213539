"""Streaming overhead of rill as a gateway, against LiteLLM's proxy and no gateway at all.

Starts two `rill mock-upstream`s (OpenAI-compatible servers playing a fixed answer: one at a
fixed token rate, one as fast as it can), then for each concurrency level a fresh `rill serve`
with `provider = "openai"` models pointing at them and a fresh LiteLLM proxy with `openai/`
models pointing at them, all on 127.0.0.1. For each path (direct to the mock, through rill,
through LiteLLM) it runs the load generator (`crates/rill/examples/gateway_load.rs`), samples
the gateway's CPU time and resident memory from /proc while it runs, and prints markdown
tables. Standard library only.

Every worker of the load generator first runs one warm-up stream (it opens the kept-alive
connection); timings come from the streams after it, failures and CPU count every stream.

With `--pin`, rill runs on one core and the mocks and the load generator on the other
(`taskset`), so that a gateway's CPU time is its own and comparable from run to run on two
cores. With `--baseline OTHER_RILL`, another build of rill runs too, as path `rill-before`,
in the same run; `--variant NAME=TOML` runs this rill again as path NAME with TOML added to
its config (the usage ledger off, say). With `--relay TCP_RELAY`, path `tcp-relay` runs the `tcp_relay` example: a
relay that forwards bytes and parses nothing, the floor for any gateway's cost per chunk.
`--watch NAME=PID` counts another process's CPU time too (a Redis the variants use), and
the comparison table sets each variant against path `rill`: added time to first token and
CPU per chunk, the gateway's alone and with the watched processes'.

Usage: python3 bench/gateway.py --rill target/release/rill \
    --load target/release/examples/gateway_load --litellm bench/.venv-litellm/bin/litellm \
    [--streams 1,64,1000] [--rate 50] [--tokens 100] [--full-speed 64] [--json out.json] \
    [--pin] [--baseline OLD_RILL --paths direct,rill-before,rill] [--relay TCP_RELAY]
"""

import argparse
import json
import math
import os
import platform
import re
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

CLK_TCK = os.sysconf("SC_CLK_TCK")
DATA_DIR = tempfile.mkdtemp(prefix="rill-gateway-bench-data-")
WORDS = ("the stream carries each token from the model to the reader as soon as it exists "
         "so nobody waits for a whole answer before the first words appear on the screen").split()


def answer_text(tokens):
    """Text that the mock's tokenizer splits into exactly `tokens` tokens: each word with the
    space before it is one token, and so is each comma or full stop."""
    parts, n = [], 0
    while n < tokens:
        word = WORDS[n % len(WORDS)]
        parts.append(word if not parts else " " + word)
        n += 1
        if n < tokens and n % 12 == 0:
            parts.append(",")
            n += 1
    text = "".join(parts)
    assert len(re.findall(r"\s*(?:[^\W_]+|\S)", text)) == tokens
    return text


def raise_fd_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def drain(stream):
    for _ in stream:
        pass


def start_rill(args, log):
    """Starts a rill process and returns it with the URL it prints. Its data (the usage
    ledger) goes to a directory of the run's own."""
    env = dict(os.environ, RILL_LOG="warn", RILL_DATA_DIR=DATA_DIR)
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=log, text=True, env=env)
    for line in proc.stdout:
        match = re.search(r"listening on (http://\S+)", line)
        if match:
            threading.Thread(target=drain, args=(proc.stdout,), daemon=True).start()
            return proc, match.group(1)
    raise RuntimeError(f"{args[:2]} did not start; see {log.name}")


def start_litellm(binary, workers, mock_urls, workdir, log):
    port = free_port()
    config = os.path.join(workdir, "litellm.yaml")
    with open(config, "w") as f:
        f.write("model_list:\n")
        for name, url in mock_urls.items():
            f.write(f"  - model_name: {name}\n"
                    f"    litellm_params:\n"
                    f"      model: openai/{name}\n"
                    f"      api_base: {url}/v1\n"
                    f"      api_key: unused\n")
        f.write("litellm_settings:\n"
                "  telemetry: false\n"
                "  drop_params: false\n"
                "general_settings:\n"
                "  disable_spend_logs: true\n")
    # Warnings only, as for rill (uvicorn would log a line per request).
    log_config = os.path.join(workdir, "litellm-logging.json")
    with open(log_config, "w") as f:
        json.dump({"version": 1, "disable_existing_loggers": False,
                   "handlers": {"stderr": {"class": "logging.StreamHandler"}},
                   "root": {"handlers": ["stderr"], "level": "WARNING"},
                   "loggers": {"uvicorn": {"level": "WARNING"},
                               "uvicorn.access": {"level": "WARNING"}}}, f)
    env = dict(os.environ,
               LITELLM_LOCAL_MODEL_COST_MAP="True",  # no fetch of the price list at start
               LITELLM_LOG="ERROR",
               LITELLM_MODE="PRODUCTION",            # no .env loading
               DISABLE_ADMIN_UI="True",
               NO_PROXY="*", no_proxy="*")
    for key in ("DATABASE_URL", "REDIS_HOST", "REDIS_URL", "LITELLM_MASTER_KEY",
                "HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        env.pop(key, None)
    proc = subprocess.Popen([binary, "--config", config, "--host", "127.0.0.1",
                             "--port", str(port), "--num_workers", str(workers), "--telemetry", "False",
                             "--log_config", log_config],
                            stdout=log, stderr=subprocess.STDOUT, env=env, cwd=workdir)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"litellm exited with {proc.returncode}; see {log.name}")
        try:
            with urllib.request.urlopen(f"{url}/health/liveliness", timeout=2) as r:
                if r.status == 200:
                    return proc, url
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"litellm did not answer within 180 s; see {log.name}")


def tree(pid):
    """`pid` and all its descendants."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry))
            except (OSError, IndexError, ValueError):
                pass
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def cpu_seconds(pids):
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, IndexError):
            pass
    return total / CLK_TCK


def rss_kib(pids):
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


class Sampler(threading.Thread):
    """Peak resident memory of a process tree, sampled every 50 ms."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.peak, self.stop = pid, 0, threading.Event()

    def run(self):
        while not self.stop.is_set():
            self.peak = max(self.peak, rss_kib(tree(self.pid)))
            self.stop.wait(0.05)


def pct(values, p):
    """Nearest-rank percentile of sorted `values`."""
    if not values:
        return None
    return values[max(0, math.ceil(p / 100 * len(values)) - 1)]


def cpu_model():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def pinned(a, role):
    """The `taskset` prefix for a process of `role` ("gateway" or "load") under `--pin`."""
    if not a.pin:
        return []
    return ["taskset", "-c", a.gateway_cpu if role == "gateway" else a.load_cpu]


def run_load(a, url, model, concurrency, per_worker, ramp_ms, expect_bytes, watch):
    """Runs the load generator once; returns its JSON plus the watched processes' usage."""
    cmd = pinned(a, "load") + [a.load, "--url", f"{url}/v1/chat/completions", "--model", model,
           "--concurrency", str(concurrency), "--requests-per-worker", str(per_worker),
           "--warmup-per-worker", "1", "--ramp-ms", str(ramp_ms),
           "--expect-bytes", str(expect_bytes), "--timeout-s", str(a.stream_timeout),
           "--threads", str(a.load_threads)]
    if a.no_keepalive:
        cmd.append("--no-keepalive")
    gw = watch.get("gateway")
    idle_rss = rss_kib(tree(gw)) if gw else 0
    sampler = Sampler(gw) if gw else None
    cpu0 = {k: cpu_seconds(tree(p)) for k, p in watch.items()}
    kids0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if sampler:
        sampler.start()
    done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=a.stream_timeout * (per_worker + 1) + 120)
    if sampler:
        sampler.stop.set()
        sampler.join()
    kids1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu1 = {k: cpu_seconds(tree(p)) for k, p in watch.items()}
    if done.returncode != 0:
        raise RuntimeError(f"load generator failed ({done.returncode}): {done.stderr[-2000:]}")
    out = json.loads(done.stdout)
    out["cpu_s"] = {k: cpu1[k] - cpu0[k] for k in watch}
    out["cpu_s"]["load"] = ((kids1.ru_utime + kids1.ru_stime) - (kids0.ru_utime + kids0.ru_stime))
    out["idle_rss_kib"] = idle_rss
    out["peak_rss_kib"] = max(sampler.peak, idle_rss) if sampler else 0
    return out


def summarize(out):
    streams = out["streams"]
    measured = [s for s in streams if s["ok"] and not s["warmup"]]
    ttft = sorted(s["ttft_us"] / 1e3 for s in measured if s["ttft_us"] is not None)
    gaps = sorted(g / 1e3 for s in measured for g in s["gaps_us"])
    n = len(streams)
    wall = out["wall_us"] / 1e6
    chunks = sum(s["chunks"] for s in streams)
    errors = {}
    for s in streams:
        if not s["ok"]:
            msg = s["error"] or f"content {s['content_bytes']} bytes"
            msg = re.sub(r"\d+", "N", msg)[:160]
            errors[msg] = errors.get(msg, 0) + 1
    gw = out["cpu_s"].get("gateway")
    return {
        "streams": n, "failed": sum(1 for s in streams if not s["ok"]),
        "timed": len(measured), "max_in_flight": out["max_in_flight"],
        "ttft_p50": pct(ttft, 50), "ttft_p99": pct(ttft, 99),
        "gap_p50": pct(gaps, 50), "gap_p99": pct(gaps, 99),
        "chunks": chunks, "chunks_per_s": chunks / wall, "wall_s": wall,
        "cpu_ms_per_stream": gw * 1e3 / n if gw is not None else None,
        "cpu_us_per_chunk": gw * 1e6 / chunks if gw is not None and chunks else None,
        "gateway_cpu_pct": (gw or 0) / wall * 100,
        "mock_cpu_pct": out["cpu_s"]["mock"] / wall * 100,
        "load_cpu_pct": out["cpu_s"]["load"] / wall * 100,
        "other_cpu_pct": {k: v / wall * 100 for k, v in out["cpu_s"].items()
                          if k not in ("gateway", "mock", "load")},
        "other_us_per_chunk": (sum(v for k, v in out["cpu_s"].items()
                                   if k not in ("gateway", "mock", "load")) * 1e6 / chunks
                               if chunks else None),
        "kib_per_stream": ((out["peak_rss_kib"] - out["idle_rss_kib"]) / out["concurrency"]
                           if gw is not None else None),
        "idle_rss_mib": out["idle_rss_kib"] / 1024,
        "peak_rss_mib": out["peak_rss_kib"] / 1024,
        "errors": errors,
    }


def fmt(v, unit="", digits=1):
    if v is None:
        return "-"
    return f"{v:,.{digits}f}{unit}"


def added(v, base):
    if base is None:
        return ""
    if v is None or base is None:
        return "-"
    return f"{v - base:+,.1f}"


def usage_rows(results):
    lines = ["| streams | path | gateway CPU | mock CPU | load generator CPU | other CPU "
             "| gateway RSS idle -> peak | wall | in flight |",
             "|---|---|---|---|---|---|---|---|---|"]
    for c, paths in results.items():
        for path, r in paths.items():
            direct = path == "direct"
            gw = "-" if direct else f"{r['gateway_cpu_pct']:.0f}%"
            rss = "-" if direct else f"{r['idle_rss_mib']:.0f} -> {r['peak_rss_mib']:.0f} MiB"
            other = ", ".join(f"{k} {v:.0f}%" for k, v in r["other_cpu_pct"].items()) or "-"
            lines.append(f"| {c:,} | {path} | {gw} | {r['mock_cpu_pct']:.0f}% "
                         f"| {r['load_cpu_pct']:.0f}% | {other} | {rss} | {r['wall_s']:.1f} s "
                         f"| {r['max_in_flight']:,} |")
    return lines


def failure_rows(results):
    lines = []
    for c, paths in results.items():
        for path, r in paths.items():
            for msg, n in sorted(r["errors"].items(), key=lambda kv: -kv[1]):
                lines.append(f"- {c:,} streams, {path}: {n} x `{msg}`")
    return ["", "Failures (digits shown as N):", ""] + lines if lines else []


def paced_table(results, title):
    lines = [f"### {title}", "",
             "| streams | path | failed / streams | TTFT p50 | TTFT p99 | added p50 | added p99 "
             "| gap p50 | gap p99 | added p50 | added p99 | chunks/s | gateway CPU / stream "
             "| gateway memory / stream |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for c, paths in results.items():
        base = paths.get("direct") if "direct" in paths else None
        for path, r in paths.items():
            b = None if path == "direct" or base is None else base
            lines.append(
                f"| {c:,} | {path} | {r['failed']} / {r['streams']:,} "
                f"| {fmt(r['ttft_p50'], ' ms')} | {fmt(r['ttft_p99'], ' ms')} "
                f"| {added(r['ttft_p50'], b and b['ttft_p50'])} "
                f"| {added(r['ttft_p99'], b and b['ttft_p99'])} "
                f"| {fmt(r['gap_p50'], ' ms')} | {fmt(r['gap_p99'], ' ms')} "
                f"| {added(r['gap_p50'], b and b['gap_p50'])} "
                f"| {added(r['gap_p99'], b and b['gap_p99'])} "
                f"| {fmt(r['chunks_per_s'], '', 0)} "
                f"| {fmt(r['cpu_ms_per_stream'], ' ms', 2)} "
                f"| {fmt(r['kib_per_stream'], ' KiB', 0)} |")
    lines += ["", "CPU as % of one core over the run (the machine has "
              f"{os.cpu_count()}), wall time, most streams in flight:", ""]
    return "\n".join(lines + usage_rows(results) + failure_rows(results))


def compare_table(results, title):
    """Each path other than `direct` and `rill` against `rill`, level by level."""
    lines = [f"### {title}", "",
             "| streams | path | TTFT p50 | of which over `rill` | gateway CPU / chunk | of `rill`'s "
             "| with watched processes | of `rill`'s |",
             "|---|---|---|---|---|---|---|---|"]
    for c, paths in results.items():
        base = paths.get("rill")
        if not base:
            continue
        for path, r in paths.items():
            if path in ("direct", "rill"):
                continue
            over = added(r["ttft_p50"], base["ttft_p50"])
            own, base_own = r["cpu_us_per_chunk"], base["cpu_us_per_chunk"]
            total = None if own is None else own + (r["other_us_per_chunk"] or 0)
            base_total = None if base_own is None else base_own + (base["other_us_per_chunk"] or 0)
            ratio = lambda x, y: "-" if x is None or not y else f"{x / y:.2f}x"
            lines.append(f"| {c:,} | {path} | {fmt(r['ttft_p50'], ' ms', 2)} | {over} ms "
                         f"| {fmt(own, ' us', 1)} | {ratio(own, base_own)} "
                         f"| {fmt(total, ' us', 1)} | {ratio(total, base_total)} |")
    return "\n".join(lines)


def fast_table(results, title):
    lines = [f"### {title}", "",
             "| streams | path | failed / streams | chunks/s | of direct | gateway CPU / 1,000 chunks "
             "| gateway CPU | mock CPU | load generator CPU | wall |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for c, paths in results.items():
        base = paths.get("direct")
        for path, r in paths.items():
            direct = path == "direct"
            share = "" if direct or not base else f"{r['chunks_per_s'] / base['chunks_per_s']:.2f}x"
            per_k = "-" if r["cpu_us_per_chunk"] is None else f"{r['cpu_us_per_chunk']:.1f} ms"
            gw = "-" if direct else f"{r['gateway_cpu_pct']:.0f}%"
            lines.append(
                f"| {c:,} | {path} | {r['failed']} / {r['streams']:,} "
                f"| {fmt(r['chunks_per_s'], '', 0)} | {share} | {per_k} | {gw} "
                f"| {r['mock_cpu_pct']:.0f}% | {r['load_cpu_pct']:.0f}% | {r['wall_s']:.1f} s |")
    return "\n".join(lines + failure_rows(results))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--rill", required=True)
    p.add_argument("--load", required=True)
    p.add_argument("--litellm", help="the `litellm` executable; without it, LiteLLM is skipped")
    p.add_argument("--streams", default="1,64,1000", help="concurrency levels, comma-separated")
    p.add_argument("--rate", type=float, default=50, help="mock tokens per second")
    p.add_argument("--tokens", type=int, default=100, help="tokens per answer")
    p.add_argument("--rounds", type=int, default=2, help="timed streams per worker, at least")
    p.add_argument("--min-requests", type=int, default=20, help="timed streams per level, at least")
    p.add_argument("--ramp-ms", type=int, default=1000,
                   help="spread the workers' first streams over this long")
    p.add_argument("--full-speed", default="64",
                   help="concurrency levels to repeat with the mock at full speed ('' skips)")
    p.add_argument("--full-speed-tokens", type=int, default=1000,
                   help="tokens per answer at full speed")
    p.add_argument("--full-speed-rounds", type=int, default=5,
                   help="timed streams per worker at full speed (all workers start at once)")
    p.add_argument("--litellm-workers", type=int, default=os.cpu_count(),
                   help="LiteLLM's worker processes (rill's runtime uses every core)")
    p.add_argument("--no-keepalive", action="store_true",
                   help="the load generator opens a new connection for every stream")
    p.add_argument("--paths", default="direct,tcp-relay,rill,litellm")
    p.add_argument("--stream-timeout", type=int, default=300)
    p.add_argument("--load-threads", type=int, default=2)
    p.add_argument("--json", help="write the summaries (and parameters) here")
    p.add_argument("--pin", action="store_true",
                   help="rill on one core, the mocks and the load generator on another")
    p.add_argument("--gateway-cpu", default="0")
    p.add_argument("--load-cpu", default="1")
    p.add_argument("--baseline", help="another rill build, run as path `rill-before`")
    p.add_argument("--relay", help="the `tcp_relay` example, run as path `tcp-relay`: "
                   "a byte-forwarding TCP relay, the floor for any gateway's CPU per chunk")
    p.add_argument("--variant", action="append", default=[], metavar="NAME=TOML",
                   help="another path NAME: this rill with TOML added to its config "
                        "(`ledger-off=[ledger]\\nenabled = false`, say); repeatable")
    p.add_argument("--watch", action="append", default=[], metavar="NAME=PID",
                   help="also count this process's CPU time (a Redis the variants use)")
    p.add_argument("--rill-config", default="",
                   help="TOML appended to rill's config (`[sessions]\\nmax_finished = 0`, say)")
    a = p.parse_args()
    a.rill, a.load = os.path.abspath(a.rill), os.path.abspath(a.load)
    if a.baseline:
        a.baseline = os.path.abspath(a.baseline)
    if a.litellm:
        a.litellm = os.path.abspath(a.litellm)
    if a.relay:
        a.relay = os.path.abspath(a.relay)

    load_before = open("/proc/loadavg").read().strip()
    fds = raise_fd_limit()
    text, fast_text = answer_text(a.tokens), answer_text(a.full_speed_tokens)
    variants = dict(v.split("=", 1) for v in a.variant)
    watched = {k: int(v) for k, v in (w.split("=", 1) for w in a.watch)}
    paths = [x for x in a.paths.split(",") if x]
    paths += [name for name in variants if name not in paths]
    if not a.litellm and "litellm" in paths:
        paths.remove("litellm")
    if not a.relay and "tcp-relay" in paths:
        paths.remove("tcp-relay")
    workdir = tempfile.mkdtemp(prefix="rill-gateway-bench-")

    def log(name):
        return open(os.path.join(workdir, f"{name}.log"), "a")

    procs = []

    def stop(proc):
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        procs.remove(proc)

    try:
        mock, mock_url = start_rill(pinned(a, "load") + [a.rill, "mock-upstream", "--port", "0", "--tokens-per-second",
                                     str(a.rate), "--text", text], log("mock"))
        procs.append(mock)
        fast, fast_url = start_rill(pinned(a, "load") + [a.rill, "mock-upstream", "--port", "0",
                                     "--tokens-per-second", "0", "--text", fast_text],
                                    log("mock-fast"))
        procs.append(fast)
        mocks = {"bench": (mock_url, mock.pid, len(text)),
                 "bench-fast": (fast_url, fast.pid, len(fast_text))}

        def start_gateway(path, mock_url):
            if path == "tcp-relay":
                upstream = mock_url.removeprefix("http://")
                proc, url = start_rill(pinned(a, "gateway") + [a.relay, "--upstream", upstream],
                                       log(path))
            elif path in ("rill", "rill-before") or path in variants:
                config = os.path.join(workdir, f"{path}.toml")
                with open(config, "w") as f:
                    for name, (url, _, _) in mocks.items():
                        f.write(f'[[models]]\nname = "{name}"\nprovider = "openai"\n'
                                f'base_url = "{url}/v1"\n\n')
                    f.write(a.rill_config.replace("\\n", "\n") + "\n")
                    f.write(variants.get(path, "").replace("\\n", "\n") + "\n")
                binary = a.baseline if path == "rill-before" else a.rill
                proc, url = start_rill(pinned(a, "gateway") + [binary, "serve", "--port", "0",
                                                               "--config", config], log(path))
            else:
                proc, url = start_litellm(a.litellm, a.litellm_workers,
                                          {k: v[0] for k, v in mocks.items()}, workdir,
                                          log("litellm"))
            procs.append(proc)
            return proc, url

        def level(c, model, per_worker, ramp_ms):
            mock_url, mock_pid, expect = mocks[model]
            row = {}
            for path in paths:
                gateway = None
                if path == "direct":
                    url, watch = mock_url, {"mock": mock_pid}
                else:
                    # A fresh process per level: its idle memory is that of a warm process
                    # that has not yet held many streams.
                    gateway, url = start_gateway(path, mock_url)
                    watch = {"gateway": gateway.pid, "mock": mock_pid, **watched}
                    # Lazy imports, connection pools (the relay forwards to one mock).
                    for m in ([model] if path == "tcp-relay" else mocks):
                        run_load(a, url, m, 4, 1, 0, mocks[m][2], watch)
                time.sleep(1)
                try:
                    out = run_load(a, url, model, c, per_worker, ramp_ms, expect, watch)
                finally:
                    if gateway:
                        stop(gateway)
                row[path] = r = summarize(out)
                print(f"  {c} streams, {model}, {path}: {r['failed']} failed of {r['streams']}, "
                      f"TTFT p50 {fmt(r['ttft_p50'], ' ms')}, gap p99 {fmt(r['gap_p99'], ' ms')}, "
                      f"{r['chunks_per_s']:,.0f} chunks/s, {r['wall_s']:.1f} s",
                      file=sys.stderr, flush=True)
            return row

        levels = [int(x) for x in a.streams.split(",") if x]
        fast_levels = [int(x) for x in a.full_speed.split(",") if x]
        print(f"load average at start: {load_before}", file=sys.stderr)
        paced = {c: level(c, "bench", max(a.rounds, math.ceil(a.min_requests / c)),
                          a.ramp_ms if c > 1 else 0) for c in levels}
        full = {c: level(c, "bench-fast", a.full_speed_rounds, 0) for c in fast_levels}
        load_after = open("/proc/loadavg").read().strip()
    finally:
        for proc in reversed(list(procs)):
            stop(proc)

    litellm_version = "-"
    if a.litellm:
        pyexe = os.path.join(os.path.dirname(a.litellm), "python")
        litellm_version = subprocess.run(
            [pyexe, "-c", "import importlib.metadata as m; print(m.version('litellm'))"],
            capture_output=True, text=True).stdout.strip()
    timed = {c: max(a.rounds, math.ceil(a.min_requests / c)) for c in levels}
    print(f"Mock at {a.rate:g} tokens/s, {a.tokens} tokens ({len(text)} bytes) per answer; "
          f"timed streams per worker {timed} after one warm-up each, ramp {a.ramp_ms} ms. "
          f"Full speed: {a.full_speed_tokens} tokens ({len(fast_text)} bytes) per answer, "
          f"{a.full_speed_rounds} timed streams per worker, no ramp. Client connections "
          f"{'new per stream' if a.no_keepalive else 'kept alive'}; fd limit {fds}; "
          f"litellm {litellm_version} ({a.litellm_workers} workers); CPU {cpu_model()}, "
          f"{os.cpu_count()} cores{'; rill pinned to core ' + a.gateway_cpu + ', mocks and load to core ' + a.load_cpu if a.pin else ''}; python "
          f"{platform.python_version()}; load average at start: {load_before}, "
          f"at the end: {load_after}\n")
    print(paced_table(paced, f"Mock at {a.rate:g} tokens/s, {a.tokens} tokens per answer"))
    if full:
        print()
        print(fast_table(full, f"Mock at full speed (--tokens-per-second 0), "
                               f"{a.full_speed_tokens} tokens per answer"))
    if "rill" in paths and len([p for p in paths if p not in ("direct", "rill")]) > 0:
        print()
        print(compare_table(paced, f"Against `rill`, mock at {a.rate:g} tokens/s"))
        if full:
            print()
            print(compare_table(full, "Against `rill`, mock at full speed"))
    print(f"\nlogs: {workdir}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"params": vars(a), "paced": paced, "full_speed": full}, f, indent=1)


if __name__ == "__main__":
    main()
