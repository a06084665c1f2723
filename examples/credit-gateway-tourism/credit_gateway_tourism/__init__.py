"""A credit-gateway connector plug-in for the tourism department's legacy credit registry.

Installed, it is found under the entry point ``tourism`` of the group ``credit_gateway.connectors``;
the gateway uses it for a department whose config says ``plugin = "tourism"``.
"""

from __future__ import annotations

from connectors.plugins import ConnectorPlugin
from credit_gateway_tourism.connector import TourismConnector, TourismOptions, TourismPlugin
from credit_gateway_tourism.records import TourismRecord

__all__ = ["TourismConnector", "TourismOptions", "TourismPlugin", "TourismRecord", "plugin"]

plugin: ConnectorPlugin = TourismPlugin()
"""The object the entry point names (typed, so mypy checks it against the plug-in protocol)."""
