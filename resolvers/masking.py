"""Masking of personal data for principals without the `pii` scope (DOMAIN.md).

Resident identity numbers keep their first 6 and last 4 characters (`430104********123X`); natural
persons' names keep their first character (`张**`). Masking works on copies: the cached record is
shared by every request and is never altered.
"""

from __future__ import annotations

from connectors.records import IndustryBan, Person, SubjectRecord


def mask_id_number(value: str) -> str:
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_name(value: str) -> str:
    return value[:1] + "**" if value else value


def mask_person(person: Person, *, name: bool) -> Person:
    update: dict[str, object] = {}
    if person.id_number is not None:
        update["id_number"] = mask_id_number(person.id_number)
    if name:
        update["name"] = mask_name(person.name)
    return person.model_copy(update=update) if update else person


def masked_record(record: SubjectRecord, natural_person: bool) -> SubjectRecord:
    """The record as a principal without `pii` may see it.

    A legal representative's name is public registration data; their id number is not. A person
    banned from an industry, and a natural person who is the subject, are private individuals.
    """
    update: dict[str, object] = {}
    if natural_person:
        update["name"] = mask_name(record.name)
    registration = getattr(record, "registration", None)
    if registration is not None and registration.legal_representative.id_number is not None:
        representative = mask_person(registration.legal_representative, name=False)
        update["registration"] = registration.model_copy(
            update={"legal_representative": representative}
        )
    bans: list[IndustryBan] | None = getattr(record, "industry_bans", None)
    if bans:
        update["industry_bans"] = [
            ban.model_copy(update={"person": mask_person(ban.person, name=True)}) for ban in bans
        ]
    return record.model_copy(update=update) if update else record
