"""``okra serve`` for a team, over real HTTP: sign-in, sessions, roles, invitations.

One uvicorn server on loopback serves the demo quarter (an SQLite file) with a
users file beside it: maria is an admin, lee and sam contributors, vic a viewer.
``$OKRA_WEB_USERS`` names that file for the module, so every ``Okra`` opened on
the store (the server's, and the ones the tests open) gets the team's roles from
the web plugin's access policy, as ``okra`` and Python would.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import httpx
import pytest

from okra_adapters.web import TokenStore, create_app
from okra_adapters.web._auth import FREE_FAILURES, SESSION_COOKIE, Throttle
from okra_adapters.web._roles import RULES, Role, Rule
from okra_adapters.web._users import SESSION_LIFETIME, UserStore
from okra_core import (
    Action,
    ActionStatus,
    KeyResult,
    Objective,
    Okra,
    PermissionDeniedError,
)

from .web_server import demo_store, run_app

PASSWORD = "correct horse battery"
TEAM = {"maria": Role.ADMIN, "lee": Role.CONTRIBUTOR, "sam": Role.CONTRIBUTOR, "vic": Role.VIEWER}


class Ticks:
    """A monotonic clock the tests move by hand, for the sign-in throttle."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@attrs.frozen
class Team:
    """A running server for the team, and its parts."""

    url: str
    okra: Okra
    users: UserStore
    tokens: TokenStore
    secrets: dict[str, str]  # an API token per user
    ticks: Ticks
    app: Any
    path: Path


@pytest.fixture(scope="module")
def team(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Team]:
    tmp = tmp_path_factory.mktemp("team")
    url, clock = demo_store(tmp / "okra.sqlite")
    users_path = tmp / "users.sqlite"
    users = UserStore(users_path, url)
    for name, role in TEAM.items():
        users.add(name, role=role, password=PASSWORD, added_by="maria")
    tokens = TokenStore(tmp / "tokens.sqlite", url)
    secrets = {n: tokens.issue(n, actor=n, issued_by="maria").secret for n in TEAM}
    ticks = Ticks()
    with pytest.MonkeyPatch.context() as env:
        env.setenv("OKRA_WEB_USERS", str(users_path))
        with Okra(url, clock=clock) as okra:
            app = create_app(
                okra,
                tokens,
                actor="serve-actor",
                users=users,
                trust_header="X-Forwarded-User",
                throttle=Throttle(clock=ticks),
            )
            with run_app(app) as base:
                yield Team(base, okra, users, tokens, secrets, ticks, app, users_path)
    tokens.close()
    users.close()


@pytest.fixture
def client(team: Team) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=team.url, follow_redirects=False) as c:
        yield c


def _csrf(client: httpx.Client, page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(page).text)
    assert found, f"{page} carries no CSRF token"
    return found.group(1)


def _sign_in(client: httpx.Client, name: str, password: str = PASSWORD) -> httpx.Response:
    token = _csrf(client, "/login")
    return client.post(
        "/login", data={"csrf_token": token, "name": name, "password": password, "next": "/tree"}
    )


def _log(okra: Okra) -> int:
    return sum(1 for _ in okra.history())


def _kr(okra: Okra, title: str) -> KeyResult:
    return next(k for k in okra.key_results() if k.title == title)


def _objective(okra: Okra, owner: str) -> Objective:
    return next(o for o in okra.objectives() if o.owner == owner)


def _placed(okra: Okra, owner: str) -> Action:
    return next(a for a in okra.actions() if a.owner == owner and a.status is ActionStatus.PLACED)


def _check_in_form(client: httpx.Client, okra: Okra, kr: KeyResult, value: str) -> httpx.Response:
    token = _csrf(client, f"/objectives/{kr.objective_id}")
    return client.post(
        f"/key-results/{kr.id}/check-ins", data={"csrf_token": token, "value": value}
    )


# --- signing in ------------------------------------------------------------------------


def test_every_page_needs_a_signed_in_person(team: Team, client: httpx.Client) -> None:
    kr = _kr(team.okra, "CSAT")
    for page in ("/", "/tree", f"/objectives/{kr.objective_id}?as_of=2026-08-01", "/bets"):
        response = client.get(page)
        assert response.status_code == 303, page
        assert response.headers["location"].startswith("/login?next=%2F"), page
    before = _log(team.okra)
    post = client.post(f"/key-results/{kr.id}/check-ins", data={"value": "4"})
    assert post.status_code == 303
    assert _log(team.okra) == before
    assert client.get("/static/okra.css").status_code == 200
    assert client.get("/login").status_code == 200
    api = client.get("/api/cycles")
    assert api.status_code == 401
    assert api.json()["fields"][0]["path"] == "authorization"
    as_vic = {"Authorization": f"Bearer {team.secrets['vic']}"}
    assert client.get("/api/cycles", headers=as_vic).status_code == 200


def test_signing_in_acts_as_the_person_and_signing_out_ends_the_session(
    team: Team, client: httpx.Client
) -> None:
    wrong = _sign_in(client, "lee", "not the password")
    assert wrong.status_code == 401
    assert "Wrong name or password" in wrong.text
    assert SESSION_COOKIE not in client.cookies
    signed = _sign_in(client, "lee")
    assert signed.status_code == 303
    assert signed.headers["location"] == "/tree"
    cookie = signed.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert f"Max-Age={int(SESSION_LIFETIME.total_seconds())}" in cookie
    assert "Secure" not in cookie  # plain http on loopback
    page = client.get("/")
    assert page.status_code == 200
    assert 'id="signed-in-name">lee<' in page.text
    assert client.get("/api/cycles").status_code == 200  # a session reads the API
    kr = _kr(team.okra, "Median first response time")  # sam's: any contributor checks in
    write = client.post(f"/api/key-results/{kr.id}/check-ins", json={"value": 3.9})
    assert write.status_code == 401  # but the API writes only with a token: no CSRF there
    assert _check_in_form(client, team.okra, kr, "3.9").status_code == 303
    assert team.okra.key_result(kr.id).check_ins[-1].actor == "lee"

    session = client.cookies[SESSION_COOKIE]
    out = client.post("/logout", data={"csrf_token": _csrf(client, "/")})
    assert out.status_code == 303
    assert out.headers["location"] == "/login"
    assert client.get("/").status_code == 303
    client.cookies.set(SESSION_COOKIE, session)  # the old cookie, kept by someone
    assert client.get("/").status_code == 303  # ended on the server, not only in the browser


def test_a_forged_or_expired_session_opens_nothing(team: Team, client: httpx.Client) -> None:
    assert _sign_in(client, "sam").status_code == 303
    real = client.cookies[SESSION_COOKIE]
    session, _, signature = real.partition(".")
    for forged in (f"{session}.{'0' * len(signature)}", f"x{session}.{signature}", session):
        client.cookies.set(SESSION_COOKIE, forged)
        assert client.get("/").status_code == 303, forged
    # A session started 13 hours ago, with no request since, has expired.
    earlier = UserStore(
        team.path, team.okra.url, now=lambda: datetime.now(UTC) - timedelta(hours=13)
    )
    sam = earlier.user("sam")
    assert sam is not None
    old = earlier.start_session(sam)
    client.cookies.set(SESSION_COOKIE, f"{old}.{_signature(team, old)}")
    assert client.get("/").status_code == 303
    earlier.close()


def _signature(team: Team, session: str) -> str:
    import hashlib
    import hmac

    return hmac.new(team.users.signing_key(), session.encode(), hashlib.sha256).hexdigest()


def test_a_session_is_renewed_by_use(team: Team, client: httpx.Client) -> None:
    earlier = UserStore(
        team.path, team.okra.url, now=lambda: datetime.now(UTC) - timedelta(hours=2)
    )
    sam = earlier.user("sam")
    assert sam is not None
    session = earlier.start_session(sam)
    earlier.close()
    client.cookies.set(SESSION_COOKIE, f"{session}.{_signature(team, session)}")
    response = client.get("/")
    assert response.status_code == 200
    assert f"Max-Age={int(SESSION_LIFETIME.total_seconds())}" in response.headers["set-cookie"]
    found = team.users.session(session)
    assert found is not None
    assert found[1] > datetime.now(UTC) + SESSION_LIFETIME - timedelta(minutes=1)
    again = client.get("/")  # just renewed: no new cookie on every request
    assert "set-cookie" not in again.headers or SESSION_COOKIE not in again.headers["set-cookie"]


def _in_process(
    team: Team,
    base: str,
    peer: tuple[str, int],
    calls: Callable[[httpx.AsyncClient], Any],
    headers: dict[str, str] | None = None,
) -> Any:
    """Call the app in this process as if from ``peer`` (uvicorn here has only loopback)."""

    async def run() -> Any:
        transport = httpx.ASGITransport(app=team.app, client=peer)
        async with httpx.AsyncClient(transport=transport, base_url=base, headers=headers) as client:
            return await calls(client)

    return asyncio.run(run())


def test_the_cookie_is_secure_over_https(team: Team) -> None:
    async def sign_in(client: httpx.AsyncClient) -> httpx.Response:
        page = (await client.get("/login")).text
        token = page.split('name="csrf_token" value="')[1].split('"')[0]
        data = {"csrf_token": token, "name": "vic", "password": PASSWORD}
        return await client.post("/login", data=data)

    response = _in_process(team, "https://127.0.0.1", ("127.0.0.1", 4321), sign_in)
    assert response.status_code == 303
    assert "Secure" in response.headers["set-cookie"]


def test_a_loopback_proxy_says_https_and_who_the_client_is(team: Team) -> None:
    async def sign_in(client: httpx.AsyncClient) -> list[httpx.Response]:
        page = (await client.get("/login")).text
        token = page.split('name="csrf_token" value="')[1].split('"')[0]
        answers = []
        for n in range(FREE_FAILURES + 1):  # each from another client of the proxy
            data = {"csrf_token": token, "name": f"nobody{n}", "password": "guess"}
            headers = {"X-Forwarded-For": f"198.51.100.{n}"}
            answers.append(await client.post("/login", data=data, headers=headers))
        data = {"csrf_token": token, "name": "vic", "password": PASSWORD}
        answers.append(await client.post("/login", data=data))
        return answers

    proxy = {"X-Forwarded-Proto": "https"}
    near = _in_process(team, "http://127.0.0.1", ("127.0.0.1", 4321), sign_in, proxy)
    assert [r.status_code for r in near[:-1]] == [401] * (FREE_FAILURES + 1)
    assert "Secure" in near[-1].headers["set-cookie"]
    far = _in_process(team, "http://127.0.0.1", ("203.0.113.8", 4321), sign_in, proxy)
    assert far[FREE_FAILURES].status_code == 429  # the headers of a stranger count for nothing
    assert far[-1].status_code == 429


def test_sign_in_needs_the_form_token(team: Team, client: httpx.Client) -> None:
    response = client.post("/login", data={"name": "maria", "password": PASSWORD})
    assert response.status_code == 403
    assert SESSION_COOKIE not in client.cookies


def test_an_open_redirect_is_not_offered(team: Team, client: httpx.Client) -> None:
    token = _csrf(client, "/login")
    for elsewhere in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        response = client.post(
            "/login",
            data={"csrf_token": token, "name": "vic", "password": PASSWORD, "next": elsewhere},
        )
        assert response.headers["location"] == "/", elsewhere


# --- the throttle ----------------------------------------------------------------------


@pytest.fixture
def throttled(team: Team) -> Iterator[tuple[httpx.Client, Ticks]]:
    """A server of its own, so that its counts do not slow the other tests."""
    ticks = Ticks()
    app = create_app(
        team.okra, team.tokens, actor="x", users=team.users, throttle=Throttle(clock=ticks)
    )
    with run_app(app) as base, httpx.Client(base_url=base) as client:
        yield client, ticks


def test_failed_sign_ins_for_a_name_are_slowed_more_each_time(
    throttled: tuple[httpx.Client, Ticks],
) -> None:
    client, ticks = throttled
    for _ in range(FREE_FAILURES):
        assert _sign_in(client, "maria", "guess").status_code == 401
    slowed = _sign_in(client, "maria")  # even the right password waits now
    assert slowed.status_code == 429
    first_wait = int(slowed.headers["retry-after"])
    assert first_wait > 0
    assert SESSION_COOKIE not in client.cookies
    ticks.now += first_wait
    assert _sign_in(client, "maria", "guess").status_code == 401
    second = _sign_in(client, "maria")
    assert second.status_code == 429
    assert int(second.headers["retry-after"]) == 2 * first_wait
    ticks.now += 2 * first_wait
    assert _sign_in(client, "maria").status_code == 303  # and the count starts again
    client.cookies.delete(SESSION_COOKIE)
    assert _sign_in(client, "maria", "guess").status_code == 401


def test_failed_sign_ins_from_one_address_are_slowed_whatever_the_name(
    throttled: tuple[httpx.Client, Ticks],
) -> None:
    client, _ = throttled
    for n in range(FREE_FAILURES):
        assert _sign_in(client, f"nobody{n}", "guess").status_code == 401
    assert _sign_in(client, "sam").status_code == 429


def test_the_throttle_counts_each_key_apart() -> None:
    ticks = Ticks()
    throttle = Throttle(base=10, ceiling=40, clock=ticks)
    for _ in range(FREE_FAILURES):
        assert throttle.wait("name:a", "address:1") == 0
        throttle.failed("name:a", "address:1")
    assert throttle.wait("name:a") == 10
    assert throttle.wait("name:b", "address:2") == 0
    for _ in range(4):
        throttle.failed("name:a")
    assert throttle.wait("name:a") == 40  # at the ceiling
    throttle.succeeded("name:a")
    assert throttle.wait("name:a") == 0
    assert throttle.wait("address:1") == 10


# --- a reverse proxy's header ----------------------------------------------------------


def test_a_proxy_on_loopback_names_the_user(team: Team, client: httpx.Client) -> None:
    page = client.get("/", headers={"X-Forwarded-User": "sam"})
    assert page.status_code == 200
    assert 'id="signed-in-name">sam<' in page.text
    assert client.get("/", headers={"X-Forwarded-User": "stranger"}).status_code == 303


def test_the_header_from_elsewhere_is_ignored(team: Team) -> None:
    async def home(client: httpx.AsyncClient) -> httpx.Response:
        return await client.get("/", headers={"X-Forwarded-User": "maria"})

    far = _in_process(team, "http://127.0.0.1", ("203.0.113.7", 4321), home)
    assert far.status_code == 303
    assert far.headers["location"].startswith("/login")
    near = _in_process(team, "http://127.0.0.1", ("127.0.0.1", 4321), home)
    assert near.status_code == 200
    assert 'id="signed-in-name">maria<' in near.text


# --- roles on the web and the API ------------------------------------------------------


def test_a_viewer_reads_and_is_refused_every_write(team: Team, client: httpx.Client) -> None:
    okra = team.okra
    assert _sign_in(client, "vic").status_code == 303
    assert client.get("/").status_code == 200
    kr = _kr(okra, "CSAT")
    before, refused = _log(okra), len(team.users.refusals())
    form = _check_in_form(client, okra, kr, "4.4")
    assert form.status_code == 403
    assert "&#39;vic&#39; may not check_in" in form.text.split('id="refused"')[1]
    page = client.get(f"/objectives/{kr.objective_id}").text
    cycle = client.get(f"/cycles/{okra.world().objective_of(kr).cycle_id}").text
    assert 'class="check-in-form"' not in page  # a viewer is offered no forms
    assert 'id="setup-link"' not in page
    assert ">set up</a>" not in cycle
    api = client.post(
        f"/api/key-results/{kr.id}/check-ins",
        json={"value": 4.4},
        headers={"Authorization": f"Bearer {team.secrets['vic']}"},
    )
    assert api.status_code == 403
    assert _log(okra) == before
    found = team.users.refusals()[refused:]
    assert [(r.actor, r.role, r.command, r.target) for r in found] == [
        ("vic", Role.VIEWER, "check_in", f"key_result {kr.title}")
    ] * 2


def test_a_contributor_is_offered_the_forms(team: Team, client: httpx.Client) -> None:
    okra = team.okra
    assert _sign_in(client, "lee").status_code == 303
    kr = _kr(okra, "CSAT")
    page = client.get(f"/objectives/{kr.objective_id}").text
    cycle = client.get(f"/cycles/{okra.world().objective_of(kr).cycle_id}").text
    assert 'class="check-in-form"' in page
    assert 'id="setup-link"' in page
    assert ">set up</a>" in cycle


def test_the_users_file_is_its_owners_only(team: Team, tmp_path: Path) -> None:
    assert team.path.stat().st_mode & 0o777 == 0o600
    fresh = UserStore(tmp_path / "fresh" / "users.sqlite", team.okra.url)
    fresh.close()
    assert (tmp_path / "fresh" / "users.sqlite").stat().st_mode & 0o777 == 0o600
    tokens = TokenStore(tmp_path / "fresh" / "tokens.sqlite", team.okra.url)
    tokens.close()
    assert (tmp_path / "fresh" / "tokens.sqlite").stat().st_mode & 0o777 == 0o600


def test_a_token_acts_with_its_actors_role(team: Team, client: httpx.Client) -> None:
    okra = team.okra
    as_lee = {"Authorization": f"Bearer {team.secrets['lee']}"}
    sams = _placed(okra, "maria")  # not lee's
    before = _log(okra)
    refused = client.post(f"/api/actions/{sams.id}/tasks", json={"title": "x"}, headers=as_lee)
    assert refused.status_code == 403
    assert _log(okra) == before
    own = _placed(okra, "lee")
    added = client.post(f"/api/actions/{own.id}/tasks", json={"title": "Proofread"}, headers=as_lee)
    assert added.status_code == 201, added.text
    assert _log(okra) == before + 1


def test_an_unknown_or_revoked_token_is_told_so(team: Team, client: httpx.Client) -> None:
    made = team.tokens.issue("short-lived", actor="vic", issued_by="maria")
    team.tokens.revoke(made.token.id, revoked_by="maria")
    for secret in (made.secret, "made-up"):
        read = client.get("/api/cycles", headers={"Authorization": f"Bearer {secret}"})
        assert read.status_code == 401
        assert read.json()["error"].startswith("unknown or revoked token")
        assert read.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    bare = client.get("/api/cycles")
    assert bare.status_code == 401
    assert "this store has a team" in bare.json()["error"]


# --- invitations -----------------------------------------------------------------------


def test_an_invitation_works_once_and_signs_the_person_in(team: Team, client: httpx.Client) -> None:
    invitation = team.users.invite("nia", role=Role.CONTRIBUTOR, invited_by="maria")
    link = f"/invite/{invitation.secret}"
    page = client.get(link)
    assert page.status_code == 200
    assert "nia" in page.text
    token = _csrf(client, link)
    mismatch = client.post(link, data={"csrf_token": token, "password": PASSWORD, "confirm": "x"})
    assert mismatch.status_code == 422
    assert (
        '<span class="error" data-field="confirm">expected the same password twice</span>'
        in mismatch.text
    )
    short = client.post(link, data={"csrf_token": token, "password": "short", "confirm": "short"})
    assert short.status_code == 422
    assert '<span class="error" data-field="password">expected a password of 10' in short.text
    assert "invalid input" not in short.text + mismatch.text
    assert team.users.user("nia") is None
    joined = client.post(
        link, data={"csrf_token": token, "password": PASSWORD, "confirm": PASSWORD}
    )
    assert joined.status_code == 303
    assert 'id="signed-in-name">nia<' in client.get("/").text
    user = team.users.user("nia")
    assert user is not None
    assert (user.role, user.added_by) == (Role.CONTRIBUTOR, "maria")
    assert client.get(link).status_code == 404  # once
    assert invitation.secret.encode() not in team.path.read_bytes()  # only its hash is kept


def test_an_expired_invitation_is_refused(team: Team, client: httpx.Client) -> None:
    earlier = UserStore(team.path, team.okra.url, now=lambda: datetime.now(UTC) - timedelta(days=4))
    old = earlier.invite("oli", role=Role.VIEWER, invited_by="maria", lifetime=timedelta(days=3))
    earlier.close()
    assert client.get(f"/invite/{old.secret}").status_code == 404
    assert client.get("/invite/made-up").status_code == 404


def test_a_removed_user_is_signed_out_at_once(team: Team, client: httpx.Client) -> None:
    team.users.add("rik", role=Role.VIEWER, password=PASSWORD, added_by="maria")
    assert _sign_in(client, "rik").status_code == 303
    assert client.get("/").status_code == 200
    team.users.remove("rik", by="maria")
    assert client.get("/").status_code == 303
    assert _sign_in(client, "rik").status_code == 401


# --- the rules, for every way in -------------------------------------------------------


def _commands(okra: Okra) -> dict[str, Callable[[str], object]]:
    """Real commands on the demo, each written so that only the role decides."""
    lees_kr = _kr(okra, "Self-service deflection rate")
    marias_kr = _kr(okra, "Net promoter score")
    lees_action = _placed(okra, "lee")
    cycle = okra.cycles()[0]
    return {
        "check_in on maria's": lambda who: okra.check_in(marias_kr, value=30, actor=who),
        "correct_check_in on lee's": lambda who: okra.correct_check_in(
            lees_kr.check_ins[-1].id, reason="typo", narrative=f"by {who}", actor=who
        ),
        "revise_objective lee's": lambda who: okra.revise_objective(
            lees_kr.objective_id, description=f"revised by {who}", actor=who
        ),
        "add_task on lee's": lambda who: okra.add_task(lees_action, f"by {who}", actor=who),
        "propose_action": lambda who: okra.propose_action(
            f"Try something, by {who}",
            key_results=[lees_kr.id],
            hypothesis="it helps",
            owner=who,
            investment=1,
            actor=who,
        ),
        "plan_cycle": lambda who: okra.plan_cycle(
            f"Next, by {who}",
            start=cycle.ends_at.date() + timedelta(days=1),
            end=cycle.ends_at.date() + timedelta(days=90),
            actor=who,
        ),
    }


ALLOWED = {
    "check_in on maria's": {"maria", "lee", "sam"},
    "correct_check_in on lee's": {"maria", "lee"},
    "revise_objective lee's": {"maria", "lee"},
    "add_task on lee's": {"maria", "lee"},
    "propose_action": {"maria", "lee", "sam"},
    "plan_cycle": {"maria"},
}


@pytest.mark.parametrize("command", sorted(ALLOWED))
@pytest.mark.parametrize("who", [*TEAM, "stranger"])
def test_each_role_against_real_commands(team: Team, command: str, who: str) -> None:
    # A store opened as okra or Python would: the roles come from the plugin's policy.
    with Okra(team.okra.url, clock=team.okra.clock) as okra:
        run = _commands(okra)[command]
        before, refusals = _log(okra), len(team.users.refusals())
        if who in ALLOWED[command]:
            run(who)
            assert _log(okra) > before
        else:
            with pytest.raises(PermissionDeniedError, match=f"'{who}' may not"):
                run(who)
            assert _log(okra) == before
            refusal = team.users.refusals()[refusals]
            assert (refusal.actor, refusal.role) == (who, TEAM.get(who))


def test_the_rules_name_every_command_okra_core_authorizes() -> None:
    source = Path(__file__).resolve().parent.parent / "src" / "okra_core" / "app"
    asked = set()
    for path in source.glob("*.py"):
        text = path.read_text()
        asked |= set(re.findall(r'authorize\(\s*actor,\s*"([a-z_]+)"', text))
        asked |= set(re.findall(r'(?:target|_changeable)\([^()]*,\s*actor,\s*"([a-z_]+)"\)', text))
    assert len(asked) > 25
    assert asked == set(RULES), asked ^ set(RULES)
    assert {r for c, r in RULES.items() if c in {"plan_cycle", "revise_playbook"}} == {Rule.ADMIN}


def test_with_no_users_serve_acts_as_its_actor(tmp_path: Path) -> None:
    url, clock = demo_store(tmp_path / "okra.sqlite")
    users = UserStore(tmp_path / "users.sqlite", url)
    tokens = TokenStore(":memory:", url)
    with Okra(url, clock=clock) as okra:
        app = create_app(okra, tokens, actor="solo", users=users)
        with run_app(app) as base, httpx.Client(base_url=base) as client:
            assert client.get("/").status_code == 200
            assert client.get("/login", follow_redirects=False).status_code == 303
            kr = _kr(okra, "CSAT")
            assert _check_in_form(client, okra, kr, "4.3").status_code == 303
            assert okra.key_result(kr.id).check_ins[-1].actor == "solo"
    tokens.close()
    users.close()
