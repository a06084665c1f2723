"""Which departments the gateway knows and how to build each one's connector.

Every built-in department uses the shared HTTP runtime with its own record model, so a department is
a row here rather than a module of near-identical code.
"""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp

from connectors.http import HttpConnector
from connectors.protocol import Connector
from connectors.records import RECORD_MODELS, SubjectRecord
from connectors.settings import ConnectorSettings


@dataclass(frozen=True, slots=True)
class Department:
    key: str
    record_model: type[SubjectRecord]


DEPARTMENTS: dict[str, Department] = {
    key: Department(key, RECORD_MODELS[key])
    for key in ("environment", "quality", "health", "commerce")
}
"""The built-in departments, in the order of their sections and `sources` rows."""


def build_connector(
    department: str, settings: ConnectorSettings, session: aiohttp.ClientSession
) -> Connector:
    """The connector of a known department; `KeyError` for an unknown one."""
    spec = DEPARTMENTS[department]
    return HttpConnector(spec.key, settings, session, spec.record_model)
