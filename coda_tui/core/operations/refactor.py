"""`refactor type:all|performance|readability|security`: a unified diff against the file.

The diff is checked against the file before it is offered: one that does not apply is
reported, not shown as if it could be. A model that answers with the whole rewritten
file instead of a diff still gives a usable result: coda makes the diff itself.
"""

from __future__ import annotations

from coda_tui import patch
from coda_tui.core.operations import parsing
from coda_tui.core.operations.base import Operation, OperationResult, Param, Subject

GOALS = {
    "all": "readability, performance and security",
    "performance": "performance",
    "readability": "readability and maintainability",
    "security": "security",
}
# A code block this much shorter than the file is an excerpt, not a rewrite of it.
WHOLE_FILE_RATIO = 0.5


def find_diff(text: str) -> str | None:
    for lang, body in parsing.fenced_blocks(text):
        if lang in ("diff", "patch", "udiff") or "\n@@ " in "\n" + body:
            return body
    if "\n@@ " in "\n" + text:
        return text[text.find("@@ ") if text.startswith("@@ ") else text.find("\n@@ ") + 1 :]
    return None


class Refactor(Operation):
    name = "refactor"
    help = "a unified diff that improves the file (previewed; applied only when confirmed)"
    params = (Param("type", tuple(GOALS), "all", help="what to improve"),)

    def instructions(self, params: dict[str, str], subject: Subject | None) -> str:
        path = subject.rel if subject and subject.rel else "file"
        return (
            f"Refactor the {subject.label if subject else 'code'} above to improve {GOALS[params['type']]}, "
            "keeping its behaviour. Reply with a unified diff in one ```diff block, with headers "
            f"'--- a/{path}' and '+++ b/{path}', hunks starting '@@ -start,count +start,count @@', "
            "and context lines copied exactly from the file. After the block, one line per change saying why."
        )

    def parse(self, text: str, params: dict[str, str], subject: Subject | None) -> OperationResult:
        original = subject.text if subject else ""
        path = subject.rel if subject and subject.rel else "file"
        found = find_diff(text)
        problem = ""
        if found is not None:
            try:
                patched = patch.apply(original, found)
            except patch.PatchError as exc:
                problem = f"the diff in the answer does not apply: {exc}"
            else:
                if patched == original:
                    return self.result(text, params, subject, parsed=False, note="the diff in the answer changes nothing")
                # Re-made from the patched text: clean headers and exact line numbers.
                return self.result(text, params, subject, parsed=True, diff=patch.make(original, patched, path))
        whole = [b for b in parsing.code_blocks(text) if len(b) >= WHOLE_FILE_RATIO * len(original)]
        if whole and original:
            new = whole[-1]
            if new.strip() == original.strip():
                return self.result(text, params, subject, parsed=False, note="the code in the answer is the file unchanged")
            note = "the model rewrote the whole file instead of a diff; coda made the diff"
            if problem:
                note = problem + "; " + note
            return self.result(text, params, subject, parsed=True, diff=patch.make(original, new, path), note=note)
        return self.result(text, params, subject, parsed=False,
                           note=problem or "no unified diff (and no rewritten file) in the answer")
