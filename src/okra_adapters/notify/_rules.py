"""The notification rules: which notifications the log and the clock call for.

Two sources:

- **events**, read once each in log order: an action resolved, a target changed,
  a check-in that made a key result's pace status worse or its confidence drop
  by more than the playbook's threshold, a cycle closed (its scorecard);
- **the clock**, asked at every run: check-ins due, cycles closing soon, the
  weekly digest. Their keys name the period (the due date, the cycle, the ISO
  week), so asking again in the same period derives the same keys, which the
  outbox already holds: each is sent once.

Every rule first makes one :class:`Draft` (what happened, about whom), then
:func:`fan_out` addresses a copy to each subscription that wants it.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import attrs

from okra_core import (
    PLAYBOOK_ID,
    ActionResolved,
    CheckInCorrected,
    CheckInRecorded,
    CheckInRetracted,
    CycleClosed,
    CycleStatus,
    Event,
    KeyResultDefined,
    KeyResultProgress,
    KeyResultRetargeted,
    NotFoundError,
    Notification,
    NotificationKind,
    Objective,
    ObjectiveStatus,
    Okra,
    PaceStatus,
    Playbook,
    Subscription,
    World,
    to_data,
)

__all__ = ["Draft", "derive_due", "derive_from_event", "fan_out", "render"]

_JUST_BEFORE = timedelta(microseconds=1)
_STRENGTH = {PaceStatus.OFF_TRACK: 0, PaceStatus.AT_RISK: 1, PaceStatus.ON_TRACK: 2}
_CHECK_INS = (CheckInRecorded, CheckInCorrected, CheckInRetracted)


@attrs.frozen(kw_only=True)
class Draft:
    """A notification before it is addressed: what happened and about whom.

    Attributes:
        kind: what it is about.
        key: the idempotency key of the happening (a recipient part is added).
        owners: whom it concerns (empty: no one in particular).
        subject, text, html: the message.
        data: the facts behind it, JSON-ready.
    """

    kind: NotificationKind
    key: str
    owners: tuple[str, ...]
    subject: str
    text: str
    html: str
    data: dict[str, Any]


def render(title: str, lines: Iterable[str]) -> tuple[str, str]:
    """Plain text and HTML for a title and its lines; HTML escapes every character of both."""
    items = list(lines)
    text = "\n".join([title, "", *items]) if items else title
    body = "".join(f"<li>{html.escape(line)}</li>" for line in items)
    markup = f"<h2>{html.escape(title)}</h2>" + (f"<ul>{body}</ul>" if body else "")
    return text, markup


def _draft(
    kind: NotificationKind,
    key: str,
    owners: Iterable[str],
    subject: str,
    lines: Iterable[str],
    data: dict[str, Any],
) -> Draft:
    text, markup = render(subject, lines)
    return Draft(
        kind=kind,
        key=key,
        owners=tuple(dict.fromkeys(owners)),
        subject=subject,
        text=text,
        html=markup,
        data=data,
    )


def fan_out(
    drafts: Iterable[Draft], subscriptions: Sequence[Subscription], now: datetime
) -> list[Notification]:
    """One notification per draft and subscription that wants it."""
    notifications = []
    for draft in drafts:
        for sub in subscriptions:
            if not sub.wants(draft.kind, draft.owners):
                continue
            notifications.append(
                Notification(
                    key=f"okra:{draft.key}:{sub.id.hex}",
                    kind=draft.kind,
                    channel=sub.channel,
                    recipient=sub.recipient,
                    subject=draft.subject,
                    text=draft.text,
                    html=draft.html,
                    data={"kind": draft.kind.value, **draft.data},
                    created_at=now,
                )
            )
    return notifications


def _wanted(subscriptions: Sequence[Subscription], *kinds: NotificationKind) -> bool:
    return any(s.active and k in s.kinds for s in subscriptions for k in kinds)


def _percent(value: float | None) -> str:
    return "no data" if value is None else f"{value:.0%}"


# --- rules over events ------------------------------------------------------------------------


def derive_from_event(
    okra: Okra, position: int, event: Event, subscriptions: Sequence[Subscription]
) -> list[Draft]:
    """The drafts that the event at ``position`` calls for."""
    if isinstance(event, ActionResolved):
        if not _wanted(subscriptions, NotificationKind.ACTION_RESOLVED):
            return []
        return [_action_resolved(okra, position, event)]
    if isinstance(event, KeyResultRetargeted):
        if not _wanted(subscriptions, NotificationKind.TARGET_CHANGED):
            return []
        return [_target_changed(okra, position, event)]
    if isinstance(event, _CHECK_INS):
        kinds = (NotificationKind.PACE_WORSENED, NotificationKind.CONFIDENCE_DROPPED)
        if not _wanted(subscriptions, *kinds):
            return []
        return _slipped(okra, position, event)
    if isinstance(event, CycleClosed):
        if not _wanted(subscriptions, NotificationKind.SCORECARD):
            return []
        return [_scorecard(okra, position, event)]
    return []


def _action_resolved(okra: Okra, position: int, event: ActionResolved) -> Draft:
    action = okra.state(event.originator_id, as_known_at=event.recorded_at)
    world = okra.world(as_known_at=event.recorded_at)
    key_results = [world.key_result(i) for i in getattr(action, "key_result_ids", ())]
    title = action.label
    owner = str(getattr(action, "owner", ""))
    lines = [f"Outcome: {event.outcome.value}", f"Learning: {event.learning or '(none given)'}"]
    lines += [f"Evidence: {item}" for item in event.evidence]
    lines += [f"For key result: {kr.title} ({kr.owner})" for kr in key_results]
    return _draft(
        NotificationKind.ACTION_RESOLVED,
        f"action-resolved:{position}",
        [owner, *(kr.owner for kr in key_results)],
        f"Bet {title!r} resolved: {event.outcome.value}",
        lines,
        {
            "action_id": str(event.originator_id),
            "title": title,
            "owner": owner,
            "outcome": event.outcome.value,
            "learning": event.learning,
            "evidence": list(event.evidence),
            "position": position,
        },
    )


def _target_changed(okra: Okra, position: int, event: KeyResultRetargeted) -> Draft:
    # The metric before: from the key result's own stream, by version (not by
    # time: a retarget may share its instant with the definition).
    unit, metric = "", event.metric
    for earlier in okra.history(event.originator_id):
        if earlier.originator_version >= event.originator_version:
            break
        if isinstance(earlier, KeyResultDefined):
            unit, metric = earlier.unit, earlier.metric
        elif isinstance(earlier, KeyResultRetargeted):
            metric = earlier.metric
    kr = okra.key_result(event.originator_id)
    before, after = metric.describe(unit), event.metric.describe(unit)
    return _draft(
        NotificationKind.TARGET_CHANGED,
        f"target-changed:{position}",
        [kr.owner],
        f"Target of {kr.title!r} changed",
        [
            f"Was: {before}",
            f"Now: {after}",
            f"Reason: {event.reason}",
            f"Changed by: {event.actor}",
        ],
        {
            "key_result_id": str(kr.id),
            "title": kr.title,
            "owner": kr.owner,
            "before": before,
            "after": after,
            "reason": event.reason,
            "actor": event.actor,
            "position": position,
        },
    )


def _slipped(okra: Okra, position: int, event: Event) -> list[Draft]:
    """After a check-in: pace status worse than at the previous check-in, or confidence down.

    The pace status is compared with what it was when the key result's previous
    check-in was recorded, so a slide over weeks without a word is caught at the
    next check-in (the check-in due reminder covers the silence in between). The
    confidence is compared with the latest stated just before this event.
    """
    at = event.recorded_at
    try:
        known = okra.state(event.originator_id, as_known_at=at - _JUST_BEFORE)
        before = okra.key_result_progress(event.originator_id, as_known_at=at - _JUST_BEFORE)
    except NotFoundError:  # defined in the same instant: there is no "before"
        return []
    after = okra.key_result_progress(event.originator_id, as_known_at=at)
    drafts = []
    previous = max((c.recorded_at for c in getattr(known, "check_ins", ())), default=None)
    if previous is not None:
        old = okra.key_result_progress(event.originator_id, as_known_at=previous).pace_status
        new = after.pace_status
        if old in _STRENGTH and new in _STRENGTH and _STRENGTH[new] < _STRENGTH[old]:
            drafts.append(
                _draft(
                    NotificationKind.PACE_WORSENED,
                    f"pace-worsened:{position}",
                    [after.owner],
                    f"{after.title!r} is now {new.value.replace('_', ' ')}",
                    [
                        f"Pace status: {old.value} -> {new.value} since the check-in of "
                        f"{previous:%Y-%m-%d}",
                        f"Attainment {_percent(after.clamped)} against an expected "
                        f"{_percent(after.expected_pace)}",
                        f"Checked in by {event.actor}",
                    ],
                    _progress_data(after, position, before=old.value, after=new.value),
                )
            )
    playbook = okra.state(PLAYBOOK_ID, as_known_at=at)
    assert isinstance(playbook, Playbook)
    rules = playbook.settings.notifications
    if before.confidence is not None and after.confidence is not None:
        drop = before.confidence.probability - after.confidence.probability
        if drop > rules.confidence_drop + 1e-9:
            drafts.append(
                _draft(
                    NotificationKind.CONFIDENCE_DROPPED,
                    f"confidence-dropped:{position}",
                    [after.owner],
                    f"Confidence in {after.title!r} fell to {after.confidence}",
                    [
                        f"Confidence: {before.confidence} -> {after.confidence} "
                        f"(down {drop:.0%}; the playbook warns above {rules.confidence_drop:.0%})",
                        f"Checked in by {event.actor}",
                    ],
                    _progress_data(
                        after,
                        position,
                        before=before.confidence.probability,
                        after=after.confidence.probability,
                    ),
                )
            )
    return drafts


def _progress_data(
    progress: KeyResultProgress, position: int, *, before: object, after: object
) -> dict[str, Any]:
    return {
        "key_result_id": str(progress.key_result_id),
        "title": progress.title,
        "owner": progress.owner,
        "before": before,
        "after": after,
        "attainment": progress.clamped,
        "expected_pace": progress.expected_pace,
        "position": position,
    }


def _scorecard(okra: Okra, position: int, event: CycleClosed) -> Draft:
    card = okra.scorecard(event.originator_id, as_known_at=event.recorded_at)
    score = "not scored" if card.score is None else f"{card.score:.1f}"
    lines = [
        f"{o.title} ({o.owner}, {o.kind.value}): {o.score:.1f} {o.band.value}, {o.reading.value}"
        for o in card.objectives
    ]
    lines.append(f"Committed met: {card.committed_met} of {card.committed_total}")
    return _draft(
        NotificationKind.SCORECARD,
        f"scorecard:{event.originator_id.hex}",
        [o.owner for o in card.objectives],
        f"{card.cycle_name} closed: scored {score}",
        lines,
        {"cycle_id": str(card.cycle_id), "scorecard": to_data(card), "position": position},
    )


# --- rules over the clock -----------------------------------------------------------------------


def derive_due(
    okra: Okra, now: datetime, subscriptions: Sequence[Subscription]
) -> list[Notification]:
    """The reminders due at ``now``: check-ins due, cycles closing soon, weekly digests."""
    world = okra.world()
    drafts: list[Draft] = []
    if _wanted(subscriptions, NotificationKind.CHECK_IN_DUE):
        drafts += _check_ins_due(world, now)
    if _wanted(subscriptions, NotificationKind.CYCLE_CLOSING):
        drafts += _cycles_closing(okra, world, now)
    notifications = fan_out(drafts, subscriptions, now)
    for sub in subscriptions:
        if sub.active and NotificationKind.WEEKLY_DIGEST in sub.kinds:
            digest = _weekly_digest(okra, world, sub, now)
            if digest is not None:
                notifications += fan_out([digest], [sub], now)
    return notifications


def _check_ins_due(world: World, now: datetime) -> list[Draft]:
    cadence = timedelta(days=world.playbook.settings.check_in_cadence_days)
    drafts = []
    for cycle in world.cycles():
        if cycle.status is not CycleStatus.ACTIVE or now >= cycle.ends_at:
            continue
        for objective in world.objectives(cycle_id=cycle.id):
            if objective.status is not ObjectiveStatus.ACTIVE:
                continue
            for kr in world.key_results(objective.id):
                last = max((c.recorded_at for c in kr.check_ins), default=None)
                due_at = (last or max(kr.created_at, cycle.starts_at)) + cadence
                if now < due_at:
                    continue  # checked in recently enough
                # One reminder per cadence period that passes without a check-in.
                periods = math.floor((now - due_at) / cadence)
                period = due_at + periods * cadence
                lines = [
                    f"Objective: {objective.title}",
                    f"Last check-in: {last:%Y-%m-%d}" if last else "No check-in yet",
                    f"The playbook asks for one every {cadence.days} days.",
                ]
                drafts.append(
                    _draft(
                        NotificationKind.CHECK_IN_DUE,
                        f"check-in-due:{kr.id.hex}:{period:%Y-%m-%dT%H:%M}",
                        [kr.owner],
                        f"Check-in due: {kr.title}",
                        lines,
                        {
                            "key_result_id": str(kr.id),
                            "title": kr.title,
                            "owner": kr.owner,
                            "last_check_in_at": last.isoformat() if last else None,
                            "due_at": period.isoformat(),
                        },
                    )
                )
    return drafts


def _cycles_closing(okra: Okra, world: World, now: datetime) -> list[Draft]:
    days = world.playbook.settings.notifications.closing_days
    drafts = []
    for cycle in world.cycles():
        if cycle.status is not CycleStatus.ACTIVE:
            continue
        if not now < cycle.ends_at <= now + timedelta(days=days):
            continue
        progress = okra.cycle_progress(cycle.id)
        left = cycle.ends_at - now
        lines = [
            f"{o.title} ({o.owner}): {_percent(o.progress)}, {o.pace_status.value}"
            for o in progress.objectives
        ]
        drafts.append(
            _draft(
                NotificationKind.CYCLE_CLOSING,
                f"cycle-closing:{cycle.id.hex}",
                [o.owner for o in progress.objectives],
                f"{cycle.name} closes in {_days(left)} ({cycle.ends_at:%Y-%m-%d %H:%M} UTC)",
                lines,
                {
                    "cycle_id": str(cycle.id),
                    "name": cycle.name,
                    "ends_at": cycle.ends_at.isoformat(),
                    "progress": progress.progress,
                },
            )
        )
    return drafts


def _days(delta: timedelta) -> str:
    days = delta.total_seconds() / 86400
    whole = math.ceil(days)
    return "1 day" if whole == 1 else f"{whole} days"


def _weekly_digest(okra: Okra, world: World, sub: Subscription, now: datetime) -> Draft | None:
    weekday = world.playbook.settings.notifications.digest_weekday
    if now.weekday() < weekday:
        return None  # this week's digest is not due yet
    year, week, _ = now.isocalendar()
    owners = sub.owners

    def concerns(*names: str | None) -> bool:
        # A team that owns objectives sees the items of the people who own their
        # key results, as the focus list has it.
        return not owners or any(name in owners for name in names)

    def objective_owner(objective_id: UUID | None) -> str | None:
        objective = world.get(objective_id) if objective_id is not None else None
        return objective.owner if isinstance(objective, Objective) else None

    items = [i for i in okra.focus().items if concerns(i.owner, objective_owner(i.objective_id))]
    lines = [f"Focus {n}. {i.title} ({i.owner}): {i.reason}" for n, i in enumerate(items, 1)]
    if not items:
        lines.append("Nothing needs attention this week.")
    week_ago = now - timedelta(days=7)
    moved = []
    for kr in world.key_results():
        objective = world.objective_of(kr)
        if not concerns(kr.owner, objective.owner):
            continue
        if objective.status is not ObjectiveStatus.ACTIVE:
            continue
        if world.cycle_of(objective).status is not CycleStatus.ACTIVE:
            continue
        now_p = okra.key_result_progress(kr.id)
        try:
            then = okra.key_result_progress(kr.id, as_of=week_ago).clamped
        except NotFoundError:
            then = None
        lines.append(
            f"Progress {kr.title} ({kr.owner}): {_percent(then)} -> {_percent(now_p.clamped)}"
        )
        moved.append(
            {
                "key_result_id": str(kr.id),
                "title": kr.title,
                "owner": kr.owner,
                "week_ago": then,
                "now": now_p.clamped,
            }
        )
    who = ", ".join(owners) if owners else "everyone"
    return _draft(
        NotificationKind.WEEKLY_DIGEST,
        f"weekly-digest:{year}-W{week:02d}",
        owners,
        f"Weekly digest for {who}, week {week} of {year}",
        lines,
        {
            "week": f"{year}-W{week:02d}",
            "owners": list(owners),
            "focus": [to_data(i) for i in items],
            "progress": moved,
        },
    )
