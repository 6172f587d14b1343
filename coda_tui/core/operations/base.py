"""What an operation is: parameters it takes, the prompt it sends, and how it reads the
answer into an OperationResult. Each operation lives in its own module."""

from __future__ import annotations

import abc
from dataclasses import asdict, dataclass, field
from pathlib import Path

# Earlier steps' results passed on to the next step are cut to this many characters:
# enough for a list of issues, not so much that a small model loses the task.
PREVIOUS_CHARS = 4000


@dataclass(frozen=True)
class Param:
    name: str
    choices: tuple[str, ...] = ()  # empty: free text
    default: str | None = None
    required: bool = False
    help: str = ""


@dataclass
class Subject:
    """What an operation works on: a project file (read through the sandbox) or, for
    `review`, the working tree's diff."""

    text: str
    path: Path | None = None
    rel: str | None = None  # as shown, relative to the project

    @property
    def label(self) -> str:
        return self.rel or (str(self.path) if self.path else "the input")


@dataclass
class OperationResult:
    operation: str
    params: dict[str, str]
    text: str  # the model's whole answer, as it came
    parsed: bool  # did the answer have the structure asked for?
    note: str = ""  # what was missing, or what coda did to make up for it
    score: float | None = None  # 0–1, for analyze and review
    score_name: str | None = None  # what a condition calls it: quality, performance, security, review
    issues: list[dict] = field(default_factory=list)
    recommendations: list[str] = field(default_factory=list)
    diff: str | None = None  # refactor: a unified diff that applies to the file
    code: list[str] = field(default_factory=list)  # generate, test: code blocks
    target: str | None = None  # the file it is about

    def to_dict(self) -> dict:
        return asdict(self)

    def summary(self) -> str:
        """One line for the pipeline pane, the trace and the CLI."""
        parts = []
        if self.score is not None:
            parts.append(f"{self.score_name or 'score'} {self.score:.2f}")
        if self.issues:
            parts.append(f"{len(self.issues)} issue(s)")
        if self.recommendations:
            parts.append(f"{len(self.recommendations)} recommendation(s)")
        if self.diff:
            from coda_tui.patch import changed_lines

            added, removed = changed_lines(self.diff)
            parts.append(f"diff +{added} -{removed}")
        if self.code:
            parts.append(f"{len(self.code)} code block(s)")
        if not parts:
            parts.append(f"{len(self.text)} chars")
        if not self.parsed:
            parts.append("unparsed")
        return ", ".join(parts)

    def to_markdown(self) -> str:
        label = " ".join([self.operation, *(f"{k}:{v}" for k, v in self.params.items())])
        out = [f"## {label}" + (f" — {self.target}" if self.target else "")]
        if not self.parsed:
            out.append(f"> unparsed: {self.note}" if self.note else "> unparsed")
        elif self.note:
            out.append(f"> {self.note}")
        if self.score is not None:
            out.append(f"**{(self.score_name or 'score').capitalize()} score: {self.score:.2f}**")
        if self.issues:
            out.append("### Issues")
            for issue in self.issues:
                where = f"line {issue['line']}: " if issue.get("line") else ""
                sev = f"[{issue['severity']}] " if issue.get("severity") else ""
                out.append(f"- {sev}{where}{issue['message']}")
        if self.recommendations:
            out.append("### Recommendations")
            out.extend(f"- {r}" for r in self.recommendations)
        if self.diff:
            out.append(f"```diff\n{self.diff.rstrip()}\n```")
        if not (self.issues or self.recommendations or self.diff) or not self.parsed:
            # Prose operations, and anything unparsed: the answer itself is the result.
            out.append(self.text.strip() or "(the model returned nothing)")
        return "\n\n".join(out) + "\n"

    def as_previous(self) -> str:
        """This result as the next step sees it."""
        body = self.to_markdown()
        return body if len(body) <= PREVIOUS_CHARS else body[:PREVIOUS_CHARS] + "\n…(cut)\n"


class Operation(abc.ABC):
    name: str = ""
    help: str = ""
    params: tuple[Param, ...] = ()
    # Works on a file (the pipeline's input, the code pane's file); review and generate do not.
    needs_file: bool = True
    system: str = (
        "You are coda, a careful senior software engineer. Follow the requested output "
        "format exactly; be specific and refer to line numbers."
    )

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)

    def with_defaults(self, given: dict[str, str]) -> dict[str, str]:
        out = {p.name: p.default for p in self.params if p.default is not None}
        out.update(given)
        return out

    def score_name(self, params: dict[str, str]) -> str | None:
        """The name a condition uses for this step's score; None if it gives none."""
        return None

    def check(self, key: str, value: str) -> str | None:
        """What is wrong with a parameter's value beyond its choices; None when it is fine."""
        return None

    @abc.abstractmethod
    def instructions(self, params: dict[str, str], subject: Subject | None) -> str:
        """The task, as the model is asked to do it."""

    def prompt(self, params: dict[str, str], subject: Subject | None, previous: list[OperationResult]) -> str:
        text = self.instructions(params, subject)
        if previous:
            earlier = "\n\n".join(p.as_previous() for p in previous)
            text += f"\n\nEarlier steps of this pipeline found the following; take it into account:\n\n{earlier}"
        return text

    @abc.abstractmethod
    def parse(self, text: str, params: dict[str, str], subject: Subject | None) -> OperationResult:
        """The answer read into a result; never raises on a malformed answer."""

    def result(self, text: str, params: dict[str, str], subject: Subject | None, **fields) -> OperationResult:
        return OperationResult(operation=self.name, params=dict(params), text=text,
                               target=subject.label if subject and subject.path else None, **fields)
