"""A real okra web server on loopback, for the HTTP and browser tests.

The store is an SQLite file holding the demo quarter up to week 10 (the cycle
still active), read through a :class:`ManualClock` that stays in that week; the
server is uvicorn in a thread on a free port of 127.0.0.1.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs
import uvicorn

from okra_adapters.demo import build_demo
from okra_adapters.web import TokenStore, create_app
from okra_core import ManualClock, Okra

WEEK = 10


class _Stop(Exception):
    """Stops the demo in the middle of the quarter."""


def _stop_at(week: int) -> None:
    if week == WEEK:
        raise _Stop


def demo_store(path: Path) -> tuple[str, ManualClock]:
    """The demo quarter up to week 10 in an SQLite file: its URL and the clock."""
    url = f"sqlite:///{path}"
    clock = ManualClock(datetime(2026, 7, 1, tzinfo=UTC))
    with Okra(url, clock=clock) as okra, suppress(_Stop):
        build_demo(okra, clock, at_week=_stop_at)
    return url, clock


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@attrs.frozen
class Served:
    """A running server: its base URL, store, tokens and a token acting as sam."""

    url: str
    okra: Okra
    tokens: TokenStore
    secret: str


@contextmanager
def run_app(app: Any) -> Iterator[str]:
    """Run an ASGI app with uvicorn on a free loopback port; yield its base URL."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("the web server did not start")
            threading.Event().wait(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def serve(tmp: Path) -> Iterator[Served]:
    """Serve the demo store on a free loopback port until the block ends."""
    url, clock = demo_store(tmp / "okra.sqlite")
    with Okra(url, clock=clock) as okra:
        tokens = TokenStore(tmp / "tokens.sqlite", url)
        try:
            secret = tokens.issue("tests", actor="sam", issued_by="maria").secret
            with run_app(create_app(okra, tokens, actor="maria")) as base:
                yield Served(base, okra, tokens, secret)
        finally:
            tokens.close()
