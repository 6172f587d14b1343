"""One pass over a text that tells which of many regular expressions can match it.

The secret scanner runs some forty patterns over every file it indexes; with Python's `re`
each is a pass of its own over the whole text, and together they were most of the index's
CPU time. RE2's `Set` (google-re2) runs all of its patterns in one linear pass of a DFA and
says which matched somewhere. Each of the scanner's patterns gets a gate here: the pattern
itself, or a superset of it that RE2 can take (RE2 has no look-arounds or back-references,
and its \\d, \\s and \\b are ASCII where Python's are Unicode). Only the patterns whose gate
matched then run in Python, so what they find is exactly what running them all would find.

RE2 also finds the lines worth a look for an assigned secret (`LineFinder`): one
expression over the text instead of a `str.find` pass for each word that may name one.

Without google-re2 (a platform it has no wheel for) every pattern runs, as before.
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)

try:
    import re2
except ImportError:  # pragma: no cover - depends on the installation
    re2 = None


class Prefilter:
    def __init__(self, gates: dict[str, str]) -> None:
        self._gates = dict(gates)
        self._names = list(gates)
        self._set = None
        self._sentinel = -1
        self._compiled = False

    def _compile(self) -> None:
        # At the first scan rather than at import: off the app's start-up path (compiling
        # takes ~15 ms), and the log is set up by then for the one line saying why not.
        self._compiled = True
        if re2 is None:
            log.info("google-re2 is not installed: the secret scan runs every pattern over every text")
            return
        try:
            # RE2's default memory budget (8 MB, the DFA's state cache within it) holds the
            # scan's states on real code; a pass that outgrows it gives up (see `candidates`).
            patterns = re2.Set.SearchSet()
            for name in self._names:
                patterns.Add(self._gates[name])
            # Matches every text (at its start, so the DFA need not track it further): a pass
            # that gave up (RE2 then reports no match at all) is told from one that found none.
            self._sentinel = patterns.Add(r"\A")
            patterns.Compile()
        except re2.error as exc:
            log.warning("the secret scan's RE2 prefilter is unavailable (%s): every pattern runs", exc)
            return
        self._set = patterns

    def candidates(self, text: str) -> frozenset[str] | None:
        """The names whose gate matches somewhere in `text`; None when that cannot be told
        (no RE2, a text UTF-8 cannot encode, a pass that gave up): then every pattern runs."""
        if not self._compiled:
            self._compile()
        if self._set is None:
            return None
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates
            return None
        matched = self._set.Match(data)
        if not matched or self._sentinel not in matched:
            return None
        return frozenset(self._names[i] for i in matched if i != self._sentinel)


class LineFinder:
    """The starts of the lines on which `pattern` matches, in one RE2 pass, for ASCII texts
    (where RE2's byte offsets are character offsets); None for any other text, or without
    RE2, and the caller finds them its own way. Compiled at first use, as `Prefilter`."""

    def __init__(self, pattern: str) -> None:
        self._pattern = pattern
        self._rx = None

    def starts(self, text: str) -> list[int] | None:
        if re2 is None or not text.isascii():
            return None
        if self._rx is None:
            self._rx = re2.compile(self._pattern.encode())
        data = text.encode("ascii")
        starts: list[int] = []
        for m in self._rx.finditer(data):
            start = data.rfind(b"\n", 0, m.start()) + 1
            if not starts or starts[-1] != start:
                starts.append(start)
        return starts
