"""How `coda shell` lays an answer out on a terminal (cli/answer.py), block by block."""

from __future__ import annotations

import io

from coda_tui.cli.answer import MarkdownAnswer, RawAnswer


def streamed(answer, text: str, piece: int = 3) -> str:
    for i in range(0, len(text), piece):
        answer.write(text[i:i + piece])
    answer.finish()
    return answer.out.getvalue()


def test_each_closed_block_is_cleared_by_its_rows_and_redrawn_rendered():
    # 30 columns: the paragraph's 45 characters wrap onto a second row, so its plain text
    # (two rows, then the blank line that closes it) is three rows up from the cursor.
    out = streamed(MarkdownAnswer(io.StringIO(), 30, 24), "A **bold** claim that wraps past thirty cols.\n\nNext.")
    first, second = out.split("\x1b[J")[1:]
    assert out.split("\x1b[J")[0].endswith("\r\x1b[3A")
    assert "**" not in first and "\x1b[1mbold\x1b[0m" in first
    assert second.strip().startswith("Next.")


def test_a_code_fence_is_one_block_whatever_blank_lines_it_holds():
    out = streamed(MarkdownAnswer(io.StringIO(), 80, 24), "```python\na = 1\n\nb = 2\n```\nafter\n")
    assert out.count("\x1b[J") == 2  # the fence, then "after" at the end


def test_a_block_taller_than_the_screen_stays_as_it_streamed():
    code = "```\n" + "".join(f"line {i}\n" for i in range(30)) + "```\n"
    out = streamed(MarkdownAnswer(io.StringIO(), 80, 24), code)
    assert "\x1b[J" not in out and "line 29" in out and "```" in out


def test_a_pipe_gets_the_raw_text_inert_with_a_final_newline():
    assert streamed(RawAnswer(io.StringIO()), "**x**\x1b[2J") == "**x**␛[2J\n"
