"""An audit event drafted while its lookup's loads were in flight, then completed, is the event
built whole after the answers: the same fields, the same canonical bytes (the time aside)."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.audit import AuditEvent, Outcome
from gateway.audit.entry import content_dict
from gateway.audit_events import AuditDrafts, audit_events
from gateway.execution import Executor
from gateway.policy import load_policy
from gateway.settings import AccessSettings, GraphQLSettings
from registries.faults import Faults
from registries.server import RegistryServer
from resolvers.context import RequestContext
from resolvers.lookups import LookupOutcome
from resolvers.principal import ANONYMOUS, Principal
from schema import build_schema
from schema.examples import PROFILE_QUERY
from tests.support import Gateway

OFFICE = Principal(
    "office-1",
    name="Li \x00Hua",  # a NUL the audit must store as U+FFFD, drafted or not
    department="credit_office",
    region="430100",
    roles=frozenset({"credit_office"}),
    scopes=frozenset({"pii"}),
)
NO_PII = Principal(
    "official-2", department="environment", roles=frozenset({"environment_official"})
)
QUERY = """
query($ids: [ID!]!, $matter: ID) {
  subjects(ids: $ids, matter: $matter) {
    id kind name
    environment { penalties { documentNumber } }
    quality { penalties { documentNumber } }
    commerce { registration { legalRepresentative { name idNumber } } }
    lists { category current }
    sources { department status }
  }
}
"""


def _comparable(event: AuditEvent) -> dict[str, Any]:
    return content_dict(event, exclude=("at",))


async def _events(
    gateway: Gateway, principal: Principal, query: str, variables: dict[str, Any]
) -> tuple[list[AuditEvent], list[AuditEvent], int]:
    """The request's events built with its drafts, and built whole; how many were drafted."""
    schema = build_schema()
    policy = load_policy(AccessSettings().policy, schema._schema)
    executor = Executor(schema, GraphQLSettings(), policy)
    drafts = AuditDrafts()
    context = RequestContext(
        "req-1",
        gateway.services.sources,
        principal=principal,
        catalogue=gateway.services.catalogue,
        on_lookup=drafts.draft,
    )
    result = await executor.run(query, variables, None, context, principal)
    drafted = sum(drafts.of(lookup) is not None for lookup in context.lookups)
    with_drafts = audit_events(context, result.plan, "req-1", (), drafts)
    whole = audit_events(context, result.plan, "req-1")
    return with_drafts, whole, drafted


@pytest.mark.parametrize(
    ("principal", "matter"),
    [
        (OFFICE, "CO-JOINT-REVIEW"),  # every section, PII unmasked
        (NO_PII, "ENV-DISCHARGE-PERMIT"),  # sections withheld by the matter, PII masked
        (ANONYMOUS, None),  # the public view
    ],
    ids=["office", "department-without-pii", "public"],
)
async def test_drafted_events_equal_events_built_whole(
    gateway: Gateway, samples: dict[str, str], principal: Principal, matter: str | None
) -> None:
    ids = [samples[kind] for kind in ("clean", "penalised", "dishonest", "natural_person")]
    # Four subjects nobody asked for (drafted), an invalid id (never drafted), then one of the
    # four again, served from the cache (not drafted: built whole, as before).
    for query, variables, expected_drafts in (
        (QUERY, {"ids": [*ids, "not-an-id"], "matter": matter}, 4),
        (PROFILE_QUERY, {"id": ids[1], "matter": matter}, 0),
    ):
        with_drafts, whole, drafted = await _events(gateway, principal, query, variables)
        assert drafted == expected_drafts
        assert len(whole) == (5 if query is QUERY else 1)
        assert [_comparable(e) for e in with_drafts] == [_comparable(e) for e in whole]


async def test_a_subject_served_from_the_cache_is_not_drafted(
    gateway: Gateway, samples: dict[str, str]
) -> None:
    variables = {"id": samples["penalised"], "matter": "CO-JOINT-REVIEW"}
    _, _, drafted_cold = await _events(gateway, OFFICE, PROFILE_QUERY, variables)
    with_drafts, whole, drafted_warm = await _events(gateway, OFFICE, PROFILE_QUERY, variables)
    assert (drafted_cold, drafted_warm) == (1, 0)  # nothing to wait for: built whole at the end
    assert [_comparable(e) for e in with_drafts] == [_comparable(e) for e in whole]


async def test_a_failed_department_is_audited_the_same_drafted_or_not(
    gateway: Gateway, registries: dict[str, RegistryServer], samples: dict[str, str]
) -> None:
    registries["quality"].state.faults.replace(Faults(error_rate=1.0))
    variables = {"ids": [samples["dishonest"]], "matter": "CO-JOINT-REVIEW"}
    with_drafts, whole, drafted = await _events(gateway, OFFICE, QUERY, variables)
    assert drafted == 1
    (event,) = with_drafts
    assert event.outcome is Outcome.PARTIAL
    assert event.sources["quality"] != "OK"
    assert event.principal_name == "Li \ufffdHua"
    assert [_comparable(e) for e in with_drafts] == [_comparable(e) for e in whole]


def test_completing_a_draft_normalises_as_validation_does() -> None:
    draft = AuditEvent(request_id="r", principal="p", subject="s", outcome=Outcome.OK)
    result: dict[str, Any] = {
        "returned": ("Subject.name", "Subject.id", "Subject.name"),
        "denied": ("Penalty.fine\x00Amount",),
        "masked": True,
        "unmasked_pii": False,
        "hidden_records_shown": False,
        "sources": {"env\x00": "OK", "quality": "TIMEOUT"},
        "outcome": Outcome.PARTIAL,
    }
    completed = draft.completed(**result)
    whole = AuditEvent(request_id="r", principal="p", subject="s", **result)
    assert _comparable(completed) == _comparable(whole)
    assert completed.returned == ("Subject.id", "Subject.name")
    assert completed.at >= draft.at


def test_a_lookup_that_was_not_looked_up_has_no_draft() -> None:
    from resolvers.lookups import Lookup

    drafts = AuditDrafts()
    invalid = Lookup("x", None, LookupOutcome.INVALID)
    drafts.draft(invalid, RequestContext("r", {}, principal=OFFICE))
    assert drafts.of(invalid) is None
