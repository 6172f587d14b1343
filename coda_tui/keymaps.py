"""Keymaps: which keys trigger which actions, as TOML files users can edit.

    # ~/.config/coda/keymaps/mine.toml
    name = "mine"                 # optional; defaults to the file name
    description = "..."           # optional
    extends = "vim"               # optional; "default" when absent
    [bindings]
    quit = "ctrl+q"               # one key
    focus_next = ["tab", "ctrl+w"]    # several
    regenerate = []               # unbound

Resolution:

- `load_keymap(None)` loads "default". A value ending in `.toml` or holding a path separator
  is a file; anything else is a name, looked up as NAME.toml in the user's folder
  (`<config dir>/keymaps`, ~/.config/coda/keymaps on Linux) first, then among the built-in
  keymaps. So a user's `keymaps/default.toml` customises the default keymap in place.
- Every keymap except the built-in default extends another one: `extends = "NAME"`, or
  "default" when absent, so a user file lists only what it changes. A file that extends
  its own name (a user's vim.toml saying `extends = "vim"`) extends the built-in one.
  The built-in default is the root and binds every action.
- An action listed in a file replaces all of its inherited keys; `[]` unbinds it.
- In the resolved keymap a key triggers one action. Binding a key an inherited action still
  holds is an error naming both, rather than a silent steal: rebind or unbind the other one.

Keys are written the way Textual names them: modifiers (`ctrl`, `shift`, `alt`, `meta`,
`super`, `hyper`) joined by `+` to a base key, which is a single printable character or a
name (`f1`..`f24`, `escape`, `enter`, `tab`, `pageup`, `question_mark`, `slash`, ...).
Names and modifiers are case-insensitive and modifiers are stored sorted, the order Textual
reports them in. Punctuation characters become Textual's names (`ctrl+/` -> `ctrl+slash`).
A lone letter keeps its case, because terminals report shift+g as `G` (so `shift+g` is
stored as `G`); with other modifiers letters are lowercased (`ctrl+Q` -> `ctrl+q`).

Nothing here imports Textual: ui/ turns a Keymap into `Binding(key, ..., id=action)`s.
"""

from __future__ import annotations

import itertools
import os
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from coda_tui import resources
from coda_tui.actions import REGISTRY, SCREEN, can_clash
from coda_tui.tomlfile import (
    Locator,
    UserFileError,
    choices,
    did_you_mean,
    got,
    read_toml,
)

# The ids ui/ gives its Bindings (the registry in coda_tui.actions), in the help screen's
# order: the main screen's actions, and apart from them a dialog's, whose keys may repeat them.
ACTIONS: dict[str, str] = {a.name: a.description for a in REGISTRY if a.scope != SCREEN}
DIALOG_ACTIONS: dict[str, str] = {a.name: a.description for a in REGISTRY if a.scope == SCREEN}
_ALL = {**ACTIONS, **DIALOG_ACTIONS}

MODIFIERS = ("alt", "ctrl", "hyper", "meta", "shift", "super")  # sorted: Textual's order

NAMED_KEYS = frozenset(
    ["escape", "tab", "enter", "space", "backspace", "delete", "insert", "home", "end",
     "pageup", "pagedown", "up", "down", "left", "right"]
    + [f"f{i}" for i in range(1, 25)]
)

# Textual's names for ASCII punctuation (textual.keys._character_to_key, copied so that
# nothing outside ui/ imports Textual).
CHARACTER_NAMES = {
    "!": "exclamation_mark", '"': "quotation_mark", "#": "number_sign", "$": "dollar_sign",
    "%": "percent_sign", "&": "ampersand", "'": "apostrophe", "(": "left_parenthesis",
    ")": "right_parenthesis", "*": "asterisk", "+": "plus", ",": "comma", "-": "minus",
    ".": "full_stop", "/": "slash", ":": "colon", ";": "semicolon", "<": "less_than_sign",
    "=": "equals_sign", ">": "greater_than_sign", "?": "question_mark", "@": "at",
    "[": "left_square_bracket", "\\": "backslash", "]": "right_square_bracket",
    "^": "circumflex_accent", "_": "underscore", "`": "grave_accent",
    "{": "left_curly_bracket", "|": "vertical_line", "}": "right_curly_bracket", "~": "tilde",
}
# textual.keys.KEY_NAME_REPLACEMENTS: Unicode names Textual shortens.
_NAME_REPLACEMENTS = {
    "solidus": "slash", "reverse_solidus": "backslash", "commercial_at": "at",
    "hyphen_minus": "minus", "plus_sign": "plus", "low_line": "underscore",
}

EXPECTED_KEY = "keys like ctrl+q, f2, shift+tab, escape"
_TOP_KEYS = ("name", "description", "extends", "bindings")
_ROOT = "default"


class KeymapError(UserFileError):
    """A keymap that cannot be used, e.g. "keymap /x/vim.toml, line 7, action 'quitt': ..."."""

    noun = "keymap"


@dataclass
class Keymap:
    name: str
    path: Path
    # action -> keys, resolved through `extends`: every action in ACTIONS is present.
    bindings: dict[str, list[str]]
    description: str = ""
    # The same for DIALOG_ACTIONS: keys of the sessions list and other dialogs.
    dialog_bindings: dict[str, list[str]] = field(default_factory=dict)
    # The files read, this keymap's first and the built-in default last.
    chain: list[Path] = field(default_factory=list)

    def key_string(self, action: str) -> str:
        """The keys of `action` as Textual's comma-separated Binding key ("" when unbound)."""
        return ",".join(self.bindings.get(action) or self.dialog_bindings.get(action, []))

    def every_binding(self) -> dict[str, list[str]]:
        return {**self.bindings, **self.dialog_bindings}


# --- keys ------------------------------------------------------------------------------


class _BadKey(ValueError):
    def __init__(self, problem: str, expected: str = EXPECTED_KEY, hint: str | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.expected = expected
        self.hint = hint


def normalize_key(spec: str) -> str:
    """The canonical form of one key (`"Ctrl+/"` -> `"ctrl+slash"`); ValueError if invalid."""
    if not isinstance(spec, str):
        raise _BadKey(got(spec), "a key like 'ctrl+q'")
    if spec == " ":
        return "space"
    text = spec.strip()
    if not text:
        raise _BadKey("empty key")
    if any(ch.isspace() for ch in text):
        raise _BadKey(f"malformed key {spec!r}: no spaces inside a key (write 'space' for the space bar)")
    if text == "+":
        return "plus"
    if text.endswith("++"):
        *parts, base = text[:-2].split("+") + ["+"]
    else:
        *parts, base = text.split("+")
    if base == "" or "" in parts:
        raise _BadKey(f"malformed key {spec!r}")
    mods: list[str] = []
    for part in parts:
        mod = part.lower()
        if mod not in MODIFIERS:
            raise _BadKey(
                f"malformed key {spec!r}: unknown modifier '{part}'",
                "modifiers " + ", ".join(MODIFIERS) + " joined by + to a key",
                did_you_mean(mod, MODIFIERS),
            )
        if mod in mods:
            raise _BadKey(f"malformed key {spec!r}: modifier '{mod}' given twice")
        mods.append(mod)
    base = _base_key(base, mods, spec)
    if len(base) == 1 and base.isalpha() and mods == ["shift"] and len(base.upper()) == 1:
        return base.upper()  # what a terminal sends for shift+letter
    return "+".join(sorted(mods) + [base])


def _base_key(base: str, mods: list[str], spec: str) -> str:
    if len(base) == 1:
        if not base.isprintable():
            raise _BadKey(f"malformed key {spec!r}: {base!r} is not a printable character")
        if base.isalnum():
            return base.lower() if mods and len(base.lower()) == 1 else base
        return _character_key(base)
    name = base.lower()
    if name in NAMED_KEYS or name in _KNOWN_NAMES:
        return name
    if name in MODIFIERS:
        raise _BadKey(f"malformed key {spec!r}: '{name}' is a modifier, not a key")
    if name in _NAME_REPLACEMENTS:
        raise _BadKey(f"malformed key {spec!r}: unknown key name '{base}'", hint=f"did you mean '{_NAME_REPLACEMENTS[name]}'?")
    char = _character_of(name)
    if char is not None:
        canonical = _character_key(char)
        if canonical == name:
            return name
        raise _BadKey(f"malformed key {spec!r}: unknown key name '{base}'", hint=f"did you mean '{canonical}'?")
    hint = did_you_mean(name, sorted(NAMED_KEYS | _KNOWN_NAMES))
    raise _BadKey(f"malformed key {spec!r}: unknown key name '{base}'", hint=hint)


_KNOWN_NAMES = frozenset(CHARACTER_NAMES.values())


def _character_key(char: str) -> str:
    """textual.keys._character_to_key: a character's key name."""
    if char.isalnum():
        return char
    if char in CHARACTER_NAMES:
        return CHARACTER_NAMES[char]
    try:
        name = unicodedata.name(char).lower().replace("-", "_").replace(" ", "_")
    except ValueError:
        return char
    return _NAME_REPLACEMENTS.get(name, name)


def _character_of(name: str) -> str | None:
    """The printable, non-alphanumeric character a key name like 'euro_sign' stands for.

    Key names turn both spaces and hyphens of the Unicode name into "_", so each "_" is
    tried as either ("left_pointing_double_angle_quotation_mark" is "«").
    """
    words = name.upper().split("_")
    if not all(words) or len(words) > 10:
        return None
    for joints in itertools.product(" -", repeat=len(words) - 1):
        candidate = words[0] + "".join(j + w for j, w in zip(joints, words[1:]))
        try:
            char = unicodedata.lookup(candidate)
        except (KeyError, ValueError):
            continue
        if len(char) == 1 and not char.isalnum() and char.isprintable() and not char.isspace():
            return char
        return None
    return None


# --- files -----------------------------------------------------------------------------


@dataclass
class _File:
    path: Path
    locator: Locator
    name: str
    description: str
    extends: str | None
    bindings: dict[str, list[str]]

    def line_of(self, action: str) -> int | None:
        return (
            self.locator.key("bindings", action, or_header=False)
            or self.locator.key(f"bindings.{action}", None)
            or self.locator.key("bindings", None)
        )

    def error(self, problem: str, action: str | None = None, expected: str | None = None, *,
              hint: str | None = None, line: int | None = None) -> KeymapError:
        if line is None and action is not None:
            line = self.line_of(action)
        return KeymapError(problem, path=self.path, line=line, key=action, expected=expected, hint=hint, field="action")


def _parse(path: Path) -> _File:
    raw, text = read_toml(path, KeymapError)
    loc = Locator(text)

    def top_error(problem: str, key: str, expected: str | None = None, hint: str | None = None) -> KeymapError:
        line = loc.key("", key) or loc.key(key, None)
        return KeymapError(problem, path=path, line=line, key=key, expected=expected, hint=hint)

    for key in raw:
        if key not in _TOP_KEYS:
            raise top_error("unknown key", key, **choices(key, _TOP_KEYS))
    strings = {}
    for key in ("name", "description", "extends"):
        value = raw.get(key)
        if value is not None and not isinstance(value, str):
            raise top_error(got(value), key, "a string")
        strings[key] = value
    if strings["name"] is not None and not strings["name"].strip():
        raise top_error("empty name", "name", "a name like 'mine'")
    extends = strings["extends"]
    if extends is not None and not _is_name(extends):
        raise top_error(f"cannot extend {extends!r}", "extends", "the name of another keymap, like 'default'")
    table = raw.get("bindings", {})
    if not isinstance(table, dict):
        raise top_error(got(table), "bindings", "a [bindings] table")

    f = _File(path, loc, strings["name"] or path.stem, strings["description"] or "", extends, {})
    for action, value in table.items():
        if action not in _ALL:
            raise f.error("unknown action", action, **choices(action, _ALL))
        if isinstance(value, str):
            specs = [value]
        elif isinstance(value, list):
            specs = value
        else:
            raise f.error(got(value), action, "a key like \"ctrl+q\" or a list of keys")
        keys: list[str] = []
        for spec in specs:
            if not isinstance(spec, str):
                raise f.error(got(spec) + " in the list", action, "keys as strings, like \"ctrl+q\"")
            try:
                key = normalize_key(spec)
            except _BadKey as exc:
                expected, hint = exc.expected, exc.hint
                if "," in spec.strip(",") and spec.strip() != ",":
                    expected, hint = "a list for several keys, like [\"f1\", \"ctrl+h\"]", None
                raise f.error(exc.problem, action, expected, hint=hint, line=loc.value(f.line_of(action), spec)) from None
            if key not in keys:
                keys.append(key)
        f.bindings[action] = keys
    return f


def _is_name(value: str) -> bool:
    return bool(value.strip()) and not looks_like_path(value)


def looks_like_path(value: str) -> bool:
    seps = [s for s in ("/", os.sep, os.altsep) if s]
    return value.endswith(".toml") or value.startswith(("~", ".")) or any(s in value for s in seps)


# --- resolution ------------------------------------------------------------------------


def available_keymaps(user_dir: Path | None = None) -> list[str]:
    """Names `load_keymap` accepts: the built-in keymaps and the user's, sorted."""
    names = set()
    for folder in (resources.builtin_dir("keymaps"), _user_dir(user_dir)):
        if folder.is_dir():
            names.update(p.stem for p in folder.glob("*.toml"))
    return sorted(names)


def load_keymap(name_or_path: str | os.PathLike[str] | None = None, *, user_dir: Path | None = None) -> Keymap:
    """The keymap named (or the file given), resolved through `extends`; see the module doc."""
    udir = _user_dir(user_dir)
    builtin = resources.builtin_dir("keymaps")
    root = (builtin / f"{_ROOT}.toml").resolve()
    target = os.fspath(name_or_path) if name_or_path is not None else _ROOT
    if looks_like_path(target):
        try:
            path = Path(target).expanduser()
        except RuntimeError as exc:  # ~user that does not exist
            raise KeymapError(f"cannot find the file: {exc}", path=target) from None
        if not path.is_file():
            raise KeymapError("file not found", path=path, expected="an existing .toml file")
    else:
        found = _find(target, udir, builtin, exclude=None)
        if found is None:
            raise KeymapError(
                f"no keymap named '{target}'", expected="one of: " + ", ".join(available_keymaps(udir))
            )
        path = found

    chain: list[_File] = []
    seen: list[Path] = []
    current = path
    while True:
        resolved = current.resolve()
        if resolved in seen:
            last = chain[-1]
            loop = " -> ".join(str(p) for p in [*seen[seen.index(resolved):], resolved])
            raise KeymapError(
                f"'extends' goes round in a circle: {loop}", path=last.path,
                line=last.locator.key("", "extends"), key="extends", field="key",
                expected="a chain of keymaps that ends at 'default'",
            )
        seen.append(resolved)
        parsed = _parse(current)
        chain.append(parsed)
        if resolved == root:
            break
        parent_name = parsed.extends or _ROOT
        parent = _find(parent_name, udir, builtin, exclude=resolved)
        if parent is None:
            raise KeymapError(
                f"extends a keymap that does not exist: '{parent_name}'", path=parsed.path,
                line=parsed.locator.key("", "extends"), key="extends", field="key",
                expected="one of: " + ", ".join(available_keymaps(udir)),
            )
        current = parent

    bindings, owner = _merge(chain)
    _check_unique(bindings, owner, chain)
    leaf = chain[0]
    return Keymap(
        name=leaf.name,
        path=leaf.path,
        bindings={action: bindings[action] for action in ACTIONS},
        dialog_bindings={action: bindings[action] for action in DIALOG_ACTIONS},
        description=leaf.description,
        chain=[f.path for f in chain],
    )


def _user_dir(user_dir: Path | None) -> Path:
    return Path(user_dir) if user_dir is not None else resources.user_dir("keymaps")


def _find(name: str, user_dir: Path, builtin: Path, *, exclude: Path | None) -> Path | None:
    if not _is_name(name):
        return None
    for folder in (user_dir, builtin):
        candidate = folder / f"{name}.toml"
        try:
            if candidate.is_file() and candidate.resolve() != exclude:
                return candidate
        except (OSError, ValueError):  # a name too long or otherwise unusable as a file name
            continue
    return None


def _merge(chain: list[_File]) -> tuple[dict[str, list[str]], dict[str, _File]]:
    bindings: dict[str, list[str]] = {}
    owner: dict[str, _File] = {}
    for f in reversed(chain):  # the root first, so each file overrides its parent
        for action, keys in f.bindings.items():
            bindings[action] = keys
            owner[action] = f
    root = chain[-1]
    for action in _ALL:
        if action not in bindings:
            raise root.error("missing from the base keymap", action, "every action bound in the default keymap", line=root.locator.key("bindings", None))
    return bindings, owner


def _clashing(actions: list[str]) -> list[str]:
    """The actions of one clash: a key may repeat between a dialog and the main screen."""
    for a, b in itertools.combinations(actions, 2):
        if can_clash(a, b):
            return [a, b]
    return []


def _check_unique(bindings: dict[str, list[str]], owner: dict[str, _File], chain: list[_File]) -> None:
    holders: dict[str, list[str]] = {}
    for action in _ALL:
        for key in bindings[action]:
            holders.setdefault(key, []).append(action)
    depth = {id(f): i for i, f in enumerate(chain)}
    for key, actions in holders.items():
        actions = _clashing(actions)
        if not actions:
            continue
        # Blame the action written last: in the most derived file, then lowest in it.
        def rank(action: str) -> tuple[int, int]:
            f = owner[action]
            return (depth[id(f)], -(f.line_of(action) or 0))

        culprit, *others = sorted(actions, key=rank)
        other = others[0]
        f, other_file = owner[culprit], owner[other]
        origin = "" if other_file is f else f", inherited from keymap '{other_file.name}'"
        raise f.error(
            f"key '{key}' is bound to both '{culprit}' and '{other}'{origin}",
            culprit,
            hint=f"one action per key: give '{culprit}' another key, or rebind '{other}' too; {other} = [] unbinds it",
            line=f.locator.value(f.line_of(culprit), key),
        )
