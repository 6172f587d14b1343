"""Every command with random arguments, ids and option values — control characters,
bidi and invisible characters, numbers far beyond SQLite's integers — run in-process:
never a traceback, never a raw control byte on stdout or stderr (issue 14).

Left out: `doctor`, `listen` and `transcribe`, which load the speech model or open the
microphone whatever their arguments; their option parsing is click's, as here."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coda_tui.cli import cli
from coda_tui.core.runtime import Runtime
from coda_tui.textsafe import inert
from tests.conftest import write_config
from tests.servers import free_port

SKIPPED = {("doctor",), ("listen",), ("transcribe",)}


def command_paths(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], click.Command]]:
    # Through list_commands/get_command, as click itself resolves them: the group imports a
    # command's module only when it is asked for, so `group.commands` holds only those met so far.
    out = []
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        cmd = group.get_command(ctx, name)
        path = (*prefix, name)
        if path in SKIPPED:
            continue
        out.append((path, cmd))
        if isinstance(cmd, click.Group):
            out += command_paths(cmd, path)
    return out


COMMANDS = command_paths(cli)


def test_every_command_is_walked():
    # 21 commands and 22 subcommands, less the 3 left out above: a command the walk stopped
    # reaching would otherwise quietly leave the fuzzing.
    assert len(COMMANDS) == 43 - len(SKIPPED)
    assert all(cmd.name == path[-1] for path, cmd in COMMANDS)


def acts(c: str) -> bool:
    """A character inert() would have shown instead: a control, a bidi or hidden one."""
    return c not in "\n\t" and inert(c) != c


any_text = st.text(st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=("Cs",)), max_size=12)
numbers = st.one_of(st.integers(-(10**30), 10**30), st.integers(-3, 3)).map(str)
odd = st.sampled_from(["²", "³", "١", "-", "", "0", "1", "99999999999999999999999", "-1", "1e9", "nan",
                       "\x1b[2J", "\x1b]0;t\x07", "\u202e", "\u200b", "\U000e0041", "\u2028", "..", "./nosuch"])


@st.composite
def invocations(draw):
    path, cmd = draw(st.sampled_from(COMMANDS))
    options = [o for p in cmd.params for o in p.opts if o.startswith("-")]
    word = st.one_of(any_text, numbers, odd, *([st.sampled_from(options)] if options else []))
    # "--" would make what follows (our --config) an argument: ask would then use the real
    # model. A NUL cannot be in a real command line (argv strings end at one).
    args = draw(st.lists(word.filter(lambda w: w != "--" and "\x00" not in w), max_size=5))
    return [*path, *args]


@pytest.fixture
def world(tmp_path, monkeypatch):
    """A config whose provider refuses at once, a database with a hostile session, and an
    empty working folder (so '.' or a relative -o lands there)."""
    cfg = write_config(tmp_path, f'[general]\nprovider = "srv"\n[providers.srv]\ntype = "openai"\n'
                                 f'base_url = "http://127.0.0.1:{free_port()}/v1"\nmodel = "m"\nmax_retries = 0\n')
    rt = Runtime(cfg)
    try:
        s = rt.store.sessions.create("\x1b]0;t\x07name\u202e\u200b")
        rt.store.sessions.add_message(s.id, "user", "q \x1b[2J\x9b31m \U000e0041")
        rt.store.sessions.add_message(s.id, "assistant", "a \x07\u2028\ufeff", status="complete")
    finally:
        rt.close()
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return ["--config", str(cfg), "--project", str(work)]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(argv=invocations())
def test_no_command_prints_a_traceback_or_a_raw_control_character(world, argv):
    result = CliRunner().invoke(cli, [*world, *argv], prog_name="coda")
    assert result.exception is None or isinstance(result.exception, SystemExit), (argv, result.exception)
    assert result.exit_code in (0, 1, 2), (argv, result.exit_code, result.output)
    for text in (result.stdout, result.stderr):
        assert "Traceback" not in text
        raw = sorted({f"U+{ord(c):04X}" for c in text if acts(c)})
        assert not raw, (argv, raw, text[:400])


# Broken user files, as coda meets them: a config, a keymap and a theme file holding deep
# nesting, NaN/inf, huge numbers, binary bytes or odd values. The loaders are fuzzed on
# their own in test_config/test_keymaps/test_themes; these check the whole command (the
# config) and the whole app (keymaps and themes, which only the app reads).
nested = st.integers(1, 3000).map(lambda n: "[" * n + "]" * n)
tables = st.integers(1, 3000).map(lambda n: "{a = " * n + "1" + "}" * n)
values = st.one_of(nested, tables, st.sampled_from(["nan", "inf", "-inf", "1e999", "9" * 400, '"\x1b[2J"',
                                                    '"#ff0000; color: red"', '"notacolor"', "true", '""']),
                   st.integers(-(10**30), 10**30).map(str))
raw_bytes = st.binary(max_size=64)


def broken_file(draw, kind: str) -> bytes:
    if draw(st.booleans()):
        return draw(raw_bytes)
    key = draw(st.sampled_from({"config": ["general.temperature", "providers.srv.timeout", "ui.theme",
                                            "providers.srv.max_tokens", "context.search_hits", "general.provider"],
                                "keymap": ["bindings.quit", "bindings.help", "extends", "name"],
                                "theme": ["variables.footer-key-foreground", "colors.primary", "dark"]}[kind]))
    table, _, name = key.rpartition(".")
    return ((f"[{table}]\n" if table else "") + f'"{name}" = {draw(values)}\n').encode()


def user_dirs(tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("CODA_DATA_DIR", str(tmp_path / "data"))
    return home / ".config" / "coda"


def base_config(port: int) -> str:
    return f'[general]\nprovider = "srv"\n[providers.srv]\ntype = "openai"\nbase_url = "http://127.0.0.1:{port}/v1"\n'


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_broken_config_gives_one_line_never_a_traceback(tmp_path, monkeypatch, data):
    user_dirs(tmp_path, monkeypatch)
    content = broken_file(data.draw, "config")
    cfg = tmp_path / "config.toml"
    cfg.write_bytes(content if b"=" not in content else base_config(free_port()).encode() + content)
    for argv in (["models"], ["sessions", "list"]):
        result = CliRunner().invoke(cli, ["--config", str(cfg), *argv], prog_name="coda")
        assert result.exception is None or isinstance(result.exception, SystemExit), (content[:80], result.exception)
        assert result.exit_code in (0, 1, 2)
        for text in (result.stdout, result.stderr):
            assert "Traceback" not in text
            assert not {c for c in text if acts(c)}, (content[:80], text[:300])


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), kind=st.sampled_from(["keymap", "theme"]))
def test_a_broken_keymap_or_theme_is_reported_and_the_app_starts_or_refuses_in_one_line(tmp_path, monkeypatch, data, kind):
    import asyncio

    from coda_tui.errors import CodaError
    from coda_tui.ui.app import CodaApp

    folder = user_dirs(tmp_path, monkeypatch) / f"{kind}s"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "mine.toml").write_bytes(broken_file(data.draw, kind))
    cfg = tmp_path / "config.toml"
    cfg.write_text(base_config(free_port()) + f'[ui]\n{kind} = "mine"\n')

    async def go() -> None:
        try:
            app = CodaApp(Runtime(str(cfg)), project=tmp_path)
        except CodaError as exc:  # the CLI prints this one line and exits 2
            assert "Traceback" not in str(exc) and "mine" in str(exc)
            return
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            await pilot.press("ctrl+q")
        assert app.return_code in (0, None)

    asyncio.run(go())
