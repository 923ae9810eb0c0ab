"""A newcomer's first five minutes, in the real ``okra`` script.

Values as people type them (``42%``, ``done``, ``yesterday``), errors in plain
words with one exit status for a bad value, global options after the command,
"did you mean" for a mistyped title, and warnings (not refusals) for a check-in
that looks wrong.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from okra_adapters.cli import ExitCode
from okra_core import (
    Change,
    Milestone,
    NotFoundError,
    Okra,
    ValidationError,
    did_you_mean,
    parse_instant,
    parse_value,
)

_SCRIPT = Path(sys.executable).with_name("okra")
OKRA = (
    [str(_SCRIPT)]
    if _SCRIPT.exists()
    else [sys.executable, "-c", "from okra_adapters.cli import main; main()"]
)
TODAY = datetime.now(UTC).date()


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """A store with cycle Q (started 30 days ago), objective "Reduce churn", three KRs."""
    path = tmp_path / "okra.sqlite"
    with Okra(f"sqlite:///{path}") as okra:
        q = okra.plan_cycle(
            "Q", start=TODAY - timedelta(days=30), end=TODAY + timedelta(days=60), actor="lee"
        )
        okra.start_cycle(q, actor="lee")
        goal = okra.draft_objective("Reduce churn", cycle=q, owner="lee", actor="lee")
        okra.add_key_result(
            goal, "Churn", metric=Change(baseline=8, target=4), unit="%", actor="lee"
        )
        okra.add_key_result(
            goal, "Reply time", metric=Change(baseline=24, target=4), unit="h", actor="lee"
        )
        okra.add_key_result(goal, "Launch", metric=Milestone(), actor="lee")
        okra.activate_objective(goal, actor="lee")
    return path


def okra(store: Path, *args: str, code: int = 0) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OKRA_STORE": str(store), "COLUMNS": "160"}
    env.pop("OKRA_ACTOR", None)
    env.pop("OKRA_PLUGINS", None)
    done = subprocess.run(
        [*OKRA, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == code, (args, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    return done


def values(store: Path, title: str) -> list[tuple[float, str]]:
    with Okra(f"sqlite:///{store}") as o:
        return [(c.value, c.actor) for c in o.key_result(title).check_ins]


def count(store: Path) -> int:
    with Okra(f"sqlite:///{store}") as o:
        return sum(1 for _ in o.history())


def test_values_as_people_type_them(store: Path) -> None:
    okra(store, "checkin", "Churn", "42%", "--actor", "sam")
    okra(store, "checkin", "Reply time", "1,250.5", "--actor=sam")
    okra(store, "checkin", "Launch", "not", "done", "--actor", "sam")
    okra(store, "checkin", "Launch", "done", "--at", "yesterday", "--actor", "sam")
    assert values(store, "Churn") == [(42.0, "sam")]
    assert values(store, "Reply time") == [(1250.5, "sam")]
    with Okra(f"sqlite:///{store}") as o:
        launch = o.key_result("Launch").check_ins
    assert [c.value for c in launch] == [1.0, 0.0]  # by effective time: yesterday first
    assert launch[0].effective_at.date() == TODAY - timedelta(days=1)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("Churn", "abc"), "VALUE: expected a number such as 42 or 42%, got 'abc'"),
        (("Reply time", "42%"), "got '42%', a percentage, but this key result is measured in h"),
        (("Launch", "maybe"), "VALUE: expected done or not done for a milestone, got 'maybe'"),
        (("Churn", "5", "-c", "11"), "--confidence: expected a number from 0 to 10"),
        (("Churn", "5", "--at", "soon"), "--at: expected a date such as today, yesterday"),
        (("Churn", "5", "--at", "2100-01-01"), "--at: expected a time no later than now"),
        (("Churn", "5", "--at", "2999-01-01"), "--at: expected a date between the years 1900"),
    ],
)
def test_a_bad_value_exits_3_in_plain_words_and_writes_nothing(
    store: Path, args: tuple[str, ...], message: str
) -> None:
    before = count(store)
    done = okra(store, "checkin", *args, code=ExitCode.INVALID)
    assert message in done.stderr
    assert "float" not in done.stderr
    assert count(store) == before


def test_global_options_after_the_command(store: Path, tmp_path: Path) -> None:
    other = tmp_path / "elsewhere.sqlite"
    okra(store, "init", "--store", str(other))
    assert other.exists()
    okra(store, "checkin", "Churn", "7", "--actor", "ana")
    assert values(store, "Churn") == [(7.0, "ana")]
    # A command's own --actor keeps its meaning: okra audit --actor filters.
    audit = okra(store, "audit", "--actor", "ana", "--json").stdout
    assert '"actor": "ana"' in audit
    assert '"actor": "lee"' not in audit


def test_a_mistyped_title_gets_a_suggestion(store: Path) -> None:
    done = okra(store, "checkin", "Chrun", "5", code=ExitCode.NOT_FOUND)
    assert "did you mean 'Churn'?" in done.stderr
    with Okra(f"sqlite:///{store}") as o, pytest.raises(NotFoundError) as info:
        o.objective("reduce chrun")
    assert "did you mean 'Reduce churn'?" in str(info.value)


def test_odd_check_ins_are_recorded_with_a_warning(store: Path) -> None:
    early = (TODAY - timedelta(days=40)).isoformat()
    done = okra(store, "checkin", "Churn", "-3", "--at", early)
    assert done.stderr.splitlines() == [
        f"warning: it is dated {early}, before its cycle Q starts ({TODAY - timedelta(days=30)})",
        "warning: -3 % is below 0%, which a percentage can hardly be",
    ]
    assert [v for v, _ in values(store, "Churn")] == [-3.0]
    plain = okra(store, "checkin", "Churn", "6")
    assert plain.stderr == ""


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12))
def test_a_number_reads_back_as_itself(number: float) -> None:
    assert parse_value(repr(number)) == number
    assert parse_value(f"{number!r}%", unit="%") == number


def _refusal(text: str) -> ValidationError | None:
    try:
        parse_value(text)
    except ValidationError as exc:
        return exc
    return None


@given(st.text(max_size=30))
def test_any_text_is_a_number_or_a_plain_refusal(text: str) -> None:
    refused = _refusal(text)
    if refused is not None:
        assert refused.paths == ("value",)
        message = refused.errors[0].message
        assert "expected a number" in message or "a percentage" in message


def test_dates_as_people_type_them() -> None:
    now = datetime(2026, 7, 14, 9, 30, tzinfo=UTC)
    assert parse_instant("today", now=now) == now.date()
    assert parse_instant("Yesterday", now=now) == now.date() - timedelta(days=1)
    assert parse_instant("3 days ago", now=now) == now.date() - timedelta(days=3)
    assert parse_instant("2 weeks ago", now=now) == now.date() - timedelta(days=14)
    assert parse_instant("2026-07-01T08:00", now=now) == datetime(2026, 7, 1, 8, tzinfo=UTC)
    with pytest.raises(ValidationError, match="expected a date such as today"):
        parse_instant("next tuesday", now=now)


def test_did_you_mean_names_at_most_three_close_titles() -> None:
    titles = ["Reduce churn", "Reduce chum", "Reduce chart", "Reduce chore", "Grow"]
    suggestion = did_you_mean("reduce chrn", titles)
    assert suggestion.startswith("did you mean 'Reduce churn'")
    assert suggestion.count(" or ") <= 2
    assert did_you_mean("zzz", titles) == ""
