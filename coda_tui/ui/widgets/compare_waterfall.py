"""The waterfalls of a comparison's answers overlaid on one time axis: a row per model,
each stage of its turn placed where it ran since the comparison began, so which model
started when, waited how long for its first token and streamed for how long can be read
across the rows."""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

from coda_tui.core.compare import Answer
from coda_tui.textsafe import inert

AXIS_W = 60
LABEL_W = 28
# Before the model call (context, memory, prompt), waiting for the first token, streaming.
BEFORE, WAITING, STREAMING = "░", "▒", "█"


def spans(answer: Answer) -> list[tuple[float, float, str]]:
    """(start ms, end ms, glyph) of an answer's stages on the comparison's time axis."""
    if answer.trace is None:
        return []
    out = []
    for s in answer.trace.stages:
        start = answer.offset_ms + s.start_ms
        end = start + (s.duration_ms or 0)
        if s.name != "llm":
            if s.name != "store":
                out.append((start, end, BEFORE))
            continue
        ttft = s.detail.get("ttft_ms")
        if ttft is None:
            out.append((start, end, WAITING))
            continue
        first = start + (s.detail.get("client_ms") or 0) + (s.detail.get("load_ms") or 0) + ttft
        out.append((start, min(first, end), WAITING))
        out.append((min(first, end), end, STREAMING))
    return out


def rows(answers: list[Answer], width: int = AXIS_W) -> tuple[float, list[tuple[str, str]]]:
    """(the axis's length in ms, [(label, bar of `width` cells)]): every answer scaled alike."""
    all_spans = [spans(a) for a in answers]
    total = max((end for found in all_spans for _, end, _ in found), default=0.0) or 1.0
    out = []
    for answer, found in zip(answers, all_spans):
        cells = [" "] * width
        for start, end, glyph in found:
            first = min(int(start / total * width), width - 1)
            last = max(first + 1, min(round(end / total * width), width))
            for i in range(first, last):
                cells[i] = glyph
        out.append((answer.target.label, "".join(cells)))
    return total, out


class CompareWaterfall(Widget):
    COMPONENT_CLASSES = {"compare-waterfall--dim"}
    DEFAULT_CSS = """
    CompareWaterfall { height: auto; text-wrap: nowrap; text-overflow: ellipsis; }
    CompareWaterfall > .compare-waterfall--dim { color: $text-muted; }
    """

    def __init__(self, answers: list[Answer], **kwargs) -> None:
        super().__init__(**kwargs)
        self.answers = answers

    def render(self) -> Text:
        total, found = rows(self.answers)
        dim = self.get_component_rich_style("compare-waterfall--dim")
        text = Text()
        text.append(f"{'':<{LABEL_W}} 0 ms{f'{total:,.0f} ms':>{AXIS_W - 4}}\n", style=dim)
        for label, bar in found:
            text.append(f"{inert(label)[:LABEL_W]:<{LABEL_W}} ")
            text.append(bar + "\n")
        text.append(f"{'':<{LABEL_W}} {BEFORE} context and prompt  {WAITING} waiting for the first token  "
                    f"{STREAMING} streaming", style=dim)
        return text
