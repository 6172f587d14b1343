"""Fuzzy matching of file paths, as in editors' "open file": the letters typed must appear
in order; matches in the file name, at word starts and in runs score higher."""

from __future__ import annotations

_SEPARATORS = "/_-. "


def score(query: str, path: str) -> float | None:
    """None if `query` is not a subsequence of `path` (case-insensitive), else a score."""
    if not query:
        return 0.0
    q = query.lower()
    p = path.lower()
    base_start = p.rfind("/") + 1
    total = 0.0
    pos = -1
    run = 0
    for ch in q:
        found = p.find(ch, pos + 1)
        if found < 0:
            return None
        run = run + 1 if found == pos + 1 else 0
        bonus = 1.0 + run * 2.0
        if found == 0 or p[found - 1] in _SEPARATORS:
            bonus += 3.0
        if found >= base_start:
            bonus += 2.0
        total += bonus
        pos = found
    # Shorter paths win ties: "app.py" over "tests/fixtures/old/app.py".
    return total - len(p) * 0.01


def rank(query: str, paths: list[str], limit: int = 50) -> list[str]:
    scored = [(s, p) for p in paths if (s := score(query, p)) is not None]
    scored.sort(key=lambda sp: (-sp[0], sp[1]))
    return [p for _, p in scored[:limit]]
