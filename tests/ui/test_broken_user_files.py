"""Broken user files at start-up: the app comes up in a default theme, says what is wrong
once, and keeps its keys (Ctrl+Q quits)."""

from __future__ import annotations

import asyncio

from coda_tui import paths, resources


def test_theme_values_that_would_break_the_css_are_reported_and_the_app_still_works(harness, project):
    themes = resources.user_dir("themes")
    themes.mkdir(parents=True)
    for name, value in (("semicolon", "#ff0000; color: red"), ("word", "notacolor")):
        (themes / f"{name}.toml").write_text(
            f'name = "{name}"\n[colors]\nprimary = "#0178D4"\n[variables]\n"footer-key-foreground" = "{value}"\n'
        )
    state = paths.data_dir() / "ui-state.json"
    state.parent.mkdir(parents=True, exist_ok=True)
    state.write_text('{"theme": ' + "[" * 50_000 + "]" * 50_000 + "}")

    async def go():
        app = harness(extra='[ui]\ntheme = "semicolon"\n').app(project)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause(0.2)
            assert app.theme == "dark" and "semicolon" not in app.theme_specs and "word" not in app.theme_specs
            # (The data dir this test made by hand is also tightened, and said: not counted here.)
            errors = sorted(n.message for n in app._notifications if n.message.startswith("theme "))
            assert len(errors) == 2
            assert all("line 5, key 'variables.footer-key-foreground': not a colour or a text style" in e for e in errors)
            await pilot.press("ctrl+q")
            await pilot.pause(0.2)
        assert app.return_code in (0, None)

    asyncio.run(go())
