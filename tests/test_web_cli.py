"""``okra token`` and ``okra serve``: tokens made, listed and revoked; a real server started."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result

from okra_adapters.cli import ExitCode, cli
from okra_adapters.web import TokenStore
from okra_adapters.web._roles import Role
from okra_adapters.web._users import UserStore
from okra_core import Okra, load_plugins

from .web_server import demo_store, free_port


def _run(
    tmp_path: Path,
    *args: str,
    code: int = 0,
    actor: str = "maria",
    given: str | None = None,
    store: str | None = None,
) -> Result:
    env = {
        "OKRA_STORE": None,
        "OKRA_WEB_TOKENS": str(tmp_path / "tokens.sqlite"),
        "OKRA_WEB_USERS": str(tmp_path / "users.sqlite"),
    }
    result = CliRunner(env=env).invoke(
        cli,
        ["--store", store or str(tmp_path / "okra.sqlite"), "--actor", actor, *args],
        obj=load_plugins(),
        input=given,
    )
    assert result.exit_code == code, (result.output, result.stderr, result.exception)
    assert "Traceback" not in result.output + result.stderr
    return result


def test_tokens_are_created_listed_and_revoked(tmp_path: Path) -> None:
    demo_store(tmp_path / "okra.sqlite")
    created = _run(tmp_path, "token", "create", "extension", "--as", "sam")
    first, secret = created.stdout.splitlines()
    assert first.startswith("created token ")
    assert "acting as sam" in first
    assert "cannot show it again" in created.stderr
    token_id = first.split()[2]
    file = TokenStore(tmp_path / "tokens.sqlite", f"sqlite:///{tmp_path / 'okra.sqlite'}")
    try:
        found = file.verify(secret)
        assert found is not None
        assert (found.actor, found.issued_by) == ("sam", "maria")
        raw = (tmp_path / "tokens.sqlite").read_bytes()
        assert secret.encode() not in raw  # only the hash is kept
    finally:
        file.close()

    listed = json.loads(_run(tmp_path, "token", "list", "--json").stdout)
    assert [(t["id"], t["name"], t["actor"], t["revoked_at"]) for t in listed] == [
        (token_id, "extension", "sam", None)
    ]
    _run(tmp_path, "token", "create", "extension", code=ExitCode.INVALID)  # name in use
    assert "revoked token" in _run(tmp_path, "token", "revoke", token_id, actor="lee").stdout
    text = _run(tmp_path, "token", "list").stdout
    assert "revoked" in text
    assert "by lee" in text
    missing = _run(tmp_path, "token", "revoke", token_id, code=ExitCode.NOT_FOUND)
    assert "no active token matches" in missing.stderr
    as_json = json.loads(_run(tmp_path, "token", "create", "ci", "--json").stdout)
    assert as_json["actor"] == "maria"
    assert len(as_json["token"]) >= 40


def test_tokens_of_one_store_do_not_open_another(tmp_path: Path) -> None:
    file = tmp_path / "tokens.sqlite"
    one = TokenStore(file, "sqlite:///one.sqlite")
    other = TokenStore(file, "sqlite:///other.sqlite")
    try:
        secret = one.issue("a", actor="ana", issued_by="ana").secret
        assert one.verify(secret) is not None
        assert other.verify(secret) is None
        assert other.tokens() == []
    finally:
        one.close()
        other.close()


@contextmanager
def _okra_serve(tmp_path: Path, url: str, *extra: str) -> Iterator[tuple[str, list[str]]]:
    """``okra serve`` in a subprocess on a free port: its base URL, then its output."""
    port = free_port()
    env = {
        **os.environ,
        "OKRA_WEB_TOKENS": str(tmp_path / "tokens.sqlite"),
        "OKRA_WEB_USERS": str(tmp_path / "users.sqlite"),
    }
    env.pop("OKRA_STORE", None)
    command = [sys.executable, "-c", "from okra_adapters.cli import main; main()"]
    args = ["--store", url, "--actor", "maria", "serve", "--port", str(port), *extra]
    server = subprocess.Popen(
        [*command, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    base = f"http://127.0.0.1:{port}"
    printed: list[str] = []
    try:
        for _ in range(300):
            try:
                httpx.get(f"{base}/static/okra.css", timeout=2)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.stderr.read() if server.stderr else ""
                time.sleep(0.1)
        else:
            pytest.fail("okra serve did not answer")
        yield base, printed
    finally:
        server.terminate()
        out, _ = server.communicate(timeout=20)
        printed.append(out)


def test_okra_serve_answers_on_loopback(tmp_path: Path) -> None:
    url, _ = demo_store(tmp_path / "okra.sqlite")
    with _okra_serve(tmp_path, url) as (base, printed):
        page = httpx.get(f"{base}/")
        assert page.status_code == 200
        assert "2026-Q3" in page.text
        doc = httpx.get(f"{base}/api/openapi.json").json()
        assert "/api/tasks" in doc["paths"]
    assert f"at {base}/ as maria" in printed[0]


def _team_of_two(tmp_path: Path) -> tuple[str, Any, int]:
    """The demo store with maria (admin) and vic (viewer): its URL, CSAT, the log's length."""
    url, _ = demo_store(tmp_path / "okra.sqlite")
    _add(tmp_path, "maria", "admin")
    _add(tmp_path, "vic", "viewer")
    with Okra(url) as okra:
        kr = next(k for k in okra.key_results() if k.title == "CSAT")
        return url, kr, sum(1 for _ in okra.history())


def test_okra_serve_for_a_team_signs_in_and_obeys_the_roles(tmp_path: Path) -> None:
    url, kr, before = _team_of_two(tmp_path)
    with _okra_serve(tmp_path, url, "--trust-header", "X-Forwarded-User") as (base, printed):
        with httpx.Client(base_url=base) as anonymous:
            assert anonymous.get("/").status_code == 303
        with httpx.Client(base_url=base, headers={"X-Forwarded-User": "vic"}) as vic:
            page = vic.get(f"/objectives/{kr.objective_id}")
            assert page.status_code == 200
            token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
            form = {"csrf_token": token, "value": "4.4"}
            assert vic.post(f"/key-results/{kr.id}/check-ins", data=form).status_code == 403
    assert "as signed-in users" in printed[0]
    with Okra(url) as okra:
        assert sum(1 for _ in okra.history()) == before


def test_okra_serve_without_the_web_extra_says_how_to_install_it(tmp_path: Path) -> None:
    script = "import sys; sys.modules['uvicorn'] = None; from okra_adapters.cli import main; main()"
    done = subprocess.run(
        [sys.executable, "-c", script, "--store", str(tmp_path / "x.sqlite"), "serve"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == ExitCode.SETUP
    assert "pip install 'okra[web]'" in done.stderr


# --- okra user -------------------------------------------------------------------------

PASSWORD = "a long enough secret"


def _add(tmp_path: Path, name: str, role: str, password: str = PASSWORD, **kw: Any) -> Result:
    """``okra user add NAME --role ROLE --password-stdin``."""
    args = ("user", "add", name, "--role", role, "--password-stdin")
    return _run(tmp_path, *args, given=password, **kw)


def _users(tmp_path: Path) -> UserStore:
    return UserStore(tmp_path / "users.sqlite", f"sqlite:///{tmp_path / 'okra.sqlite'}")


def test_users_are_added_listed_changed_and_removed(tmp_path: Path) -> None:
    demo_store(tmp_path / "okra.sqlite")
    first = _add(tmp_path, "lee", "viewer", code=ExitCode.INVALID)
    assert "expected admin for the first user" in first.stderr
    added = _add(tmp_path, "maria", "admin", PASSWORD + "\n")
    assert added.stdout.strip() == "added maria as admin"
    prompted = _run(
        tmp_path, "user", "add", "lee", "--role", "contributor", given=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert "added lee as contributor" in prompted.stdout
    short = _add(tmp_path, "sam", "viewer", "short", code=ExitCode.INVALID)
    assert "password" in short.stderr
    # Once there is a team, only its admins change it (the CLI acts as --actor).
    denied = _add(tmp_path, "sam", "viewer", actor="lee", code=ExitCode.DENIED)
    assert "only an admin may" in denied.stderr
    assert "lee is admin now" in _run(tmp_path, "user", "role", "lee", "admin").stdout
    assert "removed maria" in _run(tmp_path, "user", "remove", "maria", actor="lee").stdout
    last = _run(tmp_path, "user", "remove", "lee", actor="lee", code=ExitCode.INVALID)
    assert "last admin" in last.stderr
    listed = json.loads(_run(tmp_path, "user", "list", "--json", actor="lee").stdout)
    assert [(u["name"], u["role"], u["removed_by"]) for u in listed] == [
        ("maria", "admin", "lee"),
        ("lee", "admin", None),
    ]
    store = _users(tmp_path)
    try:
        assert store.sign_in("lee", PASSWORD) is not None
        assert store.sign_in("maria", PASSWORD) is None  # removed
        assert PASSWORD.encode() not in (tmp_path / "users.sqlite").read_bytes()
    finally:
        store.close()
    refusals = json.loads(_run(tmp_path, "user", "refusals", "--json", actor="lee").stdout)
    assert [(r["actor"], r["command"]) for r in refusals] == [("lee", "add users")]


def test_an_invitation_prints_a_one_time_link(tmp_path: Path) -> None:
    demo_store(tmp_path / "okra.sqlite")
    _add(tmp_path, "maria", "admin")
    made = _run(
        tmp_path,
        "user",
        "invite",
        "nia",
        "--role",
        "contributor",
        "--hours",
        "2",
        "--base-url",
        "https://okr.example.com/",
    )
    link = made.stdout.strip()
    assert link.startswith("https://okr.example.com/invite/")
    assert "works once" in made.stderr
    secret = link.rsplit("/", 1)[1]
    store = _users(tmp_path)
    try:
        found = store.invitation(secret)
        assert found is not None
        assert (found.name, found.role) == ("nia", Role.CONTRIBUTOR)
        assert secret.encode() not in (tmp_path / "users.sqlite").read_bytes()
        store.accept(secret, PASSWORD)
        assert store.invitation(secret) is None
    finally:
        store.close()
    taken = _run(tmp_path, "user", "invite", "nia", "--role", "viewer", code=ExitCode.INVALID)
    assert "is a user already" in taken.stderr


def test_the_cli_obeys_the_roles_of_a_team(tmp_path: Path) -> None:
    url, kr, before = _team_of_two(tmp_path)
    refused = _run(tmp_path, "checkin", str(kr.id), "4.4", actor="vic", code=ExitCode.DENIED)
    assert "'vic' may not check_in" in refused.stderr
    with Okra(url) as okra:
        assert sum(1 for _ in okra.history()) == before
    text = _run(tmp_path, "user", "refusals").stdout
    assert "vic (viewer)  check_in on key_result CSAT" in text


def _spellings(tmp_path: Path) -> list[str]:
    """Other URLs of the store at ``tmp_path/okra.sqlite``: ``//``, ``./``, a symlinked folder."""
    (tmp_path / "link").symlink_to(tmp_path, target_is_directory=True)
    return [
        f"sqlite:///{tmp_path}//okra.sqlite",
        f"sqlite:///{tmp_path}/./okra.sqlite",
        f"sqlite:///{tmp_path / 'link'}/okra.sqlite",
        f"sqlite:///{tmp_path / 'link'}/../{tmp_path.name}/okra.sqlite",
    ]


def test_the_team_does_not_depend_on_how_the_store_is_spelled(tmp_path: Path) -> None:
    url, kr, before = _team_of_two(tmp_path)
    for spelling in _spellings(tmp_path):
        listed = json.loads(_run(tmp_path, "user", "list", "--json", store=spelling).stdout)
        assert [u["name"] for u in listed] == ["maria", "vic"], spelling
        refused = _run(
            tmp_path,
            "checkin",
            str(kr.id),
            "4.4",
            actor="vic",
            store=spelling,
            code=ExitCode.DENIED,
        )
        assert "'vic' may not check_in" in refused.stderr
        with _okra_serve(tmp_path, spelling) as (base, printed):
            assert httpx.get(f"{base}/").status_code == 303  # sign in first
            assert httpx.get(f"{base}/api/cycles").status_code == 401
        assert "as signed-in users" in printed[0], spelling
    with Okra(url) as okra:
        assert sum(1 for _ in okra.history()) == before


def test_tokens_do_not_depend_on_how_the_store_is_spelled(tmp_path: Path) -> None:
    demo_store(tmp_path / "okra.sqlite")
    secret = _run(tmp_path, "token", "create", "ci").stdout.splitlines()[1]
    for spelling in _spellings(tmp_path):
        file = TokenStore(tmp_path / "tokens.sqlite", spelling)
        try:
            assert file.verify(secret) is not None, spelling
        finally:
            file.close()


def test_rows_kept_under_an_old_spelling_are_still_found(tmp_path: Path) -> None:
    demo_store(tmp_path / "okra.sqlite")
    old = f"sqlite:///{tmp_path}//okra.sqlite"
    _add(tmp_path, "maria", "admin")
    with sqlite3.connect(tmp_path / "users.sqlite") as db:  # as a former version kept them
        db.execute("update okra_web_users set store = ?", (old,))
    assert _run(tmp_path, "user", "list", "--json").stdout.strip() == "[]"  # another key
    listed = json.loads(_run(tmp_path, "user", "list", "--json", store=old).stdout)
    assert [u["name"] for u in listed] == ["maria"]  # found, and moved to the store's key
    listed = json.loads(_run(tmp_path, "user", "list", "--json").stdout)
    assert [u["name"] for u in listed] == ["maria"]


def test_a_postgresql_store_is_keyed_by_host_port_database_and_schema() -> None:
    from okra_adapters.web._tokens import store_key

    key = store_key("postgresql://okra:secret@DB.example.com/okra?schema=team")
    assert key == "postgresql://db.example.com:5432/okra?schema=team"
    assert store_key("postgresql://other@db.example.com:5432/okra?schema=team") == key
    assert store_key("postgresql://db.example.com/okra") != key
    assert "secret" not in key


def test_once_a_store_has_users_tokens_follow_the_roles(tmp_path: Path) -> None:
    demo_store(tmp_path / "okra.sqlite")
    _add(tmp_path, "maria", "admin")
    _add(tmp_path, "vic", "viewer")
    as_maria = _run(
        tmp_path,
        "token",
        "create",
        "vic-as-maria",
        "--as",
        "maria",
        actor="vic",
        code=ExitCode.DENIED,
    )
    assert "'vic' may not create tokens acting as 'maria': only an admin may" in as_maria.stderr
    stranger = _run(tmp_path, "token", "create", "mine", actor="root", code=ExitCode.DENIED)
    assert "'root' may not create tokens" in stranger.stderr
    _run(tmp_path, "token", "create", "for-lee", "--as", "lee")  # an admin, for anyone
    own = _run(tmp_path, "token", "create", "vic-own", actor="vic").stdout
    assert "acting as vic" in own
    listed = json.loads(_run(tmp_path, "token", "list", "--json").stdout)
    assert sorted(t["name"] for t in listed) == ["for-lee", "vic-own"]
    refused = _run(tmp_path, "token", "revoke", "for-lee", actor="vic", code=ExitCode.DENIED)
    assert "may not revoke the token 'for-lee' of lee" in refused.stderr
    _run(tmp_path, "token", "revoke", "vic-own", actor="vic")  # their own
    states = {
        t["name"]: t["revoked_by"]
        for t in json.loads(_run(tmp_path, "token", "list", "--json").stdout)
    }
    assert states == {"for-lee": None, "vic-own": "vic"}
    refusals = json.loads(_run(tmp_path, "user", "refusals", "--json").stdout)
    assert [(r["actor"], r["role"]) for r in refusals] == [
        ("vic", "viewer"),
        ("root", None),
        ("vic", "viewer"),
    ]


@pytest.mark.parametrize(
    "command",
    [
        ("user", "add", "boss", "--role", "admin", "--password-stdin"),
        ("user", "list"),
        ("user", "invite", "lee", "--role", "viewer"),
        ("token", "create", "ci"),
        ("token", "list"),
    ],
)
def test_a_store_that_is_not_there_gets_no_team_nor_tokens(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    typo = str(tmp_path / "fresh" / "typo.sqlite")
    refused = _run(tmp_path, *command, store=typo, given=PASSWORD, code=ExitCode.SETUP)
    assert f"there is no okra store at {typo}" in refused.stderr
    assert not (tmp_path / "users.sqlite").exists()
    assert not (tmp_path / "tokens.sqlite").exists()


def test_the_team_example_of_the_cli_docs_runs_as_written(tmp_path: Path) -> None:
    """Every command of docs/cli.md "A team", in order, answers as the page shows."""
    import shlex

    text = (Path(__file__).parent.parent / "docs" / "cli.md").read_text()
    block = text.split("## A team: `okra user`", 1)[1].split("```text\n", 1)[1].split("```")[0]
    lines = block.splitlines()
    demo_store(tmp_path / "okra.sqlite")
    actor = "root"  # whoever runs it, not on the team
    for at, line in enumerate(lines):
        if not line.startswith("$ "):
            continue
        command = line[2:].split("  #")[0].strip()
        if command.startswith("export OKRA_ACTOR="):
            actor = command.split("=", 1)[1]
            continue
        given = f"{PASSWORD}\n{PASSWORD}\n"
        if " | " in command:
            command, given = command.split(" | ", 1)[1], PASSWORD
        args = shlex.split(command)
        assert args[0] == "okra", line
        shown = lines[at + 1] if at + 1 < len(lines) else ""
        refused = shown.startswith("error: ")
        done = _run(
            tmp_path,
            *args[1:],
            actor=actor,
            given=given,
            code=ExitCode.DENIED if refused else 0,
        )
        if (
            not shown.startswith("$ ")
            and "..." not in shown
            and not any(c.isdigit() for c in shown)
        ):
            assert shown.removeprefix("error: ") in done.stdout + done.stderr, line


def test_pending_invitations_are_listed_and_cancelled(tmp_path: Path) -> None:
    demo_store(tmp_path / "okra.sqlite")
    _add(tmp_path, "maria", "admin")
    assert "no pending invitations" in _run(tmp_path, "user", "list", "--pending").stdout
    link = _run(tmp_path, "user", "invite", "vic", "--role", "viewer").stdout.strip()
    _run(tmp_path, "user", "invite", "nia", "--role", "contributor")
    listed = json.loads(_run(tmp_path, "user", "list", "--pending", "--json").stdout)
    assert [(p["name"], p["role"], p["invited_by"]) for p in listed] == [
        ("vic", "viewer", "maria"),
        ("nia", "contributor", "maria"),
    ]
    assert "vic  viewer  invited" in _run(tmp_path, "user", "list", "--pending").stdout
    denied = _run(tmp_path, "user", "uninvite", "vic", actor="root", code=ExitCode.DENIED)
    assert "only an admin may" in denied.stderr
    assert "cancelled the invitation of vic" in _run(tmp_path, "user", "uninvite", "vic").stdout
    listed = json.loads(_run(tmp_path, "user", "list", "--pending", "--json").stdout)
    assert [p["name"] for p in listed] == ["nia"]
    again = _run(tmp_path, "user", "uninvite", "vic", code=ExitCode.NOT_FOUND)
    assert "no pending invitation" in again.stderr
    store = _users(tmp_path)
    try:
        assert store.invitation(link.rsplit("/", 1)[1]) is None  # the link opens nothing
    finally:
        store.close()


def test_a_users_file_from_before_cancelled_invitations_still_opens(tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / "users.sqlite") as db:
        db.execute(
            "create table okra_web_invitations (store text not null, hash text primary key,"
            " name text not null, role text not null, invited_at text not null,"
            " invited_by text not null, expires_at text not null, used_at text)"
        )
    store = _users(tmp_path)
    try:
        store.add("maria", role=Role.ADMIN, password=PASSWORD, added_by="maria")
        made = store.invite("vic", role=Role.VIEWER, invited_by="maria")
        assert [p.name for p in store.pending()] == ["vic"]
        store.uninvite("vic", by="maria")
        assert store.invitation(made.secret) is None
    finally:
        store.close()
