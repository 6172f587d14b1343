"""The baselines the benchmarks measure coda against, in the same run.

- Elia (a Textual chat app with a SQLite history, pip package `elia-chat`): installed
  once into its own virtualenv under the benchmark cache, so its Textual version and
  dependencies are its own and coda's environment is untouched.
- A real repository for the index: looked for under the cache (repos/NAME, a git work
  tree); the benchmark says so when none is there instead of inventing one.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from common import CACHE

ELIA_VENV = CACHE / "elia"
ELIA_PACKAGE = "elia-chat"
REPOS = CACHE / "repos"
# Tried in order: the first present is used. Fetch one with
#   git clone https://github.com/sqlalchemy/sqlalchemy ~/.cache/coda-tui/bench/repos/sqlalchemy
REAL_REPOS = ("sqlalchemy", "django", "cpython", "click")


def elia() -> tuple[Path | None, str]:
    """(path of the `elia` command, "") once installed; (None, why) when it cannot be."""
    exe = ELIA_VENV / "bin" / "elia"
    if exe.exists():
        return exe, ""
    try:
        ELIA_VENV.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "venv", str(ELIA_VENV)], check=True, capture_output=True, timeout=120)
        subprocess.run([str(ELIA_VENV / "bin" / "pip"), "install", "-q", ELIA_PACKAGE], check=True, capture_output=True,
                       text=True, timeout=600)
    except subprocess.CalledProcessError as exc:
        tail = (exc.stderr or "").strip().splitlines()[-1:] or ["no message"]
        return None, f"pip install {ELIA_PACKAGE} failed: {tail[0][:100]}"
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"could not install {ELIA_PACKAGE}: {exc}"
    return (exe, "") if exe.exists() else (None, f"{ELIA_PACKAGE} installed no `elia` command")


def elia_env(home: str) -> dict[str, str]:
    """An empty home for Elia: its config and database go under it (XDG dirs)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "ELIA_", "XDG_"))}
    env.update(HOME=home, XDG_CONFIG_HOME=os.path.join(home, ".config"), XDG_DATA_HOME=os.path.join(home, ".local", "share"))
    return env


def elia_drawn(screen: str) -> bool:
    """Elia's first frame: its input box and its chat history list."""
    return "Enter your message" in screen and "History (" in screen


def real_repo() -> tuple[Path | None, str]:
    for name in REAL_REPOS:
        path = REPOS / name
        if (path / ".git").exists():
            return path, ""
    return None, f"no real repository under {REPOS} (git clone one of {', '.join(REAL_REPOS)} there)"
