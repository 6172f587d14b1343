"""Regenerate screenshots/*.svg from the real app.

The answers come from a scripted provider (named "scripted-demo" on screen): it streams
canned text through the real pipeline, store and panes, so the pictures are the same on
every run and need no model. Everything else is the app as users run it.

    python scripts/screenshots.py            # all of them
    python scripts/screenshots.py memory     # only those named
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "screenshots"

ANSWERS = [
    (
        "How do I read a large file line by line without loading it all?",
        "Iterate over the file object: it reads lazily, one line at a time.\n\n"
        "```python\ndef count_errors(path: str) -> int:\n    errors = 0\n    with open(path, encoding=\"utf-8\") as f:\n"
        "        for line in f:\n            if \"ERROR\" in line:\n                errors += 1\n    return errors\n```\n\n"
        "Memory stays flat whatever the file's size, because only the current line is held.",
    ),
    (
        "And if I need the last 100 lines?",
        "Use a `deque` with `maxlen`: it keeps only the newest items as you stream through.\n\n"
        "```python\nfrom collections import deque\n\ndef tail(path: str, n: int = 100) -> list[str]:\n"
        "    with open(path, encoding=\"utf-8\") as f:\n        return list(deque(f, maxlen=n))\n```",
    ),
]


# A tool loop: the model searches, reads, then answers (the tools are the real built-ins,
# run on this repository).
TOOL_QUESTION = "Where does coda time each stage of a turn? Read it and tell me."
TOOL_REPLIES = [
    [("search_code", {"query": "tracer stage timing"})],
    [("read_file", {"path": "coda_tui/core/tracer.py", "start": 1, "end": 80})],
    ("`Tracer.stage` in `coda_tui/core/tracer.py` times each stage: it notes the clock as the "
     "stage opens, publishes `StageStarted`, and on leaving publishes `StageFinished` with the "
     "duration and a one-line summary, which the pipeline pane draws and `coda trace` reads back."),
]


def scripted_tool_provider(config):
    """Answers each request with the next of TOOL_REPLIES: tool calls, or text streamed."""
    import json

    from coda_tui.providers.base import Provider, ToolCall, Usage

    class ScriptedToolProvider(Provider):
        def __init__(self, cfg) -> None:
            super().__init__(cfg)
            self.queue = list(TOOL_REPLIES)
            self.calls = 0

        @property
        def default_model(self) -> str:
            return "scripted-demo"

        async def stream(self, messages, *, model=None, max_tokens=None, temperature=None, on_retry=None, tools=None, **_):
            reply = self.queue.pop(0) if self.queue else "…"
            await asyncio.sleep(0.35)
            if isinstance(reply, list):
                for name, args in reply:
                    self.calls += 1
                    yield ToolCall(f"call_{self.calls}", name, json.dumps(args))
            else:
                for i in range(0, len(reply), 4):
                    await asyncio.sleep(0.004)
                    yield reply[i : i + 4]
            yield Usage(900, 60)

        async def _stream_once(self, messages, model, max_tokens, temperature):  # stream() is the whole of it
            raise NotImplementedError
            yield

        async def list_models(self) -> list[str]:
            return ["scripted-demo"]

    return ScriptedToolProvider(config)


def scripted_provider(config):
    from coda_tui.providers.base import Provider, Usage

    class ScriptedProvider(Provider):
        """Streams the next canned answer, a few characters at a time."""

        def __init__(self, cfg) -> None:
            super().__init__(cfg)
            self.queue = [a for _, a in ANSWERS]

        @property
        def default_model(self) -> str:
            return "scripted-demo"

        async def _stream_once(self, messages, model, max_tokens, temperature):
            text = self.queue.pop(0) if self.queue else "…"
            await asyncio.sleep(0.12)
            pieces = [text[i : i + 4] for i in range(0, len(text), 4)]
            for piece in pieces:
                await asyncio.sleep(0.004)
                yield piece
            yield Usage(180, len(pieces))

        async def list_models(self) -> list[str]:
            return ["scripted-demo"]

    return ScriptedProvider(config)


async def shoot() -> None:
    from coda_tui.core.runtime import Runtime
    from coda_tui.ui.app import CodaApp
    from coda_tui.ui.state import UIState
    from coda_tui.ui.widgets.chat import ChatInput

    OUT.mkdir(exist_ok=True)

    async def session(theme: str, size: tuple[int, int], name: str, after=None, file: str | None = None,
                      provider_extra: str = "", make=scripted_provider, questions=tuple(q for q, _ in ANSWERS),
                      index_first: bool = False) -> None:
        if ONLY and name not in ONLY:
            return
        with tempfile.TemporaryDirectory() as tmp:
            os.environ["CODA_DATA_DIR"] = os.path.join(tmp, "data")
            os.environ["HOME"] = tmp
            cfg = Path(tmp) / "config.toml"
            cfg.write_text('[general]\nprovider = "demo"\n[providers.demo]\ntype = "openai"\nbase_url = "http://127.0.0.1:9/v1"\n'
                           + provider_extra)
            os.environ["CODA_CONFIG_PATH"] = str(cfg)
            UIState(theme=theme).save()
            rt = Runtime()
            rt.providers._made["demo"] = make(rt.config.providers["demo"])
            app = CodaApp(rt, project=ROOT)
            async with app.run_test(size=size) as pilot:
                app.query_one(ChatInput).cursor_blink = False
                app.query_one("#status").health = "ok"
                if file:
                    app.show_file(ROOT / file)
                # (search_code answers only once the index's first pass is done)
                while index_first and not app.index_ready:
                    await pilot.pause(0.05)
                for question in questions:
                    app.query_one(ChatInput).load_text(question)
                    await pilot.press("enter")
                    while app.turn_running or app._turn_view is not None:
                        await pilot.pause(0.05)
                # The index's first pass ended, so the filter shows the file count, not progress.
                for _ in range(200):
                    if app.index_ready:
                        break
                    await pilot.pause(0.05)
                await pilot.pause(0.3)
                if after:
                    await after(pilot)
                app.query_one("#status").health = "ok"
                await pilot.pause(0.2)
                app.save_screenshot(str(OUT / f"{name}.svg"))
                print(f"wrote screenshots/{name}.svg")

    async def open_sessions(pilot):
        await pilot.press("f5")
        await pilot.pause(0.3)

    async def select_turn(pilot):
        await pilot.press("alt+4", "enter")
        await pilot.pause(0.3)

    async def tool_rounds(pilot):
        # The code pane hidden, so the pipeline pane has the column: each round and call
        # with its summary, then the tool statistics line.
        await pilot.press("f3", "alt+4", "enter")
        await pilot.pause(0.3)

    async def explore_memory(pilot):
        # A third question, so that the first turn no longer fits the small window; then the
        # pipeline pane's waterfall, its memory row, Enter.
        from coda_tui.ui.widgets.pipeline import Waterfall

        app = pilot.app
        app.query_one(ChatInput).load_text("Which of the two is faster for a 2 GB log?")
        await pilot.press("enter")
        while app.turn_running or app._turn_view is not None:
            await pilot.pause(0.05)
        await pilot.press("alt+4", "tab")
        for _ in range([b.name for b in app.query_one(Waterfall).stages].index("memory")):
            await pilot.press("down")
        await pilot.press("enter")
        await pilot.pause(0.3)

    async def open_help(pilot):
        await pilot.press("f1")
        await pilot.pause(0.3)

    async def speak(pilot):
        # Real capture through PortAudio and tiny.en: ALSA's default input reads espeak-ng's
        # speech from a file (see tests/audio.py), as in the tests.
        from tests.audio import Microphone

        home = Path(os.environ["HOME"])
        Microphone(home, home).say("What does the tail function return")
        await pilot.press("alt+v")
        chat = pilot.app.query_one(ChatInput)
        while not chat.text.strip():
            await pilot.pause(0.1)
        await pilot.pause(0.3)

    await session("dark", (160, 48), "main-dark", file="coda_tui/core/tracer.py")
    await session("light", (160, 48), "main-light", file="coda_tui/core/tracer.py")
    await session("dark", (80, 24), "narrow-80x24")
    await session("gruvbox-dark", (140, 44), "pipeline-turn", after=select_turn)
    await session("dark", (120, 36), "sessions", after=open_sessions)
    await session("high-contrast", (120, 40), "help", after=open_help)
    await session("dark", (140, 40), "voice", after=speak)
    await session("dark", (140, 36), "memory", after=explore_memory, provider_extra="context_window = 340\nmax_tokens = 64\n")
    await session("dark", (160, 48), "tool-loop", after=tool_rounds, make=scripted_tool_provider,
                  questions=(TOOL_QUESTION,), index_first=True)


ONLY = set(sys.argv[1:])

if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    asyncio.run(shoot())
