"""The example connector plug-in, installed for real, found and used by the gateway.

`examples/credit-gateway-tourism` is installed with pip into a temporary directory (not into the
venv: nothing outlives the test), and every check runs in a subprocess with that directory on
``PYTHONPATH``, as a deployment that ``pip install``-ed the package would: the entry point is
discovered, ``credit-gateway connectors list`` shows it, a config with ``plugin = "tourism"`` makes
`Services.start` build its connector, which fetches records from the example's registry simulator
over real HTTP, and the package's own tests pass against the installed copy.

Installing needs no network. pip builds the package with the venv's own setuptools
(``--no-build-isolation``); a setuptools too old to build wheels by itself (before 70.1, without
the ``wheel`` package) cannot, and then the wheel is assembled here from the same pyproject.toml
(PEP 427: the package's files plus METADATA, WHEEL, entry_points.txt and RECORD) and pip installs
that.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import select
import shutil
import subprocess
import sys
import time
import tomllib
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "credit-gateway-tourism"
PYTHON = sys.executable
BIN = Path(sys.executable).parent
CLI = str(BIN / "credit-gateway")
APP_KEY = "e2e-app-key"
BLACKLISTED = "91430800MA4RTY6N1E"
HONOURED = "91430100MA4PXL0T3C"
NOT_HELD = "91430100MA4PXL0T3X"
TIMEOUT_S = 120


def build_wheel(project: Path, out: Path) -> Path:
    """A wheel of `project` made from its pyproject.toml alone (pure Python, no build backend)."""
    meta = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    spec = meta["project"]
    name, version = spec["name"], spec["version"]
    stem = f"{name.replace('-', '_')}-{version}"
    files: dict[str, bytes] = {}
    for package in meta["tool"]["setuptools"]["packages"]:
        for path in sorted((project / package.replace(".", "/")).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                files[path.relative_to(project).as_posix()] = path.read_bytes()
    metadata = [
        "Metadata-Version: 2.1",
        f"Name: {name}",
        f"Version: {version}",
        f"Requires-Python: {spec['requires-python']}",
        *(f"Requires-Dist: {requirement}" for requirement in spec.get("dependencies", [])),
    ]
    groups = spec.get("entry-points", {})
    entry_points = "".join(
        f"[{group}]\n" + "".join(f"{key} = {value}\n" for key, value in entries.items()) + "\n"
        for group, entries in groups.items()
    )
    info = f"{stem}.dist-info"
    files[f"{info}/METADATA"] = ("\n".join(metadata) + "\n").encode()
    files[f"{info}/entry_points.txt"] = entry_points.encode()
    files[f"{info}/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: tests.e2e\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    record = [f"{path},sha256={_digest(content)},{len(content)}" for path, content in files.items()]
    files[f"{info}/RECORD"] = ("\n".join([*record, f"{info}/RECORD,,"]) + "\n").encode()
    wheel = out / f"{stem}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, content in files.items():
            archive.writestr(path, content)
    return wheel


def _digest(content: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(content).digest()).rstrip(b"=").decode()


def pip_install(source: Path, target: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            *(PYTHON, "-m", "pip", "install", "--no-deps", "--no-index", *extra),
            *("--target", str(target), "--disable-pip-version-check", str(source)),
        ],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example installed into a fresh directory (built from a copy: no build/ in the tree)."""
    work = tmp_path_factory.mktemp("plugin")
    source = work / "source"
    shutil.copytree(EXAMPLE, source, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    target = work / "site"
    built = pip_install(source, target, "--no-build-isolation")
    if built.returncode != 0:
        shutil.rmtree(target, ignore_errors=True)
        wheel = build_wheel(source, work)
        fallback = pip_install(wheel, target)
        assert fallback.returncode == 0, (built.stderr, fallback.stderr)
    assert (target / "credit_gateway_tourism" / "__init__.py").is_file()
    return target


def environment(site: Path) -> dict[str, str]:
    paths = [str(site), *filter(None, [os.environ.get("PYTHONPATH")])]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths), "PYTHONDONTWRITEBYTECODE": "1"}


def run(site: Path, *argv: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(argv),
        capture_output=True,
        text=True,
        env=environment(site),
        cwd=cwd,
        timeout=TIMEOUT_S,
        check=False,
    )


@pytest.fixture(scope="module")
def registry(site: Path) -> Iterator[str]:
    """The example's legacy registry simulator, in its own process; its URL."""
    process = subprocess.Popen(
        [PYTHON, "-m", "credit_gateway_tourism.registry", "--port", "0", "--app-key", APP_KEY],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment(site),
        cwd=ROOT,
    )
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], 30)
        line = process.stdout.readline() if ready else ""
        assert line.startswith("tourism legacy registry on http://"), (line, process.poll())
        yield line.split(" on ", 1)[1].strip()
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


DISCOVER = """
import json
import credit_gateway_tourism
from connectors.plugins import installed_plugins, load_plugin
plugins = [info for info in installed_plugins() if info.name == "tourism"]
loaded = load_plugin("tourism")
print(json.dumps({
    "plugins": [[p.name, p.value, p.distribution, p.version] for p in plugins],
    "record_model": loaded.record_model.__name__,
    "department": loaded.record_model.department,
    "module": credit_gateway_tourism.__file__,
}))
"""


def test_the_entry_point_is_discovered(site: Path) -> None:
    done = run(site, PYTHON, "-c", DISCOVER)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found["plugins"] == [
        ["tourism", "credit_gateway_tourism:plugin", "credit-gateway-tourism", "0.1.0"]
    ]
    assert (found["record_model"], found["department"]) == ("TourismRecord", "tourism")
    assert Path(found["module"]).is_relative_to(site)  # the installed copy, not the source


def test_connectors_list_shows_it(site: Path) -> None:
    done = run(site, CLI, "connectors", "list")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "tourism  credit-gateway-tourism 0.1.0  credit_gateway_tourism:plugin" in lines
    assert (
        "    record model credit_gateway_tourism.records.TourismRecord (department tourism)"
        in lines
    )
    as_json = json.loads(run(site, CLI, "connectors", "list", "--format", "json").stdout)
    (tourism,) = [p for p in as_json["plugins"] if p["name"] == "tourism"]
    assert tourism["error"] is None


SERVE = """
import asyncio, json, sys
import credit_gateway_tourism
from gateway.services import Services
from gateway.settings import settings_from_dict

async def main(url, key, ids):
    settings = settings_from_dict({
        "audit": {"url": "sqlite:///:memory:"},
        "connectors": {
            "tourism": {
                "base_url": url,
                "plugin": "tourism",
                "options": {"app_key": key},
                "timeout_s": 5,
            },
        },
    })
    services = await Services.start(settings)
    try:
        source = services.sources["tourism"]
        outcomes = await source.load_many(ids)
        print(json.dumps({
            "sources": list(services.sources),
            "connector": type(source.connector).__module__,
            "healthy": await source.connector.check_health(),
            "outcomes": [
                {
                    "state": outcome.state.value,
                    "record": None if outcome.record is None
                    else outcome.record.model_dump(mode="json", by_alias=True),
                }
                for outcome in outcomes
            ],
        }, ensure_ascii=False))
    finally:
        await services.aclose()

asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3:]))
"""


def test_a_config_naming_the_plugin_fetches_over_http(site: Path, registry: str) -> None:
    done = run(site, PYTHON, "-c", SERVE, registry, APP_KEY, BLACKLISTED, HONOURED, NOT_HELD)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["sources"] == ["tourism"]
    assert answer["connector"] == "credit_gateway_tourism.connector"
    assert answer["healthy"] is True
    black, red, none = answer["outcomes"]
    assert (black["state"], red["state"]) == ("OK", "OK")
    assert none == {"state": "NOT_FOUND", "record": None}
    record = black["record"]
    assert record["subjectId"] == BLACKLISTED
    assert record["name"] == "张家界云天旅游服务有限公司"
    (entry,) = record["listEntries"]
    assert (entry["department"], entry["category"], entry["listType"]) == (
        "tourism",
        "BLACK",
        "SERIOUS_DISHONEST",
    )
    assert [(g["scheme"], g["value"]) for g in record["grades"]] == [("tourism", "D")]
    assert record["penalties"][0]["kinds"] == ["CONFISCATION", "FINE", "LICENCE_REVOCATION"]
    assert [e["listType"] for e in red["record"]["listEntries"]] == ["HONOUR"]


def test_a_config_with_the_wrong_options_fails_clearly(site: Path, registry: str) -> None:
    script = SERVE.replace('"options": {"app_key": key}', '"options": {"appkey": key}')
    done = run(site, PYTHON, "-c", script, registry, APP_KEY, HONOURED)
    assert done.returncode != 0
    assert "PluginError: connector plug-in entry point 'tourism'" in done.stderr
    assert "credit-gateway-tourism 0.1.0 could not build the connector of" in done.stderr
    assert "appkey: Extra inputs are not permitted" in done.stderr


def test_the_checker_uses_the_plugin_record_model(site: Path, registry: str) -> None:
    """The legacy registry does not serve the registry API, and the checker says so."""
    started = time.monotonic()
    done = run(site, CLI, "connectors", "check", registry, "--department", "tourism")
    assert done.returncode == 1, done.stderr
    assert time.monotonic() - started < 30
    lines = done.stdout.splitlines()
    assert lines[0].endswith(
        "record model TourismRecord (plug-in tourism (credit-gateway-tourism 0.1.0))"
    )
    assert "FAIL  health" in done.stdout
    assert lines[-1].startswith("result: FAIL")


def test_the_package_tests_pass_against_the_installed_copy(site: Path) -> None:
    done = run(
        site,
        str(BIN / "pytest"),
        "-q",
        "-p",
        "no:cacheprovider",
        str(EXAMPLE / "tests"),
        cwd=EXAMPLE,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert " passed" in done.stdout


OFFICIAL_LOOKUP = """
import asyncio, json, pathlib, sys
import httpx
from gateway.app import create_app
from gateway.auth_settings import AuthSettings
from gateway.settings import settings_from_dict
from gateway.tokens import mint_dev_token

CATALOGUE = '''
[[matters]]
id = "TOUR-AGENCY-LICENSING"
name = "旅行社业务经营许可"
department = "tourism"
legal_basis = "《旅行社条例》第六条"
operating_method = "审批时查询旅游市场黑名单和信用等级"
sections = ["tourism"]
measures = ["P_STRICT_LICENSING"]
'''
QUERY = '''query($id: ID!) { subject(id: $id, matter: "TOUR-AGENCY-LICENSING") {
  lists { department listType } sources { department status }
  jointMeasures { complete restrictions { measure { id } } } } }'''
SECRET = "an-e2e-signing-key-that-is-long-enough"

async def main(url, key, catalogue, subject):
    pathlib.Path(catalogue).write_text(CATALOGUE, encoding="utf-8")
    settings = settings_from_dict({
        "auth": {"dev_secret": SECRET},
        "audit": {"url": "sqlite:///:memory:"},
        "access": {"catalogue": catalogue},
        "connectors": {"tourism": {"base_url": url, "plugin": "tourism",
                                   "options": {"app_key": key}}},
    })
    token = mint_dev_token(AuthSettings(dev_secret=SECRET), ["credit_office"],
                           department="tourism")
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            response = await client.post(
                "/graphql", json={"query": QUERY, "variables": {"id": subject}},
                headers={"authorization": f"Bearer {token}"})
            print(response.text)

asyncio.run(main(*sys.argv[1:]))
"""


def test_an_officials_matter_may_use_the_plugin_department(
    site: Path, registry: str, tmp_path: Path
) -> None:
    """A deployment's catalogue may name a plug-in department in a matter's sections; then an
    official's lookup in that matter consults it, and its lists feed the joint measures."""
    catalogue = tmp_path / "catalogue.toml"
    done = run(site, PYTHON, "-c", OFFICIAL_LOOKUP, registry, APP_KEY, str(catalogue), BLACKLISTED)
    assert done.returncode == 0, done.stderr
    subject = json.loads(done.stdout)["data"]["subject"]
    assert subject["sources"] == [{"department": "tourism", "status": "OK"}]
    assert {"department": "tourism", "listType": "SERIOUS_DISHONEST"} in subject["lists"]
    measures = subject["jointMeasures"]
    assert measures["complete"] is True
    assert [m["measure"]["id"] for m in measures["restrictions"]] == ["P_STRICT_LICENSING"]
