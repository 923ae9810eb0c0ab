"""A real PostgreSQL server for the tests, and a fresh schema per test.

``OKRA_TEST_POSTGRES_URL`` names a server to use (``.ci/run`` starts one and sets
it). Without it, a throwaway server is started from the PostgreSQL binaries if
they are installed (``/usr/lib/postgresql/*/bin``), on 127.0.0.1 and a free port,
in a temporary folder that is removed afterwards. Without those either, the
PostgreSQL tests are skipped with a message that says how to enable them; under
CI (``CI=true``) they fail instead, so a CI run cannot silently skip them.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit
from uuid import uuid4

import psycopg
import pytest
from psycopg import sql

URL_VAR = "OKRA_TEST_POSTGRES_URL"
HOW_TO_ENABLE = (
    f"PostgreSQL tests need a server: set {URL_VAR}=postgresql://user:password@127.0.0.1:5432/db, "
    "or install the server binaries (Debian: apt-get install postgresql) so the tests can "
    "start a throwaway one"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _binaries() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


@contextlib.contextmanager
def throwaway_server(bin_dir: Path) -> Iterator[str]:
    """Start a PostgreSQL server on 127.0.0.1 in a temporary folder; yield its URL."""
    folder = Path(tempfile.mkdtemp(prefix="okra-pg-"))
    data = folder / "data"
    run_as: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        user = pwd.getpwnam("postgres")
        os.chown(folder, user.pw_uid, user.pw_gid)
        run_as = ["runuser", "-u", "postgres", "--"]
    password_file = folder / "password"
    password_file.write_text("okra\n")
    if run_as:
        os.chown(password_file, pwd.getpwnam("postgres").pw_uid, -1)
    port = _free_port()

    def run(*args: str) -> None:
        subprocess.run([*run_as, *args], check=True, capture_output=True, text=True, timeout=120)

    try:
        run(
            str(bin_dir / "initdb"),
            "-D", str(data), "-U", "okra", f"--pwfile={password_file}",
            "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8",
        )  # fmt: skip
        options = (
            f"-c listen_addresses=127.0.0.1 -p {port} -k {folder} -c max_connections=300 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        run(str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l",
            str(folder / "log"), "-w", "-t", "60", "start")  # fmt: skip
        try:
            run(str(bin_dir / "createdb"), "-h", str(folder), "-p", str(port), "-U", "okra", "okra")
            yield f"postgresql://okra:okra@127.0.0.1:{port}/okra"
        finally:
            run(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def server() -> Iterator[str | None]:
    """The URL of a PostgreSQL server for this test session, or None (with why)."""
    url = os.environ.get(URL_VAR, "").strip()
    if url:
        host = urlsplit(url).hostname or ""
        assert host in {"127.0.0.1", "localhost", "::1"}, f"{URL_VAR} must be on loopback"
        yield url
        return
    bin_dir = _binaries()
    if bin_dir is None:
        yield None
        return
    with throwaway_server(bin_dir) as started:
        yield started


def skip_or_fail() -> None:
    """No server: skip, or fail under CI, where the tests must run."""
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(f"CI=true but no PostgreSQL server: {HOW_TO_ENABLE}")
    pytest.skip(HOW_TO_ENABLE)


@contextlib.contextmanager
def fresh_schema(base_url: str) -> Iterator[tuple[str, str]]:
    """A new empty schema on the server: yield ``(schema, store URL using it)``."""
    schema = f"t_{uuid4().hex[:16]}"
    yield schema, f"{base_url}?schema={schema}"
    with psycopg.connect(base_url, autocommit=True) as conn:
        conn.execute("SET lock_timeout = '10s'")
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
