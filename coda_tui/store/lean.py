"""sqlite-utils without pandas and numpy.

sqlite-utils imports both when it is imported, if they are installed, only to map their
types to SQLite column types — values coda never stores. Once they are installed (pandas
comes with markitdown's Excel converter, the `documents` extra; numpy with `voice`), that
added half a second to every coda command's start and started numpy's BLAS worker threads
in every process, the shell's too, where a thread other than the main one may then take
the SIGINT of a Ctrl+C at the prompt. So sqlite-utils is imported with the two hidden, and
they stay importable for whoever needs them later (the Excel converter, voice)."""

from __future__ import annotations

import sys

HIDDEN = ("pandas", "numpy")


def import_sqlite_utils() -> None:
    if "sqlite_utils" in sys.modules:
        return
    hidden = [name for name in HIDDEN if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # "import numpy" now fails, as if it were not installed
    try:
        import sqlite_utils  # noqa: F401
    finally:
        for name in hidden:
            if sys.modules.get(name, 0) is None:
                del sys.modules[name]
