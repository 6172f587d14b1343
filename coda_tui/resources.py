"""Where the keymaps and themes shipped with coda live, and where a user's own go.

The TOML files sit in `keymaps/` and `themes/` at the top of the repository. A wheel carries
them inside the package as `coda_tui/data/keymaps` and `coda_tui/data/themes` (see the
package-dir mapping in pyproject.toml), so the installed location is tried first and the
source checkout (editable install, tests) second. Only pathlib here: this module is imported
at start-up and must not drag anything in.
"""

from __future__ import annotations

from pathlib import Path

KINDS = ("keymaps", "themes")

_PACKAGE = Path(__file__).resolve().parent


def builtin_dir(kind: str) -> Path:
    """The folder of the TOML files coda ships for `kind` ("keymaps" or "themes")."""
    _check(kind)
    for candidate in (_PACKAGE / "data" / kind, _PACKAGE.parent / kind):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(
        f"coda's built-in {kind} are missing: looked in {_PACKAGE / 'data' / kind} and {_PACKAGE.parent / kind}"
    )


def user_dir(kind: str) -> Path:
    """The folder for the user's own files: `<platform config dir>/<kind>` (may not exist).

    This is the platform config dir itself (~/.config/coda/keymaps on Linux), not the folder
    of a --config file, so one set of keymaps and themes serves every config.
    """
    _check(kind)
    import platformdirs  # deferred: only callers that look for user files pay for it

    from coda_tui.paths import APP_NAME

    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / kind


def _check(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown resource kind {kind!r} (expected one of: {', '.join(KINDS)})")
