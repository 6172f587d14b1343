"""ui-state.json is coda's own memo, ignored when broken: however it is broken."""

from __future__ import annotations

import json

import pytest

from coda_tui import paths
from coda_tui.ui.state import UIState


@pytest.mark.parametrize(
    "text",
    ["[" * 100_000 + "]" * 100_000, '{"a":' * 100_000 + "1" + "}" * 100_000, "\x00\xff garbage", '{"theme": 1e999999}'],
    ids=["deep-array", "deep-object", "binary", "huge-number"],
)
def test_a_broken_state_file_gives_the_defaults(text):
    path = paths.data_dir() / "ui-state.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8", errors="surrogateescape")
    assert UIState.load() == UIState()


def test_a_file_written_before_the_panes_were_declared_once_still_loads_and_keeps_its_keys():
    path = paths.data_dir() / "ui-state.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('{"show_context": false, "show_code": true, "show_pipeline": false, "theme": "light",'
                    ' "last_session": 7, "show_gone": false, "show_code_extra": 1}', encoding="utf-8")
    state = UIState.load()
    assert (state.shown("context"), state.shown("code"), state.shown("pipeline")) == (False, True, False)
    assert (state.theme, state.last_session) == ("light", 7)
    state.save()
    assert json.loads(path.read_text(encoding="utf-8")) == {
        "show_context": False, "show_code": True, "show_pipeline": False, "theme": "light", "last_session": 7}
