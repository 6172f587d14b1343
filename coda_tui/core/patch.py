"""Unified diffs live in the base layer (coda_tui.patch) since tools edit files with them
too; this name stays for the operations and faces that import it from here."""

from coda_tui.patch import Hunk, PatchError, apply, changed_lines, make, parse

__all__ = ["Hunk", "PatchError", "apply", "changed_lines", "make", "parse"]
