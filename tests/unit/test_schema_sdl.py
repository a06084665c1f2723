from pathlib import Path

import schema
from schema import export_sdl

CHECKED_IN = Path(schema.__file__).parent / "schema.graphql"


def test_checked_in_sdl_is_up_to_date() -> None:
    assert CHECKED_IN.read_text(encoding="utf-8") == export_sdl(), (
        "schema/schema.graphql is out of date: run `make schema` and commit it"
    )


def test_every_type_and_field_is_described() -> None:
    built = schema.build_schema()
    missing = []
    for name, graphql_type in built._schema.type_map.items():
        if name.startswith("__") or name in {"String", "Boolean", "Int", "Float", "ID"}:
            continue
        if not graphql_type.description:
            missing.append(name)
        for field_name, field in getattr(graphql_type, "fields", {}).items():
            if not field.description:
                missing.append(f"{name}.{field_name}")
    assert not missing, missing
