"""Every key of every shipped keymap, sent as the bytes a real terminal sends, runs its
action: from the chat input (where the app starts and returns after every question) for
the app's keys, from the pane or dialog the help names for the others.

The app runs on a real pty through record_actions.py, which writes each action it runs to a
file; a key typed into the input instead (alt+1 arriving as "¡", alt+e as an "e") leaves no
record and fails here. Terminals are xterm-style: Esc+key for alt, the C0 byte for
ctrl+letter, SS3/CSI for function keys, as xterm, tmux and screen send them.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
import time
from pathlib import Path

import pytest

from coda_tui.actions import BY_NAME, SCREEN
from coda_tui.keymaps import load_keymap
from coda_tui.panes import PANES
from tests.conftest import ROOT, write_config
from tests.e2e.test_tmux import Tmux

sys.path.insert(0, str(ROOT / "benchmarks"))
from ptyterm import Term, panes_drawn

KEYMAPS = sorted(p.stem for p in (ROOT / "keymaps").glob("*.toml"))

# What an xterm-style terminal sends for a key. shift+enter has no legacy encoding (it
# arrives as Enter); terminals with kitty's keyboard protocol send this.
NAMED = {
    "escape": "\x1b", "enter": "\r", "tab": "\t", "shift+tab": "\x1b[Z", "delete": "\x1b[3~",
    "up": "\x1b[A", "down": "\x1b[B", "ctrl+up": "\x1b[1;5A", "ctrl+down": "\x1b[1;5B",
    "shift+enter": "\x1b[13;2u", "f1": "\x1bOP", "f2": "\x1bOQ", "f3": "\x1bOR", "f4": "\x1bOS",
    "f5": "\x1b[15~", "f6": "\x1b[17~", "f7": "\x1b[18~", "f8": "\x1b[19~", "f9": "\x1b[20~",
    "f10": "\x1b[21~", "f11": "\x1b[23~", "f12": "\x1b[24~", "plus": "+", "minus": "-",
}
# Open a dialog: closed again with the keymap's cancel key (which runs the dialog's action
# named here) before the next key. Export opens none until a session has been saved.
DIALOGS = {"help": "dismiss", "command_palette": "escape", "sessions": "dismiss", "open_file": "dismiss",
           "pick_model": "back", "export_session": ("dismiss", "cancel")}
# Change what is shown: pressed again to put it back.
TWICE = {p.toggle_action for p in PANES if p.toggle_action} | {"zoom"}
# Move the focus away from the chat input: brought back with focus_chat.
MOVES_FOCUS = {"focus_next", "focus_previous"} | {p.focus_action for p in PANES}
# A dialog's Textual action under its keymap id.
RUNS_AS = {"rename_session": "rename", "delete_session": "delete", "branch_session": "branch"}


# tmux's names for keys: tmux encodes them for the program in its pane, as a user's M-1
# typed into a tmux client is. shift+enter has none (tmux sends Enter), so it is left out.
TMUX_NAMED = {"escape": "Escape", "enter": "Enter", "tab": "Tab", "shift+tab": "BTab", "delete": "DC",
              "up": "Up", "down": "Down", "ctrl+up": "C-Up", "ctrl+down": "C-Down", "plus": "+", "minus": "-"}
NOT_IN_TMUX = {"shift+enter"}


def tmux_key(key: str) -> str:
    if key in TMUX_NAMED:
        return TMUX_NAMED[key]
    *mods, base = key.split("+")
    if base.startswith("f") and base[1:].isdigit() and not mods:
        return base.upper()
    prefix = "".join({"ctrl": "C-", "alt": "M-"}[m] for m in mods if m != "shift")
    return prefix + (base.upper() if "shift" in mods else base)


class TmuxTerm:
    """The app in a tmux pane, driven like Term: keys by tmux's names, the pane's text."""

    def __init__(self, tmux: Tmux) -> None:
        self.tmux = tmux

    def send(self, key: str) -> None:
        self.tmux.keys(key)

    def text(self) -> str:
        return self.tmux.screen()


def terminal_bytes(key: str) -> str:
    if key in NAMED:
        return NAMED[key]
    *mods, base = key.split("+")
    if len(base) == 1:
        if not mods:
            return base
        if mods == ["ctrl"] and base.isalpha():
            return chr(ord(base) & 0x1F)
        if mods == ["alt"]:
            return "\x1b" + base
        if mods == ["alt", "shift"] and base.isalpha():
            return "\x1b" + base.upper()
    raise AssertionError(f"no terminal bytes known for {key!r}: add them to NAMED")


class Session:
    """The app on a pty, and the actions it has run so far."""

    def __init__(self, term: Term | TmuxTerm, log: Path, keymap_name: str, encode=terminal_bytes) -> None:
        self.term, self.log, self.keymap = term, log, load_keymap(keymap_name)
        self.encode = encode
        self.seen = 0
        self.failures: list[str] = []

    def first_key(self, action: str) -> str:
        return self.keymap.every_binding()[action][0]

    def press(self, key: str, expect: str | tuple[str, ...], where: str) -> None:
        """Send `key` and wait for the action `expect` (or one of them) to have run."""
        expected = (expect,) if isinstance(expect, str) else expect
        self.term.send(self.encode(key))
        deadline = time.monotonic() + 5
        ran: list[str] = []
        while not set(expected) & set(ran):
            if time.monotonic() > deadline:
                # Noted, and on to the next key: the report lists every key that failed.
                self.failures.append(f"{key!r} (sent as {self.encode(key)!r}) {where} did not run '{expect}' (ran: {ran or 'nothing'})")
                return
            time.sleep(0.05)
            ran += self._new()

    def _new(self) -> list[str]:
        lines = self.log.read_text(encoding="utf-8").splitlines()
        new, self.seen = lines[self.seen:], len(lines)
        return new

    def run(self, action: str, key: str, where: str = "in the chat input") -> None:
        self.press(key, RUNS_AS.get(action, action), where)
        if action in DIALOGS:
            self.press(self.first_key("cancel"), DIALOGS[action], "closing the dialog")
        elif action in TWICE:
            self.press(key, action, where)
        elif action in MOVES_FOCUS:
            self.back_to_chat()

    def back_to_chat(self) -> None:
        self.press(self.first_key("focus_chat"), "focus_chat", "")

    def focus(self, *actions: str) -> None:
        for action in actions:
            self.press(self.first_key(action), action, "")


def every_key(app: Session) -> None:
    keymap = app.keymap
    bindings = keymap.every_binding()
    app_actions = [a for a in bindings if BY_NAME[a].scope == "app" and a != "quit"]
    # The app's keys, and the chat input's own, with the input focused.
    for action in app_actions + ["history_previous", "history_next", "newline", "send"]:
        for key in bindings[action]:
            if app.encode is tmux_key and key in NOT_IN_TMUX:
                continue
            app.run(action, key)
    # The conversation's keys (tab from the input reaches it).
    for action in ("branch", "copy_message", "rate_up", "rate_down"):
        for key in bindings[action]:
            app.focus("focus_next")
            app.run(action, key, "in the conversation")
            app.back_to_chat()
    # The code pane's.
    for action in ("attach",):
        for key in bindings[action]:
            app.focus("focus_code")
            app.run(action, key, "in the code pane")
            app.back_to_chat()
    # The project tree's attach, then the attachment list's detach on what it attached.
    for key in bindings["detach"]:
        app.focus("focus_context", "focus_next")  # the filter, then the tree
        app.press("down", "cursor_down", "in the project tree")  # onto util.py, the project's one file
        app.run("attach", app.first_key("attach"), "in the project tree")
        time.sleep(1)  # the attachment list fills on the app's next turn; an empty one is skipped
        app.focus("focus_next")  # the search results are empty and skipped: the attachments
        app.run("detach", key, "in the attachment list")
        app.back_to_chat()
    # The sessions list's keys, in the sessions dialog. (The memory explorer's — arrows and
    # plain letters — need a stored turn to open on; tests/ui/test_memory_explorer.py presses them.)
    for action in (a for a in bindings if BY_NAME[a].scope == SCREEN and BY_NAME[a].where == "sessions list"):
        for key in bindings[action]:
            app.press(app.first_key("sessions"), "sessions", "")
            app.press(key, RUNS_AS[action], "in the sessions list")
            app.press(app.first_key("cancel"), "dismiss", "closing the sessions list")
    for key in bindings["quit"][:1]:
        app.press(key, "quit", "in the chat input")


def setup(tmp_path: Path, keymap: str) -> tuple[list[str], dict[str, str], Path]:
    """The command, its environment, and the file it records actions in."""
    project = tmp_path / "proj"
    project.mkdir()
    (project / "util.py").write_text("def double(x):\n    return 2 * x\n")
    config = write_config(tmp_path, f'[ui]\nkeymap = "{keymap}"\n')
    log = tmp_path / "actions.log"
    log.write_text("")
    home = tmp_path / "home"
    env = {
        "CODA_DATA_DIR": str(tmp_path / "data"), "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"),
        "CODA_ACTION_LOG": str(log), "PYTHONPATH": str(ROOT),
    }
    args = [sys.executable, str(ROOT / "tests" / "e2e" / "record_actions.py"), "--config", str(config), "--project", str(project)]
    return args, env, log


@pytest.mark.parametrize("term", ["xterm-256color", "screen-256color"])
@pytest.mark.parametrize("keymap", KEYMAPS)
def test_every_key_of_every_keymap_runs_its_action(tmp_path, keymap, term):
    args, env, log = setup(tmp_path, keymap)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CODA_")} | env
    with Term(args, env, 120, 40, term=term) as t:
        t.wait_for(panes_drawn, timeout=60)
        app = Session(t, log, keymap)
        every_key(app)
        t.drain()
        assert app.failures == [], f"keymap '{keymap}', TERM={term}:\n" + "\n".join(app.failures) + "\n" + t.screen.text()
        t.proc.wait(10)
    assert t.proc.returncode == 0


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is installed by scripts/install.sh")
@pytest.mark.parametrize("keymap", KEYMAPS)
def test_every_key_of_every_keymap_runs_its_action_in_tmux(tmp_path, keymap):
    args, env, log = setup(tmp_path, keymap)
    exit_file = tmp_path / "exit-status"
    command = " ".join(shlex.quote(a) for a in args) + f"; echo $? > {shlex.quote(str(exit_file))}"
    tmux = Tmux(env | {"TERM": "xterm-256color"})
    tmux.start(f"bash -c {shlex.quote(command)}")
    try:
        tmux.wait_for(panes_drawn)
        app = Session(TmuxTerm(tmux), log, keymap, encode=tmux_key)
        every_key(app)
        assert app.failures == [], f"keymap '{keymap}', in tmux:\n" + "\n".join(app.failures) + "\n" + tmux.screen()
        deadline = time.monotonic() + 10
        while not exit_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert exit_file.read_text().strip() == "0"
    finally:
        tmux.kill()
