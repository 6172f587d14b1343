from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from coda_tui.core.runtime import Runtime
from coda_tui.providers import base
from coda_tui.ui.app import CodaApp
from tests.conftest import write_config
from tests.servers import Action, OpenAIServer


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch):
    monkeypatch.setattr(base, "BACKOFF_BASE", 0.05)


@pytest.fixture
def project(tmp_path) -> Path:
    root = tmp_path / "proj"
    (root / "src").mkdir(parents=True)
    # Two definitions far enough apart to be indexed as separate chunks.
    filler = "".join(f"# note {i}\n" for i in range(13))
    (root / "src" / "calc.py").write_text(f"def add(a, b):\n    return a + b\n{filler}def sub(a, b):\n    return a - b\n")
    (root / "README.md").write_text("# demo\n")
    return root


class Harness:
    """A loopback OpenAI-format server and a config pointing coda at it."""

    def __init__(self, tmp_path: Path, script: list[Action], extra: str = "", search_hits: int = 0,
                 provider_extra: str = "") -> None:
        self.tmp_path = tmp_path
        self.server = OpenAIServer(script)
        self.server.__enter__()
        self.config = write_config(
            tmp_path,
            f'[general]\nprovider = "srv"\n[providers.srv]\ntype = "openai"\nbase_url = "{self.server.url}/v1"\n'
            f'model = "fake-model"\nmax_retries = 0\n{provider_extra}'
            # Off unless a test asks: search hits would make the exact prompts tests check vary.
            f'[context]\nsearch_hits = {search_hits}\n{extra}',
        )

    def runtime(self, project: Path | None = None) -> Runtime:
        return Runtime(self.config, project=project or self.tmp_path)

    def app(self, project: Path, **kwargs) -> CodaApp:
        return CodaApp(self.runtime(project), project=project, **kwargs)

    def close(self) -> None:
        self.server.__exit__(None, None, None)


@pytest.fixture
def harness(tmp_path):
    made = []

    def make(script=None, extra: str = "", search_hits: int = 0, provider_extra: str = "") -> Harness:
        h = Harness(tmp_path, script or [Action(chunks=["Here is ", "the answer:\n\n```python\nprint('hi')\n```\n"])], extra, search_hits,
                    provider_extra)
        made.append(h)
        return h

    yield make
    for h in made:
        h.close()


async def wait_for(predicate, timeout: float = 10.0, pilot=None) -> None:
    """Poll until `predicate()` is true: turns finish on their own time."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("timed out waiting for the app")
        if pilot is not None:
            await pilot.pause(0.05)
        else:
            await asyncio.sleep(0.05)
