"""Cancel latency: from a client's disconnect, or its `POST /v1/streams/{id}/cancel`, to
the moment rill's upstream connection closes.

With `--redis-url`, two more instances share state through that Redis (`[cluster]`), and
the cancel is also posted to the instance that does not run the generation: it reaches
the one that does through Redis (pub/sub and a flag).

The upstream is a minimal OpenAI-compatible server written here (asyncio, stdlib only)
that streams a chunk every 10 ms for as long as its client stays, and notes when rill
closes the connection (its read returns EOF). Client, upstream and timestamps live in one
process, on one monotonic clock. Everything is on loopback.

    python3 bench/cancel.py --rill target/release/rill [--runs 200] [--redis-url URL]
"""

import argparse
import asyncio
import json
import re
import statistics
import subprocess
import tempfile
import time

closed_at = {}  # request number -> when the upstream saw rill close the connection
opened = asyncio.Queue()


async def upstream(reader, writer):
    """One upstream request: headers, then a chunk every 10 ms until the peer closes."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = int(re.search(rb"content-length: *(\d+)", head, re.I).group(1))
    body = json.loads(await reader.readexactly(length))
    number = int(body["messages"][0]["content"])
    writer.write(
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
    )
    chunk = json.dumps(
        {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "m",
         "choices": [{"index": 0, "delta": {"content": "tick "}, "finish_reason": None}]}
    )
    frame = f"data: {chunk}\n\n".encode()
    framed = b"%x\r\n%s\r\n" % (len(frame), frame)

    async def ticks():
        while True:
            writer.write(framed)
            await writer.drain()
            await asyncio.sleep(0.01)

    ticker = asyncio.create_task(ticks())
    await opened.put(number)
    try:
        await reader.read()  # EOF: rill closed the connection
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    closed_at[number] = time.perf_counter()
    ticker.cancel()
    writer.close()


async def http(host, port, request):
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(request)
    await writer.drain()
    return reader, writer


def post(path, body, port):
    data = json.dumps(body).encode()
    return (f"POST {path} HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\ncontent-type: application/json\r\n"
            f"content-length: {len(data)}\r\n\r\n").encode() + data


async def one(number, mode, port, cancel_port=None):
    """Starts a stream on `port`, waits for its first frame, then disconnects or cancels it
    (through `cancel_port`, if given)."""
    body = {"model": "up", "stream": True, "messages": [{"role": "user", "content": str(number)}]}
    reader, writer = await http("127.0.0.1", port, post("/v1/chat/completions", body, port))
    head = await reader.readuntil(b"\r\n\r\n")
    stream_id = re.search(rb"x-rill-stream-id: *(\S+)", head, re.I).group(1).decode()
    while b"tick" not in await reader.read(4096):
        pass
    if mode == "disconnect":
        started = time.perf_counter()
        writer.transport.abort()  # a client that goes away, RST and all
    else:
        started = time.perf_counter()
        at = cancel_port or port
        creader, cwriter = await http("127.0.0.1", at, post(f"/v1/streams/{stream_id}/cancel", {}, at))
        status = (await creader.readuntil(b"\r\n\r\n")).split(b" ", 2)[1]
        cwriter.close()
        if status != b"200":
            raise RuntimeError(f"the cancel of {stream_id} got {status.decode()}")
    deadline = time.perf_counter() + 10
    while number not in closed_at:
        if time.perf_counter() > deadline:
            raise RuntimeError(f"the upstream connection of {stream_id} stayed open for 10 s")
        await asyncio.sleep(0.0005)
    if mode != "disconnect":
        writer.close()
    return (closed_at[number] - started) * 1000


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("--rill", default="target/release/rill")
    p.add_argument("--runs", type=int, default=200)
    p.add_argument("--redis-url", help="also two instances sharing state through this Redis")
    a = p.parse_args()
    server = await asyncio.start_server(upstream, "127.0.0.1", 0)
    up_port = server.sockets[0].getsockname()[1]
    model = (f'[[models]]\nname = "up"\nprovider = "openai"\n'
             f'base_url = "http://127.0.0.1:{up_port}/v1"\n')
    running = []

    async def start(toml):
        with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as config:
            config.write(toml)
        rill = subprocess.Popen([a.rill, "serve", "--config", config.name, "--port", "0"],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        running.append(rill)
        while True:
            line = await asyncio.to_thread(rill.stdout.readline)
            match = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
            if match:
                return int(match.group(1))
            if not line:
                raise RuntimeError("rill serve exited before listening")

    try:
        port = await start(model)
        rows = [("client disconnect", "disconnect", port, None),
                ("POST /v1/streams/{id}/cancel", "cancel", port, None)]
        if a.redis_url:
            prefix = f"rill-bench-{time.time_ns()}"
            shared = f'{model}[cluster]\nredis_url = "{a.redis_url}"\nkey_prefix = "{prefix}"\n'
            owner, other = await start(shared), await start(shared)
            rows += [("cancel, same instance (Redis configured)", "cancel", owner, None),
                     ("cancel, another instance (through Redis)", "cancel", owner, other)]
        number = 0
        print("| measured from | runs | p50 | p99 | max |")
        print("|---|---|---|---|---|")
        for label, mode, at, cancel_at in rows:
            latencies = []
            for _ in range(a.runs):
                number += 1
                latencies.append(await one(number, mode, at, cancel_at))
            print(f"| {label} | {a.runs} | {percentile(latencies, 50):.2f} ms | "
                  f"{percentile(latencies, 99):.2f} ms | {max(latencies):.2f} ms |")
            print(f"<!-- {label}: mean {statistics.mean(latencies):.2f} ms -->")
    finally:
        for rill in running:
            rill.terminate()
            rill.wait(timeout=30)
        server.close()


if __name__ == "__main__":
    asyncio.run(main())
