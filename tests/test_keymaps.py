from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coda_tui import resources
from coda_tui.config import ConfigError
from coda_tui.keymaps import ACTIONS, Keymap, KeymapError, available_keymaps, load_keymap, normalize_key

BUILTIN = ("default", "vim", "emacs")


@pytest.fixture
def user_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "user-keymaps"
    folder.mkdir()
    return folder


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def error_of(target: str | Path, user_dir: Path) -> KeymapError:
    with pytest.raises(KeymapError) as info:
        load_keymap(str(target), user_dir=user_dir)
    return info.value


# --- the built-in keymaps ---------------------------------------------------------------


@pytest.mark.parametrize("name", BUILTIN)
def test_builtin_keymap_binds_every_action_once(name, user_dir):
    keymap = load_keymap(name, user_dir=user_dir)
    assert keymap.name == name
    assert keymap.path == resources.builtin_dir("keymaps") / f"{name}.toml"
    assert list(keymap.bindings) == list(ACTIONS)
    unbound = [action for action, keys in keymap.bindings.items() if not keys]
    assert unbound == []
    keys = [key for keys in keymap.bindings.values() for key in keys]
    assert len(keys) == len(set(keys))
    assert all(normalize_key(key) == key for key in keys)


def test_default_keymap_has_the_documented_keys(user_dir):
    b = load_keymap(user_dir=user_dir).bindings
    expected = {
        "quit": "ctrl+q", "focus_next": "tab", "focus_previous": "shift+tab",
        "new_session": "ctrl+n", "clear_session": "ctrl+l", "export_session": "ctrl+s",
        "open_file": "ctrl+o", "help": "f1", "toggle_context": "f2", "toggle_code": "f3",
        "toggle_pipeline": "f4", "cancel": "escape", "command_palette": "ctrl+p", "send": "enter",
    }
    for action, key in expected.items():
        assert b[action] == [key], action
    assert b["newline"] == ["shift+enter", "ctrl+j"]


def test_default_keeps_off_the_text_editing_keys(user_dir):
    taken = {f"ctrl+{c}" for c in "acdekuvwxyz"} | {"f6", "f7", "alt+backspace", "alt+delete"}
    keys = {key for keys in load_keymap(user_dir=user_dir).bindings.values() for key in keys}
    assert keys & taken == set()


def test_vim_and_emacs_change_what_their_users_expect(user_dir):
    vim = load_keymap("vim", user_dir=user_dir).bindings
    emacs = load_keymap("emacs", user_dir=user_dir).bindings
    assert "ctrl+w" in vim["focus_next"]
    assert vim["history_previous"][-1] == "alt+k"
    assert emacs["cancel"] == ["escape", "ctrl+g"]
    assert emacs["command_palette"][0] == "alt+x"
    assert emacs["history_previous"][0] == "alt+p"
    # Everything not mentioned is inherited from the default.
    assert vim["quit"] == emacs["quit"] == ["ctrl+q"]


def test_available_keymaps_lists_builtin_and_user(user_dir):
    write(user_dir, "mine.toml", "")
    assert available_keymaps(user_dir) == ["default", "emacs", "mine", "vim"]


def test_user_dir_defaults_to_the_platform_config_dir(isolated):
    assert resources.user_dir("keymaps") == isolated / "home" / ".config" / "coda" / "keymaps"
    with pytest.raises(ValueError):
        resources.builtin_dir("fonts")


def test_loaders_do_not_import_textual():
    code = "import sys, coda_tui.keymaps, coda_tui.themes, coda_tui.resources; print('textual' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --- user keymaps and resolution -------------------------------------------------------


def test_user_file_overriding_one_action_inherits_the_rest(user_dir):
    write(user_dir, "mine.toml", '[bindings]\nquit = "f10"\n')
    default = load_keymap("default", user_dir=user_dir)
    mine = load_keymap("mine", user_dir=user_dir)
    assert mine.name == "mine"
    assert mine.bindings["quit"] == ["f10"]
    assert {a: k for a, k in mine.bindings.items() if a != "quit"} == {
        a: k for a, k in default.bindings.items() if a != "quit"
    }
    assert mine.chain == [user_dir / "mine.toml", resources.builtin_dir("keymaps") / "default.toml"]
    assert mine.key_string("focus_next") == "tab"


def test_user_default_customises_the_default(user_dir):
    write(user_dir, "default.toml", '[bindings]\nhelp = ["f1", "question_mark"]\n')
    keymap = load_keymap(user_dir=user_dir)
    assert keymap.bindings["help"] == ["f1", "question_mark"]
    assert keymap.bindings["quit"] == ["ctrl+q"]
    assert keymap.key_string("help") == "f1,question_mark"


def test_user_file_extending_its_own_name_extends_the_builtin(user_dir):
    write(user_dir, "vim.toml", 'extends = "vim"\n[bindings]\nzoom = "f12"\n')
    keymap = load_keymap("vim", user_dir=user_dir)
    assert keymap.bindings["zoom"] == ["f12"]
    assert "ctrl+w" in keymap.bindings["focus_next"]
    assert len(keymap.chain) == 3


def test_extends_chain_resolves_through_every_level(user_dir):
    write(user_dir, "a.toml", 'extends = "b"\n[bindings]\nquit = "f10"\n')
    write(user_dir, "b.toml", 'extends = "emacs"\n[bindings]\nquit = "f11"\nzoom = "f12"\n')
    keymap = load_keymap("a", user_dir=user_dir)
    assert keymap.bindings["quit"] == ["f10"]  # a over b
    assert keymap.bindings["zoom"] == ["f12"]  # from b
    assert keymap.bindings["cancel"] == ["escape", "ctrl+g"]  # from emacs
    assert keymap.bindings["help"] == ["f1"]  # from default
    assert [p.stem for p in keymap.chain] == ["a", "b", "emacs", "default"]


def test_extends_cycle_is_an_error(user_dir):
    write(user_dir, "a.toml", 'extends = "b"\n')
    write(user_dir, "b.toml", '# b\nextends = "a"\n')
    err = error_of("a", user_dir)
    assert err.path == user_dir / "b.toml"
    assert err.line == 2
    assert err.key == "extends"
    assert "circle" in str(err) and "a.toml -> " in str(err)


def test_extends_unknown_keymap(user_dir):
    write(user_dir, "a.toml", 'name = "a"\nextends = "nope"\n')
    err = error_of("a", user_dir)
    assert (err.path, err.line, err.key) == (user_dir / "a.toml", 2, "extends")
    assert "'nope'" in str(err) and "default, emacs, vim" in str(err)


def test_a_path_is_loaded_directly(tmp_path, user_dir):
    path = write(tmp_path, "elsewhere.toml", 'extends = "vim"\n[bindings]\nhelp = "f12"\n')
    keymap = load_keymap(path, user_dir=user_dir)
    assert keymap.path == path
    assert keymap.bindings["help"] == ["f12"]
    assert error_of(tmp_path / "missing.toml", user_dir).problem == "file not found"


def test_unknown_keymap_name_lists_the_available_ones(user_dir):
    write(user_dir, "mine.toml", "")
    err = error_of("vimm", user_dir)
    assert str(err) == "keymap: no keymap named 'vimm' (expected one of: default, emacs, mine, vim)"


def test_unbinding_frees_a_key_for_another_action(user_dir):
    write(user_dir, "mine.toml", '[bindings]\nregenerate = []\npick_model = "ctrl+r"\n')
    keymap = load_keymap("mine", user_dir=user_dir)
    assert keymap.bindings["regenerate"] == []
    assert keymap.key_string("regenerate") == ""
    assert keymap.bindings["pick_model"] == ["ctrl+r"]


def test_keymap_error_is_a_config_error(user_dir):
    assert isinstance(error_of("nope", user_dir), ConfigError)


# --- errors name the file, the line and the action --------------------------------------


def test_unknown_action_suggests_the_nearest(user_dir):
    path = write(user_dir, "mine.toml", 'name = "mine"\n[bindings]\nquitt = "ctrl+q"\n')
    err = error_of("mine", user_dir)
    assert str(err) == f"keymap {path}, line 3, action 'quitt': unknown action (did you mean 'quit'?)"
    assert (err.path, err.line, err.key) == (path, 3, "quitt")


def test_malformed_key_names_file_line_and_action(user_dir):
    path = write(user_dir, "mine.toml", '[bindings]\n\nquit = "ctrl++q"\n')
    err = error_of("mine", user_dir)
    assert str(err) == (
        f"keymap {path}, line 3, action 'quit': malformed key 'ctrl++q' "
        "(expected keys like ctrl+q, f2, shift+tab, escape)"
    )


def test_malformed_key_in_a_list_points_at_its_own_line(user_dir):
    write(user_dir, "mine.toml", '[bindings]\nfocus_next = [\n  "tab",\n  "esc",\n]\n')
    err = error_of("mine", user_dir)
    assert err.line == 4
    assert "did you mean 'escape'?" in str(err)


@pytest.mark.parametrize(
    "value, words",
    [
        ('""', "empty key"),
        ('"ctrl+"', "malformed key 'ctrl+'"),
        ('"ctrl+ctrl+q"', "modifier 'ctrl' given twice"),
        ('"cntrl+q"', "did you mean 'ctrl'?"),
        ('"ctrl + q"', "no spaces"),
        ('"ctrl"', "is a modifier, not a key"),
        ('"pgup"', "unknown key name 'pgup'"),
        ('"hyphen_minus"', "did you mean 'minus'?"),
        ('"\\u0001"', "not a printable character"),
        ('"ctrl+q,f10"', "a list for several keys"),
        ("3", "got an integer 3"),
        ("true", "got a boolean True"),
        ('["tab", 1]', "got an integer 1 in the list"),
        ("{ key = 'x' }", "got a table"),
    ],
)
def test_bad_binding_values(user_dir, value, words):
    path = write(user_dir, "mine.toml", f"[bindings]\nzoom = {value}\n")
    err = error_of("mine", user_dir)
    assert (err.path, err.line, err.key) == (path, 2, "zoom")
    assert words in str(err)


def test_binding_written_as_a_table_header(user_dir):
    write(user_dir, "mine.toml", "[bindings]\n[bindings.zoom]\nkey = 'x'\n")
    err = error_of("mine", user_dir)
    assert (err.line, err.key) == (2, "zoom")


@pytest.mark.parametrize(
    "text, key, line",
    [
        ('nmae = "x"\n', "nmae", 1),
        ("name = 3\n", "name", 1),
        ('\nbindings = "ctrl+q"\n', "bindings", 2),
        ('extends = "../x.toml"\n', "extends", 1),
    ],
)
def test_bad_top_level_keys(user_dir, text, key, line):
    write(user_dir, "mine.toml", text)
    err = error_of("mine", user_dir)
    assert (err.key, err.line) == (key, line)


def test_unknown_top_level_key_suggests(user_dir):
    write(user_dir, "mine.toml", 'nmae = "x"\n')
    assert "did you mean 'name'?" in str(error_of("mine", user_dir))


def test_same_key_for_two_actions_in_one_file(user_dir):
    path = write(user_dir, "mine.toml", '[bindings]\nzoom = "f12"\nsessions = ["f5", "F12"]\n')
    err = error_of("mine", user_dir)
    assert (err.path, err.line, err.key) == (path, 3, "sessions")
    assert "key 'f12' is bound to both 'sessions' and 'zoom'" in str(err)


def test_same_key_as_an_inherited_action(user_dir):
    write(user_dir, "mine.toml", 'extends = "default"\n[bindings]\npick_model = "ctrl+r"\n')
    err = error_of("mine", user_dir)
    assert (err.line, err.key) == (3, "pick_model")
    assert "'pick_model' and 'regenerate', inherited from keymap 'default'" in str(err)
    assert "regenerate = [] unbinds it" in str(err)


def test_invalid_toml_gives_the_line(user_dir):
    path = write(user_dir, "mine.toml", '[bindings]\nquit = "ctrl+q"\nhelp = \n')
    err = error_of("mine", user_dir)
    assert (err.path, err.line) == (path, 3)
    assert str(err).startswith(f"keymap {path}, line 3: invalid TOML")


# --- key syntax ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec, canonical",
    [
        ("ctrl+q", "ctrl+q"),
        ("CTRL+Q", "ctrl+q"),
        ("shift+ctrl+up", "ctrl+shift+up"),
        ("F5", "f5"),
        ("ctrl+/", "ctrl+slash"),
        ("?", "question_mark"),
        ("question_mark", "question_mark"),
        ("ctrl++", "ctrl+plus"),
        ("+", "plus"),
        (" ", "space"),
        ("G", "G"),
        ("shift+g", "G"),
        ("alt+G", "alt+g"),
        ("alt+shift+c", "alt+shift+c"),
        ("€", "euro_sign"),
        ("ctrl+euro_sign", "ctrl+euro_sign"),
        ("super+hyper+meta+f24", "hyper+meta+super+f24"),
    ],
)
def test_keys_are_normalised_to_textual_names(spec, canonical):
    assert normalize_key(spec) == canonical


# --- anything at all in a file is a keymap or a KeymapError -------------------------------

_TOKENS = st.sampled_from(
    ["[bindings]", "[bindings.quit]", "name", "extends", "description", "bindings", "quit", "zoom",
     "help", "focus_next", "=", '"ctrl+q"', '"f1"', '"tab"', '"default"', '"vim"', '""', "[", "]",
     ",", "{", "}", "3", "true", '"ctrl++q"', "'alt+1'", "\n", " ", "#", '"x"', "[]"]
)
_KEYS = st.sampled_from(["name", "extends", "description", "bindings", "quit", "zoom", "help", "focus_next", "regenerate", "nope"])
_VALUES = st.one_of(
    st.sampled_from(['"ctrl+q"', '"f1"', '"tab"', '"ctrl+r"', '"default"', '"vim"', '"mine"', '""', "[]", "3", "{}"]),
    st.text(max_size=12).map(lambda t: '"' + t.replace("\\", "").replace('"', "") + '"'),
    st.lists(st.sampled_from(['"f2"', '"alt+z"', '"ctrl+q"', "1", '"?"']), max_size=3).map(lambda xs: "[" + ", ".join(xs) + "]"),
    st.sampled_from(["nan", "-inf", "9" * 500, '"' + "x" * 5000 + '"']),
    st.integers(1, 3000).map(lambda n: "[" * n + "]" * n),
    st.integers(1, 3000).map(lambda n: "{a = " * n + "1" + "}" * n),
)
_LINES = st.lists(
    st.one_of(st.sampled_from(["[bindings]", "[other]"]), st.builds("{} = {}".format, _KEYS, _VALUES)), max_size=8
).map("\n".join)
_TOMLISH = st.one_of(st.lists(_TOKENS, max_size=30).map(" ".join), _LINES)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.one_of(st.text(max_size=200), _TOMLISH))
def test_any_text_is_a_keymap_or_a_keymap_error(tmp_path, text):
    path = tmp_path / "fuzz.toml"
    path.write_text(text, encoding="utf-8")
    try:
        keymap = load_keymap(str(path), user_dir=tmp_path / "nothing-here")
    except KeymapError as exc:
        assert str(exc).startswith("keymap")
    else:
        assert isinstance(keymap, Keymap)
        assert list(keymap.bindings) == list(ACTIONS)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(st.binary(max_size=300), st.binary(max_size=20).map(lambda b: b * 5000)))
def test_any_bytes_are_a_keymap_or_a_keymap_error(tmp_path, data):
    path = tmp_path / "fuzz.toml"
    path.write_bytes(data)
    try:
        load_keymap(str(path), user_dir=tmp_path / "nothing-here")
    except KeymapError as exc:
        assert str(exc).startswith("keymap") and "\n" not in str(exc)


def test_a_deeply_nested_keymap_is_one_error(tmp_path):
    for value in ("[" * 5000 + "]" * 5000, "{a = " * 3000 + "1" + "}" * 3000):
        path = write(tmp_path, "deep.toml", f"[bindings]\nquit = {value}\n")
        with pytest.raises(KeymapError, match="nested more than 16 levels deep") as info:
            load_keymap(str(path), user_dir=tmp_path / "nothing-here")
        assert info.value.line == 2


@settings(max_examples=300, deadline=None)
@given(spec=st.text(max_size=20))
def test_normalize_key_accepts_or_raises_value_error(spec):
    try:
        key = normalize_key(spec)
    except ValueError:
        return
    assert normalize_key(key) == key
