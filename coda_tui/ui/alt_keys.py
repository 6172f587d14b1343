"""Esc followed by a digit read as alt+digit, the way xterm-style terminals mean it.

xterm, tmux, and macOS terminals with Option set to act as Meta send alt+1 as the two
bytes ESC 1, just as they send alt+e as ESC e. Textual's input table maps ESC 1..0 (and
ESC §, ESC -, ESC =) to the characters the macOS Option key types (¡ ™ £ ¢ …, for WezTerm),
so alt+1 typed "¡" into the chat instead of focusing it. Without those rows the parser
reads ESC 1 as it reads ESC e: alt+1. A "¡" typed as a character still arrives as "¡".
"""

from __future__ import annotations

from textual._ansi_sequences import ANSI_SEQUENCES_KEYS

# Esc + each key of the top row that the table turns into an Option-key character.
ESCAPED_TOP_ROW = tuple("\x1b" + key for key in "§1234567890-=")


def read_escaped_top_row_as_alt() -> None:
    for sequence in ESCAPED_TOP_ROW:
        if isinstance(ANSI_SEQUENCES_KEYS.get(sequence), str):
            del ANSI_SEQUENCES_KEYS[sequence]
