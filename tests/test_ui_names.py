"""`[ui] theme` and `[ui] keymap` naming something that does not exist: one line naming the
config file, the line and the names there are, before the screen changes; exit status 2."""

from __future__ import annotations

import pytest

from tests.conftest import run_coda, write_config


@pytest.mark.parametrize(
    ("key", "value", "names", "hint"),
    [("theme", "nosuchtheme", ["dark", "light", "high-contrast"], None), ("keymap", "vimm", ["default", "emacs", "vim"], "vim")],
)
def test_an_unknown_ui_name_in_the_config_is_an_error_naming_file_line_and_names(tmp_path, key, value, names, hint):
    config = write_config(tmp_path, f'[general]\n\n[ui]\n# chosen by hand\n{key} = "{value}"\n')
    result = run_coda("--config", str(config), timeout=60)
    assert result.returncode == 2
    err = result.stderr
    assert "Traceback" not in err
    assert str(config) in err and "line 5" in err and f"no {key} named '{value}'" in err
    assert all(name in err for name in names)
    if hint:
        assert f"did you mean '{hint}'?" in err


def test_an_unknown_theme_in_the_environment_names_the_variable(tmp_path):
    result = run_coda(env={"CODA_UI_THEME": "nosuchtheme"}, timeout=60)
    assert result.returncode == 2
    assert "CODA_UI_THEME" in result.stderr and "no theme named 'nosuchtheme'" in result.stderr
    assert "Traceback" not in result.stderr
