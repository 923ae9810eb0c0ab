"""``Okra``: the one entry point to an okra store, a facade over its collaborators.

Every command validates all its input first, checks the lifecycle rules, and then
records its events in one atomic write, or raises and writes nothing. Queries read
the current state of entities, kept up to date from the store's log, so a query
right after a command sees it, and one instance sees what other processes wrote.

``Okra`` itself only opens the store and wires the parts: the log
(:class:`~okra_core.store._log.Log`), the live state
(:class:`~okra_core.app._state.LiveState`), the shared
:class:`~okra_core.app._context.Context`, one command collaborator per kind of
entity and three on the query side. Each public method is the collaborator's
own, with its signature and documentation (see :func:`_to`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Concatenate, ParamSpec, TypeVar, cast

from ..codec._codec import EventCodec
from ..domain._clock import Clock, SystemClock
from ..domain._errors import ValidationError
from ..domain._events import EventRegistry
from ..domain._playbook import Playbook
from ..plugins._manager import Plugins, load_plugins
from ..store._log import Log
from ..store._signing import signer_from
from ..store._store import EventStoreApp, default_store_url, open_store, redact_url
from ._action_commands import ActionCommands
from ._context import Authorizer, Context, policies_authorizer
from ._cycle_commands import CycleCommands
from ._ingest import Importer
from ._inputs import When
from ._integrity import Integrity
from ._key_result_commands import KeyResultCommands
from ._log_queries import LogQueries
from ._lookups import Lookups
from ._objective_commands import ObjectiveCommands
from ._projections import Projections
from ._refs import Ref
from ._retry import DEFAULT_POLICY, RetryPolicy, install_retries
from ._settings_commands import SettingsCommands
from ._state import LiveState

__all__ = ["Authorizer", "Okra", "Ref", "When"]

P = ParamSpec("P")
R = TypeVar("R")
S = TypeVar("S")


def _to(
    attribute: str, method: Callable[Concatenate[S, P], R]
) -> Callable[Concatenate[Okra, P], R]:
    """``Okra``'s method that hands the call to ``method`` of its collaborator ``attribute``.

    The method keeps the collaborator's name, signature, type hints and docstring
    (``help()``, ``inspect.signature`` and ``typing.get_type_hints`` see them).
    """

    @functools.wraps(method)
    def forward(self: Okra, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return method(getattr(self, attribute), *args, **kwargs)

    forward.__qualname__ = f"Okra.{method.__name__}"
    return forward


class Okra:
    """An okra store: record OKRA events and read the current state.

    Open it from a URL: ``memory://`` (this process only), ``sqlite:///path`` (an
    embedded SQLite file). With no URL, ``$OKRA_STORE`` or an SQLite file in the
    user's data directory is used. Use it as a context manager, or call
    :meth:`close`.

    Every command takes the ``actor`` who issues it, records it on every event,
    and returns the changed entity.

    Args:
        url: where the events are stored.
        clock: where "now" comes from (default: the system clock, UTC).
        authorizer: decides whether an actor may issue a command (default: the
            plugins' access policies, see ``okra_access_policies``; without any, all may).
        registry: the event types to know (default: okra's own).
        settings: extra eventsourcing settings, e.g. ``{"CIPHER_KEY": ...}`` or
            ``{"COMPRESSOR_TOPIC": "eventsourcing.compressor:ZlibCompressor"}``.
        plugins: the plugins to use (default: a fresh :func:`load_plugins`). The
            storage backend for the URL's scheme comes from them, and so do extra
            event types when no ``registry`` is given.
        persist_read_model: save the current state of every entity beside the
            events (where the backend keeps read models) and start from it on the
            next open, instead of replaying the whole log, and keep the key
            result index beside them (where the backend keeps one), so that
            questions about the past read only the rows they need (default:
            yes). ``False`` keeps nothing beside the log and uses nothing kept.

    Example:
        >>> from datetime import date
        >>> from okra_core import Okra, Change
        >>> with Okra("memory://") as okra:
        ...     q1 = okra.plan_cycle("2026-Q1", start=date(2026, 1, 1),
        ...                          end=date(2026, 3, 31), actor="ana")
        ...     goal = okra.draft_objective("Delight support customers", cycle=q1,
        ...                                 owner="ana", actor="ana")
        ...     kr = okra.add_key_result(goal, "First response time",
        ...                              metric=Change(baseline=24, target=4), unit="h",
        ...                              actor="ana")
        ...     okra.key_result(kr.short_id).title
        'First response time'
    """

    retry_policy: RetryPolicy = DEFAULT_POLICY
    """How commands that meet a concurrent writer are retried (see :class:`RetryPolicy`)."""

    def __init__(
        self,
        url: str | None = None,
        *,
        clock: Clock | None = None,
        authorizer: Authorizer | None = None,
        registry: EventRegistry | None = None,
        settings: Mapping[str, str] | None = None,
        persist_read_model: bool = True,
        plugins: Plugins | None = None,
    ) -> None:
        if url is not None and not isinstance(cast(object, url), str):
            raise ValidationError.single("url", f"expected a store URL, got {type(url).__name__}")
        self.url: str = url if url is not None else default_store_url()
        self._shown_url = redact_url(self.url)  # for messages: no password
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.plugins: Plugins = plugins if plugins is not None else load_plugins()
        self._codec = EventCodec(
            registry if registry is not None else self.plugins.event_registry()
        )
        self._store: EventStoreApp = open_store(self.url, self._codec, self.plugins, settings)
        self._log = Log(
            self._store,
            url=self.url,
            shown_url=self._shown_url,
            signer=lambda: signer_from(settings or {}),
        )
        self._state = LiveState(self._log, self._codec.registry, persist=persist_read_model)
        self._ctx = ctx = Context(
            self,
            log=self._log,
            state=self._state,
            codec=self._codec,
            plugins=self.plugins,
            clock=self.clock,
            authorizer=(
                authorizer
                if authorizer is not None
                else policies_authorizer(self.plugins, self._shown_url)
            ),
        )
        self._cycles = CycleCommands(ctx)
        self._objectives = ObjectiveCommands(ctx)
        self._key_results = KeyResultCommands(ctx)
        self._actions = ActionCommands(ctx)
        self._settings = SettingsCommands(ctx)
        self._importer = Importer(ctx)
        self._lookups = Lookups(ctx)
        self._projections = Projections(ctx)
        self._log_queries = LogQueries(ctx)
        self._integrity = Integrity(ctx)
        self.plugins.started(self)

    # --- lifecycle ---------------------------------------------------------------------

    def close(self) -> None:
        """Save the read model (where the store keeps one), release the store's connections.

        The instance can no longer be used.
        """
        with self._ctx.lock:
            if self._state.closed:
                return
            try:
                self._state.checkpoint()
            finally:
                self._state.closed = True
                self._log.close()

    def rebuild(self, *, progress: Callable[[int, int], None] | None = None) -> int:
        """Forget the saved read model and the key result index; rebuild both from the log.

        Returns the number of events folded. Useful after upgrading okra, or to
        prove that what is kept beside the log is what the log says (neither is
        covered by the tamper-evident log: ``okra verify`` checks the events).
        ``progress`` is called with ``(position, last position)`` every thousand
        events and at the end.
        """
        with self._ctx.lock:
            return self._state.rebuild(progress)

    def __enter__(self) -> Okra:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Okra({self._shown_url!r})"

    @property
    def playbook(self) -> Playbook:
        """The current playbook (the defaults until someone revises it)."""
        return self._ctx.playbook()

    @property
    def _position(self) -> int:
        # The log position folded in so far (tests of the write guards read it).
        return self._state.position

    # --- cycles ---------------------------------------------------------------

    plan_cycle = _to("_cycles", CycleCommands.plan_cycle)
    start_cycle = _to("_cycles", CycleCommands.start_cycle)
    close_cycle = _to("_cycles", CycleCommands.close_cycle)

    # --- objectives -----------------------------------------------------------

    draft_objective = _to("_objectives", ObjectiveCommands.draft_objective)
    revise_objective = _to("_objectives", ObjectiveCommands.revise_objective)
    reassign_objective = _to("_objectives", ObjectiveCommands.reassign_objective)
    activate_objective = _to("_objectives", ObjectiveCommands.activate_objective)
    close_objective = _to("_objectives", ObjectiveCommands.close_objective)
    abandon_objective = _to("_objectives", ObjectiveCommands.abandon_objective)
    align = _to("_objectives", ObjectiveCommands.align)
    unalign = _to("_objectives", ObjectiveCommands.unalign)
    continue_objective = _to("_objectives", ObjectiveCommands.continue_objective)

    # --- key results and check-ins --------------------------------------------

    add_key_result = _to("_key_results", KeyResultCommands.add_key_result)
    measure_baseline = _to("_key_results", KeyResultCommands.measure_baseline)
    rebaseline = _to("_key_results", KeyResultCommands.rebaseline)
    retarget = _to("_key_results", KeyResultCommands.retarget)
    reweight = _to("_key_results", KeyResultCommands.reweight)
    bind_key_result = _to("_key_results", KeyResultCommands.bind_key_result)
    unbind_key_result = _to("_key_results", KeyResultCommands.unbind_key_result)
    check_in = _to("_key_results", KeyResultCommands.check_in)
    correct_check_in = _to("_key_results", KeyResultCommands.correct_check_in)
    retract_check_in = _to("_key_results", KeyResultCommands.retract_check_in)

    # --- actions and tasks ----------------------------------------------------

    propose_action = _to("_actions", ActionCommands.propose_action)
    place_action = _to("_actions", ActionCommands.place_action)
    resolve_action = _to("_actions", ActionCommands.resolve_action)
    add_task = _to("_actions", ActionCommands.add_task)
    complete_task = _to("_actions", ActionCommands.complete_task)
    reopen_task = _to("_actions", ActionCommands.reopen_task)

    # --- the playbook and subscriptions ---------------------------------------

    revise_playbook = _to("_settings", SettingsCommands.revise_playbook)
    subscribe = _to("_settings", SettingsCommands.subscribe)
    unsubscribe = _to("_settings", SettingsCommands.unsubscribe)

    # --- importing events -----------------------------------------------------

    import_events = _to("_importer", Importer.import_events)

    # --- queries: entities now ------------------------------------------------

    cycle = _to("_lookups", Lookups.cycle)
    objective = _to("_lookups", Lookups.objective)
    key_result = _to("_lookups", Lookups.key_result)
    action = _to("_lookups", Lookups.action)
    task = _to("_lookups", Lookups.task)
    get_check_in = _to("_lookups", Lookups.get_check_in)
    cycles = _to("_lookups", Lookups.cycles)
    objectives = _to("_lookups", Lookups.objectives)
    key_results = _to("_lookups", Lookups.key_results)
    actions = _to("_lookups", Lookups.actions)
    attainment = _to("_lookups", Lookups.attainment)
    get = _to("_lookups", Lookups.get)
    subscriptions = _to("_lookups", Lookups.subscriptions)

    # --- queries: projections, now or in the past -----------------------------

    key_result_progress = _to("_projections", Projections.key_result_progress)
    objective_progress = _to("_projections", Projections.objective_progress)
    cycle_progress = _to("_projections", Projections.cycle_progress)
    owner_progress = _to("_projections", Projections.owner_progress)
    alignment_tree = _to("_projections", Projections.alignment_tree)
    orphans = _to("_projections", Projections.orphans)
    focus = _to("_projections", Projections.focus)
    lint = _to("_projections", Projections.lint)
    scorecard = _to("_projections", Projections.scorecard)
    business_review = _to("_projections", Projections.business_review)
    bets = _to("_projections", Projections.bets)
    calibration = _to("_projections", Projections.calibration)
    world = _to("_projections", Projections.world)
    state = _to("_projections", Projections.state)
    explain = _to("_projections", Projections.explain)
    lineage = _to("_projections", Projections.lineage)

    # --- queries: the log and history -----------------------------------------

    history = _to("_log_queries", LogQueries.history)
    export_records = _to("_log_queries", LogQueries.export_records)
    events_after = _to("_log_queries", LogQueries.events_after)
    timeline = _to("_log_queries", LogQueries.timeline)
    audit = _to("_log_queries", LogQueries.audit)
    diff = _to("_log_queries", LogQueries.diff)

    # --- the tamper-evident log ------------------------------------------------------

    verify = _to("_integrity", Integrity.verify)
    checkpoint = _to("_integrity", Integrity.checkpoint)
    prove = _to("_integrity", Integrity.prove)
    prove_consistency = _to("_integrity", Integrity.prove_consistency)
    seal = _to("_integrity", Integrity.seal)


# Every command re-runs (re-read, re-validate, re-decide, write) after a conflict.
install_retries(Okra)
