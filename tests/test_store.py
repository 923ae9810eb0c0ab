"""Opening stores by URL, the default location, and isolation from stray settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from okra_core import Okra, ValidationError, default_store_url


@pytest.mark.parametrize(
    "url", ["postgres://x", "sqlite://host/file.db", "sqlite:///", "okra.sqlite", ""]
)
def test_bad_urls_are_refused(url: str) -> None:
    with pytest.raises(ValidationError) as info:
        Okra(url)
    assert info.value.paths == ("url",)


def test_default_store_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("OKRA_STORE", raising=False)
    monkeypatch.setenv("OKRA_HOME", str(tmp_path / "home"))
    assert default_store_url() == f"sqlite:///{tmp_path / 'home' / 'okra.sqlite'}"
    monkeypatch.setenv("OKRA_STORE", "memory://")
    assert default_store_url() == "memory://"
    with Okra() as okra:
        assert okra.url == "memory://"


def test_xdg_data_home_is_respected(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("OKRA_STORE", raising=False)
    monkeypatch.delenv("OKRA_HOME", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_store_url() == f"sqlite:///{tmp_path / 'okra' / 'okra.sqlite'}"


def test_sqlite_creates_the_folder_and_keeps_events(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "okra.sqlite"
    with Okra(f"sqlite:///{path}") as okra:
        okra.revise_playbook(check_in_cadence_days=14, reason="fortnightly", actor="ana")
    assert path.exists()
    with Okra(f"sqlite:///{path}") as okra:
        assert okra.playbook.settings.check_in_cadence_days == 14
        assert okra.playbook.version == 1


def test_stray_eventsourcing_variables_are_ignored(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # eventsourcing reads os.environ by default; okra must open what the URL says.
    monkeypatch.setenv("PERSISTENCE_MODULE", "eventsourcing.popo")
    monkeypatch.setenv("SQLITE_DBNAME", str(tmp_path / "elsewhere.sqlite"))
    path = tmp_path / "okra.sqlite"
    with Okra(f"sqlite:///{path}") as okra:
        okra.revise_playbook(check_in_cadence_days=14, reason="r", actor="ana")
    assert path.exists()
    assert not (tmp_path / "elsewhere.sqlite").exists()
