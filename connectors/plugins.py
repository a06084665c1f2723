"""Connector plug-ins: a department's connector shipped as its own Python package.

A department whose registry the built-in HTTP runtime cannot read (a legacy API, another record
model, another transport) ships a package that exposes a `ConnectorPlugin` under the entry-point
group ``credit_gateway.connectors``::

    # the plug-in's pyproject.toml
    [project.entry-points."credit_gateway.connectors"]
    tourism = "credit_gateway_tourism:plugin"

and the gateway's config enables it for a department, without a change to the gateway::

    [connectors.tourism]
    plugin = "tourism"                       # the entry point's name
    base_url = "http://tourism-registry.example.gov.cn"
    options = { app_key = "..." }            # free table, validated by the plug-in

Discovery reads only the installed distributions' metadata; a plug-in is imported when a config
names it, never merely because it is installed. Anything that goes wrong (not installed, installed
twice, fails to import, is not a `ConnectorPlugin`, rejects its options, builds something that is
not a `Connector`) is a `PluginError` whose message names the entry point and its distribution.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from typing import Protocol, runtime_checkable

import aiohttp
import pydantic

from connectors.http import HttpConnector
from connectors.protocol import Connector
from connectors.records import SubjectRecord
from connectors.settings import ConnectorSettings

ENTRY_POINT_GROUP = "credit_gateway.connectors"


class PluginError(Exception):
    """A connector plug-in cannot be used; the message says which one and why."""


@runtime_checkable
class ConnectorPlugin(Protocol):
    """What an entry point of the group ``credit_gateway.connectors`` must expose.

    `record_model` is the department's record model (a `SubjectRecord` subclass; for a built-in
    department whose transport the plug-in replaces, a subclass of the built-in model). `build` is
    called once per gateway start with the department key, the department's settings (timeouts,
    limits, `base_url`, and `options` to validate) and the gateway's one aiohttp session, and
    returns the `Connector` the gateway then uses for the app's lifetime. It raises (anything) when
    the options are invalid; the gateway reports that as a `PluginError`.
    """

    record_model: type[SubjectRecord]

    def build(
        self, department: str, settings: ConnectorSettings, session: aiohttp.ClientSession
    ) -> Connector: ...


@dataclass(frozen=True, slots=True)
class PluginInfo:
    """An installed plug-in, as its distribution's metadata declares it (nothing imported)."""

    name: str
    """The entry point's name: what `plugin = "..."` names in the config."""
    value: str
    """The object it points to, ``module:attribute``."""
    distribution: str | None
    version: str | None

    @property
    def package(self) -> str:
        """``credit-gateway-tourism 0.1.0``: the distribution that declares it."""
        if self.distribution is None:
            return "an unknown distribution"
        return f"{self.distribution} {self.version}" if self.version else self.distribution

    @property
    def origin(self) -> str:
        """How messages name it: the entry point, its object and its distribution."""
        return f"entry point {self.name!r} ({self.value}) of {self.package}"


@dataclass(frozen=True, slots=True)
class LoadedPlugin:
    """A plug-in imported and checked against `ConnectorPlugin`."""

    info: PluginInfo
    plugin: ConnectorPlugin

    @property
    def record_model(self) -> type[SubjectRecord]:
        return self.plugin.record_model

    def build(
        self, department: str, settings: ConnectorSettings, session: aiohttp.ClientSession
    ) -> Connector:
        """The plug-in's connector of `department`, checked to be a `Connector` of it."""
        try:
            connector = self.plugin.build(department, settings, session)
        except PluginError:
            raise
        except Exception as exc:
            raise PluginError(
                f"connector plug-in {self.info.origin} could not build the connector of "
                f"[connectors.{department}]: {describe(exc)}"
            ) from exc
        if not isinstance(connector, Connector):
            raise PluginError(
                f"connector plug-in {self.info.origin} built a {type(connector).__name__}, which "
                "is not a Connector (it needs `department`, `fetch_many` and `check_health`)"
            )
        if connector.department != department:
            raise PluginError(
                f"connector plug-in {self.info.origin} built a connector of department "
                f"{connector.department!r} for [connectors.{department}]"
            )
        return connector


@dataclass(frozen=True, slots=True)
class RegistryApiPlugin:
    """A ready-made plug-in for a registry that speaks the registry API with its own record model.

    A department whose registry implements registries/openapi.yaml but whose records add fields of
    their own needs no code beyond its record model::

        plugin = RegistryApiPlugin(CustomsRecord)

    The connector is the built-in HTTP runtime; it takes no options.
    """

    record_model: type[SubjectRecord]

    def build(
        self, department: str, settings: ConnectorSettings, session: aiohttp.ClientSession
    ) -> Connector:
        if settings.options:
            raise ValueError(f"takes no options, got {', '.join(sorted(settings.options))}")
        return HttpConnector(department, settings, session, self.record_model)


def installed_plugins() -> list[PluginInfo]:
    """Every installed plug-in, by name (a name two distributions declare is listed twice)."""
    return sorted(
        (_info(entry) for entry in metadata.entry_points(group=ENTRY_POINT_GROUP)),
        key=lambda info: (info.name, info.distribution or ""),
    )


def describe_installed(plugins: Sequence[PluginInfo] | None = None) -> str:
    """``tourism (credit-gateway-tourism 0.1.0), ...`` or ``none``, for error messages."""
    plugins = installed_plugins() if plugins is None else plugins
    if not plugins:
        return f"none (no distribution declares an entry point in {ENTRY_POINT_GROUP!r})"
    return ", ".join(f"{info.name} ({info.package})" for info in plugins)


def find_plugin(name: str) -> tuple[PluginInfo, metadata.EntryPoint]:
    """The installed plug-in called `name`, without importing it."""
    entries = [
        entry for entry in metadata.entry_points(group=ENTRY_POINT_GROUP) if entry.name == name
    ]
    if not entries:
        raise PluginError(
            f"no connector plug-in {name!r} is installed; installed plug-ins: "
            f"{describe_installed()}"
        )
    if len(entries) > 1:
        origins = "; ".join(_info(entry).origin for entry in entries)
        raise PluginError(
            f"connector plug-in {name!r} is installed more than once ({origins}): uninstall all "
            "but one"
        )
    return _info(entries[0]), entries[0]


def load_plugin(name: str) -> LoadedPlugin:
    """Import the plug-in called `name` and check that it is a `ConnectorPlugin`."""
    info, entry = find_plugin(name)
    try:
        candidate = entry.load()
    except Exception as exc:
        raise PluginError(
            f"connector plug-in {info.origin} failed to import: {describe(exc)}"
        ) from exc
    return LoadedPlugin(info, check_plugin(candidate, info.origin))


def check_plugin(candidate: object, origin: str) -> ConnectorPlugin:
    """`candidate` as a `ConnectorPlugin`, or a `PluginError` saying what it lacks."""
    model = getattr(candidate, "record_model", None)
    if not (isinstance(model, type) and issubclass(model, SubjectRecord)):
        raise PluginError(
            f"connector plug-in {origin} is not a ConnectorPlugin: its `record_model` must be a "
            f"subclass of connectors.records.SubjectRecord, got {model!r}"
        )
    build = getattr(candidate, "build", None)
    if not callable(build):
        raise PluginError(
            f"connector plug-in {origin} is not a ConnectorPlugin: it has no `build` method"
        )
    try:
        signature = inspect.signature(build)
    except (TypeError, ValueError):  # pragma: no cover - builtins without a signature
        signature = None
    if signature is not None:
        try:
            signature.bind("department", None, None)
        except TypeError as exc:
            raise PluginError(
                f"connector plug-in {origin} is not a ConnectorPlugin: `build{signature}` cannot "
                f"be called as build(department, settings, session) ({exc})"
            ) from exc
    if not isinstance(candidate, ConnectorPlugin):  # pragma: no cover - implied by the above
        raise PluginError(f"connector plug-in {origin} is not a ConnectorPlugin")
    return candidate


def describe(exc: BaseException) -> str:
    """One line about an exception raised by plug-in code (validation errors: every problem)."""
    if isinstance(exc, pydantic.ValidationError):
        return "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or '(top)'}: {error['msg']}"
            for error in exc.errors(include_url=False)
        )
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _info(entry: metadata.EntryPoint) -> PluginInfo:
    dist = entry.dist
    if dist is None:
        return PluginInfo(entry.name, entry.value, None, None)
    return PluginInfo(entry.name, entry.value, dist.metadata["Name"], dist.version)
