"""Which departments the gateway knows and how to build each one's connector.

Every built-in department uses the shared HTTP runtime with its own record model, so a department is
a row here rather than a module of near-identical code. A department may instead be served by a
connector plug-in (connectors/plugins.py): a department the gateway does not know, or a built-in one
whose registry needs another transport. The config chooses, per department, with `plugin = "..."`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import aiohttp

from connectors.http import HttpConnector
from connectors.plugins import (
    PluginError,
    describe_installed,
    find_plugin,
    installed_plugins,
    load_plugin,
)
from connectors.protocol import Connector
from connectors.records import RECORD_MODELS, SubjectRecord
from connectors.settings import ConnectorSettings


@dataclass(frozen=True, slots=True)
class Department:
    key: str
    record_model: type[SubjectRecord]


DEPARTMENTS: dict[str, Department] = {
    key: Department(key, RECORD_MODELS[key])
    for key in (
        "environment",
        "quality",
        "health",
        "commerce",
        "food_drug",
        "bidding",
        "education",
        "tax",
        "customs",
        "court",
        "credit_agency",
    )
}
"""The departments the schema knows, in the order of their sections (and of the `sources` rows):
each has a section of its own, except the credit agencies, whose records are `Subject.reports`."""

BUILTIN: dict[str, Department] = {
    **DEPARTMENTS,
    **{
        key: Department(key, model)
        for key, model in RECORD_MODELS.items()
        if key not in DEPARTMENTS
    },
}
"""Every department with a record model in connectors/records.py: served by the HTTP runtime
without a plug-in. The section departments come first; the others' records reach clients through
the shared parts (lists, grades, sources), as plug-in departments' do."""

DEPARTMENT_KEY = re.compile(r"[a-z][a-z0-9_]{0,39}")
"""What a plug-in department's key looks like (it shows in `sources`, metrics and logs)."""


def build_connector(
    department: str, settings: ConnectorSettings, session: aiohttp.ClientSession
) -> Connector:
    """The connector of a department: its plug-in's when `settings.plugin` names one, else the
    HTTP runtime with the department's built-in record model.

    `KeyError` for an unknown department without a plug-in; `PluginError` when the plug-in cannot
    be loaded or cannot build the connector.
    """
    if settings.plugin is not None:
        plugin = load_plugin(settings.plugin)
        _check_replacement(department, plugin.record_model, plugin.info.origin)
        return plugin.build(department, settings, session)
    spec = BUILTIN[department]
    return HttpConnector(spec.key, settings, session, spec.record_model)


def record_model_for(department: str, settings: ConnectorSettings) -> type[SubjectRecord]:
    """The record model of a configured department: its plug-in's, or the built-in one.

    `KeyError` for an unknown department without a plug-in; `PluginError` for a plug-in that
    cannot be loaded.
    """
    if settings.plugin is not None:
        plugin = load_plugin(settings.plugin)
        _check_replacement(department, plugin.record_model, plugin.info.origin)
        return plugin.record_model
    return BUILTIN[department].record_model


def record_models(connectors: Mapping[str, ConnectorSettings]) -> dict[str, type[SubjectRecord]]:
    """The record model of each of these departments (e.g. `Settings.enabled_connectors`)."""
    return {key: record_model_for(key, settings) for key, settings in connectors.items()}


def connector_config_problems(connectors: Mapping[str, ConnectorSettings]) -> list[str]:
    """What is wrong with a `[connectors]` table, one readable line per problem.

    A built-in department may name a plug-in (it then replaces the HTTP runtime); any other key
    needs one. Named plug-ins must be installed; enabled ones are imported and checked here, so a
    broken plug-in stops the gateway when its config is loaded, not at its first lookup.
    Configs without plug-ins cost nothing here: no distribution metadata is read.
    """
    problems: list[str] = []
    for key, settings in connectors.items():
        if settings.plugin is None:
            if key not in BUILTIN:
                problems.append(
                    f"[connectors.{key}]: unknown department {key!r} without a `plugin`; "
                    f"built-in departments: {', '.join(BUILTIN)}; installed connector "
                    f"plug-ins: {describe_installed()} (a department that is not built in needs "
                    '`plugin = "<entry point name>"`)'
                )
            continue
        if key not in BUILTIN and not DEPARTMENT_KEY.fullmatch(key):
            problems.append(
                f"[connectors.{key}]: a department key must be lower case letters, digits and "
                "underscores, starting with a letter (at most 40 characters)"
            )
            continue
        try:
            if settings.enabled:
                record_model_for(key, settings)
            else:
                find_plugin(settings.plugin)
        except PluginError as exc:
            problems.append(f"[connectors.{key}] plugin = {settings.plugin!r}: {exc}")
    return problems


def department_record_model(
    department: str, plugin: str | None = None
) -> tuple[type[SubjectRecord], str]:
    """For tools (`credit-gateway connectors check`): the record model of `department` with no
    config at hand, and where it comes from.

    The named plug-in's when `plugin` is given; else the gateway's own model of the department
    (connectors.records.RECORD_MODELS); else the installed plug-in whose entry point is called
    `department`, or whose record model declares that department. `LookupError` when none does.
    """
    if plugin is not None:
        loaded = load_plugin(plugin)
        return loaded.record_model, f"plug-in {loaded.info.name} ({loaded.info.package})"
    if department in RECORD_MODELS:
        return RECORD_MODELS[department], "built in"
    installed = installed_plugins()
    if any(info.name == department for info in installed):
        loaded = load_plugin(department)
        return loaded.record_model, f"plug-in {loaded.info.name} ({loaded.info.package})"
    for info in installed:
        try:
            loaded = load_plugin(info.name)
        except PluginError:
            continue
        if loaded.record_model.department == department:
            return loaded.record_model, f"plug-in {info.name} ({info.package})"
    raise LookupError(
        f"no record model for department {department!r}: built-in departments: "
        f"{', '.join(RECORD_MODELS)}; installed connector plug-ins: "
        f"{describe_installed(installed)}"
    )


def _check_replacement(department: str, model: type[SubjectRecord], origin: str) -> None:
    """A plug-in that serves a built-in department must give records its section can read."""
    builtin = BUILTIN.get(department)
    if builtin is not None and not issubclass(model, builtin.record_model):
        raise PluginError(
            f"connector plug-in {origin} cannot serve the built-in department {department!r}: "
            f"its record model {model.__name__} is not a subclass of "
            f"{builtin.record_model.__name__}"
        )
