"""`[server]`: validated like every section, and handed to uvicorn as configured."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette

from gateway.collector_pacing import CollectBetweenRequests
from gateway.config_files import ConfigError
from gateway.server import AnswerCutRequests, shutdown_budget_warning, uvicorn_config
from gateway.settings import ServerSettings, settings_from_dict

CONNECTORS = {
    "environment": {"base_url": "http://127.0.0.1:9101", "timeout_s": 2.0},
    "quality": {"base_url": "http://127.0.0.1:9102", "timeout_s": 12.0},
}


def test_the_defaults_bound_a_small_gateway() -> None:
    server = ServerSettings()
    assert server.limit_concurrency == 256
    assert server.backlog == 2048
    assert server.timeout_keep_alive_s == 5
    assert server.graceful_shutdown_s == 10


def test_every_limit_reaches_uvicorn() -> None:
    settings = settings_from_dict(
        {
            "server": {
                "port": 0,
                "limit_concurrency": 64,
                "backlog": 128,
                "timeout_keep_alive_s": 20,
                "graceful_shutdown_s": 25,
            },
            "connectors": CONNECTORS,
        }
    )
    app = Starlette()
    config = uvicorn_config(app, settings)
    assert config.limit_concurrency == 64
    assert config.backlog == 128
    assert config.timeout_keep_alive == 20
    assert config.timeout_graceful_shutdown == 25
    assert config.lifespan == "on"
    assert isinstance(config.app, CollectBetweenRequests)
    assert isinstance(config.app._app, AnswerCutRequests)
    # The rate limits' client address is decided by [rate_limits] trusted_proxies alone.
    assert config.proxy_headers is False


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("limit_concurrency", 0),
        ("backlog", 0),
        ("timeout_keep_alive_s", 0),
        ("graceful_shutdown_s", 0),
        ("graceful_shutdown_s", 1.5),
        ("graceful_shutdown", 10),
    ],
)
def test_a_bad_value_or_an_unknown_key_is_refused_by_name(key: str, value: object) -> None:
    with pytest.raises(ConfigError, match=f"server.{key}"):
        settings_from_dict({"server": {key: value}, "connectors": CONNECTORS})


def test_a_grace_period_within_the_request_deadline_is_warned_about() -> None:
    def warning(grace: int, deadline: float) -> str | None:
        return shutdown_budget_warning(
            settings_from_dict(
                {
                    "server": {"graceful_shutdown_s": grace},
                    "graphql": {"deadline_s": deadline},
                    "connectors": CONNECTORS,
                }
            )
        )

    assert warning(10, 5.0) is None
    assert warning(5, 5.0) == (
        "[server] graceful_shutdown_s = 5 is not longer than [graphql] deadline_s = 5: "
        "a lookup in flight at shutdown may be cut before it answers"
    )
