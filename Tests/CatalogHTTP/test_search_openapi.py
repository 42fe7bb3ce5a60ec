"""Port's two search operations against Port's own OpenAPI description of them.

``port-openapi-search.json`` is the part of Port's OpenAPI document that describes
``POST /v1/entities/search`` and ``POST /v1/blueprints/{blueprint_identifier}/entities/search``
(made by ``scripts/extract-search-openapi.py``, unedited). schemathesis fuzzes both against a
running emulator with the checks ``not_a_server_error`` and ``response_schema_conformance``,
as ``scripts/fuzz.sh`` does for the emulator's own document.

Port's document and Port's API disagree in two places, each shown by Port's own
documentation of these routes; the emulator answers as Port's API does. The fuzzer checks the
document with exactly these two differences allowed (``as_port_answers``), and
``test_port_s_schemas_refuse_the_emulator_s_answers_only_where_port_s_docs_differ`` checks,
against the document as Port publishes it, that they are the only differences (and that they
are still there: if Port fixes its document, that test says to drop them).

1. ``entities[]`` items are Port's entity *write* schema (``additionalProperties: false``,
   the identifier may even be a search query), so the meta fields every entity Port returns
   carries are "unexpected": ``blueprint``, ``createdAt``, ``createdBy``, ``updatedAt``,
   ``updatedBy``. Port's docs show them in these very answers (port-docs
   ``docs/search-and-query/relation-operators.md``, the search page's response examples),
   and the contract (§4) puts them on every entity.
2. ``attach_title_to_relation=true`` (a documented query parameter of
   ``/v1/entities/search``) makes each related identifier ``{identifier, title}``, which the
   same write schema's ``relations`` (identifier strings, arrays of them or null) refuses.
   Port's search page documents that shape for this parameter.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import jsonschema_rs
import pytest

from catalog_clients import DEPLOYMENT, ENVIRONMENT, SERVICE, JSON, PortHTTP

DOCUMENT = Path(__file__).with_name("port-openapi-search.json")
SEARCH = "/v1/entities/search"
BLUEPRINT_SEARCH = "/v1/blueprints/{blueprint_identifier}/entities/search"

#: Difference 1: the meta fields of every entity Port returns, with their types.
ENTITY_META_FIELDS: dict[str, JSON] = {
    "blueprint": {"type": "string"},
    "createdAt": {"type": "string", "format": "date-time"},
    "createdBy": {"type": "string"},
    "updatedAt": {"type": "string", "format": "date-time"},
    "updatedBy": {"type": "string"},
}
#: Difference 2: a relation with its title attached (`attach_title_to_relation=true`).
TITLED_RELATION: JSON = {
    "type": "object",
    "properties": {"identifier": {"type": "string"}, "title": {"type": "string"}},
    "required": ["identifier", "title"],
    "additionalProperties": False,
}

#: Examples per operation in each phase: enough to reach every rule shape, well under a minute.
MAX_EXAMPLES = int(os.environ.get("CATALOG_FUZZ_MAX_EXAMPLES", "60"))


def port_document() -> JSON:
    document: JSON = json.loads(DOCUMENT.read_text())
    return document


def success_schema(document: JSON, path: str) -> JSON:
    schema: JSON = document["paths"][path]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    return schema


def as_port_answers(document: JSON) -> JSON:
    """A copy of Port's document with the two differences above allowed, and nothing else."""
    amended = copy.deepcopy(document)
    for path in (SEARCH, BLUEPRINT_SEARCH):
        item = success_schema(amended, path)["properties"]["entities"]["items"]
        assert item.get("additionalProperties") is False and not set(ENTITY_META_FIELDS) & set(item["properties"])
        item["properties"].update(copy.deepcopy(ENTITY_META_FIELDS))
        if path == SEARCH:
            item["properties"]["relations"]["additionalProperties"]["anyOf"] += [
                TITLED_RELATION,
                {"type": "array", "items": TITLED_RELATION},
            ]
    return amended


def validator(document: JSON, path: str) -> jsonschema_rs.Validator:
    """The 200 schema of ``path``, its ``#/components/...`` references resolvable."""
    return jsonschema_rs.validator_for({**success_schema(document, path), "components": document["components"]})


@pytest.fixture
def seeded(catalog: PortHTTP) -> PortHTTP:
    """Entities with single and many relations and computed properties to search through."""
    for environment, region in (("prod", "eu"), ("staging", "us")):
        catalog.upsert(ENVIRONMENT, environment, {"region": region}, title=environment.title())
    for n in range(24):
        relations: JSON = {"environment": "prod" if n % 2 else "staging"}
        if n:
            relations["dependsOn"] = [f"svc-{m:02d}" for m in range(max(0, n - 2), n)]
        catalog.upsert(SERVICE, f"svc-{n:02d}", {"version": f"1.{n}", "language": "go"}, relations, f"Service {n}")
        deployment = {"version": f"1.{n}", "replicas": n % 4}
        catalog.upsert(DEPLOYMENT, f"dep-{n:02d}", deployment, {"service": f"svc-{n:02d}"})
    return catalog


def test_port_s_schemas_refuse_the_emulator_s_answers_only_where_port_s_docs_differ(seeded: PortHTTP) -> None:
    document = port_document()
    every_service = {"combinator": "and", "rules": [{"property": "$blueprint", "operator": "=", "value": SERVICE}]}
    answers = [
        (BLUEPRINT_SEARCH, seeded.expect(200, "POST", f"/blueprints/{SERVICE}/entities/search", {"limit": 30}), False),
        (SEARCH, seeded.expect(200, "POST", "/entities/search", every_service), False),
        (
            SEARCH,
            seeded.expect(200, "POST", "/entities/search", every_service, {"attach_title_to_relation": "true"}),
            True,
        ),
    ]
    seen: set[str] = set()
    for path, body, titled in answers:
        assert len(body["entities"]) == 24
        for error in validator(document, path).iter_errors(body):
            where = error.instance_path
            kind = error.kind
            if isinstance(kind, jsonschema_rs.ValidationErrorKind.AdditionalProperties) and len(where) == 2:
                assert set(kind.unexpected) == set(ENTITY_META_FIELDS), f"{path} {where}: {error.message}"
                seen.add("meta fields")
            elif (
                titled
                and isinstance(kind, jsonschema_rs.ValidationErrorKind.AnyOf)
                and len(where) == 4
                and where[2] == "relations"
            ):
                value = error.instance
                items = value if isinstance(value, list) else [value]
                assert all(isinstance(item, dict) and set(item) == {"identifier", "title"} for item in items), value
                seen.add("titled relations")
            else:
                raise AssertionError(f"{path}: an answer breaks Port's schema at {where}: {error.message}")
        amended = validator(as_port_answers(document), path)
        problems = [f"{e.instance_path}: {e.message}" for e in amended.iter_errors(body)]
        assert problems == [], f"{path}: {problems}"
    # Both differences are still in Port's document; drop one from as_port_answers when not.
    assert seen == {"meta fields", "titled relations"}


def test_schemathesis_finds_no_server_error_and_no_answer_outside_port_s_schemas(
    seeded: PortHTTP, tmp_path: Path
) -> None:
    # schemathesis's CLI from the Python that runs pytest (where `make deps` installed it).
    command = [sys.executable, "-m", "schemathesis.cli"]
    document = tmp_path / "port-openapi-search.json"
    document.write_text(json.dumps(as_port_answers(port_document())))
    # The blueprint with the seeded entities, so that blueprint searches find something.
    configuration = tmp_path / "schemathesis.toml"
    configuration.write_text(f'[parameters]\nblueprint_identifier = "{SERVICE}"\n')
    report = tmp_path / "report.json"
    started = time.monotonic()
    finished = subprocess.run(
        [
            *command,
            "--config-file",
            str(configuration),
            "run",
            str(document),
            "--url",
            seeded.base_url,
            "-H",
            f"Authorization: Bearer {seeded.token}",
            "--checks",
            "not_a_server_error,response_schema_conformance",
            "--phases",
            "examples,coverage,fuzzing",
            "--max-examples",
            str(MAX_EXAMPLES),
            "--request-timeout",
            "10",
            "--report",
            "json",
            "--report-json-path",
            str(report),
            "--no-color",
        ],
        cwd=tmp_path,  # hypothesis and schemathesis keep their state here, not in the checkout
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = finished.stdout + finished.stderr
    assert finished.returncode == 0, f"schemathesis exited {finished.returncode}:\n{output[-6000:]}"
    assert "Tested: 2" in output and "FAILURES" not in output, output[-3000:]
    assert time.monotonic() - started < 120, f"schemathesis took {time.monotonic() - started:.0f} s"
