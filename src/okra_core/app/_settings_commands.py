"""The command side of the organisation's rules (the playbook) and of subscriptions."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Final

import attrs

from ..domain._checks import check_text, prefixed, raise_if
from ..domain._errors import (
    FieldError,
    NotFoundError,
    ValidationError,
)
from ..domain._events import (
    Event,
    SubscriptionAdded,
)
from ..domain._lint_settings import LintSettings
from ..domain._playbook import Playbook, Subscription, subscription_id
from ..domain._values import (
    ConfidenceScale,
    NotificationKind,
    NotificationRules,
    PaceBands,
    PlaybookSettings,
    ScoringPolicy,
)
from ._context import Collaborator
from ._inputs import enum_value, sequence

__all__ = ["SettingsCommands"]

_CHANNEL_NAME: Final = re.compile(r"^[a-z][a-z0-9-]{0,39}$")


class SettingsCommands(Collaborator):
    """Revises the playbook; subscribes and unsubscribes people."""

    def revise_playbook(self, /, *, reason: str, actor: str, **changes: Any) -> Playbook:
        """Change the organisation's rules; ``changes`` are fields of :class:`PlaybookSettings`.

        Example:
            ``okra.revise_playbook(check_in_cadence_days=14, reason="fortnightly",
            actor="ana")``
        """
        with self._ctx.command(actor) as stamp:
            raise_if(check_text("reason", reason))
            state = self._ctx.playbook()
            settings = _evolve_settings(state.settings, changes)
            self._ctx.authorize(actor, "revise_playbook", state)
            event = state.revise(stamp, settings=settings, reason=reason.strip())
            self._ctx.save(event)
            return self._ctx.playbook()

    def subscribe(
        self,
        *,
        channel: str,
        recipient: str,
        actor: str,
        kinds: Sequence[NotificationKind | str] | None = None,
        owners: Sequence[str] = (),
    ) -> Subscription:
        """Subscribe ``recipient`` on ``channel`` to notifications (or change what they get).

        Args:
            channel: the short name of a configured channel (``mail``, ``team-chat``);
                its URL and secrets are configured outside the log.
            recipient: the address on the channel (an email address, a room).
            actor: who subscribes them.
            kinds: the :class:`NotificationKind` values wanted (default: all).
            owners: only about what these owners are responsible for (default:
                everyone's).

        Example:
            ``okra.subscribe(channel="mail", recipient="ana@example.com",
            kinds=["check_in_due", "weekly_digest"], owners=["ana"], actor="ana")``
        """
        with self._ctx.command(actor) as stamp:
            errors = _check_channel(channel)
            errors += check_text("recipient", recipient, max_length=320)
            wanted = list(NotificationKind) if kinds is None else []
            for index, kind in enumerate(sequence(errors, "kinds", kinds or ())):
                wanted.append(enum_value(errors, f"kinds[{index}]", NotificationKind, kind))
            if kinds is not None and not errors and not wanted:
                errors.append(FieldError("kinds", "expected at least one kind"))
            names = sequence(errors, "owners", owners)
            for index, owner in enumerate(names):
                errors += check_text(f"owners[{index}]", owner, max_length=200)
            raise_if(errors)
            ordered = tuple(k for k in NotificationKind if k in wanted)
            who = tuple(sorted({owner.strip() for owner in names}))
            entity_id = subscription_id(channel, recipient)
            state = self._ctx.state.states.get(entity_id)
            self._ctx.authorize(actor, "subscribe", state)
            if isinstance(state, Subscription):
                event: Event = self._ctx.note(state).change(stamp, kinds=ordered, owners=who)
            else:
                event = SubscriptionAdded(
                    originator_id=entity_id,
                    originator_version=1,
                    recorded_at=stamp.at,
                    actor=stamp.actor,
                    channel=channel,
                    recipient=recipient.strip(),
                    kinds=ordered,
                    owners=who,
                )
            return self._ctx.save_one(Subscription, event)

    def unsubscribe(
        self, *, channel: str, recipient: str, actor: str, reason: str = ""
    ) -> Subscription:
        """End the subscription of ``recipient`` on ``channel``."""
        with self._ctx.command(actor) as stamp:
            errors = _check_channel(channel)
            errors += check_text("recipient", recipient, max_length=320)
            errors += check_text("reason", reason, required=False)
            raise_if(errors)
            state = self._ctx.state.states.get(subscription_id(channel, recipient))
            if not isinstance(state, Subscription):
                raise NotFoundError("subscription", f"{recipient.strip()} on {channel}")
            self._ctx.authorize(actor, "unsubscribe", state)
            return self._ctx.save_one(
                Subscription, self._ctx.note(state).remove(stamp, reason=reason.strip())
            )


# --- helpers ---------------------------------------------------------------------------


def _check_channel(channel: object) -> list[FieldError]:
    if not isinstance(channel, str) or not _CHANNEL_NAME.match(channel):
        return [
            FieldError(
                "channel",
                "expected a short channel name (lowercase letters, digits and '-', "
                f"starting with a letter), got {channel!r}",
            )
        ]
    return []


def _evolve_settings(settings: PlaybookSettings, changes: dict[str, Any]) -> PlaybookSettings:
    known = [field.name for field in attrs.fields(PlaybookSettings)]
    errors = [
        FieldError(name, f"not a playbook setting; expected one of {', '.join(known)}")
        for name in changes
        if name not in known
    ]
    if "confidence_scale" in changes:
        changes["confidence_scale"] = enum_value(
            errors, "confidence_scale", ConfidenceScale, changes["confidence_scale"]
        )
    for name, cls in (
        ("pace_bands", PaceBands),
        ("scoring", ScoringPolicy),
        ("notifications", NotificationRules),
        ("lint", LintSettings),
    ):
        if name in changes and not isinstance(changes[name], cls):
            errors.append(FieldError(name, f"expected a {cls.__name__}"))
    raise_if(errors)
    try:
        return attrs.evolve(settings, **changes)
    except ValidationError as exc:
        raise prefixed("settings", exc) from None
