"""Sessions as Markdown or JSON documents, with secrets scrubbed."""

from __future__ import annotations

import re
from dataclasses import asdict
from pathlib import Path

from coda_tui import paths
from coda_tui.core.choice import label
from coda_tui.redact import Redactor
from coda_tui.store.sessions import Message, Session


def default_path(session: Session) -> Path:
    """The file Ctrl+S proposes for a session: in the data dir's exports folder."""
    return paths.exports_dir() / f"coda-session-{session.id}.md"


def write(target: Path, text: str) -> None:
    """Write an export; the exports folder is created on first use, private like the data
    dir, and the file owner-only (a session is the user's alone). OSError when it cannot
    be written."""
    # With the first export, not at start-up.
    from coda_tui.context.writes import write_atomic

    if target.parent == paths.exports_dir():
        paths.private_dir(target.parent)
    write_atomic(target, text, private=True)


def fenced(text: str) -> str:
    """A code fence longer than any run of backticks inside, so the text cannot close it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}\n{text.rstrip(chr(10))}\n{fence}"


def to_markdown(session: Session, messages: list[Message], redact: Redactor) -> str:
    lines = [f"# {session.name}", ""]
    meta = f"Session {session.id} · created {session.created_at}"
    if session.provider:
        meta += f" · {label(session.provider, session.model)}"
    lines += [f"_{meta}_", ""]
    for m in messages:
        if m.role == "system":
            continue
        if m.role == "tool":
            # A tool's result under the call it answers, fenced: files and command output.
            status = "" if m.status == "complete" else f" — {m.status}"
            lines += [f"### Result of {m.tool_name or 'tool'}{status}", "", fenced(redact(m.content) or ""), ""]
            continue
        head = "## You" if m.role == "user" else "## Assistant"
        if m.role == "assistant" and m.model:
            head += f" ({m.model})"
        if m.status != "complete":
            head += f" — {m.status}"
        lines += [head, "", redact(m.content) or "", ""]
        for c in m.calls:
            lines += [f"- calls `{c['name']}` `{redact(c['arguments'])}`"]
        if m.calls:
            lines.append("")
        if m.error and m.role != "tool":
            lines += [f"> {redact(m.error)}", ""]
        if m.rating is not None:
            why = f": {redact(m.rating_reason)}" if m.rating_reason else ""
            lines += [f"_Rated {'up' if m.rating > 0 else 'down'}{why}_", ""]
    return "\n".join(lines).rstrip() + "\n"


def to_dict(session: Session, messages: list[Message], redact: Redactor) -> dict:
    msgs = []
    for m in messages:
        d = asdict(m)
        d["content"] = redact(m.content)
        d["error"] = redact(m.error)
        # The calls as data, not as the JSON text they are stored as.
        d["tool_calls"] = [{**c, "arguments": redact(c["arguments"])} for c in m.calls] or None
        msgs.append(d)
    return {"session": asdict(session), "messages": msgs}
