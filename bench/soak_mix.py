"""The soak's request mix: who asks what, and how many audit entries each request must leave.

Every request is built together with the subject ids it asks for (`Call.ids`): when the gateway
executes the operation, it records one audit entry per id asked, whatever became of it (found,
partly denied, invalid, refused for want of a purpose or a right), so the soak can account for the
audit exactly from its own requests and the answers to them (bench/soak_ledger.py).

The mix exercises the paths a day of real traffic takes: officials of the credit office reading
full profiles in a joint review, department officials reading under their own matters (with the
sections their role may not see denied), batch `subjects` queries (some with an invalid id), the
public, and the refusals: an invalid id, no matter, another department's matter, an unknown
matter, a role without `Query.subject`, and a bad token (the one refusal that is not audited: it
is turned away before any lookup exists).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

import orjson

from gateway.auth_settings import AuthSettings
from gateway.tokens import mint_dev_token
from resolvers.errors import CodedError
from resolvers.identifiers import parse_subject_id
from schema.examples import PROFILE_QUERY

SECRET = "soak-benchmark-only-signing-key-0123456789"
"""The `[auth] dev_secret` of the soak's gateway: tokens are real, verified HS256 tokens."""
REGION = "430100"
JOINT_REVIEW = "CO-JOINT-REVIEW"
UNKNOWN_MATTER = "XX-NO-SUCH-MATTER"
DEPARTMENT_MATTERS: dict[str, str] = {
    "environment": "ENV-DISCHARGE-PERMIT",
    "quality": "QA-PRODUCTION-LICENCE",
    "health": "HE-MEDICAL-INSTITUTION",
    "commerce": "CM-ENTERPRISE-REGISTRATION",
}
"""A matter of each department's own, for its officials' lookups."""

SUBJECTS_QUERY = """\
query Batch($ids: [ID!]!, $matter: ID) {
  subjects(ids: $ids, matter: $matter) {
    id kind name
    environment { grades { value } penalties { documentNumber severity } }
    quality { inspections { result } }
    health { licences { licenceKind validTo } }
    commerce { registration { status } }
    lists { department category current }
    sources { department status fromCache ageSeconds }
  }
}
"""

KINDS: tuple[tuple[str, int], ...] = (
    ("official_profile", 34),
    ("department_official", 10),
    ("batch", 8),
    ("public", 24),
    ("invalid_id", 6),
    ("no_purpose", 4),
    ("foreign_matter", 4),
    ("unknown_matter", 2),
    ("role_denied", 5),
    ("bad_token", 3),
)
"""Request kinds and their weights (percent of requests, on average)."""
BATCH_SIZES = (5, 20)
"""A batch query asks for this many subjects (uniform, inclusive)."""


@dataclass(frozen=True, slots=True)
class Call:
    """One request to send: its kind, body and headers, and the subject ids it asks for."""

    kind: str
    payload: bytes
    headers: dict[str, str]
    ids: tuple[str, ...]


class Mix:
    """Draws calls: subjects from `pool` with a skew (a hot head the caches keep, a long tail
    that keeps missing and evicting), refusals and invalid ids at the weights of `KINDS`."""

    def __init__(self, pool: Sequence[str], tokens: dict[str, str]) -> None:
        if not pool:
            raise ValueError("an empty subject pool")
        self._pool = list(pool)
        self._invalid = [invalid_variant(subject_id) for subject_id in self._pool[:50]]
        self._auth = {role: {"authorization": f"Bearer {token}"} for role, token in tokens.items()}
        self._kinds = [kind for kind, _ in KINDS]
        self._weights = [weight for _, weight in KINDS]

    def subject(self, rng: random.Random) -> str:
        """A subject id, skewed to the head of the pool (about a third of draws hit 5% of it)."""
        return self._pool[int(len(self._pool) * rng.random() ** 2.5)]

    def batch(self, kind: str, ids: list[str]) -> Call:
        """A credit-office batch query for exactly `ids` (the warm-up fills the caches so)."""
        return self._call(kind, SUBJECTS_QUERY, ids, JOINT_REVIEW, "credit_office")

    def draw(self, rng: random.Random) -> Call:
        kind = rng.choices(self._kinds, self._weights)[0]
        if kind == "batch":
            size = rng.randint(*BATCH_SIZES)
            ids = [self.subject(rng) for _ in range(size)]
            if rng.random() < 0.3:
                ids[rng.randrange(size)] = rng.choice(self._invalid)
            return self._call(kind, SUBJECTS_QUERY, ids, JOINT_REVIEW, "credit_office")
        subject_id = self.subject(rng)
        if kind == "official_profile":
            return self._call(kind, PROFILE_QUERY, [subject_id], JOINT_REVIEW, "credit_office")
        if kind == "department_official":
            department = rng.choice(list(DEPARTMENT_MATTERS))
            matter = DEPARTMENT_MATTERS[department]
            return self._call(kind, PROFILE_QUERY, [subject_id], matter, f"{department}_official")
        if kind == "public":
            return self._call(kind, PROFILE_QUERY, [subject_id], None, None)
        if kind == "invalid_id":
            invalid = rng.choice(self._invalid)
            return self._call(kind, PROFILE_QUERY, [invalid], JOINT_REVIEW, "credit_office")
        if kind == "no_purpose":
            return self._call(kind, PROFILE_QUERY, [subject_id], None, "credit_office")
        if kind == "foreign_matter":
            matter = DEPARTMENT_MATTERS["quality"]
            return self._call(kind, PROFILE_QUERY, [subject_id], matter, "environment_official")
        if kind == "unknown_matter":
            matter = UNKNOWN_MATTER
            return self._call(kind, PROFILE_QUERY, [subject_id], matter, "credit_office")
        if kind == "role_denied":
            return self._call(kind, PROFILE_QUERY, [subject_id], JOINT_REVIEW, "auditor")
        if kind == "bad_token":
            call = self._call(kind, PROFILE_QUERY, [subject_id], JOINT_REVIEW, None)
            return Call(kind, call.payload, {**call.headers, "authorization": "Bearer x.y.z"}, ())
        raise AssertionError(f"unknown kind {kind}")

    def _call(
        self, kind: str, query: str, ids: list[str], matter: str | None, role: str | None
    ) -> Call:
        variables: dict[str, object] = {"matter": matter}
        if query is SUBJECTS_QUERY:
            variables["ids"] = ids
        else:
            variables["id"] = ids[0]
        payload = orjson.dumps({"query": query, "variables": variables})
        headers = {"content-type": "application/json", "accept": "application/json"}
        if role is not None:
            headers |= self._auth[role]
        return Call(kind, payload, headers, tuple(ids))


def invalid_variant(subject_id: str) -> str:
    """The id with its check character changed so that it no longer validates."""
    for replacement in "0123456789ABCDEFGHJKLMNPQRTUWXY":
        candidate = subject_id[:-1] + replacement
        if candidate == subject_id:
            continue
        try:
            parse_subject_id(candidate)
        except CodedError:
            return candidate
    raise ValueError(f"no invalid variant of {subject_id}")


def mint_tokens(hours: float) -> dict[str, str]:
    """A dev token per role the mix uses, signed with `SECRET`, valid for `hours`."""
    auth = AuthSettings(dev_secret=SECRET)
    ttl = timedelta(hours=hours)
    tokens = {
        "credit_office": mint_dev_token(
            auth,
            ["credit_office"],
            subject="soak-credit-office",
            department="credit_office",
            region=REGION,
            scopes=["pii"],
            ttl=ttl,
        ),
        "auditor": mint_dev_token(
            auth, ["auditor"], subject="soak-auditor", region=REGION, ttl=ttl
        ),
    }
    for department in DEPARTMENT_MATTERS:
        role = f"{department}_official"
        tokens[role] = mint_dev_token(
            auth, [role], subject=f"soak-{role}", department=department, region=REGION, ttl=ttl
        )
    return tokens
