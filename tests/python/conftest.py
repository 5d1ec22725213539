"""Starts a real `rill serve` on a free port for the SDK tests."""

import os
import re
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def start_rill(config: Path | None):
    binary = os.environ.get("RILL_BIN", str(ROOT / "target" / "debug" / "rill"))
    args = [binary, "serve", "--port", "0"]
    if config is not None:
        args += ["--config", str(config)]
    proc = subprocess.Popen(
        args,
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


@pytest.fixture(scope="session")
def engine_url():
    """rill with no configuration at all: the embedded model."""
    proc, url = start_rill(None)
    yield url
    proc.terminate()
    proc.wait(timeout=30)


@pytest.fixture()
def engine_client(engine_url):
    import openai

    return openai.OpenAI(base_url=f"{engine_url}/v1", api_key="unused", max_retries=0)


@pytest.fixture()
def client(rill_url):
    import openai

    return openai.OpenAI(base_url=f"{rill_url}/v1", api_key="unused", max_retries=0)


@pytest.fixture()
def anthropic_client(rill_url):
    import anthropic

    return anthropic.Anthropic(base_url=rill_url, api_key="unused", max_retries=0)


@pytest.fixture()
def anthropic_engine(engine_url):
    import anthropic

    return anthropic.Anthropic(base_url=engine_url, api_key="unused", max_retries=0)
