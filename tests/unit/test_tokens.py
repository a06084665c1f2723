"""Bearer tokens: the dev key, signed tokens against a JWKS file, and every way a token is bad."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from gateway.auth_settings import AuthSettings
from gateway.tokens import TokenVerifier, Unauthenticated, mint_dev_token
from resolvers.principal import ANONYMOUS

SECRET = "a-development-secret-of-at-least-32-chars"
DEV = AuthSettings(dev_secret=SECRET)


def _claims(**overrides: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    claims = {
        "iss": DEV.issuer,
        "aud": DEV.audience,
        "sub": "official-1",
        "exp": now + timedelta(minutes=5),
        "nbf": now,
        "roles": ["environment_official"],
        "department": "environment",
        "region": "430100",
        "scope": "pii",
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


async def test_no_token_is_the_public() -> None:
    assert await TokenVerifier(DEV).principal(None) == ANONYMOUS
    assert await TokenVerifier(DEV).principal("  ") == ANONYMOUS


async def test_dev_token_round_trip() -> None:
    token = mint_dev_token(
        DEV,
        ["environment_official"],
        subject="o-7",
        department="environment",
        region="430100",
        scopes=["pii"],
        name="李四",
    )
    principal = await TokenVerifier(DEV).principal(f"Bearer {token}")
    assert principal.subject == "o-7"
    assert principal.roles == frozenset({"environment_official"})
    assert principal.department == "environment"
    assert principal.region == "430100"
    assert principal.may_see_pii
    assert principal.name == "李四"


def _dev(claims: dict[str, Any], secret: str = SECRET) -> str:
    return "Bearer " + jwt.encode(claims, secret, algorithm="HS256")


@pytest.mark.parametrize(
    ("header", "words"),
    [
        ("Basic abc", "Bearer"),
        ("Bearer", "Bearer"),
        ("Bearer not.a.jwt", "well-formed"),
        (_dev(_claims(), secret="another-secret-that-is-long-enough-000"), "signature"),
        (_dev(_claims(exp=datetime.now(UTC) - timedelta(hours=1))), "expired"),
        (_dev(_claims(nbf=datetime.now(UTC) + timedelta(hours=1))), "not valid yet"),
        (_dev(_claims(aud="someone-else")), "audience"),
        (_dev(_claims(iss="evil")), "issuer"),
        (_dev(_claims(exp=None)), "not valid"),
        (_dev(_claims(roles="credit_office")), "roles"),
        (_dev(_claims(roles=[])), "no role"),
        (_dev(_claims(region="4301")), "region"),
        (_dev(_claims(scope=["pii"])), "scope"),
    ],
)
async def test_bad_tokens_are_refused_never_downgraded(header: str, words: str) -> None:
    with pytest.raises(Unauthenticated) as caught:
        await TokenVerifier(DEV).principal(header)
    assert words in str(caught.value)


async def test_unsigned_tokens_are_refused() -> None:
    token = jwt.encode(_claims(), None, algorithm="none")  # type: ignore[arg-type]
    with pytest.raises(Unauthenticated, match="not accepted"):
        await TokenVerifier(DEV).principal(f"Bearer {token}")


async def test_hs256_is_refused_without_a_dev_key() -> None:
    with pytest.raises(Unauthenticated, match="not accepted"):
        await TokenVerifier(AuthSettings()).principal(_dev(_claims()))


async def test_unknown_roles_are_kept_for_the_policy_to_deny() -> None:
    principal = await TokenVerifier(DEV).principal(_dev(_claims(roles=["astronaut"])))
    assert principal.roles == frozenset({"astronaut"})


def _jwks(tmp_path: Path, *keys: tuple[str, Any]) -> Path:
    document: dict[str, list[dict[str, Any]]] = {"keys": []}
    for kid, private in keys:
        public = jwt.algorithms.get_default_algorithms()[
            "RS256" if isinstance(private, rsa.RSAPrivateKey) else "ES256"
        ].to_jwk(private.public_key(), as_dict=True)
        document["keys"].append({**public, "kid": kid})
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(document))
    return path


async def test_rs256_and_es256_against_a_jwks_file(tmp_path: Path) -> None:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    path = _jwks(tmp_path, ("r1", rsa_key), ("e1", ec_key))
    verifier = TokenVerifier(AuthSettings(jwks_file=path))
    for kid, key, alg in (("r1", rsa_key, "RS256"), ("e1", ec_key, "ES256")):
        token = jwt.encode(_claims(), key, algorithm=alg, headers={"kid": kid})
        principal = await verifier.principal(f"Bearer {token}")
        assert principal.subject == "official-1"


async def test_a_rotated_key_is_found_by_refreshing_once(tmp_path: Path) -> None:
    old = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    new = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = _jwks(tmp_path, ("old", old))
    verifier = TokenVerifier(AuthSettings(jwks_file=path, jwks_min_refresh_s=0))
    await verifier.principal(
        "Bearer " + jwt.encode(_claims(), old, "RS256", headers={"kid": "old"})
    )
    _jwks(tmp_path, ("old", old), ("new", new))
    token = jwt.encode(_claims(), new, "RS256", headers={"kid": "new"})
    assert (await verifier.principal(f"Bearer {token}")).subject == "official-1"


async def test_a_forged_key_id_does_not_refetch_every_time(tmp_path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = _jwks(tmp_path, ("k", key))
    verifier = TokenVerifier(AuthSettings(jwks_file=path, jwks_min_refresh_s=3600))
    await verifier.principal("Bearer " + jwt.encode(_claims(), key, "RS256", headers={"kid": "k"}))
    path.write_text("{broken")  # a refetch would now fail loudly
    forged = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode(_claims(), forged, "RS256", headers={"kid": "nope"})
    for _ in range(3):
        with pytest.raises(Unauthenticated, match="unknown key"):
            await verifier.principal(f"Bearer {token}")


async def test_a_token_signed_by_another_key_with_a_known_kid_is_forged(tmp_path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    verifier = TokenVerifier(AuthSettings(jwks_file=_jwks(tmp_path, ("k", key))))
    token = jwt.encode(_claims(), forged, "RS256", headers={"kid": "k"})
    with pytest.raises(Unauthenticated, match="signature"):
        await verifier.principal(f"Bearer {token}")


def test_dev_key_must_be_long() -> None:
    with pytest.raises(ValueError, match="at least 32"):
        AuthSettings(dev_secret="short")


async def test_a_verified_token_is_remembered_until_it_expires() -> None:
    verifier = TokenVerifier(DEV)
    issued = datetime.now(UTC) - timedelta(minutes=59, seconds=58)
    token = mint_dev_token(DEV, ["credit_office"], now=issued, ttl=timedelta(hours=1))
    first = await verifier.principal(f"Bearer {token}")
    assert await verifier.principal(f"Bearer {token}") is first  # from the cache
    strict = TokenVerifier(AuthSettings(dev_secret=SECRET, leeway_s=0))
    await strict.principal(f"Bearer {token}")
    import asyncio

    await asyncio.sleep(2.5)
    with pytest.raises(Unauthenticated, match="expired"):
        await strict.principal(f"Bearer {token}")


async def test_a_refused_token_is_not_remembered() -> None:
    verifier = TokenVerifier(DEV)
    bad = _dev(_claims(), secret="another-secret-that-is-long-enough-000")
    for _ in range(2):
        with pytest.raises(Unauthenticated, match="signature"):
            await verifier.principal(bad)


async def test_keys_from_a_jwks_url_are_fetched_once_and_refreshed_on_a_new_kid() -> None:
    import aiohttp
    from aiohttp import web

    first = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    second = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    algorithm = jwt.algorithms.get_default_algorithms()["RS256"]
    published = [{**algorithm.to_jwk(first.public_key(), as_dict=True), "kid": "k1"}]
    fetches = 0

    async def jwks(request: web.Request) -> web.Response:
        nonlocal fetches
        fetches += 1
        return web.json_response({"keys": published})

    app = web.Application()
    app.router.add_get("/jwks.json", jwks)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        async with aiohttp.ClientSession() as session:
            settings = AuthSettings(
                jwks_url=f"http://127.0.0.1:{port}/jwks.json", jwks_min_refresh_s=0
            )
            verifier = TokenVerifier(settings, session, cache_size=1)
            for n in range(3):  # three different tokens, one key
                token = jwt.encode(_claims(sub=f"o-{n}"), first, "RS256", headers={"kid": "k1"})
                assert (await verifier.principal(f"Bearer {token}")).subject == f"o-{n}"
            assert fetches == 1  # fetched once, then served from the key cache
            published.append({**algorithm.to_jwk(second.public_key(), as_dict=True), "kid": "k2"})
            token = jwt.encode(_claims(), second, "RS256", headers={"kid": "k2"})
            assert (await verifier.principal(f"Bearer {token}")).subject == "official-1"
            assert fetches == 2  # the unknown kid made it fetch again, once
    finally:
        await runner.cleanup()
