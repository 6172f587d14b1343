from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pygments.styles import get_style_by_name

from coda_tui import resources
from coda_tui.config import ConfigError
from coda_tui.themes import (
    COLOR_KEYS,
    ThemeError,
    ThemeSpec,
    available_themes,
    contrast_ratio,
    load_theme,
    relative_luminance,
)

BUILTIN = ("dark", "light", "high-contrast", "gruvbox-dark")
GOOD = '''name = "mine"
dark = true
pygments_style = "monokai"

[colors]
primary = "#0178D4"
accent = "#ffa62b"
background = "#121212"
'''


@pytest.fixture
def user_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "user-themes"
    folder.mkdir()
    return folder


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def error_of(path: Path) -> ThemeError:
    with pytest.raises(ThemeError) as info:
        load_theme(path)
    return info.value


# --- the built-in themes ----------------------------------------------------------------


def test_builtin_themes_all_load(user_dir):
    themes, errors = available_themes(user_dir)
    assert errors == []
    assert sorted(themes) == sorted(BUILTIN)
    for name, spec in themes.items():
        assert spec.name == name
        assert spec.path == resources.builtin_dir("themes") / f"{name}.toml"
        assert set(spec.colors) == set(COLOR_KEYS) - {"boost"}


@pytest.mark.parametrize("name", BUILTIN)
def test_builtin_theme_pygments_style_matches_dark_or_light(name, user_dir):
    spec = available_themes(user_dir)[0][name]
    style = get_style_by_name(spec.pygments_style)
    code_is_dark = relative_luminance(style.background_color) < 0.5
    assert code_is_dark == spec.dark
    assert (relative_luminance(spec.colors["background"]) < 0.5) == spec.dark


@pytest.mark.parametrize("name", BUILTIN)
def test_builtin_theme_text_is_readable(name, user_dir):
    c = available_themes(user_dir)[0][name].colors
    for ground in ("background", "surface", "panel"):
        assert contrast_ratio(c["foreground"], c[ground]) >= 4.5, ground  # WCAG AA for text
    for key in ("primary", "secondary", "accent", "success", "warning", "error"):
        assert contrast_ratio(c[key], c["background"]) >= 3, key  # WCAG AA for UI parts


def test_high_contrast_is_really_high_contrast(user_dir):
    spec = available_themes(user_dir)[0]["high-contrast"]
    c = spec.colors
    assert contrast_ratio(c["foreground"], c["background"]) >= 7  # WCAG AAA
    for key in ("primary", "secondary", "accent", "success", "warning", "error"):
        assert contrast_ratio(c[key], c["background"]) >= 7, key
    assert contrast_ratio(c["foreground"], c["panel"]) >= 7
    fg, bg = spec.variables["input-selection-foreground"], spec.variables["input-selection-background"]
    assert contrast_ratio(fg, bg) >= 7


def test_contrast_ratio_matches_wcag():
    assert contrast_ratio("#000", "#ffffff") == pytest.approx(21)
    assert contrast_ratio("#777777", "#777777ff") == pytest.approx(1)
    assert contrast_ratio("#767676", "#FFFFFF") == pytest.approx(4.54, abs=0.01)


# --- one file ---------------------------------------------------------------------------


def test_a_good_theme(tmp_path):
    spec = load_theme(write(tmp_path, "mine.toml", GOOD + '[variables]\n"footer-key-foreground" = "#ffa62b"\n'))
    assert spec == ThemeSpec(
        name="mine", dark=True, pygments_style="monokai",
        colors={"primary": "#0178D4", "accent": "#ffa62b", "background": "#121212"},
        variables={"footer-key-foreground": "#ffa62b"}, path=tmp_path / "mine.toml",
    )


def test_defaults_for_the_optional_keys(tmp_path):
    dark = load_theme(write(tmp_path, "plain.toml", '[colors]\nprimary = "#abc"\n'))
    assert (dark.name, dark.dark, dark.pygments_style, dark.variables) == ("plain", True, "github-dark", {})
    light = load_theme(write(tmp_path, "pale.toml", 'dark = false\n[colors]\nprimary = "#abc"\n'))
    assert light.pygments_style == "xcode"


@pytest.mark.parametrize("color", ["#abc", "#AABBCC", "#aabbcc80"])
def test_colour_forms_accepted(tmp_path, color):
    assert load_theme(write(tmp_path, "t.toml", f'[colors]\nprimary = "{color}"\n')).colors["primary"] == color


def test_unknown_pygments_style_is_an_error(tmp_path):
    path = write(tmp_path, "t.toml", GOOD.replace('"monokai"', '"monokay"'))
    err = error_of(path)
    assert (err.path, err.line, err.key) == (path, 3, "pygments_style")
    assert str(err) == f"theme {path}, line 3, key 'pygments_style': unknown Pygments style 'monokay' (did you mean 'monokai'?)"


def test_bad_colour_names_the_line_and_key(tmp_path):
    path = write(tmp_path, "t.toml", GOOD.replace('accent = "#ffa62b"', 'accent = "orange"'))
    err = error_of(path)
    assert str(err) == (
        f"theme {path}, line 7, key 'colors.accent': not a colour: 'orange' "
        "(expected a colour like #rgb, #rrggbb or #rrggbbaa)"
    )
    assert isinstance(err, ConfigError)


@pytest.mark.parametrize(
    "line, words",
    [
        ('primary = "#abcd"', "not a colour: '#abcd'"),
        ('primary = "#ggg"', "not a colour"),
        ('primary = "0178D4"', "not a colour"),
        ("primary = 0x0178D4", "got an integer"),
        ('primay = "#fff"', "unknown colour (did you mean 'primary'?)"),
    ],
)
def test_bad_colours(tmp_path, line, words):
    path = write(tmp_path, "t.toml", f"# a theme\n[colors]\n{line}\n")
    err = error_of(path)
    assert err.line == 3
    assert err.key.startswith("colors.")
    assert words in str(err)


def test_missing_primary(tmp_path):
    path = write(tmp_path, "t.toml", 'name = "t"\n[colors]\naccent = "#fff"\n')
    err = error_of(path)
    assert (err.line, err.key) == (2, "colors")
    assert "missing 'primary'" in str(err)


def test_missing_colors_table(tmp_path):
    err = error_of(write(tmp_path, "t.toml", 'name = "t"\n'))
    assert "missing [colors]" in str(err)


@pytest.mark.parametrize(
    "text, key, line, words",
    [
        ('dark = "yes"\n[colors]\nprimary = "#fff"\n', "dark", 1, "expected true or false"),
        ('nmae = "x"\n[colors]\nprimary = "#fff"\n', "nmae", 1, "did you mean 'name'?"),
        ('colors = "#fff"\n', "colors", 1, "got a string"),
        ('[colors]\nprimary = "#fff"\n[variables]\nFooter_Key = "#fff"\n', "variables.Footer_Key", 4, "CSS variable"),
        ('[colors]\nprimary = "#fff"\n[variables]\n"footer-key-foreground" = 3\n', "variables.footer-key-foreground", 4, "got an integer 3"),
        ('pygments_style = 1\n[colors]\nprimary = "#fff"\n', "pygments_style", 1, "expected a string"),
    ],
)
def test_bad_keys(tmp_path, text, key, line, words):
    err = error_of(write(tmp_path, "t.toml", text))
    assert (err.key, err.line) == (key, line)
    assert words in str(err)


@pytest.mark.parametrize(
    "value",
    ["#ff0000; color: red", "notacolor", "#ff0000 }", "#fff 35% bold", "bold; x: y", "#12345"],
)
def test_a_variable_value_textual_would_choke_on_is_an_error(tmp_path, value):
    path = write(tmp_path, "t.toml", f'[colors]\nprimary = "#fff"\n\n[variables]\n"footer-key-foreground" = "{value}"\n')
    err = error_of(path)
    assert (err.path, err.line, err.key) == (path, 5, "variables.footer-key-foreground")
    assert "not a colour or a text style" in str(err)


@pytest.mark.parametrize(
    "value", ["#ffa62b", "#FFA62B80", "#83A598 35%", "transparent", "bold",
              "not bold", "none", "bold italic"],
)
def test_variable_values_textual_reads(tmp_path, value):
    from textual.color import Color

    spec = load_theme(write(tmp_path, "t.toml", f'[colors]\nprimary = "#fff"\n[variables]\nx-y = "{value}"\n'))
    first = spec.variables["x-y"].split()[0]
    if first not in ("bold", "not", "none"):
        Color.parse(first)


def test_a_deeply_nested_theme_is_one_error(tmp_path):
    for value in ("[" * 5000 + "]" * 5000, "{a = " * 3000 + "1" + "}" * 3000):
        err = error_of(write(tmp_path, "t.toml", f'[colors]\nprimary = "#fff"\nx = {value}\n'))
        assert "nested more than" in str(err) and err.line == 3


def test_invalid_toml_gives_the_line(tmp_path):
    path = write(tmp_path, "t.toml", '[colors]\nprimary = "#fff\n')
    err = error_of(path)
    assert err.line == 2
    assert str(err).startswith(f"theme {path}, line 2: invalid TOML")


# --- builtin and user themes together ---------------------------------------------------


def test_user_theme_wins_over_builtin_of_the_same_name(user_dir):
    write(user_dir, "my-dark.toml", GOOD.replace('name = "mine"', 'name = "dark"'))
    themes, errors = available_themes(user_dir)
    assert errors == []
    assert themes["dark"].path == user_dir / "my-dark.toml"
    assert themes["dark"].pygments_style == "monokai"
    assert sorted(themes) == sorted(BUILTIN)


def test_broken_user_theme_is_reported_without_hiding_the_others(user_dir):
    write(user_dir, "good.toml", GOOD)
    broken = write(user_dir, "broken.toml", '[colors]\nprimary = "blue"\n')
    themes, errors = available_themes(user_dir)
    assert sorted(themes) == sorted([*BUILTIN, "mine"])
    assert len(errors) == 1
    assert (errors[0].path, errors[0].line, errors[0].key) == (broken, 2, "colors.primary")


def test_user_themes_come_from_the_platform_config_dir(isolated):
    folder = isolated / "home" / ".config" / "coda" / "themes"
    assert resources.user_dir("themes") == folder
    folder.mkdir(parents=True)
    write(folder, "mine.toml", GOOD)
    assert "mine" in available_themes()[0]


# --- anything at all in a file is a theme or a ThemeError --------------------------------

_TOKENS = st.sampled_from(
    ["[colors]", "[variables]", "name", "dark", "pygments_style", "colors", "variables", "primary",
     "accent", "=", '"#fff"', '"#12345678"', '"red"', '"monokai"', '"nope"', "true", "3", "[", "]",
     "{", "}", '"a-b"', "'x'", "\n", " ", "#", '""', "[]", "1.5"]
)
_KEYS = st.sampled_from(["name", "dark", "pygments_style", "primary", "accent", "background", "footer-key-foreground",
                        "colors", "variables", "nope"])
_VALUES = st.one_of(
    st.sampled_from(['"#fff"', '"#12345678"', '"red"', '"monokai"', '"xcode"', "true", "false", '""', "[]", "3", "{}",
                     "nan", "-inf", "9" * 500, '"#fff; color: red"', '"#fff 35%"', '"bold"', '"notacolor"']),
    st.integers(1, 3000).map(lambda n: "[" * n + "]" * n),
    st.integers(1, 3000).map(lambda n: "{a = " * n + "1" + "}" * n),
    st.text(max_size=12).map(lambda t: '"' + t.replace("\\", "").replace('"', "") + '"'),
)
_LINES = st.lists(
    st.one_of(st.sampled_from(["[colors]", "[variables]", "[other]"]), st.builds("{} = {}".format, _KEYS, _VALUES)), max_size=8
).map("\n".join)
# Whole tables (a header and its keys), so a wrong value lands under the right header often.
_ASSIGN = st.builds("{} = {}".format, _KEYS, _VALUES)
_TABLES = st.lists(
    st.builds(lambda head, body: "\n".join([head, *body]), st.sampled_from(["[colors]", "[variables]", "[other]", ""]),
              st.lists(_ASSIGN, max_size=4)), max_size=3
).map("\n".join)
_TOMLISH = st.one_of(
    st.lists(_TOKENS, max_size=30).map(" ".join), _LINES, _LINES.map(lambda t: '[colors]\nprimary = "#fff"\n' + t), _TABLES
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.one_of(st.text(max_size=200), _TOMLISH))
def test_any_text_is_a_theme_or_a_theme_error(tmp_path, text):
    path = tmp_path / "fuzz.toml"
    path.write_text(text, encoding="utf-8")
    try:
        spec = load_theme(path)
    except ThemeError as exc:
        assert str(exc).startswith("theme")
    else:
        assert isinstance(spec, ThemeSpec)
        assert "primary" in spec.colors


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(st.binary(max_size=300), st.binary(max_size=20).map(lambda b: b * 5000)))
def test_any_bytes_are_a_theme_or_a_theme_error(tmp_path, data):
    path = tmp_path / "fuzz.toml"
    path.write_bytes(data)
    try:
        load_theme(path)
    except ThemeError as exc:
        assert str(exc).startswith("theme") and "\n" not in str(exc)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.one_of(st.text(max_size=30), st.sampled_from(["#fff 35%", "rgb(1, 2, 3)", "bold", "#abcdef12", "#fff 100%"])))
def test_any_variable_value_accepted_is_one_textual_parses(tmp_path, value):
    from textual.color import Color, ColorParseError

    path = tmp_path / "t.toml"
    path.write_text('[colors]\nprimary = "#fff"\n[variables]\nx = ' + _toml_string(value) + "\n", encoding="utf-8")
    try:
        spec = load_theme(path)
    except ThemeError:
        return
    words = spec.variables["x"].split()
    if not set(words) <= {"none", "not", "bold", "dim", "italic", "underline", "underline2", "reverse", "strike",
                          "blink", "blink2", "overline"}:
        try:
            Color.parse(words[0])
        except ColorParseError:
            pytest.fail(f"accepted {value!r}, which Textual cannot parse")
        assert len(words) == 1 or (len(words) == 2 and words[1].endswith("%"))


def _toml_string(value: str) -> str:
    import json

    return json.dumps(value)  # a JSON string is a TOML basic string for these characters
