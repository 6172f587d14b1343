"""A real project for the tools: a git repository in tmp_path with code, a secret, a key,
an ignored file, and things outside it (a file, a folder) with links pointing at them."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import pytest

from coda_tui.config import Config
from coda_tui.context.project import Project
from coda_tui.tools.base import ToolContext
from coda_tui.tools.setup import tool_context

APP = "import sys\n\n\ndef parse_args(argv):\n    return argv[1:]\n\n\ndef main():\n    print(parse_args(sys.argv))\n"


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def root(tmp_path) -> Path:
    root = tmp_path / "proj"
    (root / "src").mkdir(parents=True)
    (root / "src" / "app.py").write_text(APP)
    (root / "src" / "util.py").write_text("def helper():\n    return 42\n")
    (root / "README.md").write_text("# demo\nrun it with python src/app.py\n")
    (root / ".gitignore").write_text("build/\n")
    (root / "build").mkdir()
    (root / "build" / "out.py").write_text("generated = True\n")
    (root / ".env").write_text("OPENAI_API_KEY=sk-proj-envfilesecret0123456789abcdef\n")
    (root / "id_rsa").write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----\n")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("outside the project\n")
    (root / "link_out.txt").symlink_to(outside / "secret.txt")
    (root / "linkdir").symlink_to(outside)
    git(root, "init", "-q")
    git(root, "-c", "user.name=t", "-c", "user.email=t@t", "add", "src", "README.md", ".gitignore")
    git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "start")
    return root


@pytest.fixture
def ctx(root) -> ToolContext:
    return tool_context(Config(), Project(root), turn="turn-1")


def run(coro):
    return asyncio.run(coro)
