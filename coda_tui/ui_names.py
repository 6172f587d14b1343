"""The [ui] settings that name something kept elsewhere (a theme, a keymap): whether the
configuration names one at all, and an error for a name that does not exist.

The configured theme wins over the one last picked in the app, but only when the file or
the environment (CODA_UI_THEME) names it; with neither, the last pick is kept.
"""

from __future__ import annotations

import os

from coda_tui.config import Config, ConfigError
from coda_tui.tomlfile import Locator, did_you_mean


def _env_var(key: str) -> str:
    return f"CODA_UI_{key.upper()}"


def _line(config: Config, key: str) -> int | None:
    if config.path is None or not config.loaded_from_file:
        return None
    try:
        text = config.path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    return Locator(text).key("ui", key, or_header=False)


def named(config: Config, key: str) -> bool:
    """Whether the config file or the environment sets `[ui] key` (rather than the default)."""
    return bool(os.environ.get(_env_var(key))) or _line(config, key) is not None


def check_name(config: Config, key: str, available: list[str]) -> None:
    """ConfigError naming the file, the line and the names there are, when `[ui] key` names
    none of `available`."""
    value = getattr(config.ui, key)
    if value in available:
        return
    hint = did_you_mean(value, available)
    problem = f"no {key} named '{value}'" + (f"; {hint}" if hint else "")
    expected = "one of: " + ", ".join(available)
    if os.environ.get(_env_var(key)):
        raise ConfigError(f"environment variable {_env_var(key)}: {problem}", key=f"ui.{key}", expected=expected)
    line = _line(config, key)
    raise ConfigError(problem, path=config.path if line else None, line=line, key=f"ui.{key}", expected=expected)
