"""The plugin system: discovery, selection, checks, observers and the CLI.

Plugins that misbehave are real distributions made in a temporary folder (a
``.dist-info`` with an ``entry_points.txt`` and a module), found by the same
``importlib.metadata`` lookup as any installed plugin.
"""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
import textwrap
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

import attrs
import click
import pytest
from click.testing import CliRunner

from okra_adapters.cli import ExitCode, cli
from okra_core import (
    AccessPolicy,
    Authorizer,
    CliCommand,
    Event,
    Okra,
    PermissionDeniedError,
    PluginError,
    Plugins,
    StorageBackend,
    ValidationError,
    hookimpl,
    load_plugins,
)
from okra_core.plugins._installed import _plain_path, entry_points
from okra_core.plugins._installed import version as installed_version
from okra_core.testing import okra_plugins, plugin_registered

__all__ = ["okra_plugins"]  # the fixture, used below

BUILT_IN = {"memory", "sqlite", "postgresql"}


def make_distribution(
    site: Path, name: str, entry_points: dict[str, str], modules: dict[str, str]
) -> None:
    """Install a tiny distribution into ``site`` by writing its files."""
    info = site / f"{name.replace('-', '_')}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    lines = "".join(f"{k} = {v}\n" for k, v in entry_points.items())
    (info / "entry_points.txt").write_text(f"[okra]\n{lines}")
    for module, source in modules.items():
        (site / f"{module}.py").write_text(textwrap.dedent(source))


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "site"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.delenv("OKRA_PLUGINS", raising=False)
    return folder


# --- discovery -------------------------------------------------------------------------


def test_the_built_in_adapters_are_entry_point_plugins() -> None:
    plugins = load_plugins(environ={})
    infos = {i.name: i for i in plugins.info()}
    assert set(infos) >= BUILT_IN
    for name in BUILT_IN:
        assert infos[name].package == "okra"
        assert infos[name].hooks == ("okra_storage_backends",)
    assert set(plugins.storage_backends()) >= BUILT_IN
    assert plugins.problems == ()


def test_okra_plugins_json_lists_the_built_in_adapters() -> None:
    result = CliRunner().invoke(cli, ["plugins", "--json"], obj=load_plugins(environ={}))
    assert result.exit_code == 0, result.output
    listed = {p["name"]: p for p in json.loads(result.stdout)}
    assert set(listed) >= BUILT_IN
    assert listed["sqlite"]["hooks"] == ["okra_storage_backends"]
    assert listed["sqlite"]["version"]


def test_the_example_plugin_is_found_through_its_entry_point(tmp_path: Path) -> None:
    # A separate process, as a user would run it: nothing registered by this test.
    script = "from okra_adapters.cli import main; main()"
    env_free = {"OKRA_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    listing = subprocess.run(
        [sys.executable, "-c", script, "plugins", "--json"],
        capture_output=True,
        text=True,
        check=True,
        env=env_free,
    )
    example = next(p for p in json.loads(listing.stdout) if p["name"] == "example")
    assert example["package"] == "okra-example-plugin"
    assert example["hooks"] == [
        "okra_cli_commands",
        "okra_exporters",
        "okra_lint_rules",
        "okra_metric_sources",
    ]
    url = f"sqlite:///{tmp_path / 'lint.sqlite'}"
    with Okra(url) as okra:
        q = okra.plan_cycle("Q", start=date(2026, 1, 1), end=date(2026, 3, 31), actor="ana")
        goal = okra.draft_objective("Too broad", cycle=q, owner="ana", actor="ana")
        for i in range(6):
            okra.add_key_result(goal, f"KR {i}", metric=_milestone(), actor="ana")
    lint = subprocess.run(
        [sys.executable, "-c", script, "example-lint", url],
        capture_output=True,
        text=True,
        check=True,
        env=env_free,
    )
    assert "example.few-krs: 'Too broad' has 6 key results" in lint.stdout


def _milestone() -> Any:
    from okra_core import Milestone

    return Milestone()


def _importlib_entry_points(group: str) -> list[tuple[str, str, str, str]]:
    return [
        (ep.name, ep.value, ep.dist.name, ep.dist.version)
        for ep in importlib.metadata.entry_points(group=group)
        if ep.dist is not None
    ]


def _entry_points(group: str) -> list[tuple[str, str, str, str]]:
    return [(ep.name, ep.value, ep.package, ep.version) for ep in entry_points(group)]


def test_entry_points_are_found_as_importlib_metadata_finds_them(site: Path) -> None:
    # okra reads entry_points.txt itself (importlib.metadata is slow to import); the
    # same distributions, in the same order, the first of each name winning.
    make_distribution(site, "okra-twin", {"twin": "twin_plugin:hooks"}, {"twin_plugin": ""})
    later = site.parent / "later"
    make_distribution(later, "okra_twin", {"shadowed": "nowhere"}, {})
    sys.path.append(str(later))
    try:
        assert _plain_path()  # okra's own reading, not importlib's, is what is compared
        groups = {ep.group for d in importlib.metadata.distributions() for ep in d.entry_points}
        assert {"okra", "console_scripts"} <= groups
        for group in groups:
            assert _entry_points(group) == _importlib_entry_points(group), group
        assert ("twin", "twin_plugin:hooks", "okra-twin", "1.0") in _entry_points("okra")
        assert "shadowed" not in {ep.name for ep in entry_points("okra")}
        for dist in importlib.metadata.distributions():
            assert installed_version(dist.name) == dist.version, dist.name
        assert installed_version("okra-twin") == "1.0"
        assert installed_version("no-such-distribution") is None
    finally:
        sys.path.remove(str(later))


def test_a_zip_on_the_path_is_left_to_importlib_metadata(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = tmp_path / "plugins.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("zipped-2.0.dist-info/METADATA", "Name: zipped\nVersion: 2.0\n")
        zipped.writestr("zipped-2.0.dist-info/entry_points.txt", "[okra]\nzipped = zipped\n")
    monkeypatch.syspath_prepend(str(archive))
    assert not _plain_path()
    assert ("zipped", "zipped", "zipped", "2.0") in _entry_points("okra")
    assert _entry_points("okra") == _importlib_entry_points("okra")
    assert installed_version("zipped") == "2.0"


# --- choosing plugins with OKRA_PLUGINS -----------------------------------------------


def test_an_allow_list_loads_only_those() -> None:
    plugins = load_plugins(environ={"OKRA_PLUGINS": "sqlite, memory"})
    assert {i.name for i in plugins.info()} == {"sqlite", "memory"}


def test_a_block_list_loads_all_but_those() -> None:
    plugins = load_plugins(environ={"OKRA_PLUGINS": "-postgresql"})
    names = {i.name for i in plugins.info()}
    assert "postgresql" not in names
    assert {"sqlite", "memory"} <= names


def test_allowing_and_blocking_at_once_is_refused() -> None:
    with pytest.raises(PluginError, match="not both"):
        load_plugins(environ={"OKRA_PLUGINS": "sqlite,-memory"})


def test_allowing_a_plugin_that_is_not_installed_is_reported() -> None:
    plugins = load_plugins(environ={"OKRA_PLUGINS": "sqlite,sqlit"})
    assert [(p.plugin, "no installed plugin" in p.message) for p in plugins.problems] == [
        ("sqlit", True)
    ]


def test_a_blocked_backend_names_the_scheme_the_choice_and_what_is_installed() -> None:
    plugins = load_plugins(environ={"OKRA_PLUGINS": "sqlite"})
    with pytest.raises(ValidationError) as info:
        Okra("memory://", plugins=plugins)
    assert info.value.paths == ("url",)
    message = str(info.value)
    assert "no storage backend for memory://" in message
    assert "OKRA_PLUGINS='sqlite'" in message
    assert "installed: sqlite (sqlite:///okra.sqlite)" in message


def test_no_plugins_at_all_still_explains() -> None:
    with pytest.raises(ValidationError, match="installed: none"):
        Okra("sqlite:///x.sqlite", plugins=load_plugins(environ={"OKRA_PLUGINS": ""}))


# --- plugins that misbehave ----------------------------------------------------------------


def test_a_plugin_that_fails_to_import_is_reported_and_okra_works(site: Path) -> None:
    make_distribution(site, "broken", {"broken": "okra_broken"}, {"okra_broken": "1 / 0\n"})
    plugins = load_plugins()
    assert [p.plugin for p in plugins.problems] == ["broken"]
    assert "cannot be imported from okra_broken (ZeroDivisionError" in str(plugins.problems[0])
    with Okra("memory://", plugins=plugins) as okra:
        assert okra.cycles() == []


def test_a_plugin_returning_something_invalid_is_reported(site: Path) -> None:
    source = """
        from okra_core import hookimpl

        @hookimpl
        def okra_storage_backends():
            return ["not a backend"]
    """
    make_distribution(site, "odd", {"odd": "okra_odd"}, {"okra_odd": source})
    plugins = load_plugins()
    assert "sqlite" in plugins.storage_backends()
    [problem] = plugins.problems
    assert problem.plugin == "odd"
    assert "expected a StorageBackend" in problem.message


def test_a_plugin_whose_descriptor_is_malformed_is_reported(site: Path) -> None:
    source = """
        from okra_core import StorageBackend, hookimpl

        @hookimpl
        def okra_storage_backends():
            return [StorageBackend(scheme="Bad Scheme://", description="x", settings=dict)]
    """
    make_distribution(
        site, "malformed", {"malformed": "okra_malformed"}, {"okra_malformed": source}
    )
    plugins = load_plugins()
    plugins.storage_backends()
    [problem] = plugins.problems
    assert problem.plugin == "malformed"
    assert "StorageBackend.scheme: expected a lowercase URL scheme" in problem.message


def test_a_misspelt_hook_fails_loudly(site: Path) -> None:
    source = """
        from okra_core import hookimpl

        @hookimpl
        def okra_storage_backend():
            return []
    """
    make_distribution(site, "typo", {"typo": "okra_typo"}, {"okra_typo": source})
    plugins = load_plugins()
    [problem] = plugins.problems
    assert problem.plugin == "typo"
    assert "okra_storage_backend, which is no okra hook" in problem.message
    assert "typo" not in {i.name for i in plugins.info()}


def test_a_hook_with_arguments_it_is_not_offered_is_refused() -> None:
    class Wrong:
        @hookimpl
        def okra_event_recorded(self, evnt: Event) -> None:
            pass

    with pytest.raises(PluginError, match=r"'Wrong'.*evnt"):
        load_plugins(Wrong(), entry_points=False)


def test_an_unmarked_misspelling_is_caught_too() -> None:
    class Plugin:
        def okra_stared(self) -> None:
            pass

    with pytest.raises(PluginError, match="okra_stared, which is no okra hook"):
        load_plugins(Plugin(), entry_points=False)


def test_two_plugins_with_one_name_name_both(site: Path) -> None:
    make_distribution(site, "impostor", {"sqlite": "okra_impostor"}, {"okra_impostor": ""})
    plugins = load_plugins()
    [problem] = plugins.problems
    assert problem.plugin == "sqlite"
    assert "okra_adapters.storage.sqlite (from okra)" in problem.message
    assert "okra_impostor (from impostor)" in problem.message


def _no_settings(url: str) -> dict[str, str]:
    return {}


def test_two_plugins_serving_one_scheme_name_both() -> None:
    class Rival:
        @hookimpl
        def okra_storage_backends(self) -> list[StorageBackend]:
            return [StorageBackend(scheme="sqlite", description="mine", settings=_no_settings)]

    plugins = load_plugins()
    plugins.register(Rival(), name="rival")
    with pytest.raises(PluginError) as info:
        Okra("memory://", plugins=plugins)
    assert "storage backend 'sqlite': 'sqlite' and 'rival'" in str(info.value)


def test_registering_two_plugins_under_one_name_is_refused() -> None:
    class A:
        pass

    plugins = load_plugins(entry_points=False)
    plugins.register(A(), name="same")
    with pytest.raises(PluginError, match="two plugins claim the name 'same'"):
        plugins.register(A(), name="same")


# --- observers ----------------------------------------------------------------------------


@attrs.define
class Observer:
    seen: list[str] = attrs.Factory(list)
    started: list[str] = attrs.Factory(list)

    @hookimpl
    def okra_event_recorded(self, okra: Okra, event: Event) -> None:
        self.seen.append(type(event).wire_name)

    @hookimpl
    def okra_started(self, okra: Okra) -> None:
        self.started.append(okra.url)


class Failing:
    @hookimpl
    def okra_event_recorded(self) -> None:
        raise RuntimeError("the mail server is down")


def test_observers_see_each_recorded_event_and_one_failing_does_not_stop_others() -> None:
    observer = Observer()
    plugins = load_plugins()
    plugins.register(Failing(), name="failing")
    plugins.register(observer, name="observer")
    with Okra("memory://", plugins=plugins) as okra:
        q = okra.plan_cycle("Q", start=date(2026, 1, 1), end=date(2026, 3, 31), actor="ana")
        okra.start_cycle(q, actor="ana")
        assert observer.seen == ["okra.cycle.planned", "okra.cycle.started"]
        assert okra.cycle(q).status.value == "active"  # the failure did not undo anything
    assert [str(p) for p in plugins.problems] == [
        "plugin 'failing': okra_event_recorded raised RuntimeError: the mail server is down"
    ]


def test_a_refused_command_records_and_announces_nothing() -> None:
    observer = Observer()
    with plugin_registered(observer) as plugins, Okra("memory://", plugins=plugins) as okra:
        with pytest.raises(ValidationError):
            okra.plan_cycle("", start=date(2026, 1, 1), end=date(2026, 3, 31), actor="ana")
        assert observer.seen == []


class Gatekeepers:
    """Two access policies: ana may not close cycles; another says nothing of this store."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    @hookimpl
    def okra_access_policies(self) -> list[AccessPolicy]:
        def no_closing_for_ana(actor: str, command: str, target: object) -> bool:
            return not (actor == "ana" and command == "close_cycle")

        def for_url(url: str) -> Authorizer | None:
            self.asked.append(url)
            return no_closing_for_ana

        return [
            AccessPolicy(name="test.no-closing", authorizer_for=for_url),
            AccessPolicy(name="test.silent", authorizer_for=lambda url: None),
        ]


def test_access_policies_decide_unless_an_authorizer_is_given() -> None:
    gate = Gatekeepers()
    with plugin_registered(gate) as plugins:
        with Okra("memory://", plugins=plugins) as okra:
            q = okra.plan_cycle("Q", start=date(2026, 1, 1), end=date(2026, 3, 31), actor="ana")
            okra.start_cycle(q, actor="ana")
            written = sum(1 for _ in okra.history())
            with pytest.raises(PermissionDeniedError, match="'ana' may not close_cycle"):
                okra.close_cycle(q, actor="ana")
            assert sum(1 for _ in okra.history()) == written
            okra.close_cycle(q, actor="bo")
        assert gate.asked == ["memory://"]
        with Okra("memory://", plugins=plugins, authorizer=lambda a, c, t: True) as okra:
            q = okra.plan_cycle("Q", start=date(2026, 1, 1), end=date(2026, 3, 31), actor="ana")
            okra.start_cycle(q, actor="ana")
            okra.close_cycle(q, actor="ana")  # the given authorizer replaces the policies


def test_started_is_historic_so_a_late_plugin_still_hears_it() -> None:
    early, late = Observer(), Observer()
    plugins = load_plugins(early)
    with Okra("memory://", plugins=plugins):
        assert early.started == ["memory://"]
        plugins.register(late, name="late")
        assert late.started == ["memory://"]


# --- contributions -------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class NoteWritten(Event):
    """A plugin's own event type."""

    wire_name = "test.note.written"
    text: str


class Notes:
    @hookimpl
    def okra_event_types(self) -> list[type[Event]]:
        return [NoteWritten]


def test_plugin_event_types_join_the_registry(okra_plugins: Plugins) -> None:
    okra_plugins.register(Notes())
    assert "test.note.written" in okra_plugins.event_registry()
    assert "test.note.written" not in load_plugins().event_registry()  # nothing leaked


def test_a_plugin_command_joins_the_okra_command_line(okra_plugins: Plugins) -> None:
    @click.command("hello")
    def hello() -> None:
        click.echo("hello from a plugin")

    class Hello:
        @hookimpl
        def okra_cli_commands(self) -> list[CliCommand]:
            return [CliCommand(name="hello", command=hello)]

    okra_plugins.register(Hello(), name="hello-plugin")
    result = CliRunner().invoke(cli, ["hello"], obj=okra_plugins)
    assert result.output == "hello from a plugin\n"
    assert "hello" in CliRunner().invoke(cli, ["--help"], obj=okra_plugins).output


def test_a_plugin_command_cannot_replace_an_okra_command(okra_plugins: Plugins) -> None:
    @click.command("demo")
    def fake_demo() -> None:
        click.echo("not the demo")

    class Sneaky:
        @hookimpl
        def okra_cli_commands(self) -> list[CliCommand]:
            return [CliCommand(name="demo", command=fake_demo)]

    okra_plugins.register(Sneaky(), name="sneaky")
    result = CliRunner().invoke(cli, ["plugins"], obj=okra_plugins)
    assert result.exit_code == ExitCode.SETUP
    assert "plugin 'sneaky': command 'demo' is one of okra's own" in result.stderr


def test_plugin_registered_unregisters_afterwards() -> None:
    plugins = load_plugins()
    with plugin_registered(Observer(), name="temporary", plugins=plugins):
        assert "temporary" in {i.name for i in plugins.info()}
    assert "temporary" not in {i.name for i in plugins.info()}


# --- the plugin author's guide ------------------------------------------------------------

GUIDE = Path(__file__).resolve().parent.parent / "docs" / "plugins.md"


def _hooks() -> list[Any]:
    from okra_core import hookspecs

    return [getattr(hookspecs, n) for n in hookspecs.__all__ if n.startswith("okra_")]


def _signature(hook: Any) -> str:
    """``def name(arg: Type, ...) -> Return`` from the spec's (string) annotations."""
    notes = dict(hook.__annotations__)
    returns = notes.pop("return")
    params = ", ".join(f"{name}: {kind}" for name, kind in notes.items())
    return f"def {hook.__name__}({params}) -> {returns}"


def test_every_hook_has_a_section_with_its_exact_signature() -> None:
    text = GUIDE.read_text()
    sections = {part.split("\n", 1)[0].strip(): part for part in text.split("\n### ")[1:]}
    for hook in _hooks():
        assert hook.__name__ in sections, f"docs/plugins.md has no section for {hook.__name__}"
        assert f"```python\n{_signature(hook)}\n```" in sections[hook.__name__], hook.__name__


def test_the_guide_documents_no_hook_that_does_not_exist() -> None:
    names = {hook.__name__ for hook in _hooks()}
    documented = {
        line.removeprefix("### ").strip()
        for line in GUIDE.read_text().splitlines()
        if line.startswith("### okra_")
    }
    assert documented == names


def test_every_hook_spec_has_an_example() -> None:
    for hook in _hooks():
        assert "Example:" in (hook.__doc__ or ""), hook.__name__
