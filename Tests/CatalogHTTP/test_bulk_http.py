"""Port's catalog, part II (issue #25), with independent clients only: bulk upsert (200 and
207 with per-entity errors), bulk delete, deleting all of a blueprint's entities (and the
blueprint), entity counts, Ocean's data-source query, and the integration routes Ocean calls.
Every write's change-log message is read back with confluent_kafka.
"""

from __future__ import annotations

import uuid

from catalog_clients import DEPLOYMENT, ENVIRONMENT, ITEM, RELEASE, SERVICE, JSON, ChangeLog, PortHTTP, expect_error

OCEAN_AGENT = "port-ocean/demo/0.1.0/demo-integ/exporter"


def bulk(catalog: PortHTTP, blueprint: str, entities: list[JSON], status: int, **params: str) -> JSON:
    response = catalog.call("POST", f"/blueprints/{blueprint}/entities/bulk", {"entities": entities}, params)
    assert response.status_code == status, f"{response.status_code} {response.text}"
    answer: JSON = response.json()
    assert set(answer) == {"ok", "entities", "errors"}, answer
    return answer


def test_bulk_upsert_writes_each_entity_and_answers_207_with_the_ones_that_failed(
    catalog: PortHTTP, change_log: ChangeLog
) -> None:
    prefix = f"bulk-{uuid.uuid4().hex[:6]}"
    catalog.upsert(ENVIRONMENT, f"{prefix}-env", {"region": "eu"})
    since = change_log.mark()
    entities: list[JSON] = [
        {"identifier": f"{prefix}-a", "properties": {"version": "1"}, "relations": {"environment": f"{prefix}-env"}},
        {"identifier": f"{prefix}-b", "properties": {"version": 2}},  # a number where the schema says string
        {"identifier": f"{prefix}-c", "relations": {"environment": "ghost"}},  # a missing related entity
        {"identifier": f"{prefix}-d", "title": "D"},
    ]
    answer = bulk(catalog, SERVICE, entities, 207)
    assert answer["ok"] is False
    assert answer["entities"] == [
        {"identifier": f"{prefix}-a", "index": 0, "created": True},
        {"identifier": f"{prefix}-d", "index": 3, "created": True},
    ]
    errors = {error["index"]: error for error in answer["errors"]}
    assert sorted(errors) == [1, 2]
    assert errors[1]["identifier"] == f"{prefix}-b" and errors[1]["statusCode"] == 422
    assert errors[1]["error"] == "blueprint_schema_mismatch" and "version" in errors[1]["message"]
    assert errors[2]["statusCode"] == 404 and errors[2]["error"] == "not_found" and "ghost" in errors[2]["message"]
    # What was written is there, with its computed properties; what failed is not.
    assert catalog.entity(SERVICE, f"{prefix}-a")["properties"]["envRegion"] == "eu"
    assert not catalog.exists(SERVICE, f"{prefix}-b") and not catalog.exists(SERVICE, f"{prefix}-c")
    created = change_log.read(since, lambda read: {m.entity for m in read} >= {f"{prefix}-a", f"{prefix}-d"})
    # (The environment's own message may land after the mark: the change log is published in the background.)
    written = [(m.action, m.entity) for m in created if m.entity.startswith(prefix) and m.blueprint == SERVICE]
    assert sorted(written) == [
        ("CREATE", f"{prefix}-a"),
        ("CREATE", f"{prefix}-d"),
    ]

    # Again without upsert: each existing identifier is 409; with upsert and merge, the
    # properties are merged and the answer is 200.
    again = bulk(catalog, SERVICE, [{"identifier": f"{prefix}-a"}], 207)
    assert again["errors"][0]["statusCode"] == 409 and again["errors"][0]["error"] == "identifier_taken"
    merged = bulk(
        catalog,
        SERVICE,
        [{"identifier": f"{prefix}-a", "properties": {"language": "go"}}, {"identifier": f"{prefix}-e"}],
        200,
        upsert="true",
        merge="true",
    )
    assert merged == {
        "ok": True,
        "entities": [
            {"identifier": f"{prefix}-a", "index": 0, "created": False},
            {"identifier": f"{prefix}-e", "index": 1, "created": True},
        ],
        "errors": [],
    }
    merged_entity = catalog.entity(SERVICE, f"{prefix}-a", exclude_calculated_properties="true")
    assert merged_entity["properties"] == {"version": "1", "language": "go"}


def test_bulk_upsert_refuses_a_malformed_request_whole(catalog: PortHTTP) -> None:
    many = [{"identifier": f"n-{index}"} for index in range(21)]
    expect_error(catalog.call("POST", f"/blueprints/{ITEM}/entities/bulk", {"entities": many}), 422, "invalid_request")
    expect_error(catalog.call("POST", f"/blueprints/{ITEM}/entities/bulk", {"entities": []}), 422, "invalid_request")
    expect_error(
        catalog.call("POST", f"/blueprints/{ITEM}/entities/bulk", {"entities": [{"identifier": "x"}, {"title": 3}]}),
        422,
        "invalid_request",
        "body.entities[1].title",
    )
    expect_error(catalog.call("POST", "/blueprints/ghost/entities/bulk", {"entities": [{}]}), 404, "not_found")
    assert catalog.expect(200, "GET", f"/blueprints/{ITEM}/entities-count")["count"] == 0


def test_bulk_upsert_creates_missing_related_entities_validates_only_and_ties_to_a_run(catalog: PortHTTP) -> None:
    run_id = catalog.trigger("create_vm", {"name": "bulk-vm", "cpu": 2})
    only = bulk(catalog, DEPLOYMENT, [{"identifier": "d1", "relations": {"service": "s1"}}], 207)
    assert only["errors"][0]["statusCode"] == 404
    checked = bulk(
        catalog,
        DEPLOYMENT,
        [{"identifier": "d1", "relations": {"service": "s1"}}],
        200,
        create_missing_related_entities="true",
        validation_only="true",
    )
    assert checked["entities"][0]["identifier"] == "d1"
    assert not catalog.exists(DEPLOYMENT, "d1") and not catalog.exists(SERVICE, "s1")
    bulk(
        catalog,
        DEPLOYMENT,
        [{"identifier": "d1", "relations": {"service": "s1"}}],
        200,
        create_missing_related_entities="true",
        run_id=run_id,
    )
    assert catalog.exists(SERVICE, "s1")
    affected = [(a["operation"], a["blueprint"], a["identifier"]) for a in catalog.run(run_id)["affectedEntities"]]
    assert affected == [("CREATE", SERVICE, "s1"), ("CREATE", DEPLOYMENT, "d1")]


def test_bulk_delete_all_entities_and_the_count(catalog: PortHTTP, change_log: ChangeLog) -> None:
    prefix = f"del-{uuid.uuid4().hex[:6]}"
    catalog.upsert(SERVICE, f"{prefix}-s")
    for index in range(3):
        catalog.upsert(DEPLOYMENT, f"{prefix}-d{index}", {"replicas": index}, {"service": f"{prefix}-s"})
    assert catalog.expect(200, "GET", f"/blueprints/{DEPLOYMENT}/entities-count") == {"ok": True, "count": 3}
    path = f"/blueprints/{SERVICE}/bulk/entities/delete"
    # The deployments require the service: 403, and nothing is deleted.
    expect_error(catalog.call("POST", path, {"entities": [f"{prefix}-s"]}), 403, "has_dependents")
    assert catalog.exists(SERVICE, f"{prefix}-s")
    expect_error(catalog.call("POST", path, {"entities": []}), 422, "invalid_request")
    since = change_log.mark()
    answer = catalog.expect(
        200,
        "POST",
        f"/blueprints/{DEPLOYMENT}/bulk/entities/delete",
        {"entities": [f"{prefix}-d0", "never-there"]},
        {"delete_dependents": "false"},
    )
    assert answer == {"ok": True, "deletedEntities": [f"{prefix}-d0"]}
    cascade = catalog.expect(200, "POST", path, {"entities": [f"{prefix}-s"]}, {"delete_dependents": "true"})
    assert sorted(cascade["deletedEntities"]) == sorted([f"{prefix}-s", f"{prefix}-d1", f"{prefix}-d2"])
    names = {f"{prefix}-d0", f"{prefix}-d1", f"{prefix}-d2", f"{prefix}-s"}
    deleted = change_log.read(since, lambda read: {m.entity for m in read if m.action == "DELETE"} >= names)
    assert sorted(m.entity for m in deleted if m.action == "DELETE" and m.entity.startswith(prefix)) == sorted(names)

    # All of a blueprint's entities, then the blueprint itself.
    catalog.upsert(ENVIRONMENT, f"{prefix}-e1")
    catalog.upsert(SERVICE, f"{prefix}-s2", relations={"environment": f"{prefix}-e1"})
    since = change_log.mark()
    catalog.expect(200, "DELETE", f"/blueprints/{SERVICE}/all-entities")
    # (Its CREATE may land after the mark too: the change log is published in the background.)
    gone = change_log.read(since, lambda read: any(m.entity == f"{prefix}-s2" and m.action == "DELETE" for m in read))
    assert [m.blueprint for m in gone if m.entity == f"{prefix}-s2" and m.action == "DELETE"] == [SERVICE]
    assert catalog.expect(200, "GET", f"/blueprints/{SERVICE}/entities-count")["count"] == 0
    assert catalog.exists(ENVIRONMENT, f"{prefix}-e1")
    # A blueprint other blueprints relate to stays, and so do its entities; one nothing relates to goes.
    catalog.upsert(SERVICE, f"{prefix}-s3")
    expect_error(
        catalog.call("DELETE", f"/blueprints/{SERVICE}/all-entities", params={"delete_blueprint": "true"}),
        403,
        "has_dependents",
        DEPLOYMENT,
    )
    assert catalog.exists(SERVICE, f"{prefix}-s3"), "a refused delete_blueprint deletes no entity"
    catalog.upsert(ITEM, "i1")
    expect_error(catalog.call("DELETE", f"/blueprints/{ITEM}"), 403, "has_dependents", "all-entities")
    catalog.expect(200, "DELETE", f"/blueprints/{ITEM}/all-entities", params={"delete_blueprint": "true"})
    expect_error(catalog.call("GET", f"/blueprints/{ITEM}"), 404, "not_found")
    # A blueprint with actions goes only with delete_actions=true, and takes them along.
    action = {
        "identifier": f"{prefix}-act", "trigger": {"type": "self-service", "operation": "DAY-2",
                                                 "blueprintIdentifier": RELEASE, "userInputs": {"properties": {}}},
        "invocationMethod": {"type": "KAFKA"},
    }
    catalog.expect(201, "POST", "/actions", action)
    expect_error(catalog.call("DELETE", f"/blueprints/{RELEASE}"), 403, "has_dependents", f"{prefix}-act")
    catalog.expect(200, "DELETE", f"/blueprints/{RELEASE}", params={"delete_actions": "true"})
    expect_error(catalog.call("GET", f"/actions/{prefix}-act"), 404, "not_found")


def test_datasource_entities_finds_what_one_integration_wrote(catalog: PortHTTP) -> None:
    for identifier, agent in [("o1", OCEAN_AGENT), ("o2", OCEAN_AGENT), ("other", "port-ocean/demo/0.1.0/x/exporter")]:
        response = catalog.session.post(
            f"{catalog.api_url}/blueprints/{ITEM}/entities",
            json={"identifier": identifier},
            params={"upsert": "true"},
            headers={"User-Agent": agent},
            timeout=30,
        )
        assert response.status_code == 201, response.text
    catalog.upsert(ITEM, "by-hand")
    query = {"datasource_prefix": "port-ocean/demo/", "datasource_suffix": "/demo-integ/exporter", "limit": 1}
    first = catalog.expect(200, "POST", "/blueprints/entities/datasource-entities", query)
    assert [e["identifier"] for e in first["entities"]] == ["o1"] and first["next"]
    second = catalog.expect(200, "POST", "/blueprints/entities/datasource-entities", {**query, "from": first["next"]})
    assert [e["identifier"] for e in second["entities"]] == ["o2"] and second["next"] is None
    # The same through Port's search, as Ocean also asks.
    rules = [
        {"property": "$datasource", "operator": "contains", "value": "port-ocean/demo/"},
        {"property": "$datasource", "operator": "contains", "value": "/demo-integ/exporter"},
    ]
    found = catalog.expect(200, "POST", "/entities/search", {"combinator": "and", "rules": rules})
    assert sorted(e["identifier"] for e in found["entities"]) == ["o1", "o2"]
    expect_error(
        catalog.call("POST", "/blueprints/entities/datasource-entities", {"datasource_prefix": "x"}),
        422,
        "invalid_request",
    )


def test_the_integration_routes_ocean_calls(port: PortHTTP) -> None:
    expect_error(port.call("GET", "/integration/demo-integ"), 404, "not_found", "demo-integ")
    assert port.expect(200, "GET", "/integration/provision-enabled") == {"ok": True, "integrations": []}
    body = {"installationId": "demo-integ", "installationAppType": "demo", "version": "0.1.0", "config": {}}
    created = port.expect(201, "POST", "/integration", body)["integration"]
    assert created["identifier"] == "demo-integ" and created["installationType"] == "OnPrem"
    assert created["logAttributes"]["ingestUrl"].endswith("/_emulator/integrations/demo-integ/logs")
    expect_error(port.call("POST", "/integration", body), 409, "identifier_taken")
    patched = port.expect(200, "PATCH", "/integration/demo-integ", {"actionsProcessingEnabled": True})
    assert patched["integration"]["actionsProcessingEnabled"] is True
    config = {"resources": [{"kind": "item"}]}
    assert port.expect(200, "PATCH", "/integration/demo-integ/config", {"config": config})["integration"][
        "config"
    ] == config
    state = port.expect(200, "PATCH", "/integration/demo-integ/resync-state", {"status": "running"})
    assert state["integration"]["resyncState"]["status"] == "running"
    assert state["integration"]["resyncState"]["updatedAt"]
    # No resync was asked for; an empty PATCH asks for one (Port: "triggers a resync").
    assert port.expect(200, "GET", "/integration/demo-integ/resync-request")["request"] is None
    port.expect(200, "PATCH", "/integration/demo-integ")
    assert port.expect(200, "GET", "/integration/demo-integ/resync-request")["request"]["updatedAt"]
    port.expect(200, "POST", "/integration/demo-integ/kinds/item/examples", {"examples": [{"id": 1}]})
    ingest = port.session.post(
        created["logAttributes"]["ingestUrl"], json={"logs": [{"message": "hello", "level": "INFO"}]}, timeout=30
    )
    assert ingest.status_code == 200, ingest.text
    logs = port.expect(200, "GET", "/integration/demo-integ/logs")["data"]["logs"]
    assert logs == [{"message": "hello", "level": "INFO"}]
    # Sync metrics Ocean sends to its metrics ingest URL are served back.
    metrics_url = created["metricAttributes"]["ingestUrl"]
    kind: JSON = {"eventId": "e1", "kindIndex": 0, "kind": "item", "syncState": "completed", "metrics": {}}
    sent = port.session.post(metrics_url + "/syncMetrics", json={"syncKindsMetrics": [kind]}, timeout=30)
    assert sent.status_code == 200, sent.text
    metrics = port.expect(200, "GET", "/integration/demo-integ/syncMetrics", params={"resyncId": "e1"})
    assert metrics["count"] == 1 and metrics["data"] == [kind]
    syncs = port.expect(200, "GET", "/integration/demo-integ/syncsMetadata")["data"]
    assert [(s["eventId"], s["syncState"]) for s in syncs] == [("e1", "completed")]
    listed = port.expect(200, "GET", "/integration", params={"actionsProcessingEnabled": "true"})
    assert [i["identifier"] for i in listed["integrations"]] == ["demo-integ"]
    port.expect(200, "DELETE", "/integration/demo-integ")
    expect_error(port.call("PATCH", "/integration/demo-integ/resync-state", {}), 404, "not_found")
