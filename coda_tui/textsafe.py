"""Make text from a model, a file or a transcript inert before it reaches a terminal.

Escape sequences can set the clipboard (OSC 52), retitle the window, clear the screen,
move the cursor or plant hyperlinks; bidi overrides can make code read differently from
how it runs. Control characters become visible Unicode "control pictures" (ESC → ␛), so
nothing acts and nothing silently disappears; bidi controls are shown as ⟪U+202E⟫, and so
are the characters that hide text: zero-width ones, Unicode tag characters (an invisible
copy of ASCII) and the line/paragraph separators U+2028/2029 (a line break that is not one).
Works per character, so it is safe on chunks split anywhere in a stream.
"""

from __future__ import annotations

_KEEP = {"\n", "\t"}
_BIDI = [0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
# Zero-width space, non-joiner, joiner, word joiner, invisible operators, the BOM used as a
# zero-width no-break space, Mongolian vowel separator; tag characters; U+2028/2029.
_HIDDEN = [0x180E, 0x200B, 0x200C, 0x200D, *range(0x2060, 0x2065), 0xFEFF, *range(0xE0000, 0xE0080), 0x2028, 0x2029]


def _table() -> dict[int, str]:
    table: dict[int, str] = {}
    for code in range(0x20):
        if chr(code) not in _KEEP:
            table[code] = chr(0x2400 + code)
    table[0x7F] = "\u2421"
    for code in range(0x80, 0xA0):
        table[code] = "\ufffd"
    for code in (*_BIDI, *_HIDDEN):
        table[code] = f"⟪U+{code:04X}⟫"
    # Lone surrogates (bytes that were not UTF-8, carried through) cannot be written out.
    for code in range(0xD800, 0xE000):
        table[code] = "\ufffd"
    return table


_TABLE = _table()


def inert(text: str) -> str:
    # "\r\n" is an ordinary line end; a lone "\r" (which rewrites the line) is shown.
    return text.replace("\r\n", "\n").translate(_TABLE)


def _json_escape(code: int) -> str:
    if code > 0xFFFF:  # JSON spells a character beyond the BMP as its UTF-16 surrogate pair
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    return f"\\u{code:04x}"


_JSON_ESCAPES = {code: _json_escape(code) for code in [0x7F, *range(0x80, 0xA0), *_BIDI, *_HIDDEN]}


def escape_controls(json_text: str) -> str:
    """JSON with DEL, C1, bidi controls and hidden characters written as \\uXXXX: the same
    data to a parser, inert on a terminal. (json.dumps already escapes C0; these can only
    occur inside strings.)"""
    return json_text.translate(_JSON_ESCAPES)
