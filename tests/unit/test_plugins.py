"""Connector plug-ins: discovery, loading, config validation and building, with real distributions.

The plug-ins here are installed for real, as far as `importlib.metadata` can tell: a directory on
`sys.path` holding a package and its ``*.dist-info`` (METADATA and entry_points.txt), which is what
pip leaves behind. Nothing about discovery is patched.
"""

from __future__ import annotations

import json
import sys
import textwrap
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest

from connectors.catalog import (
    BUILTIN,
    DEPARTMENTS,
    build_connector,
    department_record_model,
    record_model_for,
    record_models,
)
from connectors.http import HttpConnector
from connectors.plugins import (
    ENTRY_POINT_GROUP,
    PluginError,
    RegistryApiPlugin,
    check_plugin,
    describe_installed,
    find_plugin,
    installed_plugins,
    load_plugin,
)
from connectors.records import RECORD_MODELS, CommerceRecord, EnvironmentRecord, SubjectRecord
from connectors.settings import ConnectorSettings
from gateway.cli import main
from gateway.config_files import ConfigError
from gateway.services import Services
from gateway.settings import Settings, settings_from_dict

MODULE = "fake_credit_plugins"

PLUGIN_SOURCE = '''
from __future__ import annotations

from typing import ClassVar

from connectors.http import HttpConnector
from connectors.plugins import RegistryApiPlugin
from connectors.records import CommerceRecord, SubjectRecord


class MarineRecord(SubjectRecord):
    department: ClassVar[str] = "marine"


class LegacyCommerceRecord(CommerceRecord):
    pass


class StrictPlugin:
    """Validates its options as a plug-in must: refuses what it does not know."""

    record_model = MarineRecord

    def build(self, department, settings, session):
        unknown = set(settings.options) - {"region"}
        if unknown:
            raise ValueError(f"unknown options: {', '.join(sorted(unknown))}")
        return HttpConnector(department, settings, session, self.record_model)


class NotAConnector:
    record_model = MarineRecord

    def build(self, department, settings, session):
        return object()


class OtherDepartment:
    record_model = MarineRecord

    def build(self, department, settings, session):
        return HttpConnector("commerce", settings, session, self.record_model)


class WrongSignature:
    record_model = MarineRecord

    def build(self, department):
        raise AssertionError("never called")


marine = StrictPlugin()
legacy_commerce = RegistryApiPlugin(LegacyCommerceRecord)
not_a_subclass = RegistryApiPlugin(MarineRecord)
no_build = type("NoBuild", (), {"record_model": MarineRecord})()
bad_model = type("BadModel", (), {"record_model": dict, "build": StrictPlugin.build})()
not_a_connector = NotAConnector()
other_department = OtherDepartment()
wrong_signature = WrongSignature()
'''

ENTRY_POINTS = {
    "marine": "marine",
    "legacy-commerce": "legacy_commerce",
    "not-a-subclass": "not_a_subclass",
    "no-build": "no_build",
    "bad-model": "bad_model",
    "not-a-connector": "not_a_connector",
    "other-department": "other_department",
    "wrong-signature": "wrong_signature",
}


def install(site: Path, distribution: str, version: str, entry_points: dict[str, str]) -> None:
    """Leave what pip would: the distribution's metadata and its entry points, in `site`."""
    info = site / f"{distribution.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {distribution}\nVersion: {version}\n", encoding="utf-8"
    )
    lines = "\n".join(f"{name} = {value}" for name, value in entry_points.items())
    (info / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\n{lines}\n", encoding="utf-8")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = tmp_path_factory.mktemp("site")
    (site / MODULE).mkdir()
    (site / MODULE / "__init__.py").write_text(textwrap.dedent(PLUGIN_SOURCE), encoding="utf-8")
    entries = {name: f"{MODULE}:{attribute}" for name, attribute in ENTRY_POINTS.items()}
    entries["missing-module"] = "no_such_module_anywhere:plugin"
    entries["missing-attribute"] = f"{MODULE}:no_such_attribute"
    install(site, "fake-credit-plugins", "1.2.0", entries)
    return site


@pytest.fixture
def plugins(site: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The fake plug-ins installed (on sys.path) for one test."""
    monkeypatch.syspath_prepend(str(site))
    yield site
    for name in [name for name in sys.modules if name.startswith(MODULE)]:
        del sys.modules[name]


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


def settings(**connectors: dict[str, object]) -> Settings:
    return settings_from_dict(
        {
            "audit": {"url": "sqlite:///:memory:"},
            "connectors": {
                key: {"base_url": "http://127.0.0.1:9", **table}
                for key, table in connectors.items()
            },
        }
    )


def config(**table: object) -> ConnectorSettings:
    return ConnectorSettings.model_validate({"base_url": "http://127.0.0.1:9", **table})


# -- discovery and loading ------------------------------------------------------------------------


def test_installed_plugins_are_listed_without_importing_them(plugins: Path) -> None:
    listed = {info.name: info for info in installed_plugins()}
    assert set(ENTRY_POINTS) | {"missing-module", "missing-attribute"} <= set(listed)
    marine = listed["marine"]
    assert (marine.value, marine.distribution, marine.version) == (
        f"{MODULE}:marine",
        "fake-credit-plugins",
        "1.2.0",
    )
    assert marine.origin == f"entry point 'marine' ({MODULE}:marine) of fake-credit-plugins 1.2.0"
    assert MODULE not in sys.modules


def test_plugins_are_found_only_where_installed() -> None:
    assert all(info.distribution != "fake-credit-plugins" for info in installed_plugins())


def test_a_plugin_is_loaded_and_checked(plugins: Path) -> None:
    loaded = load_plugin("marine")
    assert loaded.info.name == "marine"
    assert loaded.record_model.__name__ == "MarineRecord"
    assert loaded.record_model.department == "marine"
    assert issubclass(loaded.record_model, SubjectRecord)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("nosuch", "no connector plug-in 'nosuch' is installed; installed plug-ins: "),
        ("missing-module", "failed to import: ModuleNotFoundError: No module named"),
        ("missing-attribute", "failed to import: AttributeError"),
        ("no-build", "is not a ConnectorPlugin: it has no `build` method"),
        ("bad-model", "`record_model` must be a subclass of connectors.records.SubjectRecord"),
        ("wrong-signature", "cannot be called as build(department, settings, session)"),
    ],
)
def test_a_plugin_that_cannot_be_used_is_a_clear_error(
    plugins: Path, name: str, message: str
) -> None:
    with pytest.raises(PluginError) as raised:
        load_plugin(name)
    text = str(raised.value)
    assert message in text
    if name != "nosuch":
        assert f"entry point {name!r}" in text
        assert "fake-credit-plugins 1.2.0" in text
    else:
        assert "marine (fake-credit-plugins 1.2.0)" in text


def test_a_name_two_distributions_declare_is_ambiguous(
    plugins: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install(tmp_path, "another-marine", "0.9", {"marine": f"{MODULE}:marine"})
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(PluginError, match="installed more than once") as raised:
        find_plugin("marine")
    assert "another-marine 0.9" in str(raised.value)
    assert "fake-credit-plugins 1.2.0" in str(raised.value)


def test_check_plugin_accepts_the_registry_api_helper() -> None:
    helper = RegistryApiPlugin(CommerceRecord)
    checked: object = check_plugin(helper, "test")
    assert checked is helper


# -- building connectors --------------------------------------------------------------------------


async def test_build_connector_uses_the_plugin(
    plugins: Path, session: aiohttp.ClientSession
) -> None:
    connector = build_connector(
        "marine", config(plugin="marine", options={"region": "430000"}), session
    )
    assert isinstance(connector, HttpConnector)
    assert connector.department == "marine"


async def test_build_connector_without_a_plugin_is_the_builtin_runtime(
    session: aiohttp.ClientSession,
) -> None:
    connector = build_connector("environment", config(), session)
    assert isinstance(connector, HttpConnector)
    with pytest.raises(KeyError):
        build_connector("marine", config(), session)


@pytest.mark.parametrize("department", list(RECORD_MODELS))
async def test_every_department_with_a_record_model_is_built_in(
    session: aiohttp.ClientSession, department: str
) -> None:
    connector = build_connector(department, config(), session)
    assert isinstance(connector, HttpConnector)
    assert connector.department == department
    assert record_model_for(department, config()) is RECORD_MODELS[department]
    assert list(settings(**{department: {}}).enabled_connectors) == [department]


def test_section_departments_come_first() -> None:
    assert list(BUILTIN)[: len(DEPARTMENTS)] == list(DEPARTMENTS)
    assert set(BUILTIN) == set(RECORD_MODELS)


@pytest.mark.parametrize(
    ("department", "name", "options", "message"),
    [
        ("marine", "marine", {"colour": "blue"}, "could not build the connector of "),
        ("marine", "not-a-connector", {}, "built a object, which is not a Connector"),
        ("marine", "other-department", {}, "built a connector of department 'commerce'"),
        ("commerce", "not-a-subclass", {}, "is not a subclass of CommerceRecord"),
        ("marine", "legacy-commerce", {"x": 1}, "takes no options, got x"),
    ],
)
async def test_build_errors_name_the_plugin(
    plugins: Path,
    session: aiohttp.ClientSession,
    department: str,
    name: str,
    options: dict[str, object],
    message: str,
) -> None:
    with pytest.raises(PluginError) as raised:
        build_connector(department, config(plugin=name, options=options), session)
    assert message in str(raised.value)
    assert f"entry point {name!r}" in str(raised.value)


async def test_a_plugin_may_replace_a_builtin_transport(
    plugins: Path, session: aiohttp.ClientSession
) -> None:
    table = config(plugin="legacy-commerce")
    connector = build_connector("commerce", table, session)
    assert connector.department == "commerce"
    model = record_model_for("commerce", table)
    assert issubclass(model, CommerceRecord)
    assert model is not CommerceRecord


def test_record_models_of_enabled_departments(plugins: Path) -> None:
    configured = settings(
        environment={},
        marine={"plugin": "marine"},
        commerce={"plugin": "legacy-commerce"},
    )
    models = record_models(configured.enabled_connectors)
    assert list(models) == ["environment", "commerce", "marine"]
    assert models["environment"] is EnvironmentRecord
    assert models["marine"].__name__ == "MarineRecord"
    assert models["commerce"].__name__ == "LegacyCommerceRecord"


def test_department_record_model_for_tools(plugins: Path) -> None:
    assert department_record_model("commerce") == (CommerceRecord, "built in")
    by_department, origin = department_record_model("marine")  # entry point name
    assert by_department.__name__ == "MarineRecord"
    assert origin == "plug-in marine (fake-credit-plugins 1.2.0)"
    explicit, _ = department_record_model("commerce", plugin="legacy-commerce")
    assert explicit.__name__ == "LegacyCommerceRecord"
    with pytest.raises(LookupError, match="no record model for department 'nosuch'"):
        department_record_model("nosuch")


# -- the config -----------------------------------------------------------------------------------


def test_a_department_that_is_not_built_in_needs_a_plugin(plugins: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        settings(marine={})
    text = str(raised.value)
    assert "[connectors.marine]: unknown department 'marine'" in text
    assert f"built-in departments: {', '.join(BUILTIN)}" in text
    assert "marine (fake-credit-plugins 1.2.0)" in text
    assert 'plugin = "<entry point name>"' in text


def test_the_unknown_department_error_lists_what_is_installed() -> None:
    """Without the fake plug-ins: "none (...)" unless a developer installed a real one."""
    with pytest.raises(ConfigError) as raised:
        settings(marine={})
    assert f"installed connector plug-ins: {describe_installed()}" in str(raised.value)
    if not installed_plugins():
        assert "installed connector plug-ins: none (no distribution declares" in str(raised.value)


def test_connectors_list_shows_each_plugin_and_whether_it_loads(
    plugins: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["connectors", "list"]) == 1  # some of the fake plug-ins are broken
    lines = capsys.readouterr().out.splitlines()
    marine = lines.index(f"marine  fake-credit-plugins 1.2.0  {MODULE}:marine")
    assert lines[marine + 1] == f"    record model {MODULE}.MarineRecord (department marine)"
    broken = lines.index(
        "missing-module  fake-credit-plugins 1.2.0  no_such_module_anywhere:plugin"
    )
    assert lines[broken + 1].startswith("    error: connector plug-in entry point")
    assert main(["connectors", "list", "--format", "json"]) == 1
    listed = json.loads(capsys.readouterr().out)
    assert listed["group"] == ENTRY_POINT_GROUP
    (row,) = [p for p in listed["plugins"] if p["name"] == "legacy-commerce"]
    assert row["record_model"] == f"{MODULE}.LegacyCommerceRecord"
    assert row["department"] == "commerce"
    assert row["error"] is None


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"plugin": "nosuch"}, "no connector plug-in 'nosuch' is installed"),
        ({"plugin": "missing-module"}, "failed to import"),
        ({"plugin": "bad-model"}, "is not a ConnectorPlugin"),
        ({"options": {"region": "430000"}}, "set `plugin` too"),
    ],
)
def test_plugin_problems_fail_the_config(
    plugins: Path, table: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError, match="connectors") as raised:
        settings(environment=table)
    assert message in str(raised.value)


def test_a_builtin_replaced_by_an_incompatible_model_fails_the_config(plugins: Path) -> None:
    with pytest.raises(ConfigError, match="is not a subclass of HealthRecord"):
        settings(health={"plugin": "marine"})


def test_a_plugin_department_key_must_be_plain(plugins: Path) -> None:
    with pytest.raises(ConfigError, match="lower case letters"):
        settings(**{"Marine-Dept": {"plugin": "marine"}})  # type: ignore[arg-type]


def test_a_disabled_plugin_department_is_not_imported(plugins: Path) -> None:
    configured = settings(
        quality={},
        broken={"plugin": "missing-module", "enabled": False},
        marine={"plugin": "marine"},
    )
    assert list(configured.enabled_connectors) == ["quality", "marine"]
    with pytest.raises(ConfigError, match="no connector plug-in 'gone' is installed"):
        settings(broken={"plugin": "gone", "enabled": False})


def test_enabled_connectors_put_builtins_first_in_their_order(plugins: Path) -> None:
    configured = settings(
        marine={"plugin": "marine"}, commerce={}, environment={"enabled": False}, quality={}
    )
    assert list(configured.enabled_connectors) == ["quality", "commerce", "marine"]


async def test_services_start_builds_the_plugin_source(plugins: Path) -> None:
    configured = settings(commerce={}, marine={"plugin": "marine", "options": {"region": "43"}})
    services = await Services.start(configured)
    try:
        assert list(services.sources) == ["commerce", "marine"]
        source = services.sources["marine"]
        assert source.department == "marine"
        assert source.connector.department == "marine"
    finally:
        await services.aclose()
