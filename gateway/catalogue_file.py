"""Loading the catalogue of administrative matters from its TOML file, validated at start."""

from __future__ import annotations

import re
from collections.abc import Collection
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from connectors.catalog import DEPARTMENTS
from connectors.vocabulary import default_vocabulary
from gateway.config_files import ConfigError, read_toml, validated
from gateway.measures_file import check_catalogue_measures, load_measures
from resolvers.catalogue import KNOWN_DEPARTMENTS, Catalogue, Matter
from resolvers.measures import Measure

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
    def _department(cls, value: str, info: ValidationInfo) -> str:
        if value not in KNOWN_DEPARTMENTS | _registries(info):
            raise ValueError(f"unknown department {value!r}")
        return value

    @field_validator("sections")
    @classmethod
    def _sections(cls, value: list[str], info: ValidationInfo) -> list[str]:
        unknown = [s for s in value if s not in _registries(info)]
        if unknown:
            raise ValueError(f"unknown sections {unknown} (a section is a department's registry)")
        return value

    @field_validator("measures")
    @classmethod
    def _measures(cls, value: list[str]) -> list[str]:
        malformed = [m for m in value if not _MEASURE_ID.match(m)]
        if malformed:
            raise ValueError(f"malformed measure ids {malformed} (P_..., C_..., I_...)")
        return value


def _registries(info: ValidationInfo) -> frozenset[str]:
    """The departments with a registry: the built-in ones, and any a deployment added with a
    connector plug-in. (The credit office files matters but keeps no registry.)"""
    context = info.context
    extra = context.get("departments", ()) if isinstance(context, dict) else ()
    return frozenset(DEPARTMENTS) | frozenset(extra)


class _CatalogueModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    matters: list[_MatterModel]


def load_catalogue(path: Path, departments: Collection[str] = ()) -> Catalogue:
    """The catalogue of `path`; its matters may name the built-in departments and `departments`
    (those a deployment serves through connector plug-ins)."""
    _, data = read_toml(path, "catalogue")
    model = validated(_CatalogueModel, data, str(path), {"departments": tuple(departments)})
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


def load_matters_and_measures(
    catalogue_path: Path, measures_path: Path, departments: Collection[str] = ()
) -> tuple[Catalogue, tuple[Measure, ...]]:
    """The catalogue and the measures catalogue, checked against each other and against the
    vocabulary of lists and grades, so a matter can never cite a measure that does not exist nor
    a measure target a list no registry can send."""
    vocabulary = default_vocabulary()
    measures = load_measures(
        measures_path,
        known_lists=vocabulary.lists.keys(),
        known_grades={
            f"{scheme.id}:{value.value}"
            for scheme in vocabulary.schemes.values()
            for value in scheme.values
        },
    )
    catalogue = load_catalogue(catalogue_path, departments)
    check_catalogue_measures(
        catalogue,
        measures,
        catalogue_source=str(catalogue_path),
        measures_source=str(measures_path),
    )
    return catalogue, measures
