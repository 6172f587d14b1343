"""Transformers: pipeline steps that reshape the results of earlier steps, locally.

They call no model and take milliseconds, so a spec can tidy what one operation returned
before the next reads it:

    analyze type:security & analyze type:performance | combine_results | filter_suggestions severity:high | refactor

Each reads OperationResults (as the operations left them, parsed or not: a small model's
answer often has no JSON at all) and returns one, a TransformResult, so the next step,
the report and `--json` treat it like any other result.
"""

from __future__ import annotations

import abc
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Protocol

from coda_tui.core.operations import parsing
from coda_tui.core.operations.base import Operation, OperationResult, Param

# The stage a transformer's step shows in the steps view, where an operation shows
# context, memory, prompt, llm and store.
STAGE = "transform"

SEVERITIES = ("low", "medium", "high", "critical")
# What models write instead of the four levels asked for.
_SEVERITY_WORDS = {"info": "low", "minor": "low", "trivial": "low", "moderate": "medium", "warning": "medium",
                   "major": "high", "severe": "high", "blocker": "critical"}
# A suggestion's importance when the model gave no number of its own: its severity's.
SEVERITY_SCORES = {"low": 0.25, "medium": 0.5, "high": 0.75, "critical": 1.0}
KINDS = ("issue", "recommendation")
AREAS = ("quality", "performance", "security", "review")
_LEVEL = "|".join([*SEVERITIES, *_SEVERITY_WORDS])
# "[high]", "(High)", "severity: high", "High: …" — a level the model marked, not the
# word "high" anywhere in a sentence.
_MARKED_SEVERITY = re.compile(
    rf"[\[(]\s*({_LEVEL})\b|\bseverity\W{{0,3}}({_LEVEL})\b|^\W*({_LEVEL})\s*(?:severity\s*)?[:\-–]\s", re.IGNORECASE
)
_BULLET = re.compile(r"^\s*(?:[-*+•]|\d{1,2}[.)])\s+(.+)$")
_HEADING = re.compile(r"^\s*(?:#{1,6}\s*)?\**([A-Za-z][A-Za-z ]{2,40}?)\**\s*:?\s*$")
_FENCE_OPEN = re.compile(r"^ {0,3}(`{3,}|~{3,})[ \t]*([\w+.#-]*)")
_ITEM_SCORE_KEYS = ("score", "confidence", "priority", "importance")
_LANGUAGES = {".py": "python", ".js": "javascript", ".ts": "typescript", ".go": "go", ".rs": "rust",
              ".java": "java", ".rb": "ruby", ".c": "c", ".h": "c", ".cpp": "cpp", ".cs": "csharp",
              ".sh": "bash", ".sql": "sql", ".kt": "kotlin", ".swift": "swift", ".php": "php"}


@dataclass
class TransformResult(OperationResult):
    """An OperationResult with what a transformer adds: where each piece came from."""

    sources: list[str] = field(default_factory=list)  # the labels of the results it read
    blocks: list[dict] = field(default_factory=list)  # extract_code: {"language", "code", "source"}
    suggestions: list[dict] = field(default_factory=list)  # {"kind", "area", "severity", "score", "message", "line", "source"}

    def to_markdown(self) -> str:
        note = f"> {self.note}\n\n" if self.note else ""
        return f"## {_label(self)}\n\n{note}{self.text.strip() or '(nothing)'}\n"

    def summary(self) -> str:
        # The note is what a transformer has to say: "kept 2 of 6 suggestion(s) (severity:high)".
        return "; ".join(filter(None, [super().summary(), self.note]))


class History(Protocol):
    """What format_markdown needs of a step that ran before it (a chain.StepResult)."""

    label: str
    status: str
    note: str
    result: OperationResult | None


class Transformer(abc.ABC):
    """A step kind like an Operation as far as the spec parser is concerned (name, help,
    params), but run here, on results, instead of by a model."""

    name: str = ""
    help: str = ""
    params: tuple[Param, ...] = ()
    needs_file = False
    # The same as an operation's: the parser reads both kinds of step alike.
    param, with_defaults, check = Operation.param, Operation.with_defaults, Operation.check

    def score_name(self, params: dict[str, str]) -> str | None:
        return None  # a transformer scores nothing; the scores before it stay usable

    @abc.abstractmethod
    def run(self, params: dict[str, str], previous: list[OperationResult],
            history: Sequence[History] = ()) -> TransformResult:
        """The step's result from the results of the stage before (`previous`) and every
        step so far (`history`); never raises on what a model wrote."""

    def result(self, params: dict[str, str], previous: list[OperationResult], text: str, **fields) -> TransformResult:
        return TransformResult(operation=self.name, params=dict(params), text=text, parsed=fields.pop("parsed", True),
                               target=_common_target(previous), sources=[_label(r) for r in previous], **fields)


def _label(result: OperationResult) -> str:
    return " ".join([result.operation, *(f"{k}:{v}" for k, v in result.params.items())])


def _common_target(results: list[OperationResult]) -> str | None:
    targets = {r.target for r in results if r.target}
    return targets.pop() if len(targets) == 1 else None


# --- extract_code ------------------------------------------------------------------------


def fenced(text: str) -> list[tuple[str, str, bool]]:
    """(language, body, closed) of each fenced block. Unlike parsing.fenced_blocks it keeps
    a last block the answer ended inside: a model stopped at its token limit mid-code."""
    out, fence, lang, body = [], "", "", []
    for line in text.splitlines(keepends=True):
        opening = _FENCE_OPEN.match(line)
        if not fence:
            if opening:
                fence, lang, body = opening.group(1), opening.group(2).lower(), []
        elif line.strip().startswith(fence) and not line.strip().strip(fence[0]):
            out.append((lang, "".join(body), True))
            fence = ""
        else:
            body.append(line)
    if fence and "".join(body).strip():
        out.append((lang, "".join(body), False))
    return out


def code_of(result: OperationResult) -> list[dict]:
    """The code a result holds, with its language: a refactoring's checked diff, else the
    fenced blocks of the answer (not the JSON an analysis was asked to answer in)."""
    if isinstance(result, TransformResult) and result.blocks:
        return [dict(b) for b in result.blocks]
    source = _label(result)
    if result.diff:
        return [{"language": "diff", "code": result.diff, "source": source, "closed": True}]
    guessed = _LANGUAGES.get(PurePath(result.target).suffix.lower(), "") if result.target else ""
    out = []
    for lang, body, closed in fenced(result.text):
        if lang == "json" and result.score_name:
            continue
        if body.strip():
            out.append({"language": lang or guessed or "text", "code": body, "source": source, "closed": closed})
    return out


class ExtractCode(Transformer):
    name = "extract_code"
    help = "the fenced code blocks of the previous results, with their languages"
    params = (Param("language", help="keep only blocks in this language, e.g. python or diff"),)

    def run(self, params, previous, history=()):
        blocks = [b for r in previous for b in code_of(r)]
        wanted = params.get("language", "").lower()
        found = len(blocks)
        if wanted:
            blocks = [b for b in blocks if b["language"] == wanted]
        text = "\n\n".join(f"```{b['language']}\n{b['code'].rstrip()}\n```\n_from {b['source']}_" for b in blocks)
        if blocks:
            notes = [f"{found - len(blocks)} block(s) in other languages left out" if len(blocks) < found else "",
                     f"{cut} block(s) cut off where the answer ended" if (cut := sum(not b["closed"] for b in blocks)) else ""]
            note = "; ".join(filter(None, notes))
            return self.result(params, previous, text, blocks=blocks, code=[b["code"] for b in blocks], note=note)
        why = (f"none of the {found} code block(s) is in {wanted}" if found
               else f"no fenced code block in the {len(previous)} result(s) before it")
        return self.result(params, previous, "", parsed=False, note=why)


# --- extract_insights ----------------------------------------------------------------------


def normal_severity(value) -> str | None:
    if not isinstance(value, str):
        return None
    word = value.strip().lower()
    return word if word in SEVERITIES else _SEVERITY_WORDS.get(word)


def suggestions_of(result: OperationResult) -> list[dict]:
    """Issues and recommendations of one result as suggestions: from what the operation
    parsed, else from the bullet lists of an answer that had no JSON."""
    if isinstance(result, TransformResult):
        return [dict(s) for s in result.suggestions]
    source, area = _label(result), result.score_name
    raw = parsing.json_object(result.text) or {}
    out = []
    if result.issues or result.recommendations:
        raw_issues = raw.get("issues") if isinstance(raw.get("issues"), list) else []
        for i, issue in enumerate(result.issues):
            item = raw_issues[i] if i < len(raw_issues) and isinstance(raw_issues[i], dict) else {}
            out.append(_suggestion("issue", area, issue["message"], source, issue.get("severity"), issue.get("line"), item))
        raw_recs = raw.get("recommendations") if isinstance(raw.get("recommendations"), list) else []
        for i, rec in enumerate(result.recommendations):
            item = raw_recs[i] if i < len(raw_recs) and isinstance(raw_recs[i], dict) else {}
            out.append(_suggestion("recommendation", area, rec, source, item.get("severity"), None, item))
        return out
    if not _findings_in_prose(result):
        return out  # an explanation, a diff, tests: not a list of findings
    kind, in_code = "issue", False
    for line in result.text.splitlines():
        fence = line.lstrip().startswith(("```", "~~~"))
        in_code ^= fence
        if in_code or fence:
            continue
        heading = _HEADING.match(line)
        if heading and not _BULLET.match(line):
            words = heading.group(1).lower()
            kind = "recommendation" if any(w in words for w in ("recommend", "suggest", "improve", "fix")) else (
                "issue" if any(w in words for w in ("issue", "problem", "finding", "vulnerab", "concern")) else kind)
            continue
        bullet = _BULLET.match(line)
        if bullet:
            message = bullet.group(1).strip()
            marked = _MARKED_SEVERITY.search(message)
            severity = next((g for g in marked.groups() if g), None) if marked else None
            out.append(_suggestion(kind, area, message, source, severity, None, {}))
    return out


def _findings_in_prose(result: OperationResult) -> bool:
    """Were this result's suggestions read from its text's lists rather than its JSON?"""
    return (not isinstance(result, TransformResult) and not result.parsed and bool(result.score_name)
            and not (result.issues or result.recommendations))


def _suggestion(kind: str, area: str | None, message: str, source: str, severity, line, item: dict) -> dict:
    level = normal_severity(severity)
    score = next((s for k in _ITEM_SCORE_KEYS if (s := parsing.normalise_score(item.get(k))) is not None), None)
    if score is None and level is not None:
        score = SEVERITY_SCORES[level]
    return {"kind": kind, "area": area, "severity": level, "score": score, "message": message.strip(),
            "line": line, "source": source}


def _render_suggestions(suggestions: list[dict]) -> str:
    lines = []
    for s in suggestions:
        sev = f"[{s['severity']}] " if s["severity"] else ""
        where = f"line {s['line']}: " if s["line"] else ""
        lines.append(f"- {s['kind']} {sev}{where}{s['message']} _({s['source']})_")
    return "\n".join(lines)


def _as_fields(suggestions: list[dict]) -> dict:
    """The issues and recommendations fields of a result holding these suggestions."""
    issues = [{k: v for k, v in (("message", s["message"]), ("line", s["line"]), ("severity", s["severity"])) if v}
              for s in suggestions if s["kind"] == "issue"]
    return {"suggestions": suggestions, "issues": issues,
            "recommendations": [s["message"] for s in suggestions if s["kind"] == "recommendation"]}


class ExtractInsights(Transformer):
    name = "extract_insights"
    help = "the issues and recommendations of analyze and review results, as one list"

    def run(self, params, previous, history=()):
        suggestions = [s for r in previous for s in suggestions_of(r)]
        prose = sum(1 for r in previous if _findings_in_prose(r))
        note = f"{prose} answer(s) without the JSON asked for: findings read from their lists" if prose else ""
        if not suggestions:
            return self.result(params, previous, "", parsed=False,
                               note=f"no issues or recommendations in the {len(previous)} result(s) before it")
        return self.result(params, previous, _render_suggestions(suggestions), note=note, **_as_fields(suggestions))


# --- filter_suggestions --------------------------------------------------------------------


class FilterSuggestions(Transformer):
    name = "filter_suggestions"
    help = "keep the suggestions at a severity and above, of a kind, or with a score of at least min_score"
    params = (
        Param("severity", SEVERITIES, help="keep this level and those above it"),
        Param("kind", KINDS + AREAS, help="issue or recommendation, or the area that found it"),
        Param("min_score", help="keep suggestions whose importance (0-1, from the model or the severity) is at least this"),
    )

    def check(self, key: str, value: str) -> str | None:
        if key == "min_score":
            try:
                number = float(value)
            except ValueError:
                number = -1.0
            if not 0 <= number <= 1:
                return f"min_score is a number from 0 to 1, e.g. min_score:0.5, not {value!r}"
        return None

    def run(self, params, previous, history=()):
        everything = [s for r in previous for s in suggestions_of(r)]
        kept = [s for s in everything if self.keeps(params, s)]
        rule = ", ".join(f"{k}:{v}" for k, v in params.items()) or "no filter"
        note = f"kept {len(kept)} of {len(everything)} suggestion(s) ({rule})"
        if not everything:
            return self.result(params, previous, "", parsed=False,
                               note=f"no suggestions to filter in the {len(previous)} result(s) before it")
        text = _render_suggestions(kept) if kept else "No suggestion matches."
        return self.result(params, previous, text, note=note, **_as_fields(kept))

    @staticmethod
    def keeps(params: dict[str, str], s: dict) -> bool:
        if "severity" in params and (s["severity"] is None
                                     or SEVERITIES.index(s["severity"]) < SEVERITIES.index(params["severity"])):
            return False
        kind = params.get("kind")
        if kind and kind != (s["kind"] if kind in KINDS else s["area"]):
            return False
        return "min_score" not in params or (s["score"] is not None and s["score"] >= float(params["min_score"]))


# --- combine_results -----------------------------------------------------------------------


class CombineResults(Transformer):
    name = "combine_results"
    help = "the results of a parallel stage joined into one input for the next step"

    def run(self, params, previous, history=()):
        suggestions = [s for r in previous for s in suggestions_of(r)]
        blocks = [b for r in previous for b in code_of(r)]
        diffs = [r.diff for r in previous if r.diff]
        scores = [f"{r.score_name or 'score'} {r.score:.2f}" for r in previous if r.score is not None]
        notes = [f"{len(previous)} result(s)"] + ([f"scores: {', '.join(scores)}"] if scores else [])
        if len(diffs) > 1:
            notes.append(f"{len(diffs)} diffs: only the first is kept as the diff to apply")
        text = "\n\n".join(r.to_markdown().strip() for r in previous)
        return self.result(params, previous, text, parsed=bool(previous) and all(r.parsed for r in previous),
                           note="; ".join(notes), diff=diffs[0] if diffs else None,
                           code=[b["code"] for b in blocks if b["language"] != "diff"], blocks=blocks,
                           **_as_fields(suggestions))


# --- format_markdown -----------------------------------------------------------------------


class FormatMarkdown(Transformer):
    name = "format_markdown"
    help = "one Markdown report of every step so far"
    params = (Param("title", help="the report's title"),)

    def run(self, params, previous, history=()):
        steps = list(history) or [_Done(_label(r), "complete", "", r) for r in previous]
        rows = ["| # | step | status | result |", "|---|---|---|---|"]
        for i, s in enumerate(steps, 1):
            summary = "; ".join(filter(None, [s.result.summary() if s.result else "", s.note]))
            rows.append(f"| {i} | {_cell(s.label)} | {s.status} | {_cell(summary)} |")
        parts = [f"# {params.get('title') or 'Pipeline report'}", "\n".join(rows),
                 *(s.result.to_markdown().rstrip() for s in steps if s.result is not None)]
        text = "\n\n".join(parts)
        return self.result(params, previous, text)


@dataclass
class _Done:
    label: str
    status: str
    note: str
    result: OperationResult | None


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


TRANSFORMERS: dict[str, Transformer] = {t.name: t for t in (
    ExtractCode(), ExtractInsights(), FormatMarkdown(), CombineResults(), FilterSuggestions())}
