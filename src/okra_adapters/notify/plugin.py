"""okra's built-in notification plugin: notifiers and the ``okra notify`` commands.

The notifiers are the console, webhook and email ones.

It is registered like any third-party plugin, through the ``okra`` entry-point
group (name ``notify``), so ``OKRA_PLUGINS=-notify`` leaves it out.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import click

from okra_core import (
    CliCommand,
    NotificationKind,
    Notifier,
    Okra,
    hookimpl,
    to_data,
)

from ..cli._base import session, store_url

if TYPE_CHECKING:
    from ._dispatch import Dispatcher

# The notifiers (SMTP, HTTP, TLS) and the dispatcher are imported when they are
# used: every `okra` command loads this plugin, few of them send anything.

__all__ = ["notify", "okra_cli_commands", "okra_notifiers"]


@hookimpl
def okra_notifiers() -> list[Notifier]:
    """The built-in notifiers: console, webhook+https, webhook+http, smtp, smtps."""
    from . import console, smtp, webhook

    return [*console.NOTIFIERS, *webhook.NOTIFIERS, *smtp.NOTIFIERS]


@hookimpl
def okra_cli_commands() -> list[CliCommand]:
    """``okra notify``."""
    return [CliCommand(name="notify", command=notify)]


_STORE = click.option(
    "--store",
    default=None,
    help="Store URL or SQLite path [default: `okra --store`, $OKRA_STORE, else okra's file].",
)
_OUTBOX = click.option(
    "--outbox",
    default=None,
    help="Where delivery state is kept (sqlite:///path, postgresql://...) "
    "[default: beside the store's events].",
)


def _actor(given: str | None) -> str:
    """``--actor`` here, else the one the ``okra`` command was given (or its default)."""
    return given if given else session(click.get_current_context()).actor


@contextmanager
def _opened(store: str | None) -> Iterator[Okra]:
    """The store of ``--store`` here, else the one ``okra --store`` (or $OKRA_STORE) names.

    okra's errors propagate: the ``okra`` command turns them into messages and
    exit statuses.
    """
    sess = session(click.get_current_context())
    if store is None:
        yield sess.okra  # the session closes it
        return
    with Okra(store_url(store), plugins=sess.plugins) as okra:
        yield okra


@contextmanager
def _dispatcher(
    store: str | None, outbox: str | None, max_attempts: int = 8
) -> Iterator[Dispatcher]:
    from ._dispatch import Dispatcher

    with (
        _opened(store) as okra,
        Dispatcher(okra, outbox=outbox, max_attempts=max_attempts) as dispatcher,
    ):
        yield dispatcher


@click.group()
def notify() -> None:
    """Reminders, warnings and digests to subscribers, through configured channels.

    Channels are configured in the environment: OKRA_CHANNEL_<NAME>=URL and, for a
    signing key or password, OKRA_CHANNEL_<NAME>_SECRET. See docs/notifications.md.
    """


@notify.command("run")
@_STORE
@_OUTBOX
@click.option("--once/--watch", default=True, help="One pass (for cron), or keep watching.")
@click.option(
    "--interval",
    type=click.FloatRange(min=0.1),
    default=60.0,
    show_default=True,
    help="Seconds between passes with --watch.",
)
@click.option(
    "--max-attempts",
    type=click.IntRange(min=1),
    default=8,
    show_default=True,
    help="Tries before a notification becomes a dead letter.",
)
def run_command(
    store: str | None, outbox: str | None, once: bool, interval: float, max_attempts: int
) -> None:
    """Derive due notifications and deliver pending ones: once, or every INTERVAL seconds."""
    with _dispatcher(store, outbox, max_attempts=max_attempts) as dispatcher:
        if once:
            report = dispatcher.run_once()
            click.echo(
                f"read up to {report.position}; new {report.derived}, delivered "
                f"{report.delivered}, failed {report.failed} (will retry), dead {report.dead}, "
                f"pending {report.pending}"
            )
        else:
            click.echo(f"watching every {interval:g}s; stop with Ctrl-C", err=True)
            try:
                dispatcher.watch(interval)
            except KeyboardInterrupt:
                click.echo("stopped", err=True)


@notify.command("dead-letters")
@_STORE
@_OUTBOX
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of lines.")
def dead_letters_command(store: str | None, outbox: str | None, as_json: bool) -> None:
    """List the notifications given up on, with their last error."""
    with _dispatcher(store, outbox) as dispatcher:
        dead = dispatcher.dead_letters()
        if as_json:
            click.echo(
                json.dumps(
                    [
                        {
                            "key": p.key,
                            "kind": p.notification.kind.value,
                            "channel": p.notification.channel,
                            "recipient": p.notification.recipient,
                            "subject": p.notification.subject,
                            "attempts": p.attempts,
                            "last_error": p.last_error,
                        }
                        for p in dead
                    ],
                    indent=2,
                )
            )
            return
        for p in dead:
            n = p.notification
            click.echo(f"{p.key}  {n.channel} {n.recipient}: {n.subject}")
            click.echo(f"    {p.attempts} attempts; last error: {p.last_error}")
        if not dead:
            click.echo("no dead letters")


def _keys_or_all(keys: tuple[str, ...], every: bool) -> list[str] | None:
    if every == bool(keys):
        raise click.UsageError("give the keys of dead letters, or --all (not both)")
    return None if every else list(keys)


@notify.command("retry")
@_STORE
@_OUTBOX
@click.argument("keys", nargs=-1)
@click.option("--all", "every", is_flag=True, help="Every dead letter.")
def retry_command(
    store: str | None, outbox: str | None, keys: tuple[str, ...], every: bool
) -> None:
    """Put dead letters back in line; the next run tries them again."""
    chosen = _keys_or_all(keys, every)
    with _dispatcher(store, outbox) as dispatcher:
        click.echo(f"{dispatcher.retry(chosen)} back in line")


@notify.command("discard")
@_STORE
@_OUTBOX
@click.argument("keys", nargs=-1)
@click.option("--all", "every", is_flag=True, help="Every dead letter.")
def discard_command(
    store: str | None, outbox: str | None, keys: tuple[str, ...], every: bool
) -> None:
    """Forget dead letters for good."""
    chosen = _keys_or_all(keys, every)
    with _dispatcher(store, outbox) as dispatcher:
        click.echo(f"{dispatcher.discard(chosen)} discarded")


_KINDS = click.Choice([k.value for k in NotificationKind])


@notify.command("subscribe")
@_STORE
@click.option("--channel", required=True, help="The channel's short name (mail, team-chat).")
@click.option("--recipient", required=True, help="The address on the channel.")
@click.option("--kind", "kinds", multiple=True, type=_KINDS, help="A kind wanted [default: all].")
@click.option("--owner", "owners", multiple=True, help="Only about this owner [default: all].")
@click.option("--actor", envvar="OKRA_ACTOR", required=True, help="Who subscribes them.")
def subscribe_command(
    store: str | None,
    channel: str,
    recipient: str,
    kinds: tuple[str, ...],
    owners: tuple[str, ...],
    actor: str | None,
) -> None:
    """Subscribe a recipient on a channel (again: change what they get)."""
    with _opened(store) as okra:
        sub = okra.subscribe(
            channel=channel,
            recipient=recipient,
            kinds=list(kinds) if kinds else None,
            owners=list(owners),
            actor=_actor(actor),
        )
        click.echo(f"subscribed {sub.label}: {', '.join(k.value for k in sub.kinds)}")


@notify.command("unsubscribe")
@_STORE
@click.option("--channel", required=True)
@click.option("--recipient", required=True)
@click.option("--reason", default="", help="Why, for the record.")
@click.option("--actor", default=None, help="Who [default: `okra --actor`, $OKRA_ACTOR, login].")
def unsubscribe_command(
    store: str | None, channel: str, recipient: str, reason: str, actor: str | None
) -> None:
    """End a recipient's subscription on a channel."""
    with _opened(store) as okra:
        sub = okra.unsubscribe(
            channel=channel, recipient=recipient, reason=reason, actor=_actor(actor)
        )
        click.echo(f"unsubscribed {sub.label}")


@notify.command("subscriptions")
@_STORE
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of lines.")
def subscriptions_command(store: str | None, as_json: bool) -> None:
    """List the active subscriptions."""
    with _opened(store) as okra:
        subs = okra.subscriptions()
    if as_json:
        click.echo(json.dumps(to_data(subs), indent=2))
        return
    for sub in subs:
        about = ", ".join(sub.owners) if sub.owners else "everyone"
        click.echo(f"{sub.label}: {', '.join(k.value for k in sub.kinds)} (about {about})")
    if not subs:
        click.echo("no subscriptions")
