"""Files attached to a question, read safely: text only, bounded in size."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from coda_tui.core.tokens import estimate_tokens

MAX_BYTES = 512 * 1024
SNIFF_BYTES = 8192


class AttachmentError(Exception):
    pass


@dataclass
class Attachment:
    path: Path
    text: str
    tokens: int
    first_line: int = 1
    last_line: int | None = None

    @property
    def label(self) -> str:
        end = self.last_line or self.text.count("\n") + 1
        return f"{self.path}:{self.first_line}-{end}"


def load_attachment(path: str | Path) -> Attachment:
    p = Path(path).expanduser()
    if not p.exists():
        raise AttachmentError(f"{p}: no such file")
    if not p.is_file():
        raise AttachmentError(f"{p}: not a regular file")
    size = p.stat().st_size
    if size > MAX_BYTES:
        raise AttachmentError(f"{p}: {size:,} bytes is over the {MAX_BYTES:,}-byte limit for an attachment")
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise AttachmentError(f"{p}: cannot read ({exc.strerror})") from None
    if b"\0" in data[:SNIFF_BYTES]:
        raise AttachmentError(f"{p}: looks binary; only text files can be attached")
    text = data.decode("utf-8", errors="replace")
    return Attachment(path=p, text=text, tokens=estimate_tokens(text), last_line=text.count("\n") + 1)


def render_attachments(attachments: list[Attachment]) -> str:
    """The attachments as Markdown fences, for the user message."""
    parts = []
    for a in attachments:
        fence = "```"
        while fence in a.text:
            fence += "`"
        lang = a.path.suffix.lstrip(".")
        parts.append(f"File {a.label}:\n{fence}{lang}\n{a.text.rstrip()}\n{fence}")
    return "\n\n".join(parts)
