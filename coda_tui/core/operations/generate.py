"""`generate type:module|function|test requirements:"…"`: new code from requirements,
with the input file and any context files as reference."""

from __future__ import annotations

from coda_tui.core.operations import parsing
from coda_tui.core.operations.base import Operation, OperationResult, Param, Subject

KINDS = {
    "module": "a complete module (imports, definitions, docstrings)",
    "function": "one function (with a docstring and type hints where the language has them)",
    "test": "automated tests (use the project's test framework if the context shows one)",
}


class Generate(Operation):
    name = "generate"
    help = "new code (module, function or tests) from requirements"
    params = (
        Param("type", tuple(KINDS), "function", help="what to write"),
        Param("requirements", required=True, help="what the code must do"),
    )
    needs_file = False

    def instructions(self, params: dict[str, str], subject: Subject | None) -> str:
        context = " Use the file(s) above as context: match their style and reuse what they define." if subject else ""
        return (f"Write {KINDS[params['type']]} that meets these requirements:\n\n{params['requirements']}\n\n"
                f"Put the code in one fenced block with its language, then explain it in two sentences.{context}")

    def parse(self, text: str, params: dict[str, str], subject: Subject | None) -> OperationResult:
        return code_result(self, text, params, subject)


def code_result(op: Operation, text: str, params: dict[str, str], subject: Subject | None) -> OperationResult:
    blocks = parsing.code_blocks(text)
    if blocks:
        return op.result(text, params, subject, parsed=True, code=blocks)
    return op.result(text, params, subject, parsed=False, note="no fenced code block in the answer; shown as it came")
