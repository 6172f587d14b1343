"""Themes (coda_tui.themes, plain TOML) registered as Textual themes, and re-applied live
when a user theme file changes on disk."""

from __future__ import annotations

from textual.theme import Theme

from coda_tui import resources
from coda_tui.themes import ThemeSpec, available_themes


def to_textual(spec: ThemeSpec) -> Theme:
    colors = dict(spec.colors)
    return Theme(name=spec.name, dark=spec.dark, variables=dict(spec.variables), **colors)


def register_all(app) -> dict[str, ThemeSpec]:
    """Register every theme; a broken user theme is reported, and the others still load."""
    specs, errors = available_themes()
    for spec in specs.values():
        app.register_theme(to_textual(spec))
    for error in errors:
        app.call_later(app.notify, str(error), severity="error", timeout=10)
    return specs


def broken_names() -> set[str]:
    """Names of the user's theme files that failed to load (a file's name is its theme's):
    a config naming one of them has had its error reported already, and gets the default
    theme rather than a second error for a name that does exist."""
    return {error.path.stem for error in available_themes()[1] if error.path is not None}


def watch_user_themes(app) -> None:
    """Re-read the user themes folder whenever a file in it changes (context.watch)."""
    folder = resources.user_dir("themes")
    if not folder.is_dir():
        return

    async def watch() -> None:
        from coda_tui.context.watch import changes

        async for _paths in changes(folder, debounce_ms=200):
            specs = register_all(app)
            app.theme_specs = specs
            current = app.theme
            if current in specs:
                # Same name, new colours: switch away and back so Textual re-reads them.
                app.theme = "textual-dark" if current != "textual-dark" else "textual-light"
                app.theme = current
                app._apply_code_style()

    app.run_worker(watch(), group="theme-watch", exit_on_error=False)
