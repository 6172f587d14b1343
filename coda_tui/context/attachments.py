"""Files (or line ranges of files) attached to a question, read safely: text only,
bounded in size. Which files may be read at all is the project's decision (project.py).
Documents (PDF, Office, HTML: context/documents.py) attached whole come as their Markdown."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from coda_tui.errors import CodaError
from coda_tui.tokens import estimate_tokens

MAX_BYTES = 512 * 1024
SNIFF_BYTES = 8192


class AttachmentError(CodaError):
    exit_code = 2  # a path the user gave


class ContextTooLarge(AttachmentError):
    """The question (with what must come with it) cannot fit the model's window at all."""


@dataclass
class Attachment:
    path: Path
    text: str
    tokens: int
    first_line: int = 1
    last_line: int | None = None
    # How it got here: "attached" by the user, a "search" hit the context stage chose, or the
    # "listing" of a folder the question names (context.listing).
    source: str = "attached"
    label_path: str | None = None  # the path as shown (relative to the project)
    # A document converted to Markdown: its sha256, convert_ms and whether it came from the cache.
    document: dict | None = None

    @property
    def lines(self) -> str:
        end = self.last_line or self.first_line + self.text.count("\n")
        return f"{self.first_line}-{end}"

    @property
    def label(self) -> str:
        return f"{self.label_path or self.path}:{self.lines}"


def load_attachment(path: str | Path, lines: tuple[int, int] | None = None, label_path: str | None = None,
                    scrub: Callable[[str, str | None], str] | None = None) -> Attachment:
    """`scrub` masks secrets in the text (the project's): applied to the whole file before a
    range is cut from it, so a private key is recognised even when only its middle is asked for."""
    p = Path(path).expanduser()
    if not p.exists():
        raise AttachmentError(f"{p}: no such file")
    if not p.is_file():
        raise AttachmentError(f"{p}: not a regular file")
    size = p.stat().st_size
    if lines is None:
        from coda_tui.context import documents

        if documents.is_document(p):
            return _load_document(p, size, label_path, scrub)
    if size > MAX_BYTES and lines is None:
        raise AttachmentError(f"{p}: {size:,} bytes is over the {MAX_BYTES:,}-byte limit for an attachment; attach a line range")
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise AttachmentError(f"{p}: cannot read ({exc.strerror})") from None
    if b"\0" in data[:SNIFF_BYTES]:
        raise AttachmentError(f"{p}: looks binary; only text files can be attached")
    text = data.decode("utf-8", errors="replace")
    if scrub is not None:
        text = scrub(text, label_path or p.name)
    first, last = 1, text.count("\n") + (0 if text.endswith("\n") else 1)
    if lines is not None:
        all_lines = text.splitlines()
        first, last = max(1, lines[0]), min(len(all_lines), lines[1])
        if first > last:
            raise AttachmentError(f"{p}: lines {lines[0]}-{lines[1]} are not in the file ({len(all_lines)} lines)")
        text = "\n".join(all_lines[first - 1 : last]) + "\n"
    return Attachment(path=p, text=text, tokens=estimate_tokens(text), first_line=first, last_line=last, label_path=label_path)


def _load_document(p: Path, size: int, label_path: str | None, scrub) -> Attachment:
    from coda_tui.context import documents

    documents.check_size(p, size)
    done = documents.convert(p)
    text = scrub(done.markdown, label_path or p.name) if scrub is not None else done.markdown
    return Attachment(path=p, text=text, tokens=estimate_tokens(text), last_line=text.count("\n") or 1,
                      label_path=label_path,
                      document={"sha256": done.sha256, "convert_ms": round(done.convert_ms, 1), "cached": done.cached})


def render_attachments(attachments: list[Attachment]) -> str:
    """The attachments as Markdown fences, for the user message."""
    parts = []
    for a in attachments:
        fence = "```"
        while fence in a.text:
            fence += "`"
        lang = "markdown" if a.document else a.path.suffix.lstrip(".")
        intro = "File" if a.source == "attached" else "Possibly relevant code from the project,"
        if a.document:  # its lines are the Markdown's, not the file's
            intro, label = "Document", f"{a.label_path or a.path} (as Markdown, lines {a.lines})"
        elif a.source == "listing":  # context.listing: a folder the question names
            intro, label, lang = "The folder", f"{a.label_path}, what it holds", ""
        else:
            label = a.label
        parts.append(f"{intro} {label}:\n{fence}{lang}\n{a.text.rstrip()}\n{fence}")
    return "\n\n".join(parts)
