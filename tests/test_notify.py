"""Notifications: subscriptions, the rules, the outbox, and delivery to real loopback servers."""

from __future__ import annotations

import hashlib
import hmac
import json
import ssl
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from okra_adapters.cli import cli
from okra_adapters.notify import Dispatcher, MemoryOutbox, RunReport, SQLiteOutbox, open_outbox
from okra_core import (
    Change,
    DeliveryError,
    InvalidTransitionError,
    ManualClock,
    Notification,
    NotificationKind,
    NotificationRules,
    Notifier,
    Okra,
    StorageError,
    ValidationError,
    hookimpl,
    load_plugins,
)

from .helpers import count, paths, refused
from .servers import Mailbox, make_certificate, receiver, smtp_server

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # a Monday
ALL = [k.value for k in NotificationKind]


# --- a quarter to notify about -----------------------------------------------------------------


class World:
    """An active quarter: ana owns "Delight customers" with one key result, 24 h -> 4 h."""

    def __init__(self, okra: Okra, clock: ManualClock) -> None:
        self.okra = okra
        self.clock = clock
        self.cycle = okra.plan_cycle(
            "2026-Q1", start=date(2026, 1, 1), end=date(2026, 3, 31), actor="ana"
        )
        okra.start_cycle(self.cycle, actor="ana")
        self.objective = okra.draft_objective(
            "Delight customers", cycle=self.cycle, owner="ana", actor="ana"
        )
        self.kr = okra.add_key_result(
            self.objective,
            "First response time",
            metric=Change(baseline=24, target=4),
            unit="h",
            actor="ana",
        )
        okra.activate_objective(self.objective, actor="ana")

    def later(self, **delta: float) -> None:
        self.clock.advance(timedelta(**delta))


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def world(clock: ManualClock) -> Iterator[World]:
    with Okra("memory://", clock=clock) as okra:
        yield World(okra, clock)


def new(dispatcher: Dispatcher, seen: set[str]) -> list[Notification]:
    """Derive, and return the notifications added since ``seen`` (which is updated)."""
    dispatcher.derive()
    fresh = [p.notification for p in dispatcher.outbox.items() if p.key not in seen]
    seen.update(n.key for n in fresh)
    return fresh


def subscribe_ana(okra: Okra, *kinds: str, channel: str = "mail") -> None:
    okra.subscribe(
        channel=channel, recipient="ana@example.com", kinds=list(kinds), owners=["ana"], actor="ana"
    )


# --- subscriptions are events ------------------------------------------------------------------


def test_subscribe_records_and_validates_everything_first(store_url: str) -> None:
    with Okra(store_url, clock=ManualClock(START)) as okra:
        error = refused(
            okra,
            ValidationError,
            lambda: okra.subscribe(
                channel="Mail!",
                recipient=" ",
                kinds=["nope"],
                owners=[3],  # type: ignore[list-item]
                actor="ana",
            ),
        )
        assert paths(error) == ("channel", "recipient", "kinds[0]", "owners[0]")
        refused(
            okra,
            ValidationError,
            lambda: okra.subscribe(channel="mail", recipient="a@x", kinds=[], actor="ana"),
        )
        sub = okra.subscribe(
            channel="mail",
            recipient="ana@example.com",
            kinds=["weekly_digest", "check_in_due", "weekly_digest"],
            owners=["ana", " ana "],
            actor="ana",
        )
        assert sub.kinds == (NotificationKind.CHECK_IN_DUE, NotificationKind.WEEKLY_DIGEST)
        assert sub.owners == ("ana",)
        assert sub.since == START
        # The same again is refused; a change (even in another case) continues the stream.
        refused(
            okra,
            ValidationError,
            lambda: okra.subscribe(
                channel="mail",
                recipient="ana@example.com",
                kinds=["check_in_due", "weekly_digest"],
                owners=["ana"],
                actor="ana",
            ),
        )
        changed = okra.subscribe(channel="mail", recipient="ANA@example.com", actor="bob")
        assert (changed.id, changed.version, changed.kinds) == (sub.id, 2, tuple(NotificationKind))
        okra.unsubscribe(channel="mail", recipient="ana@example.com", reason="leaving", actor="ana")
        assert okra.subscriptions() == []
        refused(
            okra,
            InvalidTransitionError,
            lambda: okra.unsubscribe(channel="mail", recipient="ana@example.com", actor="ana"),
        )
        wire = [type(e).wire_name for e in okra.history()]
        assert wire == ["okra.subscription.added"] * 2 + ["okra.subscription.removed"]
    if not store_url.startswith("memory"):
        with Okra(store_url) as again:
            assert again.subscriptions() == []
            again.subscribe(channel="chat", recipient="#okrs", actor="ana")
            assert [s.label for s in again.subscriptions()] == ["#okrs on chat"]


def test_the_rules_are_part_of_the_playbook(world: World) -> None:
    okra = world.okra
    assert okra.playbook.settings.notifications == NotificationRules(
        confidence_drop=0.2, closing_days=7, digest_weekday=0
    )
    with pytest.raises(ValidationError) as info:
        NotificationRules(confidence_drop=2, closing_days=0, digest_weekday=7)
    assert info.value.paths == ("confidence_drop", "closing_days", "digest_weekday")
    refused(
        okra,
        ValidationError,
        lambda: okra.revise_playbook(notifications={"closing_days": 3}, reason="x", actor="ana"),
    )
    rules = NotificationRules(closing_days=3)
    assert (
        okra.revise_playbook(notifications=rules, reason="x", actor="ana").settings.notifications
        == rules
    )


def test_events_after_reads_the_log_with_positions(world: World) -> None:
    positions = [p for p, _ in world.okra.events_after(2)]
    assert positions == list(range(3, count(world.okra) + 1))
    with pytest.raises(ValidationError):
        list(world.okra.events_after(-1))


# --- the rules, with exact expectations ---------------------------------------------------


def test_check_in_due_once_per_period_and_not_after_a_recent_check_in(world: World) -> None:
    okra = world.okra
    subscribe_ana(okra, "check_in_due")
    dispatcher = Dispatcher(okra, channels={})
    seen: set[str] = set()
    assert new(dispatcher, seen) == []
    world.later(days=7)  # Jan 12, 09:00: a week since the key result was defined
    (reminder,) = new(dispatcher, seen)
    assert reminder.kind is NotificationKind.CHECK_IN_DUE
    assert reminder.recipient == "ana@example.com"
    assert reminder.subject == "Check-in due: First response time"
    assert "No check-in yet" in reminder.text
    assert reminder.key.startswith(f"okra:check-in-due:{world.kr.id.hex}:2026-01-12T09:00:")
    assert new(dispatcher, seen) == []  # the same period: nothing new
    world.later(days=3)
    okra.check_in(world.kr, value=20, actor="ana")
    world.later(days=6)
    assert new(dispatcher, seen) == []  # checked in 6 days ago: not due
    world.later(days=1)  # Jan 22: 7 days since the check-in
    (second,) = new(dispatcher, seen)
    assert "Last check-in: 2026-01-15" in second.text
    world.later(days=6)
    assert new(dispatcher, seen) == []
    world.later(days=1)  # a second period without a check-in: reminded again
    (third,) = new(dispatcher, seen)
    assert third.data["due_at"] == "2026-01-29T09:00:00+00:00"


def test_pace_worsened_compares_with_the_previous_check_in(world: World) -> None:
    okra = world.okra
    subscribe_ana(okra, "pace_worsened")
    dispatcher = Dispatcher(okra, channels={})
    seen: set[str] = set()
    okra.check_in(world.kr, value=20, actor="ana")  # p 0.2, on track on Jan 5
    assert new(dispatcher, seen) == []  # a first check-in has nothing to compare with
    world.later(days=41)  # Feb 15: about half the cycle gone
    okra.check_in(world.kr, value=19, actor="ana")  # p 0.25: off track
    (note,) = new(dispatcher, seen)
    assert note.kind is NotificationKind.PACE_WORSENED
    assert note.subject == "'First response time' is now off track"
    assert (note.data["before"], note.data["after"]) == ("on_track", "off_track")
    world.later(days=1)
    okra.check_in(world.kr, value=19, actor="ana")  # still off track: not worse
    assert new(dispatcher, seen) == []


def test_confidence_drop_over_the_threshold_only(world: World) -> None:
    okra = world.okra
    subscribe_ana(okra, "confidence_dropped")
    dispatcher = Dispatcher(okra, channels={})
    seen: set[str] = set()
    for days, stated in ((0, 8), (1, 6), (1, 5)):  # drops of exactly 0.2 and of 0.1
        world.later(days=days)
        okra.check_in(world.kr, value=20, confidence=stated, actor="ana")
    assert new(dispatcher, seen) == []
    world.later(days=1)
    okra.check_in(world.kr, value=20, confidence=2, actor="ana")  # 0.5 -> 0.2
    (note,) = new(dispatcher, seen)
    assert note.subject == "Confidence in 'First response time' fell to 2/10"
    assert (note.data["before"], note.data["after"]) == (0.5, 0.2)
    okra.revise_playbook(
        notifications=NotificationRules(confidence_drop=0.05), reason="tighter", actor="ana"
    )
    world.later(days=1)
    okra.check_in(world.kr, value=20, confidence=1, actor="ana")  # 0.1 > 0.05 now
    assert [n.kind for n in new(dispatcher, seen)] == [NotificationKind.CONFIDENCE_DROPPED]


def test_action_resolved_and_target_changed_carry_learning_and_reason(world: World) -> None:
    okra = world.okra
    subscribe_ana(okra, "action_resolved", "target_changed")
    dispatcher = Dispatcher(okra, channels={})
    seen: set[str] = set()
    bet = okra.propose_action(
        "Chatbot <b>triage</b>",
        key_results=[world.kr],
        hypothesis="bots answer simple questions",
        owner="bob",
        investment=5,
        actor="bob",
    )
    okra.place_action(bet, actor="bob")
    okra.resolve_action(
        bet,
        outcome="invalidated",
        learning="customers want people",
        actor="bob",
        evidence=["survey"],
    )
    okra.retarget(world.kr, target=6, reason="new support tool late", actor="ana")
    resolved, retargeted = new(dispatcher, seen)
    assert resolved.subject == "Bet 'Chatbot <b>triage</b>' resolved: invalidated"
    assert "Learning: customers want people" in resolved.text
    assert "Evidence: survey" in resolved.text
    assert "Chatbot &lt;b&gt;triage&lt;/b&gt;" in resolved.html
    assert "<b>" not in resolved.html
    assert resolved.data["learning"] == "customers want people"
    assert retargeted.subject == "Target of 'First response time' changed"
    assert (retargeted.data["before"], retargeted.data["after"]) == ("24 h -> 4 h", "24 h -> 6 h")
    assert "Reason: new support tool late" in retargeted.text


def test_only_subscribers_get_it_only_about_their_owners_only_after_they_subscribed(
    world: World,
) -> None:
    okra = world.okra
    okra.retarget(world.kr, target=6, reason="before anyone listened", actor="ana")
    okra.subscribe(
        channel="mail",
        recipient="bob@example.com",
        kinds=["target_changed"],
        owners=["bob"],
        actor="bob",
    )
    okra.subscribe(channel="chat", recipient="#okrs", kinds=["target_changed"], actor="ana")
    dispatcher = Dispatcher(okra, channels={})
    seen: set[str] = set()
    assert new(dispatcher, seen) == []
    world.later(hours=1)
    okra.retarget(world.kr, target=5, reason="back on track", actor="ana")
    (note,) = new(dispatcher, seen)
    assert (note.channel, note.recipient) == ("chat", "#okrs")
    okra.unsubscribe(channel="chat", recipient="#okrs", actor="ana")
    okra.retarget(world.kr, target=4, reason="as first set", actor="ana")
    assert new(dispatcher, seen) == []


def test_weekly_digest_once_a_week_from_the_playbooks_weekday(world: World) -> None:
    okra = world.okra
    okra.revise_playbook(
        notifications=NotificationRules(digest_weekday=4), reason="Fridays", actor="ana"
    )
    subscribe_ana(okra, "weekly_digest")
    dispatcher = Dispatcher(okra, channels={})
    seen: set[str] = set()
    okra.check_in(world.kr, value=22, confidence=8, actor="ana")
    assert new(dispatcher, seen) == []  # Monday
    world.later(days=4)  # Friday Jan 9
    okra.check_in(world.kr, value=16, confidence=3, actor="ana")
    (digest,) = new(dispatcher, seen)
    assert digest.subject == "Weekly digest for ana, week 2 of 2026"
    assert digest.data["week"] == "2026-W02"
    assert [item["kind"] for item in digest.data["focus"]] == ["falling_confidence"]
    assert digest.data["progress"] == [
        {
            "key_result_id": str(world.kr.id),
            "title": "First response time",
            "owner": "ana",
            "week_ago": None,
            "now": pytest.approx(0.4),
        }
    ]
    assert "Progress First response time (ana): no data -> 40%" in digest.text
    world.later(days=1)  # Saturday: the same week
    assert new(dispatcher, seen) == []
    world.later(days=2)  # Monday: before this week's Friday
    assert new(dispatcher, seen) == []
    world.later(days=4)
    (next_week,) = new(dispatcher, seen)
    assert next_week.data["week"] == "2026-W03"
    assert "40% -> 40%" in next_week.text


def test_cycle_closing_soon_then_its_scorecard(world: World) -> None:
    okra = world.okra
    okra.subscribe(
        channel="mail",
        recipient="lead@example.com",
        kinds=["cycle_closing", "scorecard"],
        actor="ana",
    )
    dispatcher = Dispatcher(okra, channels={})
    seen: set[str] = set()
    okra.check_in(world.kr, value=9, actor="ana")  # p = 0.75
    world.clock.set(datetime(2026, 3, 24, 23, 59, tzinfo=UTC))  # ends Apr 1 00:00: 7 d 1 min
    assert new(dispatcher, seen) == []
    world.later(minutes=1)
    (closing,) = new(dispatcher, seen)
    assert closing.subject == "2026-Q1 closes in 7 days (2026-04-01 00:00 UTC)"
    assert "Delight customers (ana): 75%" in closing.text
    world.later(days=1)
    assert new(dispatcher, seen) == []
    okra.close_cycle(world.cycle, actor="ana")
    (card,) = new(dispatcher, seen)
    assert card.kind is NotificationKind.SCORECARD
    assert card.subject == "2026-Q1 closed: scored 0.8"
    assert "Delight customers (ana, committed): 0.8 green" in card.text
    assert card.data["scorecard"]["score"] == 0.8


def test_rules_read_every_backend_with_its_own_outbox(store_url: str) -> None:
    clock = ManualClock(START)
    with Okra(store_url, clock=clock) as okra:
        w = World(okra, clock)
        subscribe_ana(okra, *ALL)
        with Dispatcher(okra, channels={}) as dispatcher:
            okra.retarget(w.kr, target=6, reason="r", actor="ana")
            w.later(days=7)
            kinds = {n.kind for n in new(dispatcher, set())}
            assert dispatcher.outbox.position() == count(okra)
        assert kinds == {
            NotificationKind.TARGET_CHANGED,
            NotificationKind.CHECK_IN_DUE,
            NotificationKind.WEEKLY_DIGEST,
        }
        if not store_url.startswith("memory"):  # the outbox outlives the dispatcher
            with open_outbox(store_url) as outbox:
                assert {p.notification.kind for p in outbox.items("pending")} == kinds


# --- webhooks, to a real HTTP receiver ---------------------------------------------------------


def test_webhook_posts_json_with_idempotency_key_and_a_verifiable_signature(world: World) -> None:
    okra = world.okra
    subscribe_ana(okra, "target_changed", channel="hook")
    okra.retarget(world.kr, target=6, reason="late tool", actor="ana")
    with receiver() as server:
        dispatcher = Dispatcher(
            okra,
            channels={"hook": "webhook+" + server.url("/okra?team=1")},
            secrets={"hook": "s3cret"},
        )
        report = dispatcher.run_once()
        assert (report.derived, report.delivered, report.pending) == (1, 1, 0)
    (request,) = server.requests
    assert request.path == "/okra?team=1"
    payload = json.loads(request.body)
    (item,) = dispatcher.outbox.items("delivered")
    assert request.headers["idempotency-key"] == payload["key"] == item.key
    assert request.headers["content-type"] == "application/json; charset=utf-8"
    assert payload["kind"] == "target_changed"
    assert payload["recipient"] == "ana@example.com"
    assert payload["subject"] == "Target of 'First response time' changed"
    assert payload["data"]["reason"] == "late tool"
    stamp = request.headers["x-okra-timestamp"]
    expected = hmac.new(b"s3cret", stamp.encode() + b"." + request.body, hashlib.sha256)
    assert request.headers["x-okra-signature"] == "sha256=" + expected.hexdigest()


def test_webhook_slack_format_and_no_signature_without_a_secret(world: World) -> None:
    okra = world.okra
    subscribe_ana(okra, "action_resolved", channel="slack")
    bet = okra.propose_action(
        "A <bet> & more",
        key_results=[world.kr],
        hypothesis="h",
        owner="ana",
        investment=1,
        actor="ana",
    )
    okra.resolve_action(bet, outcome="abandoned", learning="not now", actor="ana")
    with receiver() as server:
        Dispatcher(okra, channels={"slack": f"webhook+{server.url()}?format=slack"}).run_once()
    (request,) = server.requests
    assert "x-okra-signature" not in request.headers
    payload = json.loads(request.body)
    assert set(payload) == {"text", "blocks"}
    header, section = payload["blocks"]
    assert header == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Bet 'A <bet> & more' resolved: abandoned"},
    }
    assert section["type"] == "section"
    assert section["text"]["type"] == "mrkdwn"
    assert "Learning: not now" in section["text"]["text"]
    assert payload["text"].startswith("Bet 'A &lt;bet&gt; &amp; more' resolved: abandoned\n")


def test_bad_channel_urls_are_refused_clearly() -> None:
    plugins = load_plugins()
    notifiers = plugins.notifiers()
    assert {"console", "webhook+http", "webhook+https", "smtp", "smtps"} <= set(notifiers)
    for scheme, url, message in [
        ("webhook+https", "webhook+https://h/p?format=teams", "format=json or format=slack"),
        ("webhook+https", "webhook+https://h/p?timeout=-1", "timeout in seconds"),
        ("smtp", "smtp://mail.example.com", "from=<sender address>"),
        ("smtp", "smtp://ana@mail.example.com?from=a@x", "OKRA_CHANNEL_<NAME>_SECRET"),
        ("smtp", "smtp://m?from=a@x&starttls=maybe", "starttls=1 or starttls=0"),
        ("console", "console://printer", "console://stderr"),
    ]:
        with pytest.raises(ValidationError, match=message.replace("?", r"\?")):
            notifiers[scheme].open(url, None)
    with pytest.raises(ValueError, match=r"Notifier\.scheme"):
        Notifier(scheme="Bad Scheme", description="", open=lambda url, secret: Boom.Channel())


# --- email, to a real SMTP server --------------------------------------------------------------


def test_email_multipart_to_the_recipient_with_a_message_id_from_the_key(world: World) -> None:
    okra = world.okra
    subscribe_ana(okra, "target_changed")
    okra.retarget(world.kr, target=6, reason="<script>alert(1)</script>", actor="ana")
    mailbox = Mailbox()
    with smtp_server(mailbox) as server:
        url = f"smtp://127.0.0.1:{server.port}?from=okra@example.org"
        report = Dispatcher(okra, channels={"mail": url}).run_once()
    assert report.delivered == 1
    (mail,) = mailbox.mails
    assert (mail.mail_from, mail.rcpt_tos, mail.login, mail.tls) == (
        "okra@example.org",
        ("ana@example.com",),
        None,
        False,
    )
    message = mail.message
    assert message["Subject"] == "Target of 'First response time' changed"
    assert message["To"] == "ana@example.com"
    key = message["X-Okra-Key"]
    digest = hashlib.sha256(key.encode()).hexdigest()[:40]
    assert message["Message-ID"] == f"<{digest}@example.org>"
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None
    assert html is not None
    assert "Reason: <script>alert(1)</script>" in text.get_content()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html.get_content()
    assert "<script>" not in html.get_content()


def test_email_with_starttls_and_login(world: World, tmp_path: Path) -> None:
    okra = world.okra
    subscribe_ana(okra, "target_changed")
    okra.retarget(world.kr, target=6, reason="r", actor="ana")
    cert, key = make_certificate(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    mailbox = Mailbox(users={"okra": "pa55"})
    with smtp_server(mailbox, tls_context=context) as server:
        url = f"smtp://okra@127.0.0.1:{server.port}?from=okra@example.org&starttls=1&cafile={cert}"
        wrong = Dispatcher(okra, channels={"mail": url}, secrets={"mail": "nope"})
        assert wrong.run_once().failed == 1  # refused login: retried later, not lost
        assert mailbox.mails == []
        plain = Dispatcher(
            okra, channels={"mail": url.replace("&starttls=1", "")}, secrets={"mail": "pa55"}
        )
        assert plain.run_once().failed == 1  # the server requires STARTTLS
        right = Dispatcher(okra, channels={"mail": url}, secrets={"mail": "pa55"})
        assert right.run_once().delivered == 1
    (mail,) = mailbox.mails
    assert (mail.login, mail.tls, mail.rcpt_tos) == ("okra", True, ("ana@example.com",))


# --- delivery you can trust ---------------------------------------------------------------


def once(okra: Okra, channels: dict[str, str]) -> RunReport:
    """One pass of a dispatcher that closes its outbox afterwards, as a cron job's would."""
    with Dispatcher(okra, channels=channels) as dispatcher:
        return dispatcher.run_once()


def retargets(okra: Okra, world: World, n: int) -> None:
    for i in range(n):
        world.later(minutes=1)
        okra.retarget(world.kr, target=4 + i + 1, reason=f"step {i}", actor="ana")


@pytest.fixture(params=["sqlite", "postgresql"])
def durable_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A store that outlives its process, with the outbox beside it."""
    if request.param == "postgresql":
        return str(request.getfixturevalue("postgres_url"))
    return f"sqlite:///{tmp_path / 'okra.sqlite'}"


def test_a_receiver_going_down_mid_run_loses_nothing_and_sends_nothing_twice(
    durable_url: str,
) -> None:
    url = durable_url
    clock = ManualClock(START)
    with Okra(url, clock=clock) as okra:
        world = World(okra, clock)
        subscribe_ana(okra, "target_changed", channel="hook")
        retargets(okra, world, 5)
        with receiver(accept=2) as first:  # goes down after two requests
            report = once(okra, {"hook": "webhook+" + first.url()})
        assert (report.derived, report.delivered, report.failed, report.pending) == (5, 2, 3, 3)
        okra.retarget(world.kr, target=11, reason="step 5", actor="ana")  # life goes on
    # A restart: a new process, a new receiver on another port, the same store and outbox.
    with (
        receiver() as second,
        Okra(url, clock=clock) as okra,
        Dispatcher(okra, channels={"hook": "webhook+" + second.url()}) as dispatcher,
    ):
        report = dispatcher.run_once()
        assert (report.derived, report.delivered, report.pending) == (1, 1, 3)  # 3 wait
        clock.advance(timedelta(minutes=1))  # the first backoff
        assert dispatcher.run_once().delivered == 3
        assert dispatcher.run_once().delivered == 0
    keys = [r.headers["idempotency-key"] for r in first.requests + second.requests]
    with open_outbox(url) as outbox:
        delivered = {p.key for p in outbox.items("delivered")}
        assert outbox.items("pending") == []
    assert len(keys) == len(set(keys)) == 6
    assert set(keys) == delivered
    reasons = sorted(json.loads(r.body)["data"]["reason"] for r in first.requests + second.requests)
    assert reasons == [f"step {i}" for i in range(6)]


def test_a_crash_between_enqueue_and_delivery_loses_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'okra.sqlite'}"
    clock = ManualClock(START)
    with receiver() as server:
        channels = {"hook": "webhook+" + server.url()}
        with Okra(url, clock=clock) as okra:
            world = World(okra, clock)
            subscribe_ana(okra, "target_changed", channel="hook")
            retargets(okra, world, 3)
            with Dispatcher(okra, channels=channels) as dispatcher:
                assert dispatcher.derive() == 3
            # ... and the process dies here, before delivering.
        with Okra(url, clock=clock) as okra:
            report = once(okra, channels)
            assert (report.derived, report.delivered, report.pending) == (0, 3, 0)
            assert once(okra, channels).delivered == 0
    assert len({r.headers["idempotency-key"] for r in server.requests}) == len(server.requests) == 3


class Boom:
    """A notifier plugin whose channel always raises."""

    class Channel:
        def deliver(self, notification: Notification) -> None:
            raise RuntimeError("boom")

    @hookimpl
    def okra_notifiers(self) -> list[Notifier]:
        return [Notifier(scheme="boom", description="fails", open=lambda url, s: Boom.Channel())]


def test_a_failing_notifier_does_not_stop_the_others_and_ends_in_dead_letters() -> None:
    clock = ManualClock(START)
    with Okra("memory://", clock=clock, plugins=load_plugins(Boom())) as okra, receiver() as server:
        world = World(okra, clock)
        for channel in ("boom", "hook", "nowhere"):
            subscribe_ana(okra, "target_changed", channel=channel)
        retargets(okra, world, 1)
        dispatcher = Dispatcher(
            okra,
            channels={"boom": "boom://", "hook": "webhook+" + server.url()},
            max_attempts=3,
        )
        first = dispatcher.run_once()
        assert (first.delivered, first.failed, first.dead) == (1, 2, 0)
        assert len(server.requests) == 1
        waiting = {p.notification.channel: p for p in dispatcher.outbox.items("pending")}
        assert waiting["boom"].last_error == "RuntimeError: boom"
        assert waiting["boom"].next_try_at == clock.now() + timedelta(minutes=1)
        assert "channel 'nowhere' is not configured: set OKRA_CHANNEL_NOWHERE" in (
            waiting["nowhere"].last_error
        )
        assert dispatcher.run_once().failed == 0  # not due yet
        clock.advance(timedelta(minutes=1))
        assert dispatcher.run_once().failed == 2
        assert dispatcher.outbox.items("pending")[0].next_try_at == clock.now() + timedelta(
            minutes=2
        )
        clock.advance(timedelta(minutes=2))
        assert dispatcher.run_once().dead == 2
        dead = dispatcher.dead_letters()
        assert sorted(p.notification.channel for p in dead) == ["boom", "nowhere"]
        assert all(p.attempts == 3 for p in dead)
        boom_key = next(p.key for p in dead if p.notification.channel == "boom")
        assert dispatcher.discard([boom_key]) == 1
        # Configured at last, as a restart would read it: the same outbox, new channels.
        channels = {"nowhere": "webhook+" + server.url("/late")}
        restarted = Dispatcher(okra, channels=channels, outbox=dispatcher.outbox)
        assert restarted.retry() == 1
        assert restarted.run_once().delivered == 1
        assert restarted.dead_letters() == []
        assert [r.path for r in server.requests] == ["/hook", "/late"]


def test_outboxes_by_url(tmp_path: Path) -> None:
    assert isinstance(open_outbox("memory://"), MemoryOutbox)
    assert isinstance(open_outbox(f"sqlite:///{tmp_path / 'o.sqlite'}"), SQLiteOutbox)
    with pytest.raises(ValidationError, match="outbox URL"):
        open_outbox("mysql://db/okra")
    with pytest.raises(StorageError, match=r"cannot open the outbox at 127\.0\.0\.1:1/okra"):
        open_outbox("postgresql://okra:secret@127.0.0.1:1/okra")
    with Okra("memory://") as okra, pytest.raises(ValidationError, match="outbox") as info:
        Dispatcher(okra, outbox="ftp://x")
    assert info.value.paths == ("outbox",)


# --- the command line ---------------------------------------------------------------------------


def test_cli_subscribe_run_once_and_dead_letters(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = f"sqlite:///{tmp_path / 'okra.sqlite'}"
    monkeypatch.setenv("OKRA_STORE", store)
    monkeypatch.setenv("OKRA_CHANNEL_TEAM_LOG", "console://stdout")
    runner = CliRunner()

    def okra_cli(*args: str) -> str:
        result = runner.invoke(cli, ["notify", *args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    assert runner.invoke(cli, ["init"]).exit_code == 0
    out = okra_cli(
        "subscribe",
        "--channel",
        "team-log",
        "--recipient",
        "#okrs",
        "--kind",
        "target_changed",
        "--actor",
        "ana",
    )
    assert out == "subscribed #okrs on team-log: target_changed\n"
    assert okra_cli("subscriptions") == "#okrs on team-log: target_changed (about everyone)\n"
    today = datetime.now(UTC).date()
    with Okra(store) as okra:
        cycle = okra.plan_cycle(
            "Now", start=today - timedelta(days=30), end=today + timedelta(days=30), actor="ana"
        )
        okra.start_cycle(cycle, actor="ana")
        goal = okra.draft_objective("Goal", cycle=cycle, owner="ana", actor="ana")
        kr = okra.add_key_result(goal, "KR", metric=Change(baseline=0, target=10), actor="ana")
        okra.activate_objective(goal, actor="ana")
        okra.retarget(kr, target=12, reason="more", actor="ana")
    out = okra_cli("run", "--once")
    assert "To: #okrs\nTarget of 'KR' changed\n" in out
    assert out.endswith("new 1, delivered 1, failed 0 (will retry), dead 0, pending 0\n")
    assert okra_cli("run").endswith(
        "new 0, delivered 0, failed 0 (will retry), dead 0, pending 0\n"
    )
    assert okra_cli("dead-letters") == "no dead letters\n"
    assert okra_cli("dead-letters", "--json") == "[]\n"
    bad = runner.invoke(cli, ["notify", "retry"])
    assert bad.exit_code == 2
    assert "or --all" in bad.output
    assert (
        okra_cli("unsubscribe", "--channel", "team-log", "--recipient", "#okrs", "--actor", "ana")
        == "unsubscribed #okrs on team-log\n"
    )
    assert okra_cli("subscriptions") == "no subscriptions\n"
    with Okra("memory://") as okra:
        assert "notify" in okra.plugins.cli_commands()


CRASH_AFTER_SEND = """
import os, sys
from okra_core import ManualClock, Notifier, Okra, hookimpl, load_plugins
from okra_adapters.notify.webhook import open_webhook
from datetime import datetime

class SendThenDie:
    @hookimpl
    def okra_notifiers(self):
        def open(url, secret):
            channel = open_webhook(url.replace("die+", "webhook+", 1), secret)
            class Channel:
                def deliver(self, notification):
                    channel.deliver(notification)
                    os._exit(3)  # the process dies after the send, before it is recorded
            return Channel()
        return [Notifier(scheme="die+http", description="dies", open=open)]

from okra_adapters.notify import Dispatcher
clock = ManualClock(datetime.fromisoformat(sys.argv[3]))
with Okra(sys.argv[1], clock=clock, plugins=load_plugins(SendThenDie())) as okra:
    with Dispatcher(okra, channels={"hook": sys.argv[2]}) as dispatcher:
        dispatcher.run_once()
"""


def test_a_crash_after_the_send_sends_again_with_the_same_key(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'okra.sqlite'}"
    clock = ManualClock(START)
    with Okra(url, clock=clock) as okra:
        world = World(okra, clock)
        subscribe_ana(okra, "target_changed", channel="hook")
        retargets(okra, world, 1)
    with receiver() as server:
        import subprocess
        import sys

        died = subprocess.run(
            [
                sys.executable,
                "-c",
                CRASH_AFTER_SEND,
                url,
                "die+" + server.url(),
                clock.now().isoformat(),
            ],
            check=False,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert died.returncode == 3, died.stderr
        assert len(server.requests) == 1
        hook = {"hook": "webhook+" + server.url()}
        with Okra(url, clock=clock) as okra:
            # The dead dispatcher's claim holds until its lease ends...
            report = once(okra, hook)
            assert (report.derived, report.delivered, report.pending) == (0, 0, 1)
            assert len(server.requests) == 1
            # ...then another dispatcher sends it.
            clock.advance(timedelta(minutes=5))
            report = once(okra, hook)
        assert (report.derived, report.delivered) == (0, 1)  # derived before the crash
    first, again = (r.headers["idempotency-key"] for r in server.requests)
    assert first == again  # at least once: the receiver can drop the repeat by its key


def test_watch_runs_until_told_to_stop(world: World) -> None:
    import threading

    okra = world.okra
    subscribe_ana(okra, "target_changed", channel="hook")
    retargets(okra, world, 1)
    with receiver() as server:
        dispatcher = Dispatcher(okra, channels={"hook": "webhook+" + server.url()})
        dispatcher.watch(0.01, runs=3)
        assert len(server.requests) == 1
        stop = threading.Event()
        watcher = threading.Thread(target=dispatcher.watch, args=(0.01,), kwargs={"stop": stop})
        watcher.start()
        try:
            okra.retarget(world.kr, target=9, reason="while watched", actor="ana")
            while len(server.requests) < 2 and watcher.is_alive():
                stop.wait(0.01)
        finally:
            stop.set()
            watcher.join()
    assert len({r.headers["idempotency-key"] for r in server.requests}) == 2


def test_a_teams_digest_has_the_items_of_its_objectives(clock: ManualClock) -> None:
    with Okra("memory://", clock=clock) as okra:
        world = World(okra, clock)
        team_goal = okra.draft_objective(
            "Fewer tickets", cycle=world.cycle, owner="support", actor="ana"
        )
        kr = okra.add_key_result(
            team_goal,
            "Tickets per week",
            metric=Change(baseline=100, target=50),
            owner="sam",
            actor="ana",
        )
        okra.activate_objective(team_goal, actor="ana")
        okra.subscribe(
            channel="chat",
            recipient="#support",
            kinds=["weekly_digest"],
            owners=["support"],
            actor="ana",
        )
        world.later(days=14)
        (digest,) = new(Dispatcher(okra, channels={}), set())
    assert digest.subject == "Weekly digest for support, week 4 of 2026"
    assert {item["title"] for item in digest.data["focus"]} == {"Tickets per week"}
    assert [p["key_result_id"] for p in digest.data["progress"]] == [str(kr.id)]
    assert "Focus 1. Tickets per week (sam): no check-in" in digest.text


# --- a property: when the dispatcher runs does not change what it derives from events -------------

EVENT_KINDS = ["pace_worsened", "confidence_dropped", "target_changed", "action_resolved"]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    steps=st.lists(
        st.tuples(
            st.sampled_from(["check_in", "retarget", "bet", "wait"]),
            st.integers(min_value=0, max_value=20),
            st.booleans(),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_event_notifications_do_not_depend_on_when_the_dispatcher_runs(
    steps: list[tuple[str, int, bool]],
) -> None:
    clock = ManualClock(START)
    with Okra("memory://", clock=clock) as okra:
        world = World(okra, clock)
        subscribe_ana(okra, *EVENT_KINDS)
        often = Dispatcher(okra, channels={})
        target = 4
        for step, number, run_now in steps:
            world.later(days=1)
            if step == "check_in":
                okra.check_in(world.kr, value=number, confidence=number % 11, actor="ana")
            elif step == "retarget":
                target = 3 if target == 4 else 4
                okra.retarget(world.kr, target=target, reason=f"r{number}", actor="ana")
            elif step == "bet":
                bet = okra.propose_action(
                    f"bet {number}",
                    key_results=[world.kr],
                    hypothesis="h",
                    owner="ana",
                    investment=1,
                    actor="ana",
                )
                okra.resolve_action(bet, outcome="abandoned", learning="l", actor="ana")
            if run_now:
                often.derive()
        often.derive()
        once = Dispatcher(okra, channels={})
        once.derive()
        keys = [p.key for p in often.outbox.items()]
        assert len(keys) == len(set(keys))
        assert keys == [p.key for p in once.outbox.items()]


# --- found in review ----------------------------------------------------------------------


def _notification(subject: str = "Q3 closes in 3 days") -> Notification:
    return Notification(
        key="k-1",
        kind=NotificationKind.CYCLE_CLOSING,
        channel="team",
        recipient="ana@example.com",
        subject=subject,
        text="text",
        html="<p>html</p>",
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


def test_a_webhook_redirect_is_a_failed_delivery_not_a_lost_one() -> None:
    from okra_adapters.notify.webhook import open_webhook

    with receiver(status=302) as server:
        channel = open_webhook("webhook+" + server.url(), "s3cret")
        with pytest.raises(DeliveryError, match="a redirect"):
            channel.deliver(_notification())
        # The signed headers went to the configured URL only, never on to /login.
        assert [(r.method, r.path) for r in server.requests] == [("POST", "/hook")]


def test_channel_secrets_never_reach_messages_or_reprs() -> None:
    from okra_adapters.notify.smtp import open_smtp
    from okra_adapters.notify.webhook import open_webhook

    hook = open_webhook("webhook+http://127.0.0.1:1/services/T0/B0/XXSECRETXX", None)
    assert "XXSECRETXX" not in repr(hook)
    with pytest.raises(DeliveryError) as info:
        hook.deliver(_notification())
    assert "XXSECRETXX" not in str(info.value)
    with pytest.raises(ValidationError) as bad:
        open_smtp("smtp://user:hunter2@mail.example.com:abc?from=a@b.c", None)
    assert "hunter2" not in str(bad.value)


def test_a_subject_with_a_line_break_still_makes_an_email() -> None:
    from okra_adapters.notify.smtp import open_smtp

    channel = open_smtp("smtp://127.0.0.1:25?from=okra@example.com", None)
    message = channel.message(_notification("Q3\nBcc: x@evil.example closes in 3 days"))
    assert message["Subject"] == "Q3 Bcc: x@evil.example closes in 3 days"
    assert message["Bcc"] is None


def test_many_failed_attempts_do_not_overflow_the_backoff(clock: ManualClock) -> None:
    with (
        Okra("memory://", clock=clock) as okra,
        Dispatcher(
            okra,
            channels={"team": "webhook+http://127.0.0.1:1/hook"},
            outbox=MemoryOutbox(),
            max_attempts=60,
            backoff=timedelta(minutes=1),
            max_backoff=timedelta(hours=1),
        ) as dispatcher,
    ):
        dispatcher.outbox.enqueue([_notification()], 0)
        for _ in range(50):
            dispatcher.deliver()
            clock.advance(timedelta(hours=2))
        (item,) = dispatcher.outbox.items("pending")
        assert item.attempts == 50
