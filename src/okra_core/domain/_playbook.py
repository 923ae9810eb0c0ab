"""The playbook (the organisation's rules) and subscriptions to notifications."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Self
from uuid import UUID, uuid5

import attrs

from ._entity import Entity, Stamp, cannot_apply, origin_fields
from ._errors import ValidationError
from ._events import (
    EntityKind,
    Event,
    PlaybookRevised,
    SubscriptionAdded,
    SubscriptionRemoved,
)
from ._values import (
    NotificationKind,
    PlaybookSettings,
)

__all__ = [
    "PLAYBOOK_ID",
    "Playbook",
    "Subscription",
    "subscription_id",
]


PLAYBOOK_ID = uuid5(UUID("6f6b7261-0000-4000-8000-000000000000"), "okra.playbook")
"""The id of the one playbook stream of an okra store."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@attrs.frozen(kw_only=True)
class Playbook(Entity):
    """The organisation's OKR rules; version 0 means the defaults, never revised."""

    entity_kind: EntityKind = attrs.field(init=False, default=EntityKind.PLAYBOOK)
    settings: PlaybookSettings = attrs.Factory(PlaybookSettings)

    @property
    def label(self) -> str:
        """Always ``playbook``."""
        return "playbook"

    @classmethod
    def default(cls) -> Playbook:
        """The playbook before anyone revised it (dated at the Unix epoch)."""
        return cls(
            id=PLAYBOOK_ID,
            version=0,
            created_at=_EPOCH,
            created_by="okra",
            updated_at=_EPOCH,
            updated_by="okra",
        )

    def revise(self, stamp: Stamp, *, settings: PlaybookSettings, reason: str) -> PlaybookRevised:
        """Replace the rules."""
        if settings == self.settings:
            raise ValidationError.single("settings", "expected a change from the current playbook")
        return self._next(PlaybookRevised, stamp, settings=settings, reason=reason)

    def apply(self, event: Event) -> Self:
        """The state after ``event``."""
        match event:
            case PlaybookRevised(settings=settings):
                if self.version == 0:
                    return attrs.evolve(self, settings=settings, **origin_fields(event))
                return self._touched(event, settings=settings)
        raise cannot_apply(self, event)


# --- subscriptions ----------------------------------------------------------------

_SUBSCRIPTIONS = uuid5(UUID("6f6b7261-0000-4000-8000-000000000000"), "okra.subscription")


def subscription_id(channel: str, recipient: str) -> UUID:
    """The id of the one subscription of ``recipient`` on ``channel``.

    Derived from both (the recipient case-insensitively), so subscribing again
    continues the same stream instead of starting a second subscription.
    """
    return uuid5(_SUBSCRIPTIONS, f"{channel.strip()}\n{recipient.strip().lower()}")


@attrs.frozen(kw_only=True)
class Subscription(Entity):
    """Who gets which notifications on which channel.

    Attributes:
        channel: the short name of the channel (its URL is configured outside
            the log).
        recipient: the address on the channel (an email address, a room).
        kinds: the notifications wanted.
        owners: only about what these owners are responsible for (empty:
            everyone's).
        active: False once removed (until subscribed again).
        since: when it was last added or changed. Notifications about events
            are sent for the events recorded after that (by log position).
    """

    entity_kind: EntityKind = attrs.field(init=False, default=EntityKind.SUBSCRIPTION)
    channel: str
    recipient: str
    kinds: tuple[NotificationKind, ...]
    owners: tuple[str, ...]
    active: bool = True
    since: datetime

    @property
    def label(self) -> str:
        """``recipient on channel``."""
        return f"{self.recipient} on {self.channel}"

    def wants(self, kind: NotificationKind, owners: tuple[str, ...] = ()) -> bool:
        """Whether it is active and wants ``kind`` about any of ``owners``.

        With no ``owners`` (something about no one in particular, such as a
        cycle closing) any subscription to ``kind`` wants it.
        """
        if not self.active or kind not in self.kinds:
            return False
        return not self.owners or not owners or any(o in self.owners for o in owners)

    def change(
        self, stamp: Stamp, *, kinds: tuple[NotificationKind, ...], owners: tuple[str, ...]
    ) -> SubscriptionAdded:
        """Subscribe again, with these kinds and owners."""
        if self.active and (kinds, owners) == (self.kinds, self.owners):
            raise ValidationError.single(
                "kinds", f"{self.label!r} is already subscribed to exactly these notifications"
            )
        return self._next(
            SubscriptionAdded,
            stamp,
            channel=self.channel,
            recipient=self.recipient,
            kinds=kinds,
            owners=owners,
        )

    def remove(self, stamp: Stamp, *, reason: str) -> SubscriptionRemoved:
        """End the subscription."""
        if not self.active:
            raise self._refuse("remove", "removed already")
        return self._next(SubscriptionRemoved, stamp, reason=reason)

    def apply(self, event: Event) -> Self:
        """The state after ``event``."""
        match event:
            case SubscriptionAdded(kinds=kinds, owners=owners):
                return self._touched(
                    event, kinds=kinds, owners=owners, active=True, since=event.recorded_at
                )
            case SubscriptionRemoved():
                return self._touched(event, active=False)
        raise cannot_apply(self, event)
