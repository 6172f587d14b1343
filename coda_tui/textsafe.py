"""Make text from a model, a file or a transcript inert before it reaches a terminal.

Escape sequences can set the clipboard (OSC 52), retitle the window, clear the screen,
move the cursor or plant hyperlinks; bidi overrides can make code read differently from
how it runs. Control characters become visible Unicode "control pictures" (ESC → ␛), so
nothing acts and nothing silently disappears; bidi controls are shown as ⟪U+202E⟫.
Works per character, so it is safe on chunks split anywhere in a stream.
"""

from __future__ import annotations

_KEEP = {"\n", "\t"}
_BIDI = [0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]


def _table() -> dict[int, str]:
    table: dict[int, str] = {}
    for code in range(0x20):
        if chr(code) not in _KEEP:
            table[code] = chr(0x2400 + code)
    table[0x7F] = "\u2421"
    for code in range(0x80, 0xA0):
        table[code] = "\ufffd"
    for code in _BIDI:
        table[code] = f"⟪U+{code:04X}⟫"
    return table


_TABLE = _table()


def inert(text: str) -> str:
    # "\r\n" is an ordinary line end; a lone "\r" (which rewrites the line) is shown.
    return text.replace("\r\n", "\n").translate(_TABLE)


_JSON_ESCAPES = {code: f"\\u{code:04x}" for code in [0x7F, *range(0x80, 0xA0), *_BIDI]}


def escape_controls(json_text: str) -> str:
    """JSON with DEL, C1 and bidi controls written as \\uXXXX: the same data to a parser, inert
    on a terminal. (json.dumps already escapes C0; these can only occur inside strings.)"""
    return json_text.translate(_JSON_ESCAPES)
