"""`explain level:basic|intermediate|advanced focus:comprehensive|patterns|architecture`."""

from __future__ import annotations

from coda_tui.core.operations.base import Operation, OperationResult, Param, Subject

LEVELS = {
    "basic": "for someone new to programming: plain words, no jargon, what each part does",
    "intermediate": "for a working developer: the main flow, the key functions and why they exist",
    "advanced": "for an expert: design decisions, trade-offs, edge cases and subtle behaviour",
}
FOCUSES = {
    "comprehensive": "Cover purpose, structure, the main functions and how data flows through them.",
    "patterns": "Concentrate on the design patterns and idioms used, and where.",
    "architecture": "Concentrate on the architecture: components, their responsibilities and dependencies.",
}


class Explain(Operation):
    name = "explain"
    help = "an explanation at a chosen level and focus"
    params = (
        Param("level", tuple(LEVELS), "intermediate", help="who it is for"),
        Param("focus", tuple(FOCUSES), "comprehensive", help="what to concentrate on"),
    )

    def instructions(self, params: dict[str, str], subject: Subject | None) -> str:
        return (f"Explain the {subject.label if subject else 'code'} above {LEVELS[params['level']]}. "
                f"{FOCUSES[params['focus']]} Answer in Markdown with short sections.")

    def parse(self, text: str, params: dict[str, str], subject: Subject | None) -> OperationResult:
        if text.strip():
            return self.result(text, params, subject, parsed=True)
        return self.result(text, params, subject, parsed=False, note="the model returned no explanation")
