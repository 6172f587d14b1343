"""Runs a pipeline spec: each operation step is one real turn through core.TurnRunner, so
it is stored, traced stage by stage, and published like any other turn.

Stages run in order; the branches of a stage (joined with `&`) run at the same time as
asyncio tasks. Each step's turn publishes on its own small bus that wraps its events in
StepEvent, so parallel turns never interleave on the app's waterfall, and a pane can draw
each step with its own stages. The run as a whole is saved as a trace too, provider
"pipeline", one stage a step on the shared clock: `coda trace` shows parallel steps
overlapping.
"""

from __future__ import annotations

import asyncio
import copy
import time
from pathlib import Path

from coda_tui.context.attachments import Attachment, AttachmentError
from coda_tui.core import events as ev
from coda_tui.core import transformers
from coda_tui.core.chain_events import (
    ChainFinished,
    ChainResult,
    ChainStarted,
    StepEvent,
    StepFinished,
    StepResult,
    StepStarted,
)
from coda_tui.core.operations import OPERATIONS, OperationResult, ReviewError, Subject
from coda_tui.core.operations.review import working_tree_diff
from coda_tui.core.spec import LATEST_SCORE, Branch, Spec, Step
from coda_tui.core.turn import TurnRunner
from coda_tui.errors import CodaError
from coda_tui.store.db import now
from coda_tui.store.sessions import Session
from coda_tui.store.traces import StageRecord, TraceRecord

FAILED = ("error", "partial")


class ChainError(CodaError):
    """The run cannot start (no input for a step that needs one); the message says why."""

    exit_code = 2


class _StepBus:
    """What a step's TurnRunner publishes to: its events, wrapped, on the shared bus."""

    def __init__(self, publish, run_id: int, index: int) -> None:
        self._publish, self.run_id, self.index = publish, run_id, index

    def publish(self, event) -> None:
        self._publish(StepEvent(self.run_id, self.index, event))


# --- running -----------------------------------------------------------------------------

_run_ids = iter(range(1, 1 << 62))


class ChainRunner:
    def __init__(self, turns: TurnRunner) -> None:
        self.turns = turns
        self.publish = turns.bus.publish

    def load_subject(self, path: str | Path) -> tuple[Subject, Attachment]:
        """A file to work on, read through the project's sandbox."""
        attachment = self.turns.attach(path)
        return Subject(attachment.text, attachment.path, attachment.label_path), attachment

    async def run(
        self,
        spec: Spec,
        *,
        input_path: str | Path | None = None,
        context_files: list[str | Path] = (),
        continue_on_error: bool = False,
        provider: str | None = None,
        model: str | None = None,
        session: Session | None = None,
        session_ref: str | None = None,
    ) -> ChainResult:
        subject = attachment = None
        if input_path is not None:
            subject, attachment = self.load_subject(input_path)
        elif spec.needs_file():
            first = spec.needs_file()[0]
            raise ChainError(f"'{first.op}' works on a file: give one (--input PATH, --file PATH, or open it in the code pane)")
        extra = [self.turns.attach(p) for p in context_files]
        prov = self.turns.providers.get(provider)
        model = self.turns.pick_model(prov.name, prov.default_model, model, session)
        if session is None:
            name = f"{spec.workflow or spec.canonical()}" + (f" · {subject.label}" if subject else "")
            session = self.turns.resolve_session(session_ref, name, prov.name, model)
        run_id = next(_run_ids)
        ctx = _Run(self, run_id, session, prov.name, model, subject, attachment, extra)
        self.publish(ChainStarted(run_id, spec.canonical(), [(i, b.label) for i, stage in enumerate(spec.stages) for b in stage]))
        started_at = now()
        results: list[StepResult] = ctx.history
        previous: list[OperationResult] = []
        stopped = False
        status = "complete"
        try:
            index = 0
            for stage_no, stage in enumerate(spec.stages):
                if stopped:
                    for branch in stage:
                        results.append(StepResult(index, stage_no, branch.label, "not run", note="an earlier step failed"))
                        index += 1
                    continue
                tasks = [asyncio.ensure_future(ctx.branch(index + k, stage_no, b, list(previous)))
                         for k, b in enumerate(stage)]
                index += len(stage)
                try:
                    done = await asyncio.gather(*tasks)
                except BaseException:
                    # One branch failed outright (or the run was cancelled): its siblings stop
                    # too rather than run on, orphaned.
                    for t in tasks:
                        t.cancel()
                    raise
                results.extend(done)
                outputs = [s.result for s in done if s.result is not None and s.status not in ("skipped", "not run")]
                # A stage whose branches were all skipped passes the earlier results through.
                if outputs:
                    previous = outputs
                for s in done:
                    if s.result is not None and s.result.score is not None:
                        ctx.scores[s.result.score_name or LATEST_SCORE] = s.result.score
                        ctx.scores[LATEST_SCORE] = s.result.score
                if any(s.status in FAILED for s in done):
                    status = "error"
                    stopped = not continue_on_error
        except asyncio.CancelledError:
            status = "cancelled"
            ctx.settle_cancelled(spec)
            raise
        except BaseException:
            status = "error"  # whatever failed, the saved trace must not say "complete"
            raise
        finally:
            # One operation is its own turn's trace; a chain of them gets one of its own.
            trace = self._save_trace(spec, status, session, started_at, ctx, results) if len(spec.branches) > 1 else None
            chain = ChainResult(spec, status, session, results, dict(ctx.scores), trace)
            self.publish(ChainFinished(run_id, chain))
        return chain

    def _save_trace(self, spec: Spec, status: str, session: Session, started_at: str, ctx: _Run,
                    results: list[StepResult]) -> TraceRecord:
        stages = [
            StageRecord(f"{s.index + 1}.{(s.ran or s.label).split()[0]}", s.start_ms, s.duration_ms, s.summary(),
                        {"label": s.label, "ran": s.ran, "status": s.status, "stage": s.stage, "trace_id": s.trace_id})
            for s in results
        ]
        ran = [s for s in results if s.trace_id]
        tokens = sum(ctx.tokens.get(s.index, 0) for s in ran)
        trace = TraceRecord(status=status, started_at=started_at, session_id=session.id, provider="pipeline",
                            model=spec.workflow or spec.canonical(), total_ms=ctx.now_ms(), tokens=tokens or None,
                            error=next((s.note for s in results if s.status in FAILED and s.note), None), stages=stages)
        self.turns.store.traces.save(trace)
        return trace


class _Run:
    """The shared state of one run: its clock, its session, the scores so far."""

    def __init__(self, runner: ChainRunner, run_id: int, session: Session, provider: str, model: str,
                 subject: Subject | None, attachment: Attachment | None, extra: list[Attachment]) -> None:
        self.runner, self.run_id, self.session = runner, run_id, session
        self.provider, self.model = provider, model
        self.subject, self.attachment, self.extra = subject, attachment, extra
        self.scores: dict[str, float] = {}
        self.history: list[StepResult] = []  # the steps of the stages done, for format_markdown
        self.running: dict[int, StepResult] = {}  # the steps under way, by index
        self.tokens: dict[int, int] = {}
        self._t0 = time.perf_counter()
        self._diff: Subject | None = None

    def now_ms(self) -> float:
        return (time.perf_counter() - self._t0) * 1000

    def settle_cancelled(self, spec: Spec) -> None:
        """After a cancel, the history holds every step of the spec, so the run's trace shows
        where it stopped: the steps under way as cancelled (with the time they had run),
        the rest as not run."""
        done = {s.index for s in self.history}
        at = self.now_ms()
        index = 0
        for stage_no, stage in enumerate(spec.stages):
            for branch in stage:
                if index not in done:
                    self.history.append(self.running.get(index) or StepResult(
                        index, stage_no, branch.label, "not run", start_ms=at, note="the run was cancelled"))
                index += 1

    async def branch(self, index: int, stage: int, branch: Branch, previous: list[OperationResult]) -> StepResult:
        step: Step | None = branch.step
        note = ""
        if branch.condition is not None:
            cond = branch.condition
            score = self.scores.get(cond.name)
            if score is None:
                step, note = None, f"{cond.name} unknown (the step that gives it returned no score), so neither branch ran"
            elif cond.holds(score):
                note = f"{cond.name} {score:.2f} {cond.cmp} {cond.value:g}"
            else:
                step = branch.otherwise
                note = f"{cond.name} {score:.2f} is not {cond.cmp} {cond.value:g}" + ("; else branch" if step else "")
        if step is None:
            t = self.now_ms()
            result = StepResult(index, stage, branch.label, "skipped", start_ms=t, note=note)
            self.runner.publish(StepFinished(self.run_id, result))
            return result
        return await self.step(index, stage, branch.label, step, previous, note)

    async def step(self, index: int, stage: int, label: str, step: Step, previous: list[OperationResult],
                   why: str = "") -> StepResult:
        """Run one step; `why` (the condition's outcome) leads its note."""
        if step.op in transformers.TRANSFORMERS:
            return self.transform(index, stage, label, step, previous, why)
        op = OPERATIONS[step.op]
        params = op.with_defaults(step.args)
        out = StepResult(index, stage, label, "error", ran=step.label, start_ms=self.now_ms())
        self.running[index] = out
        self.runner.publish(StepStarted(self.run_id, index, step.label))
        try:
            attachments = list(self.extra)
            if op.name == "review":
                if self._diff is None:
                    project = self.runner.turns.project
                    self._diff = await asyncio.to_thread(working_tree_diff, project.root, project.is_denied, project.scrub)
                subject = self._diff
            else:
                subject = self.subject
                if self.attachment is not None:
                    attachments.insert(0, self.attachment)
            prompt = op.prompt(params, subject, previous)
            pipe = copy.copy(self.runner.turns)
            pipe.bus = _StepBus(self.runner.publish, self.run_id, index)
            turn = await pipe.run(prompt, session=self.session, attachments=attachments, provider=self.provider,
                                  model=self.model, system=op.system, standalone=True)
            out.trace_id = turn.trace.id
            self.tokens[index] = turn.trace.tokens or 0
            out.status = turn.status
            if turn.error is not None:
                out.note = turn.trace.error or turn.error.render()
            if turn.text or turn.status == "complete":
                out.result = op.parse(turn.text, params, subject)
        except (ReviewError, AttachmentError) as exc:
            out.note = str(exc)
        except asyncio.CancelledError:
            out.status = "cancelled"
            raise
        finally:
            if why:
                out.note = why + (f"; {out.note}" if out.note else "")
            out.duration_ms = self.now_ms() - out.start_ms
            self.runner.publish(StepFinished(self.run_id, out))
        return out

    def transform(self, index: int, stage: int, label: str, step: Step, previous: list[OperationResult],
                  why: str = "") -> StepResult:
        """A transformer's step: no model, no turn, one stage of its own."""
        out = StepResult(index, stage, label, "complete", ran=step.label, start_ms=self.now_ms(), note=why)
        self.runner.publish(StepStarted(self.run_id, index, step.label))
        bus = _StepBus(self.runner.publish, self.run_id, index)
        bus.publish(ev.StageStarted(transformers.STAGE, out.start_ms))
        tf = transformers.TRANSFORMERS[step.op]
        out.result = tf.run(tf.with_defaults(step.args), previous, list(self.history))
        out.duration_ms = self.now_ms() - out.start_ms
        bus.publish(ev.StageFinished(transformers.STAGE, out.start_ms, out.duration_ms, out.result.summary()))
        self.runner.publish(StepFinished(self.run_id, out))
        return out
