"""How the context stage's choice is told, from a stored trace's detail: the pipeline pane
and `coda trace` show it without loading the stage itself (the chunker, the index)."""

from __future__ import annotations


def files_lines(detail: dict) -> list[str]:
    """What went into the context, one line a file ("core.py:208-260 · search · 310 tokens ·
    why"), from a context stage's detail: the pipeline pane and `coda trace ID` show these."""
    return [
        " · ".join([f"{f.get('path')}:{f.get('lines')}", str(f.get("source", "")), f"{f.get('tokens', 0):,} tokens"]
                   + ([str(f["why"])] if f.get("why") else []))
        for f in detail.get("files", ()) if isinstance(f, dict)
    ]


def trim_note(t: dict) -> str:
    return (f"{t['path']} trimmed from {t['from_tokens']:,} to {t['to_tokens']:,} tokens to fit the model's "
            f"window (lines {', '.join(t['kept'])})")
