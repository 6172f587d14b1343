"""Pipeline specs: a small language for chaining operations.

    spec      := stage ( "|" stage )*            stages run one after another; each
                                                  receives the results of the stage before
    stage     := branch ( "&" branch )*          branches joined by & run at the same time
    branch    := [ "if:" NAME CMP NUMBER ] step [ "else" step ]
    step      := NAME ( KEY ":" VALUE )*         an operation or a transformer (core.transformers,
                                                  not in the first stage); VALUE may be "double quoted"
    CMP       := < | <= | > | >= | == | !=

NAME is a score an earlier stage returned: `quality`, `performance` or `security` (from
`analyze type:…`), `review` (from `review`), or `score` (the latest score of any step).

    analyze type:quality | if:quality<0.8 refactor type:performance else explain | test
    analyze type:security & analyze type:performance | refactor

Every error carries the position (0-based) and length of the offending token, so it can
be shown with a caret under it.
"""

from __future__ import annotations

import difflib
import operator
import re
from dataclasses import dataclass, field

from coda_tui.config import Config, ConfigError
from coda_tui.core.operations import OPERATIONS
from coda_tui.core.transformers import TRANSFORMERS
from coda_tui.errors import CodaError

COMPARISONS = {"<=": operator.le, ">=": operator.ge, "==": operator.eq, "!=": operator.ne,
               "<": operator.lt, ">": operator.gt}
_CONDITION = re.compile(r"^if:([A-Za-z_][\w-]*)(<=|>=|==|!=|<|>)([0-9]*\.?[0-9]+)$")
_NAME = re.compile(r"^[A-Za-z_][\w-]*$")
LATEST_SCORE = "score"
# What a step can name: a model's operation or a local transformer.
STEPS = {**OPERATIONS, **TRANSFORMERS}

BUILTIN_WORKFLOWS: dict[str, str] = {
    "code_review": "analyze type:quality & analyze type:security | if:quality<0.8 refactor type:readability else explain level:intermediate",
    "test_generation": "analyze type:quality | test",
    "documentation": "explain level:basic focus:comprehensive & explain level:advanced focus:architecture",
    "performance_analysis": "analyze type:performance | if:performance<0.8 refactor type:performance",
    "security_audit": "analyze type:security | if:security<0.8 refactor type:security",
}


class SpecError(CodaError, ValueError):
    exit_code = 2

    def __init__(self, message: str, text: str, pos: int, length: int = 1) -> None:
        self.text = text
        self.pos = max(0, min(pos, len(text)))
        self.length = max(1, length)
        super().__init__(message)

    def render(self) -> str:
        return f"column {self.column}: {self.message}"

    @property
    def column(self) -> int:
        return self.pos + 1

    @property
    def token(self) -> str:
        return self.text[self.pos : self.pos + self.length]

    def caret(self) -> str:
        """The spec on one line and carets under the offending token."""
        line = self.text.replace("\n", " ").replace("\t", " ")
        return f"  {line}\n  {' ' * self.pos}{'^' * self.length}"


@dataclass(frozen=True)
class Token:
    kind: str  # word | pipe | amp
    text: str  # as written (quotes and all)
    pos: int


@dataclass(frozen=True)
class Condition:
    name: str
    cmp: str
    value: float
    pos: int

    def holds(self, score: float) -> bool:
        return COMPARISONS[self.cmp](score, self.value)

    def __str__(self) -> str:
        return f"if:{self.name}{self.cmp}{self.value:g}"


@dataclass(frozen=True)
class Step:
    op: str
    params: tuple[tuple[str, str], ...] = ()
    pos: int = 0

    @property
    def args(self) -> dict[str, str]:
        return dict(self.params)

    @property
    def label(self) -> str:
        return " ".join([self.op, *(f"{k}:{_quote(v)}" for k, v in self.params)])


@dataclass(frozen=True)
class Branch:
    step: Step
    condition: Condition | None = None
    otherwise: Step | None = None

    @property
    def label(self) -> str:
        if self.condition is None:
            return self.step.label
        return f"{self.condition} {self.step.label}" + (f" else {self.otherwise.label}" if self.otherwise else "")


@dataclass
class Spec:
    text: str
    stages: list[list[Branch]] = field(default_factory=list)
    workflow: str | None = None  # the named workflow this came from

    @property
    def branches(self) -> list[Branch]:
        return [b for stage in self.stages for b in stage]

    def canonical(self) -> str:
        return " | ".join(" & ".join(b.label for b in stage) for stage in self.stages)

    def needs_file(self) -> list[Step]:
        """Steps of the first stage that need an input file to work on."""
        return [s for b in self.stages[0] for s in (b.step, b.otherwise) if s and STEPS[s.op].needs_file]


def _quote(value: str) -> str:
    return f'"{value}"' if (not value or any(c.isspace() or c in '|&"' for c in value)) else value


# --- lexing ------------------------------------------------------------------------------


def tokenize(text: str) -> list[Token]:
    tokens, i, n = [], 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch in "|&":
            tokens.append(Token("pipe" if ch == "|" else "amp", ch, i))
            i += 1
        else:
            start = i
            while i < n and not text[i].isspace() and text[i] not in "|&":
                if text[i] == '"':
                    end = text.find('"', i + 1)
                    if end < 0:
                        raise SpecError("unterminated quoted value (no closing \")", text, i, n - i)
                    i = end + 1
                else:
                    i += 1
            tokens.append(Token("word", text[start:i], start))
    return tokens


# --- parsing -----------------------------------------------------------------------------


def parse(text: str, workflows: dict[str, str] | None = None) -> Spec:
    """A spec from its text; a bare workflow name stands for that workflow's spec."""
    if not isinstance(text, str):
        raise SpecError("a spec is text", "", 0)
    flows = {**BUILTIN_WORKFLOWS, **(workflows or {})}
    name = text.strip()
    if name in flows and name not in STEPS:
        spec = _Parser(flows[name]).parse()
        spec.workflow = name
        return spec
    return _Parser(text).parse()


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0

    def error(self, message: str, token: Token | None = None, pos: int | None = None, length: int | None = None):
        if token is not None:
            return SpecError(message, self.text, token.pos if pos is None else pos, length or len(token.text))
        return SpecError(message, self.text, len(self.text) if pos is None else pos, length or 1)

    def peek(self) -> Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> Token | None:
        tok = self.peek()
        self.i += tok is not None
        return tok

    def parse(self) -> Spec:
        if not self.tokens:
            raise self.error("the spec is empty: name an operation, e.g. 'analyze type:quality | explain'", pos=0)
        spec = Spec(self.text)
        scores: set[str] = set()
        while True:
            stage = [self.branch(scores)]
            while (tok := self.peek()) is not None and tok.kind == "amp":
                self.take()
                stage.append(self.branch(scores))
            if not spec.stages:
                self.no_transformer_first(stage)
            spec.stages.append(stage)
            for b in stage:
                for step in (b.step, b.otherwise):
                    if step is not None:
                        name = STEPS[step.op].score_name(STEPS[step.op].with_defaults(step.args))
                        if name:
                            scores.update((name, LATEST_SCORE))
            tok = self.take()
            if tok is None:
                return spec
            if tok.kind != "pipe":
                raise self.error(f"unexpected {tok.text!r}: expected '|', '&' or the end", tok)

    def no_transformer_first(self, stage: list[Branch]) -> None:
        for step in (s for b in stage for s in (b.step, b.otherwise) if s is not None and s.op in TRANSFORMERS):
            raise self.error(f"'{step.op}' reshapes the results of earlier steps: put an operation before it, "
                             f"e.g. 'analyze | {step.op}'", pos=step.pos, length=len(step.op))

    def branch(self, scores: set[str]) -> Branch:
        tok = self.peek()
        condition = None
        if tok is not None and tok.kind == "word" and tok.text.startswith("if:"):
            self.take()
            condition = self.condition(tok, scores)
        step = self.step(after=condition and str(condition))
        otherwise = None
        tok = self.peek()
        if tok is not None and tok.kind == "word" and tok.text == "else":
            if condition is None:
                raise self.error("'else' must follow a conditional step: if:NAME<NUMBER STEP else STEP", tok)
            self.take()
            otherwise = self.step(after="else")
        return Branch(step, condition, otherwise)

    def condition(self, tok: Token, scores: set[str]) -> Condition:
        m = _CONDITION.match(tok.text)
        if not m:
            raise self.error("a condition is if:NAME<NUMBER (or <=, >, >=, ==, !=), e.g. if:quality<0.8", tok)
        name, cmp, number = m.groups()
        value = float(number)
        if not 0 <= value <= 1:
            raise self.error("scores are from 0 to 1", tok, tok.pos + m.start(3), len(number))
        if name not in scores:
            known = ", ".join(sorted(scores)) or "none yet"
            hint = "" if scores else f"; add an earlier step such as 'analyze type:{name}' or 'review'"
            raise self.error(f"no earlier step gives a score named {name!r} (available: {known}){hint}",
                             tok, tok.pos + 3, len(name))
        return Condition(name, cmp, value, tok.pos)

    def step(self, after: str | None = None) -> Step:
        prev = self.tokens[self.i - 1] if self.i else None
        tok = self.take()
        where = f"after '{after}'" if after else (f"after '{prev.text}'" if prev is not None and prev.kind != "word" else "here")
        if tok is None:
            raise self.error(f"expected an operation {where} ({', '.join(OPERATIONS)})")
        if tok.kind != "word":
            raise self.error(f"expected an operation {where}, found {tok.text!r}", tok)
        if tok.text == "else":
            raise self.error("'else' must follow a conditional step: if:NAME<NUMBER STEP else STEP", tok)
        if tok.text not in STEPS:
            close = difflib.get_close_matches(tok.text, list(STEPS), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else f" (one of: {', '.join(STEPS)})"
            raise self.error(f"unknown operation {tok.text!r}{hint}", tok)
        op = STEPS[tok.text]
        params: dict[str, str] = {}
        while (p := self.peek()) is not None and p.kind == "word" and p.text != "else" and not p.text.startswith("if:"):
            self.take()
            key, colon, raw = p.text.partition(":")
            if not colon:
                if p.text in STEPS:
                    raise self.error(f"'{p.text}' needs a '|' (or '&') before it", p)
                raise self.error(f"expected KEY:VALUE after '{tok.text}', found {p.text!r}", p)
            param = op.param(key)
            if param is None:
                names = [x.name for x in op.params]
                close = difflib.get_close_matches(key, names, n=1)
                hint = f"did you mean '{close[0]}'? " if close else ""
                allowed = ", ".join(names) if names else "none"
                raise self.error(f"'{tok.text}' takes no parameter {key!r} ({hint}parameters: {allowed})", p, p.pos, len(key))
            if key in params:
                raise self.error(f"{key!r} is given twice", p, p.pos, len(key))
            value = self.value(raw, p, len(key) + 1)
            if param.choices and value not in param.choices:
                raise self.error(f"{tok.text} {key} must be one of {', '.join(param.choices)}, not {value!r}",
                                 p, p.pos + len(key) + 1, max(1, len(raw)))
            if problem := op.check(key, value):
                raise self.error(f"{tok.text} {problem}", p, p.pos + len(key) + 1, max(1, len(raw)))
            params[key] = value
        for param in op.params:
            if param.required and param.name not in params:
                raise self.error(f"'{tok.text}' needs {param.name}:\"…\" ({param.help})", tok)
        return Step(tok.text, tuple(params.items()), tok.pos)

    def value(self, raw: str, tok: Token, offset: int) -> str:
        if raw.startswith('"') and raw.endswith('"') and len(raw) >= 2 and raw.count('"') == 2:
            return raw[1:-1]
        if '"' in raw:
            raise self.error("quote the whole value: KEY:\"…\"", tok, tok.pos + offset + raw.index('"'), 1)
        if not raw:
            raise self.error("the value is missing after ':'", tok, tok.pos + offset - 1, 1)
        return raw


def step_from_args(op_name: str, args: list[str]) -> Step:
    """One step from an operation name and KEY:VALUE arguments given separately (the CLI's
    and the chat's words, where the shell has already taken the quotes off)."""
    text = " ".join([op_name, *(_quote_arg(a) for a in args)])
    spec = _Parser(text).parse()
    if len(spec.branches) != 1 or spec.branches[0].condition is not None:
        raise SpecError("one operation and its KEY:VALUE parameters", text, 0, len(text))
    return spec.branches[0].step


def _quote_arg(arg: str) -> str:
    key, colon, value = arg.partition(":")
    if colon and _NAME.match(key) and not value.startswith('"') and (not value or any(c.isspace() or c in "|&" for c in value)) and '"' not in value:
        return f'{key}:"{value}"'
    return arg


def validate_workflows(workflows: dict[str, str]) -> dict[str, SpecError | str]:
    """Problems with named workflows: a SpecError for a bad spec, a string for a bad name."""
    problems: dict[str, SpecError | str] = {}
    for name, text in workflows.items():
        if name in STEPS:
            kind = "operation" if name in OPERATIONS else "transformer"
            problems[name] = f"a workflow cannot be named like the {kind} '{name}'"
            continue
        try:
            _Parser(text).parse()
        except SpecError as exc:
            problems[name] = exc
    return problems


def check_workflows(config: Config) -> None:
    """Refuse a config whose [workflows] hold a bad spec: file, line, key and the column."""
    for name, problem in validate_workflows(config.workflows).items():
        where = {"path": config.path, "line": config.workflow_lines.get(name), "key": f"workflows.{name}"}
        if isinstance(problem, SpecError):
            raise ConfigError(f"bad pipeline spec at column {problem.column} ({problem.token!r}): {problem.message}",
                              expected="a spec such as 'analyze type:quality | explain'", **where)
        raise ConfigError(problem, **where)


def workflows(config: Config) -> dict[str, str]:
    """Every named workflow: the built-in ones, then the config's (which win)."""
    return {**BUILTIN_WORKFLOWS, **config.workflows}
