"""Documents — PDF, Word, PowerPoint, Excel, HTML, EPUB — as Markdown a model can read,
converted by `markitdown` (the `documents` extra) and cached by content hash.

markitdown takes over a second to import (it loads a file-type model), so it is imported
on the first conversion, never at start-up. Each suffix goes to its own converter, not
through markitdown's guessing: a damaged PDF must fail as a PDF, not come back "converted"
by the plain-text fallback as its raw bytes.

The cache lives under the data dir (cache/documents, one JSON file a document, owner-only):
the same bytes are converted once, whoever asks — an attachment, the index, a later turn.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from coda_tui import paths
from coda_tui.context.attachments import AttachmentError

# Suffix -> markitdown's converter for it.
CONVERTERS = {
    ".pdf": "PdfConverter",
    ".docx": "DocxConverter",
    ".pptx": "PptxConverter",
    ".xlsx": "XlsxConverter",
    ".xls": "XlsConverter",
    ".html": "HtmlConverter",
    ".htm": "HtmlConverter",
    ".xhtml": "HtmlConverter",
    ".epub": "EpubConverter",
}
# Kinds that are also source text (a web project's templates): indexed as text unless
# `[context] documents` names them. The others are containers a text index cannot read.
TEXT_KINDS = {".html", ".htm", ".xhtml"}
# Documents are bigger than source files: a report PDF is often several megabytes.
MAX_BYTES = 50 * 1024 * 1024
INSTALL_HINT = "pip install 'coda-tui[documents]'"
# Bumped when what is cached changes shape or meaning; older entries are converted again.
CACHE_VERSION = 1


class DocumentError(AttachmentError):
    """A document that cannot be read as text: one line that says why."""


def is_document(path: str | Path) -> bool:
    return Path(path).suffix.lower() in CONVERTERS


def is_container(path: str | Path) -> bool:
    """A PDF or an Office file: its raw bytes (even when they look like text) mean nothing to a reader."""
    suffix = Path(path).suffix.lower()
    return suffix in CONVERTERS and suffix not in TEXT_KINDS


@dataclass
class Converted:
    markdown: str
    sha256: str
    convert_ms: float  # how long the conversion took, whenever it was made
    cached: bool  # found in the cache rather than converted now


def cache_dir() -> Path:
    return paths.data_dir() / "cache" / "documents"


def convert(path: Path, data: bytes | None = None, cache: Path | None = None) -> Converted:
    """`path` (or its bytes `data`, already read) as Markdown, from the cache when the same
    bytes were converted before. Raises DocumentError with one line a user can act on."""
    path = Path(path)
    if data is None:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise DocumentError(f"{path}: cannot read ({exc.strerror})") from None
    sha = hashlib.sha256(data).hexdigest()
    suffix = path.suffix.lower()
    entry = (cache or cache_dir()) / f"{sha}{suffix}.json"
    try:
        stored = json.loads(entry.read_text(encoding="utf-8"))
        if stored.get("version") == CACHE_VERSION:
            return Converted(stored["markdown"], sha, stored["convert_ms"], cached=True)
    except (OSError, ValueError, KeyError, AttributeError):
        pass  # not cached yet, or an unreadable entry: converted again and rewritten
    t0 = time.perf_counter()
    markdown = _markitdown(path, suffix, data)
    took = (time.perf_counter() - t0) * 1000
    _store(entry, {"version": CACHE_VERSION, "markdown": markdown, "convert_ms": round(took, 1), "name": path.name})
    return Converted(markdown, sha, took, cached=False)


def _markitdown(path: Path, suffix: str, data: bytes) -> str:
    try:
        import markitdown
        from markitdown import converters
    except ImportError:
        raise DocumentError(f"{path}: reading {suffix} documents needs markitdown: {INSTALL_HINT}") from None
    md = markitdown.MarkItDown(enable_builtins=False, enable_plugins=False)
    md.register_converter(getattr(converters, CONVERTERS[suffix])())
    try:
        result = md.convert_stream(io.BytesIO(data), stream_info=markitdown.StreamInfo(extension=suffix, filename=path.name))
    except markitdown.MissingDependencyException:
        raise DocumentError(f"{path}: reading {suffix} documents needs markitdown's {suffix[1:]} extra: "
                            f"{INSTALL_HINT}") from None
    except markitdown.FileConversionException as exc:
        raise DocumentError(f"{path}: {_why(exc, suffix)}") from None
    except Exception as exc:  # noqa: BLE001 - a converter's own bug on odd input: still one line
        raise DocumentError(f"{path}: cannot be converted ({type(exc).__name__}); is the file damaged?") from None
    text = (result.text_content or "").strip()
    if not text:
        scanned = " (a scanned PDF holds images of text, not text)" if suffix == ".pdf" else ""
        raise DocumentError(f"{path}: no text in this document{scanned}")
    return text + "\n"


def _why(exc, suffix: str) -> str:
    """What went wrong, from the converter's exception (markitdown keeps it in `attempts`)."""
    causes = [a.exc_info[1] for a in getattr(exc, "attempts", None) or [] if a.exc_info]
    names = " ".join(type(c).__name__ for c in causes)
    if "Password" in names or "Encrypt" in names:
        return "is encrypted (password-protected); save a copy without the password to attach it"
    cause = causes[0] if causes else exc
    detail = str(cause).strip().splitlines()[0][:120] if str(cause).strip() else type(cause).__name__
    return f"cannot be read as {suffix[1:].upper()} ({detail}); is the file damaged?"


def _store(entry: Path, record: dict) -> None:
    """Written whole or not at all (a temporary file renamed), readable by the owner alone.
    A cache that cannot be written costs only a conversion next time."""
    try:
        paths.private_dir(entry.parent)
        tmp = entry.with_name(f".{entry.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, paths.PRIVATE_FILE_MODE)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(record, f)
        os.replace(tmp, entry)
    except OSError:
        pass


def check_size(path: Path, size: int) -> None:
    if size > MAX_BYTES:
        raise DocumentError(f"{path}: {size:,} bytes is over the {MAX_BYTES:,}-byte limit for a document")


def any_document(attachments) -> bool:
    return any(a.document is not None if hasattr(a, "document") else is_document(a) for a in attachments)


def for_turn(attachments: list, attach) -> tuple[list, list[dict]]:
    """The turn's attachments with every document as Markdown: one named by path is
    converted now (or found in the cache); one attached earlier is kept when its bytes are
    unchanged, else attached again. Also the convert stage's rows: for each document its
    path, size in tokens, how long its conversion took and when it was made."""
    from coda_tui.context.attachments import Attachment

    out, rows = [], []
    for a in attachments:
        when = "attached"
        if not isinstance(a, Attachment) and is_document(a):
            a = attach(a)
            when = "cache" if a.document and a.document["cached"] else "now"
        elif isinstance(a, Attachment) and a.document is not None and _sha_of(a.path) != a.document["sha256"]:
            a = attach(a.path)
            when = "cache" if a.document["cached"] else "now"
        if isinstance(a, Attachment) and a.document is not None:
            rows.append({"path": a.label_path or str(a.path), "tokens": a.tokens, "convert_ms": a.document["convert_ms"],
                         "when": when})
        out.append(a)
    return out, rows


def _sha_of(path: Path) -> str | None:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None  # gone since: attached again, which says so


def summary(rows: list[dict]) -> str:
    said = {"now": "converted in", "cache": "from the cache, converted earlier in", "attached": "converted when attached, in"}
    return "; ".join(f"{Path(r['path']).name} {said[r['when']]} {r['convert_ms']:,.0f} ms, {r['tokens']:,} tokens"
                     for r in rows)
