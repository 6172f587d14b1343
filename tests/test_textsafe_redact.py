from __future__ import annotations

from coda_tui.redact import MASK, Redactor
from coda_tui.textsafe import inert


def test_escape_sequences_become_visible_and_inert():
    hostile = (
        "\x1b]52;c;cm0gLXJmIH4=\x07"  # OSC 52: write the clipboard
        "\x1b]0;pwned\x07"  # window title
        "\x1b[2J\x1b[H"  # clear screen, cursor home
        "\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\"  # OSC 8 hyperlink
        "\x9b31m"  # C1 CSI
        "ok\r\n"
    )
    out = inert(hostile)
    assert not any(ord(c) < 0x20 and c not in "\n\t" for c in out)
    assert not any(0x80 <= ord(c) < 0xA0 for c in out)
    assert "␛]52;c;" in out and out.endswith("ok\n")


def test_bidi_overrides_are_shown():
    out = inert('access = "user\u202e \u2066// admin\u2069\u2066"')
    assert "\u202e" not in out and "⟪U+202E⟫" in out and "⟪U+2066⟫" in out


def test_plain_text_code_and_unicode_unchanged():
    text = "def f(x):\n\treturn x  # ünïcode ✓ 日本語\n"
    assert inert(text) == text


def test_redaction():
    r = Redactor(["my-very-own-secret-value"])
    text = "key my-very-own-secret-value, sk-abcdefghijklmnopqrstuv, Authorization: Bearer abc.def.ghi"
    out = r(text)
    assert "my-very-own-secret-value" not in out and "sk-abcdef" not in out and "abc.def.ghi" not in out
    assert out.count(MASK) == 3 and "Authorization: " in out
    assert r.exact("sk-abcdefghijklmnopqrstuv stays in user text") == "sk-abcdefghijklmnopqrstuv stays in user text"
    assert Redactor(["short"]).exact("short words stay") == "short words stay"


def test_hidden_characters_are_shown():
    # Zero-width, a tag character (invisible ASCII), the BOM, U+2028/2029: each hides or
    # reshapes text on a terminal; each is shown by its code point, in text and in JSON.
    import json

    from coda_tui.textsafe import escape_controls

    hidden = "a\u200bb\u200dc\u2060d\ufeffe\U000e0069f\u2028g\u2029h"
    out = inert(hidden)
    for code in ("200B", "200D", "2060", "FEFF", "E0069", "2028", "2029"):
        assert f"⟪U+{code}⟫" in out
    assert out.replace("⟪", "").replace("⟫", "").isprintable()
    as_json = escape_controls(json.dumps(hidden, ensure_ascii=False))
    assert as_json.isascii() and json.loads(as_json) == hidden
