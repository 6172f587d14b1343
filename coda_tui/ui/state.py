"""What the app remembers between runs: which of the declared panes are shown, the theme,
the keymap's last session. A small JSON file in the data dir; a broken one is ignored, not fatal."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from coda_tui import paths
from coda_tui.panes import in_layout_order


def _default_panes() -> dict[str, bool]:
    return {p.id: p.shown for p in in_layout_order() if p.toggle_action}


@dataclass
class UIState:
    # Pane id -> shown, for each pane declared in coda_tui.panes that can be hidden. In the
    # file each is a flat "show_<id>" key, as before the panes were declared in one list.
    panes: dict[str, bool] = field(default_factory=_default_panes)
    theme: str | None = None  # None until the user picks one in the app
    last_session: int | None = None

    def shown(self, pane_id: str) -> bool:
        return self.panes[pane_id]

    def show(self, pane_id: str, shown: bool) -> None:
        self.panes[pane_id] = shown

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
        state = cls()
        for pane_id in state.panes:
            value = raw.get(f"show_{pane_id}")
            if isinstance(value, bool):
                state.panes[pane_id] = value
        for key in ("theme", "last_session"):
            if key in raw and isinstance(raw[key], (bool, str, int, type(None))):
                setattr(state, key, raw[key])
        return state

    def save(self) -> None:
        path = self.path()
        record = {f"show_{pane_id}": shown for pane_id, shown in self.panes.items()}
        record.update(theme=self.theme, last_session=self.last_session)
        try:
            # Loaded on quit, not on the start-up path.
            from coda_tui.context.writes import write_atomic

            paths.private_dir(path.parent)
            # Owner-only: a 0644 file here made the next run warn about coda's own data dir.
            write_atomic(path, json.dumps(record, indent=2), private=True)
        except OSError:
            pass  # a read-only data dir costs the layout memory, nothing else
