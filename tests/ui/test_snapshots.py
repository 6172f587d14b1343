"""Snapshots of the main screens at 80x24 and 160x48, in two themes. The data is fixed
(messages and traces written straight into the database), so every run draws the same."""

from __future__ import annotations


import pytest
from textual.widgets import Input

from coda_tui.ui.state import UIState
from coda_tui.ui.widgets.chat import ChatInput
from coda_tui.ui.widgets.pipeline import PipelinePane
from coda_tui.ui.widgets.status import StatusBar
from tests.ui.conftest import wait_for

ANSWER = """Reverse it with a slice:

```python
def reverse(text: str) -> str:
    return text[::-1]
```

Slicing with a step of -1 walks the string backwards."""

STAGES = [("context", 0.0, 0.1, "no attachments"), ("memory", 0.1, 0.2, "0/0 messages, 0 tokens (budget 7106)"),
          ("prompt", 0.3, 0.4, "2 messages, ~68 tokens; question stored (#1)"),
          ("llm", 0.7, 1210.0, "srv/fake-model: 42 tokens, first token 182 ms, 51.3 tok/s"),
          ("store", 1210.7, 0.9, "answer #2 (complete, 160 chars), trace #1")]


def seed(rt) -> None:
    conn = rt.store.db.conn
    ts = "2026-11-20T10:00:00.000+00:00"
    with conn:
        conn.execute("INSERT INTO sessions (id, name, created_at, updated_at, provider, model) VALUES (1, 'reverse a string', ?, ?, 'srv', 'fake-model')", [ts, ts])
        conn.execute("INSERT INTO messages (session_id, role, content, status, created_at, updated_at) VALUES (1, 'user', 'How do I reverse a string in Python?', 'complete', ?, ?)", [ts, ts])
        conn.execute("INSERT INTO messages (session_id, role, content, status, model, completion_tokens, created_at, updated_at) VALUES (1, 'assistant', ?, 'complete', 'fake-model', 42, ?, ?)", [ANSWER, ts, ts])
        for i, ttft in enumerate([240.0, 195.0, 310.0, 182.0], start=1):
            conn.execute("INSERT INTO traces (id, session_id, user_message_id, message_id, provider, model, status, started_at, total_ms, ttft_ms, tokens, tokens_per_s)"
                         " VALUES (?, 1, 1, ?, 'srv', 'fake-model', 'complete', ?, ?, ?, 42, 51.3)", [i, 2 if i == 4 else None, ts, 1211.6 + i, ttft])
            conn.executemany("INSERT INTO trace_stages (trace_id, seq, name, start_ms, duration_ms, summary, detail) VALUES (?, ?, ?, ?, ?, ?, '{}')",
                             [(i, k, n, s, d, summ) for k, (n, s, d, summ) in enumerate(STAGES)])


@pytest.fixture
def snapshot_app(harness, project):
    def make(theme: str):
        h = harness()
        rt = h.runtime(project)
        seed(rt)
        UIState(theme=theme, last_session=1).save()
        from coda_tui.ui.app import CodaApp

        return CodaApp(rt, project=project, session_ref="1")

    return make


async def settle(pilot) -> None:
    app = pilot.app
    app.query_one(ChatInput).cursor_blink = False
    await wait_for(lambda: app.query_one(StatusBar).health == "ok", pilot=pilot)
    # The health watchdog's first report is on screen (the pipeline pane's provider line).
    await wait_for(lambda: "srv" in app.query_one(PipelinePane).providers_line.states, pilot=pilot)
    tree = app.query_one("#project-tree")
    await wait_for(lambda: len(tree.root.children) >= 2 and app.index_ready, pilot=pilot)
    await pilot.pause(0.3)


@pytest.mark.parametrize("theme", ["dark", "light"])
@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
def test_main_screen(snap_compare, snapshot_app, theme, size):
    assert snap_compare(snapshot_app(theme), terminal_size=size, run_before=settle)


def test_sessions_screen(snap_compare, snapshot_app):
    async def open_sessions(pilot):
        await settle(pilot)
        await pilot.press("f5")
        # Its search box has the focus: a blinking cursor would make the picture depend on when it is taken.
        pilot.app.screen.query_one(Input).cursor_blink = False
        await pilot.pause(0.2)

    assert snap_compare(snapshot_app("dark"), terminal_size=(120, 40), run_before=open_sessions)


def test_help_screen(snap_compare, snapshot_app):
    async def open_help(pilot):
        await settle(pilot)
        await pilot.press("f1")
        await pilot.pause(0.2)

    assert snap_compare(snapshot_app("high-contrast"), terminal_size=(120, 40), run_before=open_help)


def test_pipeline_turn_selected(snap_compare, snapshot_app):
    async def select(pilot):
        await settle(pilot)
        await pilot.press("alt+4", "down", "enter")
        await pilot.pause(0.2)

    assert snap_compare(snapshot_app("dark"), terminal_size=(160, 48), run_before=select)
