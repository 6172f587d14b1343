"""A pane is its widget, one declaration and its keys: a pane added that way, and no other
edit, is composed, focused and shown or hidden by its own keys, and remembered.

Everything about a pane is derived from coda_tui.panes.PANES when the modules load, so the
extra pane is declared in a fresh interpreter, before anything else of coda is imported:
the script below is what a contributor writes, with the keymap folder standing in for the
edited keymaps/default.toml. It prints what it saw; the asserts are here."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT

SCRIPT = r'''
import asyncio, json, shutil, sys
from pathlib import Path

from coda_tui import panes, resources

# The declaration: one row (and a second pane, hidden until asked for).
panes.PANES += (
    panes.Pane("notes", "Notes", panes.RIGHT, ("notes-text",)),
    panes.Pane("scratch", "Scratch", panes.RIGHT, ("scratch-text",), shown=False),
)

from coda_tui.keymaps import KeymapError, load_keymap

seen = {}
try:
    load_keymap("default")
except KeymapError as exc:
    seen["without_keys"] = str(exc)

# Its keys in default.toml (a copy of the shipped keymaps, with them added).
tmp = Path(sys.argv[1])
keymaps = tmp / "keymaps"
shutil.copytree(resources.builtin_dir("keymaps"), keymaps)
default = keymaps / "default.toml"
text = default.read_text(encoding="utf-8")
default.write_text(text.replace('toggle_pipeline = "f4"\n', 'toggle_pipeline = "f4"\nfocus_notes = "alt+5"\ntoggle_notes = "f6"\n'
                                 'focus_scratch = "alt+6"\ntoggle_scratch = "f7"\n'), encoding="utf-8")
shipped = resources.builtin_dir
resources.builtin_dir = lambda kind: keymaps if kind == "keymaps" else shipped(kind)

# The widget, and which pane id it is.
from textual.containers import Vertical
from textual.widgets import TextArea

from coda_tui.ui import panes as ui_panes


class NotesPane(Vertical):
    def compose(self):
        yield TextArea(id=f"{self.id}-text")


ui_panes.WIDGETS["notes"] = lambda screen, pane_id: NotesPane(id=pane_id)
ui_panes.WIDGETS["scratch"] = lambda screen, pane_id: NotesPane(id=pane_id)

from coda_tui.ui.state import UIState
from tests.servers import Action
from tests.ui.conftest import Harness

project = tmp / "proj"
project.mkdir()
(project / "README.md").write_text("# demo\n")
harness = Harness(tmp, [Action(chunks=["hi"])])


async def go():
    app = harness.app(project)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        seen["right"] = [child.id for child in app.query_one("#right").children]
        seen["scratch_at_start"] = app.query_one("#scratch").display
        seen["footer"] = [b.description for b in app.BINDINGS if b.show]
        await pilot.press("alt+5")
        seen["focus_key"] = app.focused.id
        await pilot.press("alt+4", "tab")
        seen["tab_after_pipeline"] = app.focused.id
        await pilot.press("f6")
        seen["shown_after_toggle"] = app.query_one("#notes").display
        seen["focus_after_toggle"] = app.focused.id
    seen["saved"] = UIState.load().shown("notes")
    again = harness.app(project)
    async with again.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        seen["shown_next_run"] = again.query_one("#notes").display
        await pilot.press("alt+6")
        seen["scratch_by_its_key"] = again.query_one("#scratch").display and again.focused.id == "scratch-text"
        await pilot.press("alt+5")
        seen["focus_key_shows_it"] = again.query_one("#notes").display and again.focused.id == "notes-text"


try:
    asyncio.run(go())
finally:
    harness.close()
print(json.dumps(seen))
'''


def test_a_pane_declared_once_is_composed_focused_toggled_and_remembered(tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path)], check=False, capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    # The keymap loader still wants keys for every action, the new pane's too.
    assert "_notes" in seen["without_keys"] and "missing" in seen["without_keys"]
    assert seen["right"] == ["code", "pipeline", "notes", "scratch"]
    assert seen["scratch_at_start"] is False  # its declared default
    assert seen["scratch_by_its_key"] is True
    toggles = seen["footer"].index("Context")
    assert seen["footer"][toggles:toggles + 5] == ["Context", "Code", "Pipeline", "Notes", "Scratch"]
    assert seen["focus_key"] == "notes-text"
    assert seen["tab_after_pipeline"] == "notes-text"
    assert seen["shown_after_toggle"] is False
    assert seen["focus_after_toggle"] == "chat-input"  # focus leaves the pane it hid
    assert seen["saved"] is False
    assert seen["shown_next_run"] is False
    assert seen["focus_key_shows_it"] is True
