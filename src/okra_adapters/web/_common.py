"""What the pages and the API share: the app's state, instants, cycles and errors."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, Any

import attrs
import jinja2
from starlette.requests import Request

from okra_core import (
    AmbiguousReferenceError,
    ConcurrencyError,
    Cycle,
    CycleStatus,
    FieldError,
    InvalidTransitionError,
    NotFoundError,
    Okra,
    OkraError,
    PermissionDeniedError,
    ValidationError,
)

from ._security import Csrf
from ._tokens import TokenStore

if TYPE_CHECKING:
    from ._auth import Throttle
    from ._users import User, UserStore

__all__ = [
    "USER_KEY",
    "Reading",
    "WebState",
    "error_body",
    "error_status",
    "parse_instant",
    "pick_cycle",
    "reading",
    "request_actor",
    "signed_in",
    "web_state",
]


@attrs.frozen
class WebState:
    """The app's shared parts, kept in ``app.state.okra_web``.

    Attributes:
        okra: the open store (thread-safe; one per app).
        tokens: the API tokens of that store.
        actor: who the forms' changes are recorded as.
        csrf: the forms' CSRF tokens.
        templates: the Jinja2 environment (autoescaping on).
        users: the store's team, when ``okra serve`` has one to sign in.
        throttle: the failed sign-ins counted so far.
    """

    okra: Okra
    tokens: TokenStore
    actor: str
    csrf: Csrf
    templates: jinja2.Environment
    users: UserStore | None = None
    throttle: Throttle | None = None


def web_state(request: Request) -> WebState:
    """The :class:`WebState` of the app that answers ``request``."""
    state: WebState = request.app.state.okra_web
    return state


def request_actor(request: Request) -> str:
    """Who a page's form acts as: the one place the pages ask.

    The signed-in person when the store has users; else the actor ``okra serve``
    was started as.
    """
    user = signed_in(request)
    return user.name if user is not None else web_state(request).actor


USER_KEY = "okra.user"
"""Where the request's signed-in user is kept in the ASGI scope (see ``_auth.SignIn``)."""


def signed_in(request: Request) -> User | None:
    """The person signed in for ``request`` (None: nobody, or a store without users)."""
    user: User | None = request.scope.get(USER_KEY)
    return user


def parse_instant(field: str, raw: str, now: datetime) -> datetime | None:
    """A date (the end of that day; now, if today) or an ISO 8601 instant, or None if empty.

    Raises:
        ValidationError: with path ``field`` when it is neither.
    """
    raw = raw.strip()
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        pass
    else:
        if day == now.astimezone(UTC).date():
            return now
        return datetime.combine(day, time.max, tzinfo=UTC)
    try:
        at = datetime.fromisoformat(raw)
    except ValueError:
        raise ValidationError.single(
            field, f"expected a date (YYYY-MM-DD) or an ISO 8601 instant, got {raw!r}"
        ) from None
    try:
        return (at if at.tzinfo is not None else at.replace(tzinfo=UTC)).astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:59-05:00 is in the year 10000 in UTC
        raise ValidationError.single(
            field, f"expected an instant within the years 1 to 9999 in UTC, got {raw!r}"
        ) from None


@attrs.frozen
class Reading:
    """The instant a request asks about: ``?as_of=`` and ``?as_known_at=``."""

    as_of: datetime | None
    as_known_at: datetime | None
    raw_as_of: str
    raw_as_known_at: str

    @property
    def kwargs(self) -> dict[str, datetime | None]:
        """The keyword arguments of okra's queries."""
        return {"as_of": self.as_of, "as_known_at": self.as_known_at}

    @property
    def past(self) -> bool:
        """Whether the request asks about the past at all."""
        return self.as_of is not None or self.as_known_at is not None


def reading(request: Request, okra: Okra) -> Reading:
    """The request's :class:`Reading`.

    Raises:
        ValidationError: naming ``as_of`` or ``as_known_at`` when one is not an instant.
    """
    now = okra.clock.now()
    raw_of = request.query_params.get("as_of", "").strip()
    raw_known = request.query_params.get("as_known_at", "").strip()
    errors: list[FieldError] = []
    found: dict[str, datetime | None] = {}
    for field, raw in (("as_of", raw_of), ("as_known_at", raw_known)):
        try:
            found[field] = parse_instant(field, raw, now)
        except ValidationError as exc:
            errors.extend(exc.errors)
    if errors:
        raise ValidationError(errors)
    return Reading(found["as_of"], found["as_known_at"], raw_of, raw_known)


def pick_cycle(okra: Okra, ref: str | None) -> Cycle | None:
    """The cycle named, else the only active one, else the latest active or closed, else None."""
    if ref:
        return okra.cycle(ref)
    cycles = okra.cycles()
    if not cycles:
        return None
    active = [c for c in cycles if c.status is CycleStatus.ACTIVE]
    closed = [c for c in cycles if c.status is CycleStatus.CLOSED]
    pool = active or closed or cycles
    return max(pool, key=lambda c: (c.starts_at, c.ends_at))


def error_status(exc: OkraError) -> int:
    """The HTTP status for one of okra's errors."""
    if isinstance(exc, AmbiguousReferenceError):
        return 409
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, ValidationError):
        return 422
    if isinstance(exc, InvalidTransitionError | ConcurrencyError):
        return 409
    if isinstance(exc, PermissionDeniedError):
        return 403
    return 500


def error_body(exc: OkraError) -> dict[str, Any]:
    """The JSON body of an error: ``{"error": ..., "fields": [{"path", "message"}]}``."""
    if isinstance(exc, ValidationError):
        return {
            "error": exc.summary,
            "fields": [{"path": e.path, "message": e.message} for e in exc.errors],
        }
    body: dict[str, Any] = {"error": str(exc), "fields": []}
    if isinstance(exc, AmbiguousReferenceError):
        body["candidates"] = [{"id": str(i), "label": label} for i, label in exc.candidates]
    return body
