"""Starts a real `rill serve` on a free port for the SDK tests."""

import os
import re
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def start_rill(config: Path):
    binary = os.environ.get("RILL_BIN", str(ROOT / "target" / "debug" / "rill"))
    proc = subprocess.Popen(
        [binary, "serve", "--port", "0", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError(f"rill exited early with {proc.wait()}")
        match = re.search(r"listening on (http://\S+)", line)
        if match:
            return proc, match.group(1)
    proc.kill()
    raise RuntimeError("rill did not start listening in time")


@pytest.fixture(scope="session")
def rill_url():
    proc, url = start_rill(Path(__file__).with_name("rill-test.toml"))
    yield url
    proc.terminate()
    proc.wait(timeout=30)


@pytest.fixture()
def client(rill_url):
    import openai

    return openai.OpenAI(base_url=f"{rill_url}/v1", api_key="unused", max_retries=0)
