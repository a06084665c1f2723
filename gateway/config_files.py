"""Reading the gateway's TOML files (config, policy, catalogue) with errors that say where.

Every file is checked when the gateway starts; a problem is a `ConfigError` naming the file and the
key (or line), so a deployment fails at once with one readable line instead of misbehaving later.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


class ConfigError(Exception):
    """A configuration file is missing, not TOML, or not valid; the message says where."""


def read_toml(path: Path, what: str) -> tuple[str, dict[str, Any]]:
    """The file's text (to find lines in) and its parsed content."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read {what} {path}: {exc.strerror}") from exc
    try:
        return text, tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc


def validated(model: type[M], data: Any, source: str, context: dict[str, Any] | None = None) -> M:
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or '(top)'}: {error['msg']}"
            for error in exc.errors()
        )
        raise ConfigError(f"{source}: {problems}") from exc
