"""The action registry (coda_tui.actions) and a keymap (coda_tui.keymaps) turned into
Textual bindings.

Every binding of an action carries `id=` the action's name, so `App.set_keymap` rebinds it
from the keymap in force wherever it is declared (the app, a dialog, a widget); the keys
written here are the default keymap's, never a widget's own.
"""

from __future__ import annotations

from textual.binding import Binding

from coda_tui.actions import APP, BY_NAME, REGISTRY, describe
from coda_tui.config import Config
from coda_tui.keymaps import Keymap, available_keymaps, load_keymap, looks_like_path
from coda_tui.ui_names import check_name

_DEFAULT = load_keymap("default")

__all__ = ["ACTION_BINDINGS", "bind", "default_keys", "describe", "keymap_for_textual", "load_active_keymap"]


def bind(name: str, action: str | None = None, label: str | None = None, *, show: bool | None = None) -> Binding:
    """The binding of registry action `name`; `action` is the Textual action it runs when
    that differs (a dialog's Esc runs "dismiss(None)" under the id "cancel")."""
    spec = BY_NAME[name]
    return Binding(
        _DEFAULT.key_string(name) or "coda_unbound",
        action or name,
        label or spec.footer or spec.description,
        id=name,
        show=spec.footer is not None if show is None else show,
        priority=spec.priority,
    )


def default_keys(name: str) -> list[str]:
    return list(_DEFAULT.every_binding()[name])


ACTION_BINDINGS = [bind(a.name) for a in REGISTRY if a.scope == APP]


def load_active_keymap(config: Config) -> Keymap:
    name = config.ui.keymap or "default"
    if not looks_like_path(name):
        check_name(config, "keymap", available_keymaps())
    return load_keymap(name)


def keymap_for_textual(keymap: Keymap) -> dict[str, str]:
    """Binding id -> comma-separated keys; an unbound action gets a key nobody can press."""
    return {action: ",".join(keys) if keys else "coda_unbound" for action, keys in keymap.every_binding().items()}
