"""`test`: suggested tests for a file."""

from __future__ import annotations

from coda_tui.core.operations.base import Operation, OperationResult, Param, Subject
from coda_tui.core.operations.generate import code_result

FRAMEWORKS = {".py": "pytest", ".js": "the project's JavaScript test runner", ".ts": "the project's test runner",
              ".go": "Go's testing package", ".rs": "Rust's #[test] functions", ".java": "JUnit 5"}


class Test(Operation):
    name = "test"
    help = "suggested tests for the file"
    params = (Param("framework", help="test framework to use (default: the usual one for the language)"),)

    def instructions(self, params: dict[str, str], subject: Subject | None) -> str:
        suffix = subject.path.suffix if subject and subject.path else ""
        framework = params.get("framework") or FRAMEWORKS.get(suffix, "the usual test framework for the language")
        return (f"Write tests for the {subject.label if subject else 'code'} above with {framework}: the normal "
                "cases, the edge cases and the error cases of each public function. Put them in one fenced "
                "code block, then list in one line each what the tests cover.")

    def parse(self, text: str, params: dict[str, str], subject: Subject | None) -> OperationResult:
        return code_result(self, text, params, subject)
