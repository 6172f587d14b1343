"""`review`: a review of the working tree's `git diff` (staged and unstaged changes).

git runs as a subprocess with no shell, in the project root. Changes to files the
sandbox protects (.env, keys) are cut out of the diff before it goes to a model, and
secrets in the rest (a password added to settings.py) are masked.
"""

from __future__ import annotations

import itertools
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

from coda_tui.core.operations.analyze import JSON_FORMAT, read_scored
from coda_tui.core.operations.base import Operation, OperationResult, Subject
from coda_tui.errors import CodaError

GIT_TIMEOUT_S = 30
# A diff larger than this is cut; the model gets the start and is told so.
MAX_DIFF_CHARS = 60_000
_FILE_HEADER = re.compile(r"^diff --git a/(.+?) b/(.+)$", re.MULTILINE)


class ReviewError(CodaError):
    """No diff to review; the message says why (not a repository, no changes, no git)."""


def _git(root: Path, *args: str) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(["git", "-C", str(root), *args], check=False, capture_output=True, text=True,
                              timeout=GIT_TIMEOUT_S, errors="replace")
    except FileNotFoundError:
        raise ReviewError("git is not installed (review needs it to read the changes)") from None
    except subprocess.TimeoutExpired:
        raise ReviewError(f"git diff took over {GIT_TIMEOUT_S} s in {root}") from None


def working_tree_diff(root: Path, denied: Callable[[str], bool],
                      scrub: Callable[[str, str | None], str] | None = None) -> Subject:
    """The diff of the working tree against HEAD, protected files left out, and each file's
    part passed through `scrub` (the project's secret masking) with that file's name."""
    inside = _git(root, "rev-parse", "--is-inside-work-tree")
    if inside.returncode != 0 or inside.stdout.strip() != "true":
        raise ReviewError(f"{root} is not a git repository: review reads the changes from 'git diff'")
    has_head = _git(root, "rev-parse", "--verify", "--quiet", "HEAD").returncode == 0
    # Against HEAD both staged and unstaged changes show; a repository with no commit yet
    # has only the index to compare with.
    base = ["--no-renames", *(["HEAD"] if has_head else [])]
    # Protected files are kept out by git itself, by name: parsing the headers alone misses
    # paths git quotes ("a/\303\274.pem"). The header filter below stays as a second net.
    names = _git(root, "diff", "--name-only", "-z", *base, "--").stdout.split("\0")
    protected = sorted({n for n in names if n and denied(n)})
    excludes = [f":(exclude,literal){n}" for n in protected]
    proc = _git(root, "diff", "--no-color", "--no-ext-diff", *base, "--", ".", *excludes)
    if proc.returncode != 0:
        raise ReviewError(f"git diff failed in {root}: {proc.stderr.strip()}")
    kept, dropped = _without_denied(proc.stdout, denied, scrub)
    dropped = sorted(set(dropped) | set(protected))
    if not kept.strip():
        extra = f" (changes to {', '.join(dropped)} are protected and not reviewed)" if dropped else ""
        raise ReviewError(f"no changes to review in {root}: the working tree matches HEAD{extra}")
    if len(kept) > MAX_DIFF_CHARS:
        kept = kept[:MAX_DIFF_CHARS] + f"\n… (diff cut at {MAX_DIFF_CHARS:,} characters)\n"
    return Subject(kept, path=None, rel="git diff")


def _without_denied(diff: str, denied: Callable[[str], bool],
                    scrub: Callable[[str, str | None], str] | None = None) -> tuple[str, list[str]]:
    starts = [m.start() for m in _FILE_HEADER.finditer(diff)] + [len(diff)]
    kept, dropped = [scrub(diff[: starts[0]], None) if scrub else diff[: starts[0]]], []
    for begin, end in itertools.pairwise(starts):
        section = diff[begin:end]
        m = _FILE_HEADER.match(section)
        names = {m.group(1), m.group(2)}
        if any(denied(n) for n in names):
            dropped.append(m.group(2))
        else:
            kept.append(scrub(section, m.group(2)) if scrub else section)
    return "".join(kept), dropped


class Review(Operation):
    name = "review"
    help = "a review of the working tree's git diff"
    needs_file = False

    def score_name(self, params: dict[str, str]) -> str:
        return "review"

    def instructions(self, params: dict[str, str], subject: Subject | None) -> str:
        diff = subject.text if subject else ""
        return ("Review this change to the project as a careful senior engineer would: correctness, bugs, "
                "missing tests, readability and security. Score how ready it is to merge.\n\n"
                f"```diff\n{diff.rstrip()}\n```\n\n" + JSON_FORMAT)

    def parse(self, text: str, params: dict[str, str], subject: Subject | None) -> OperationResult:
        return read_scored(self, text, params, subject, "review")
