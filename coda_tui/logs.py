"""File logging under the data dir, with secrets scrubbed from every record."""

from __future__ import annotations

import logging
import logging.handlers

from coda_tui import paths
from coda_tui.redact import Redactor


class _RedactingFilter(logging.Filter):
    def __init__(self, redact: Redactor) -> None:
        super().__init__()
        self.redact = redact

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.redact(record.getMessage())
        record.args = None
        return True


def setup(redact: Redactor, level: int = logging.INFO) -> None:
    """Log to the data dir; if it cannot be written, log nowhere rather than to the screen."""
    root = logging.getLogger("coda_tui")
    if root.handlers:
        return
    root.setLevel(level)
    root.propagate = False
    path = paths.log_path()
    try:
        paths.private_file(path)
        handler: logging.Handler = logging.handlers.RotatingFileHandler(path, maxBytes=2_000_000, backupCount=3, encoding="utf-8")
    except OSError:
        handler = logging.NullHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(_RedactingFilter(redact))
    root.addHandler(handler)
