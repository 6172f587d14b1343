"""The project's standing instructions: AGENTS.md, CODA.md and .github/copilot-instructions.md
at its root, read for every turn's system prompt. Each file is read again only when its
modification time or size changes, so an edit reaches the next turn at the cost of a stat."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

FILES = ("AGENTS.md", "CODA.md", ".github/copilot-instructions.md")
# Far more than any budget lets through; a huge file is not read whole to keep a few lines of it.
MAX_BYTES = 64 * 1024


@dataclass(frozen=True)
class Instruction:
    path: str  # relative to the project root
    text: str
    mtime_ns: int


_cache: dict[Path, tuple[tuple[int, int], Instruction]] = {}


def read(root: Path) -> list[Instruction]:
    """The instruction files present in `root`, in FILES order. A file that resolves outside
    the project (a symlink elsewhere) or cannot be read is skipped, as if absent."""
    found: list[Instruction] = []
    base = root.resolve()
    for rel in FILES:
        path = base / rel
        try:
            st = path.stat()
            if not path.is_file() or not path.resolve().is_relative_to(base):
                continue
            key = (st.st_mtime_ns, st.st_size)
            cached = _cache.get(path)
            if cached is None or cached[0] != key:
                with open(path, "rb") as f:
                    text = f.read(MAX_BYTES).decode("utf-8", errors="replace")
                cached = (key, Instruction(rel, text.strip(), st.st_mtime_ns))
                _cache[path] = cached
        except OSError:
            continue
        if cached[1].text:
            found.append(cached[1])
    return found
