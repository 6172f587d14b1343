"""Themes: colours for the app and a Pygments style for code, as TOML files users can edit.

    # ~/.config/coda/themes/mine.toml
    name = "mine"                     # optional; defaults to the file name
    description = "..."               # optional
    dark = true                       # optional; true when absent, as in Textual
    pygments_style = "monokai"        # optional; "github-dark" if dark, else "xcode"
    [colors]                          # primary is required, the rest optional
    primary = "#0178D4"               # #rgb, #rrggbb or #rrggbbaa
    secondary = "#004578"
    ...                               # accent foreground background surface panel boost
                                      # success warning error
    [variables]                       # optional: Textual CSS variables, string values
    "footer-key-foreground" = "#ffa62b"

The built-in themes ship in the package; the user's go in `<config dir>/themes`
(~/.config/coda/themes on Linux) and win over a built-in of the same name. Every file is
validated when loaded, and a broken user theme is reported without hiding the others.

Nothing here imports Textual: ui/ turns a ThemeSpec into a `textual.theme.Theme`.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coda_tui import resources
from coda_tui.tomlfile import Locator, UserFileError, choices, got, read_toml

COLOR_KEYS = (
    "primary", "secondary", "accent", "foreground", "background", "surface", "panel", "boost",
    "success", "warning", "error",
)
DEFAULT_PYGMENTS = {True: "github-dark", False: "xcode"}

_TOP_KEYS = ("name", "description", "dark", "pygments_style", "colors", "variables")
_COLOR = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})")
_VARIABLE = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
_COLOR_FORMS = "a colour like #rgb, #rrggbb or #rrggbbaa"
# A variable's value goes into Textual's CSS as it is: anything but a colour (optionally with
# an alpha percentage) or text styles could end the declaration (";"), or fail to parse and
# leave the app without styles. So only those pass.
_VALUE_COLOR = re.compile(r"(?:#(?:[0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})|transparent)(?: [0-9]{1,3}%)?")
_TEXT_STYLES = frozenset({"none", "not", "bold", "dim", "italic", "underline", "underline2", "reverse", "strike",
                          "blink", "blink2", "overline"})
_VALUE_FORMS = 'a colour like "#ffa62b", with an alpha like "#ffa62b 35%", or text styles like "bold"'


class ThemeError(UserFileError):
    """A theme that cannot be used, e.g. "theme /x/mine.toml, line 6, key 'colors.primary': ..."."""

    noun = "theme"


@dataclass
class ThemeSpec:
    name: str
    dark: bool
    pygments_style: str
    # COLOR_KEYS -> "#rrggbb"-style strings; only the ones the file sets.
    colors: dict[str, str]
    variables: dict[str, str] = field(default_factory=dict)
    path: Path | None = None
    description: str = ""


def load_theme(path: str | Path) -> ThemeSpec:
    """Read and check one theme file; every problem is a ThemeError naming file, line and key."""
    path = Path(path)
    raw, text = read_toml(path, ThemeError)
    return _Builder(path, Locator(text)).build(raw)


def available_themes(user_dir: Path | None = None) -> tuple[dict[str, ThemeSpec], list[ThemeError]]:
    """The built-in themes, then the user's (which win on a name clash), by name.

    Files that fail to load are left out and returned as errors, so one broken user theme
    costs only itself.
    """
    folders = [resources.builtin_dir("themes"), Path(user_dir) if user_dir is not None else resources.user_dir("themes")]
    themes: dict[str, ThemeSpec] = {}
    errors: list[ThemeError] = []
    for folder in folders:
        try:
            files = sorted(folder.glob("*.toml")) if folder.is_dir() else []
        except OSError as exc:
            errors.append(ThemeError(f"cannot list the folder: {exc}", path=folder))
            continue
        for path in files:
            try:
                spec = load_theme(path)
            except ThemeError as exc:
                errors.append(exc)
                continue
            themes[spec.name] = spec
    return themes, errors


def relative_luminance(color: str) -> float:
    """WCAG relative luminance of "#rgb"/"#rrggbb"/"#rrggbbaa" (alpha ignored)."""
    if not _COLOR.fullmatch(color):
        raise ValueError(f"not a colour: {color!r}")
    digits = color[1:]
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)

    def channel(hex2: str) -> float:
        c = int(hex2, 16) / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(digits[i:i + 2]) for i in (0, 2, 4))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: str, b: str) -> float:
    """WCAG contrast ratio between two colours, from 1 (none) to 21 (black on white)."""
    hi, lo = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


@functools.lru_cache(maxsize=1)
def pygments_styles() -> frozenset[str]:
    """Names of every Pygments style installed, plugins included."""
    from pygments.styles import get_all_styles

    return frozenset(get_all_styles())


class _Builder:
    def __init__(self, path: Path, locator: Locator) -> None:
        self.path = path
        self.loc = locator

    def error(self, problem: str, table: str, key: str | None, expected: str | None = None, hint: str | None = None) -> ThemeError:
        """An error about `key` in `[table]` ("" is the top level), or about the table itself."""
        if key is None:
            line = self.loc.key(table, None) or self.loc.key("", table)
            dotted = table or None
        else:
            line = self.loc.key(table, key, or_header=False)
            if line is None and table:
                line = self.loc.key(f"{table}.{key}", None) or self.loc.key(table, None)
            dotted = f"{table}.{key}" if table else key
        return ThemeError(problem, path=self.path, line=line, key=dotted, expected=expected, hint=hint)

    def build(self, raw: dict[str, Any]) -> ThemeSpec:
        for key in raw:
            if key not in _TOP_KEYS:
                raise self.error("unknown key", "", key, **choices(key, _TOP_KEYS))
        name = self.string(raw, "name")
        if name is not None and not name.strip():
            raise self.error("empty name", "", "name", "a name like 'mine'")
        description = self.string(raw, "description") or ""
        dark = raw.get("dark", True)
        if not isinstance(dark, bool):
            raise self.error(got(dark), "", "dark", "true or false")
        style = self.string(raw, "pygments_style")
        if style is None:
            style = DEFAULT_PYGMENTS[dark]
        else:
            self.check_pygments(style)
        return ThemeSpec(
            name=name or self.path.stem,
            dark=dark,
            pygments_style=style,
            colors=self.colors(raw.get("colors")),
            variables=self.variables(raw.get("variables", {})),
            path=self.path,
            description=description,
        )

    def string(self, raw: dict[str, Any], key: str) -> str | None:
        value = raw.get(key)
        if value is not None and not isinstance(value, str):
            raise self.error(got(value), "", key, "a string")
        return value

    def check_pygments(self, style: str) -> None:
        from pygments.styles import get_style_by_name

        # Loading the style first: listing every installed style (pygments_styles) reads the
        # plugins' entry points, ~40 ms of each start, and is needed only to name a bad one.
        try:
            get_style_by_name(style)
        except Exception as exc:  # a broken plugin style can fail in any way
            if style not in pygments_styles():
                raise self.error(f"unknown Pygments style {style!r}", "", "pygments_style", **choices(style, sorted(pygments_styles()))) from None
            raise self.error(f"cannot load Pygments style {style!r}: {exc}", "", "pygments_style") from None

    def table(self, value: Any, name: str, expected: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.error(got(value), "", name, expected)
        return value

    def colors(self, value: Any) -> dict[str, str]:
        if value is None:
            raise self.error("missing [colors]", "", None, "a [colors] table with at least primary = \"#rrggbb\"")
        colors = self.table(value, "colors", "a [colors] table")
        out: dict[str, str] = {}
        for key, color in colors.items():
            if key not in COLOR_KEYS:
                raise self.error("unknown colour", "colors", key, **choices(key, COLOR_KEYS))
            if not isinstance(color, str):
                raise self.error(got(color), "colors", key, _COLOR_FORMS)
            if not _COLOR.fullmatch(color.strip()):
                raise self.error(f"not a colour: {color!r}", "colors", key, _COLOR_FORMS)
            out[key] = color.strip()
        if "primary" not in out:
            raise self.error("missing 'primary'", "colors", None, "primary = \"#rrggbb\" in [colors]")
        return out

    def variables(self, value: Any) -> dict[str, str]:
        variables = self.table(value, "variables", "a [variables] table of Textual CSS variables")
        out: dict[str, str] = {}
        for key, text in variables.items():
            if not _VARIABLE.fullmatch(key):
                raise self.error("not a CSS variable name", "variables", key, "a name like \"footer-key-foreground\"")
            if not isinstance(text, str) or not text.strip():
                raise self.error(got(text), "variables", key, "a non-empty string, like \"#ffa62b\" or \"bold\"")
            text = text.strip()
            if not _VALUE_COLOR.fullmatch(text) and not set(text.split()) <= _TEXT_STYLES:
                raise self.error(f"not a colour or a text style: {text[:40]!r}", "variables", key, _VALUE_FORMS)
            out[key] = text
        return out
