"""What the app remembers between runs: which panes are shown, the theme, the keymap's
last session. A small JSON file in the data dir; a broken one is ignored, not fatal."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from coda_tui import paths


@dataclass
class UIState:
    show_context: bool = True
    show_code: bool = True
    show_pipeline: bool = True
    theme: str | None = None  # None until the user picks one in the app
    last_session: int | None = None

    @classmethod
    def path(cls) -> Path:
        return paths.data_dir() / "ui-state.json"

    @classmethod
    def load(cls) -> "UIState":
        try:
            raw = json.loads(cls.path().read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):
            return cls()
        if not isinstance(raw, dict):
            return cls()
        known = {f.name: f for f in fields(cls)}
        state = cls()
        for key, value in raw.items():
            if key in known and isinstance(value, (bool, str, int, type(None))):
                setattr(state, key, value)
        return state

    def save(self) -> None:
        path = self.path()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(asdict(self), indent=2), encoding="utf-8")
            tmp.replace(path)  # atomic: a crash mid-write leaves the old file
        except OSError:
            pass  # a read-only data dir costs the layout memory, nothing else
