"""ui-state.json is coda's own memo, ignored when broken: however it is broken."""

from __future__ import annotations

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
