"""Keymaps (coda_tui.keymaps, plain TOML) turned into Textual bindings.

Every action is a `Binding` with `id=` the action's name, so `App.set_keymap` rebinds any
of them from the keymap in force; the footer, the help screen and the command palette
are all generated from that same keymap.
"""

from __future__ import annotations

from textual.binding import Binding

from coda_tui.config import Config
from coda_tui.keymaps import ACTIONS, Keymap, load_keymap

# Actions bound on a widget rather than the app (the chat input, the message list, …).
WIDGET_ACTIONS = {"send", "newline", "history_previous", "history_next", "branch", "copy_message", "attach", "detach", "go_to_line"}
# Shown in the footer; the rest are in F1 help and the command palette.
FOOTER = {"quit": "Quit", "help": "Help", "sessions": "Sessions", "pick_model": "Model", "new_session": "New", "toggle_context": "Context", "toggle_code": "Code", "toggle_pipeline": "Pipeline",
          "talk": "Talk"}
# Must work even where a widget would take the key first (a text input, a tree).
PRIORITY = {"quit", "focus_next", "focus_previous", "command_palette", "help", "toggle_context",
            "toggle_code", "toggle_pipeline", "new_session", "clear_session", "export_session",
            "open_file", "sessions", "pick_model", "focus_chat", "focus_code", "focus_context", "focus_pipeline",
            "talk"}


def describe(action: str) -> str:
    return ACTIONS.get(action, action.replace("_", " "))


def _bindings() -> list[Binding]:
    default = load_keymap("default")
    out = []
    for action in ACTIONS:
        if action in WIDGET_ACTIONS or not default.bindings.get(action):
            continue
        out.append(
            Binding(
                ",".join(default.bindings[action]),
                action,
                FOOTER.get(action, describe(action)),
                id=action,
                show=action in FOOTER,
                priority=action in PRIORITY,
            )
        )
    return out


ACTION_BINDINGS = _bindings()


def load_active_keymap(config: Config) -> Keymap:
    return load_keymap(config.ui.keymap or "default")


def keymap_for_textual(keymap: Keymap) -> dict[str, str]:
    """Binding id -> comma-separated keys; an unbound action gets a key nobody can press."""
    return {action: ",".join(keys) if keys else "coda_unbound" for action, keys in keymap.bindings.items()}
