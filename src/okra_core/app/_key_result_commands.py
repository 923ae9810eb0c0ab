"""The command side of key results: define, move the goalposts, check in, correct, retract."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final, cast
from uuid import uuid4

import attrs

from ..domain._checks import check_number, check_text, prefixed, raise_if
from ..domain._clock import as_utc
from ..domain._entity import Stamp
from ..domain._errors import (
    FieldError,
    InvalidTransitionError,
    ValidationError,
)
from ..domain._events import (
    KeyResultDefined,
)
from ..domain._key_result import CheckIn, KeyResult
from ..domain._metrics import Change, Metric, check_value
from ..domain._objective import Objective
from ..domain._values import (
    CheckInSource,
    Confidence,
    ObjectiveStatus,
)
from ..plugins._sources import check_source_url
from ._context import Collaborator
from ._inputs import check_weight, collect, enum_value
from ._refs import Ref

__all__ = ["KeyResultCommands"]

_METRIC_EXPECTED: Final = "expected a metric: Change, StayAbove, StayBelow, Range or Milestone"

_UNCHANGED: Any = object()


class KeyResultCommands(Collaborator):
    """Adds key results, changes their metric and records their check-ins."""

    def add_key_result(
        self,
        objective: Ref,
        title: str,
        *,
        metric: Metric,
        actor: str,
        unit: str = "",
        weight: float = 1.0,
        owner: str | None = None,
    ) -> KeyResult:
        """Add a key result that measures an objective; the owner defaults to the objective's."""
        with self._ctx.command(actor) as stamp:
            errors = check_text("title", title) + check_text("unit", unit, required=False)
            errors += check_weight("weight", weight)
            if owner is not None:
                errors += check_text("owner", owner)
            if not isinstance(cast(object, metric), Metric):
                errors.append(FieldError("metric", _METRIC_EXPECTED))
            parent = self._refs.find(Objective, objective, "objective")
            raise_if(errors)
            parent.require_open("add a key result to")
            self._ctx.require_cycle_open(self._refs.cycle_of(parent), "add a key result in")
            self._ctx.authorize(actor, "add_key_result", parent)
            event = KeyResultDefined(
                originator_id=uuid4(),
                originator_version=1,
                recorded_at=stamp.at,
                actor=stamp.actor,
                objective_id=parent.id,
                title=title.strip(),
                metric=metric,
                unit=unit.strip(),
                weight=float(weight),
                owner=owner.strip() if owner is not None else parent.owner,
            )
            return self._ctx.save_one(KeyResult, event)

    def measure_baseline(self, key_result: Ref, *, baseline: float, actor: str) -> KeyResult:
        """Set the baseline of a key result created with ``Change(baseline=None, ...)``."""
        with self._ctx.command(actor) as stamp:
            raise_if(check_number("baseline", baseline))
            state = self._changeable(key_result, actor, "measure_baseline")
            self._check_metric_with(state, baseline=baseline)
            return self._ctx.save_one(
                KeyResult, state.measure_baseline(stamp, baseline=float(baseline))
            )

    def rebaseline(self, key_result: Ref, *, baseline: float, reason: str, actor: str) -> KeyResult:
        """Replace a measured baseline, saying why (a moving goalpost)."""
        with self._ctx.command(actor) as stamp:
            raise_if(check_number("baseline", baseline) + check_text("reason", reason))
            state = self._changeable(key_result, actor, "rebaseline")
            self._check_metric_with(state, baseline=baseline)
            event = state.rebaseline(stamp, baseline=float(baseline), reason=reason.strip())
            return self._ctx.save_one(KeyResult, event)

    def retarget(
        self,
        key_result: Ref,
        *,
        reason: str,
        actor: str,
        target: float | None = None,
        metric: Metric | None = None,
    ) -> KeyResult:
        """Move a key result's goalposts, saying why.

        Give ``target`` to move only the target of a ``Change`` metric, or a whole
        new ``metric`` of the same kind (a new threshold, range or levels). The
        original metric stays on record: scores can be read against either.
        """
        with self._ctx.command(actor) as stamp:
            errors = check_text("reason", reason)
            if (target is None) == (metric is None):
                errors.append(
                    FieldError("target", "expected either target or metric (one of them)")
                )
            elif target is not None:
                errors += check_number("target", target)
            elif not isinstance(cast(object, metric), Metric):
                errors.append(FieldError("metric", _METRIC_EXPECTED))
            raise_if(errors)
            state = self._changeable(key_result, actor, "retarget")
            if target is not None:
                if not isinstance(state.metric, Change):
                    raise ValidationError.single(
                        "target",
                        f"a {state.metric.kind} key result has no single target; "
                        "pass metric= instead",
                    )
                new_metric: Metric = self._check_metric_with(state, target=target)
            else:
                assert metric is not None
                new_metric = metric
            event = state.retarget(stamp, metric=new_metric, reason=reason.strip())
            return self._ctx.save_one(KeyResult, event)

    def reweight(
        self, key_result: Ref, *, weight: float, actor: str, reason: str = ""
    ) -> KeyResult:
        """Change a key result's weight in its objective's rollup."""
        with self._ctx.command(actor) as stamp:
            raise_if(check_weight("weight", weight) + check_text("reason", reason, required=False))
            state = self._changeable(key_result, actor, "reweight")
            event = state.reweight(stamp, weight=float(weight), reason=reason.strip())
            return self._ctx.save_one(KeyResult, event)

    def bind_key_result(self, key_result: Ref, *, source: str, actor: str) -> KeyResult:
        """Bind a key result to a metric source: ``okra sync`` checks in what it reads.

        ``source`` is a URL whose scheme names an installed :class:`MetricSource`
        (``sql+sqlite:///...``, ``json+http://...``, ``csv:///...``). It is kept
        in the log, so it may not hold a password or a token: name a secret with
        ``secret=NAME`` and set ``OKRA_SOURCE_SECRET_<NAME>`` where sync runs.
        Binding again replaces the source.

        Raises:
            ValidationError: (path ``source``) an unknown scheme, a secret in the
                URL, a URL the source refuses, or the source it is bound to already.
        """
        with self._ctx.command(actor) as stamp:
            url = check_source_url(source, self._ctx.plugins.metric_sources())
            state = self._changeable(key_result, actor, "bind_key_result")
            return self._ctx.save_one(KeyResult, state.bind(stamp, source=url))

    def unbind_key_result(self, key_result: Ref, *, actor: str) -> KeyResult:
        """Stop reading a key result from its metric source."""
        with self._ctx.command(actor) as stamp:
            state = self._changeable(key_result, actor, "unbind_key_result")
            return self._ctx.save_one(KeyResult, state.unbind(stamp))

    def check_in(
        self,
        key_result: Ref,
        *,
        value: float,
        actor: str,
        confidence: Confidence | float | str | None = None,
        narrative: str = "",
        effective_at: datetime | None = None,
        source: CheckInSource | str = CheckInSource.MANUAL,
    ) -> CheckIn:
        """Record one observation of a key result.

        Args:
            key_result: the key result observed.
            value: the observed value, in the key result's unit (0 or 1 for a milestone).
            actor: who checks in.
            confidence: a :class:`Confidence`, or a value on the playbook's scale
                (``7`` on 0-10, ``"amber"`` on red/amber/green).
            narrative: what happened, in words.
            effective_at: when the value was true (default now); may be in the
                past (a backdated check-in), never in the future.
            source: ``manual``, ``import``, ``api`` or ``connector``.

        Raises:
            ValidationError: bad value, confidence off its scale, a future or naive
                ``effective_at``, unknown source.
            InvalidTransitionError: the objective is not active or its cycle is closed.
        """
        with self._ctx.command(actor) as stamp:
            state = self._refs.find(KeyResult, key_result, "key_result")
            errors, fields = self._check_in_fields(
                state,
                stamp,
                value=value,
                confidence=confidence,
                narrative=narrative,
                effective_at=effective_at,
            )
            origin = enum_value(errors, "source", CheckInSource, source)
            raise_if(errors)
            self._require_check_ins(state, "check in on")
            self._ctx.authorize(actor, "check_in", state)
            event = state.record(stamp, check_in_id=uuid4(), source=origin, **fields)
            self._ctx.save(event)
            return self._refs.find_check_in(event.check_in_id)

    def correct_check_in(
        self,
        check_in: Ref,
        *,
        reason: str,
        actor: str,
        value: float = _UNCHANGED,
        confidence: Confidence | float | str | None = _UNCHANGED,
        narrative: str = _UNCHANGED,
        effective_at: datetime = _UNCHANGED,
    ) -> CheckIn:
        """Correct a check-in: a new event replaces the fields given, with the reason.

        The original stays in the log, so reports made before the correction can be
        reproduced.
        """
        with self._ctx.command(actor) as stamp:
            old = self._refs.find_check_in(check_in)
            state = self._refs.get(KeyResult, old.key_result_id)
            errors, fields = self._check_in_fields(
                state,
                stamp,
                value=old.value if value is _UNCHANGED else value,
                confidence=old.confidence if confidence is _UNCHANGED else confidence,
                narrative=old.narrative if narrative is _UNCHANGED else narrative,
                effective_at=old.effective_at if effective_at is _UNCHANGED else effective_at,
            )
            errors += check_text("reason", reason)
            if cast(object, effective_at) is None:
                errors.append(FieldError("effective_at", "expected a datetime (omit it to keep)"))
            raise_if(errors)
            unchanged = (old.value, old.confidence, old.narrative, old.effective_at)
            if (
                tuple(fields[k] for k in ("value", "confidence", "narrative", "effective_at"))
                == unchanged
            ):
                raise ValidationError.single("value", "expected a change to the check-in")
            self._require_check_ins(state, "correct a check-in of")
            self._ctx.authorize(actor, "correct_check_in", state)
            event = state.correct(stamp, check_in_id=old.id, reason=reason.strip(), **fields)
            self._ctx.save(event)
            return self._refs.find_check_in(old.id)

    def retract_check_in(self, check_in: Ref, *, reason: str, actor: str) -> KeyResult:
        """Withdraw a check-in, with the reason; it stays in the log but no longer counts."""
        with self._ctx.command(actor) as stamp:
            raise_if(check_text("reason", reason))
            old = self._refs.find_check_in(check_in)
            state = self._refs.get(KeyResult, old.key_result_id)
            self._require_check_ins(state, "retract a check-in of")
            self._ctx.authorize(actor, "retract_check_in", state)
            event = state.retract(stamp, check_in_id=old.id, reason=reason.strip())
            return self._ctx.save_one(KeyResult, event)

    def _changeable(self, ref: Ref, actor: str, command: str) -> KeyResult:
        state = self._ctx.target(KeyResult, ref, actor, command)
        objective = self._refs.objective_of(state)
        objective.require_open(command.replace("_", " "))
        self._ctx.require_cycle_open(
            self._refs.cycle_of(objective), command.replace("_", " "), state
        )
        return state

    def _check_metric_with(self, state: KeyResult, **changes: float) -> Change:
        metric = state.metric
        if not isinstance(metric, Change):
            raise InvalidTransitionError(
                f"key result {state.title!r} is a {metric.kind} key result; only change "
                "metrics have a baseline and a target"
            )
        try:
            return attrs.evolve(metric, **changes)
        except ValidationError as exc:
            raise prefixed("metric", exc) from None

    def _check_in_fields(
        self,
        state: KeyResult,
        stamp: Stamp,
        *,
        value: object,
        confidence: object,
        narrative: object,
        effective_at: object,
    ) -> tuple[list[FieldError], dict[str, Any]]:
        """Validate the fields of a check-in; return the errors and the clean fields."""
        value_errors = check_value(state.metric, value)
        errors = value_errors + check_text("narrative", narrative, required=False)
        stated = collect(errors, lambda: self._confidence(confidence))
        when = (
            stamp.at
            if effective_at is None
            else collect(errors, lambda: as_utc("effective_at", effective_at))
        )
        if when is not None and when > stamp.at:
            errors.append(
                FieldError(
                    "effective_at",
                    f"expected a time no later than now ({stamp.at:%Y-%m-%d %H:%M} UTC)",
                )
            )
        return errors, {
            "value": None if value_errors else float(cast(float, value)),
            "confidence": stated,
            "narrative": narrative.strip() if isinstance(narrative, str) else "",
            "effective_at": when,
        }

    def _confidence(self, given: object) -> Confidence | None:
        if given is None or isinstance(given, Confidence):
            return given
        if isinstance(given, int | float | str) and not isinstance(given, bool):
            return Confidence.on(self._ctx.playbook().settings.confidence_scale, given)
        raise ValidationError.single(
            "confidence",
            f"expected a Confidence or a value on the playbook's scale, got {type(given).__name__}",
        )

    def _require_check_ins(self, state: KeyResult, doing: str) -> None:
        objective = self._refs.objective_of(state)
        if objective.status is not ObjectiveStatus.ACTIVE:
            hint = "activate it first" if objective.status is ObjectiveStatus.DRAFT else ""
            message = (
                f"cannot {doing} {state.title!r}: its objective {objective.title!r} is "
                f"{objective.status.value}"
            )
            raise InvalidTransitionError(f"{message}; {hint}" if hint else message)
        self._ctx.require_cycle_open(self._refs.cycle_of(objective), doing, state)
