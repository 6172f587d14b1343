"""Noticing that a model repeats itself, so the embedded one stops instead of looping to
its token limit (issue 12: a 135M model looping for 247 s)."""

from __future__ import annotations

# A run of the same text this many times in a row is a loop, not an answer.
COPIES = 3
# Units shorter than this repeat legitimately (a closing brace per line, "1, 2, 3, ").
MIN_UNIT = 12
MAX_UNIT = 400
# A unit made of fewer distinct characters is a rule or a drawing ("=====", "-+-+-+").
MIN_DISTINCT = 5
# The same long line this many times, anywhere in the answer, is a loop too: small models
# repeat a whole paragraph with a varying line between copies.
LINE_REPEATS = 4
MIN_LINE = 24


class RepeatGuard:
    """Fed the answer piece by piece; `feed` turns True once the answer is looping."""

    def __init__(self) -> None:
        self.text = ""
        self._lines: dict[str, int] = {}
        self._line_start = 0

    def feed(self, piece: str) -> bool:
        self.text += piece
        return self._line_loops() or self._tail_loops()

    def _line_loops(self) -> bool:
        end = self.text.rfind("\n")
        if end < self._line_start:
            return False
        done, self._line_start = self.text[self._line_start:end], end + 1
        for line in done.split("\n"):
            line = line.strip()
            if len(line) >= MIN_LINE:
                self._lines[line] = self._lines.get(line, 0) + 1
                if self._lines[line] >= LINE_REPEATS:
                    return True
        return False

    def _tail_loops(self) -> bool:
        text = self.text[-COPIES * MAX_UNIT:]
        if len(text) < COPIES * MIN_UNIT:
            return False
        probe = text[-MIN_UNIT:]
        # A loop's unit length is the distance back to an earlier copy of the text's end:
        # only those distances are checked, a few string searches a token.
        at = len(text) - MIN_UNIT
        while (at := text.rfind(probe, 0, at + MIN_UNIT - 1)) >= 0:
            unit = len(text) - MIN_UNIT - at
            if unit * COPIES > len(text):
                break
            if unit < MIN_UNIT:
                continue
            last = text[-unit:]
            if len(set(last)) >= MIN_DISTINCT and all(text[-unit * (k + 1):-unit * k] == last for k in range(1, COPIES)):
                return True
        return False
