"""Loading the catalogue of administrative matters from its TOML file, validated at start."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from gateway.config_files import ConfigError, read_toml, validated
from resolvers.catalogue import KNOWN_DEPARTMENTS, Catalogue, Matter

_MATTER_ID = re.compile(r"^[A-Z][A-Z0-9-]{2,63}$")
_MEASURE_ID = re.compile(r"^[PCI]_[A-Z_]+$")


class _MatterModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    name: str = Field(min_length=1)
    department: str
    legal_basis: str = Field(min_length=1)
    operating_method: str = Field(min_length=1)
    sections: list[str] = Field(default_factory=list)
    measures: list[str] = Field(default_factory=list)
    shared: bool = False

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not _MATTER_ID.match(value):
            raise ValueError("a matter id is 3-64 upper-case letters, digits and hyphens")
        return value

    @field_validator("department")
    @classmethod
    def _department(cls, value: str) -> str:
        if value not in KNOWN_DEPARTMENTS:
            raise ValueError(f"unknown department {value!r}")
        return value

    @field_validator("sections")
    @classmethod
    def _sections(cls, value: list[str]) -> list[str]:
        unknown = [s for s in value if s not in KNOWN_DEPARTMENTS]
        if unknown:
            raise ValueError(f"unknown sections {unknown}")
        return value

    @field_validator("measures")
    @classmethod
    def _measures(cls, value: list[str]) -> list[str]:
        malformed = [m for m in value if not _MEASURE_ID.match(m)]
        if malformed:
            raise ValueError(f"malformed measure ids {malformed} (P_..., C_..., I_...)")
        return value


class _CatalogueModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    matters: list[_MatterModel]


def load_catalogue(path: Path) -> Catalogue:
    _, data = read_toml(path, "catalogue")
    model = validated(_CatalogueModel, data, str(path))
    seen: set[str] = set()
    for matter in model.matters:
        if matter.id in seen:
            raise ConfigError(f"{path}: matter {matter.id} is listed twice")
        seen.add(matter.id)
    return Catalogue(
        tuple(
            Matter(
                m.id,
                m.name,
                m.department,
                m.legal_basis,
                m.operating_method,
                tuple(m.sections),
                tuple(m.measures),
                m.shared,
            )
            for m in model.matters
        )
    )
