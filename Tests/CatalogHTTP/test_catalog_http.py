"""Port's catalog (contract §10) over HTTP and Kafka, with independent clients only.

Relations (404 / 422 / 403 and the flags that allow each), cascading deletes on the change log
and in a run, the two searches with paging and relation rules, include/exclude, computed
properties after related entities change, an empty ``run_id``, and malformed rules. Every
catalog is built through ``POST /v1/blueprints`` (see ``catalog_clients.BLUEPRINTS``).
"""

from __future__ import annotations

import uuid
from typing import Any

from catalog_clients import (
    DEPLOYMENT,
    ENVIRONMENT,
    ITEM,
    RELEASE,
    RELEASE_COMPUTED,
    SERVICE,
    SERVICE_COMPUTED,
    JSON,
    ChangeLog,
    ChangeMessage,
    PortHTTP,
    expect_error,
    sharing_a_partition,
)

# --- a. relation rules -------------------------------------------------------------------


def test_a_relation_to_a_missing_entity_is_404_unless_create_missing_related_entities(catalog: PortHTTP) -> None:
    entities = f"/blueprints/{SERVICE}/entities"
    # POST, PUT and PATCH all refuse a relation to an entity that does not exist.
    body = {"identifier": "api", "relations": {"environment": "ghost"}}
    expect_error(catalog.call("POST", entities, body), 404, "not_found", '"ghost"', ENVIRONMENT, '"environment"')
    assert not catalog.exists(SERVICE, "api") and not catalog.exists(ENVIRONMENT, "ghost")
    catalog.upsert(SERVICE, "api", {"version": "1"})
    expect_error(
        catalog.call("PUT", f"{entities}/api", {"properties": {"version": "2"}, "relations": {"environment": "ghost"}}),
        404,
        "not_found",
        '"ghost"',
    )
    expect_error(
        catalog.call("PATCH", f"{entities}/api", {"relations": {"dependsOn": ["api", "phantom"]}}),
        404,
        "not_found",
        '"phantom"',
        SERVICE,
    )
    unchanged = catalog.entity(SERVICE, "api")
    assert unchanged["properties"]["version"] == "1" and unchanged["relations"] == {}
    assert not catalog.exists(ENVIRONMENT, "ghost") and not catalog.exists(SERVICE, "phantom")

    # With the flag, each missing target is created with nothing but its identifier.
    flag = {"create_missing_related_entities": "true"}
    created = catalog.expect(201, "POST", entities, {"identifier": "web", "relations": {"environment": "ghost"}}, flag)
    assert created["entity"]["relations"] == {"environment": "ghost"}
    ghost = catalog.entity(ENVIRONMENT, "ghost")
    assert ghost["identifier"] == "ghost" and ghost["blueprint"] == ENVIRONMENT
    assert ghost["properties"] == {} and ghost["relations"] == {}
    patched = catalog.expect(200, "PATCH", f"{entities}/api", {"relations": {"dependsOn": ["web", "phantom"]}}, flag)
    assert patched["entity"]["relations"]["dependsOn"] == ["web", "phantom"]
    phantom = catalog.entity(SERVICE, "phantom")
    assert phantom["properties"] == {
        "envRegion": None,
        "envTitle": None,
        "label": "phantom@none",
        "placement": "nowhere/phantom",
    }
    assert phantom["relations"] == {}
    replaced = catalog.expect(
        200, "PUT", f"{entities}/api", {"properties": {"version": "2"}, "relations": {"environment": "spectre"}}, flag
    )
    assert replaced["entity"]["relations"] == {"environment": "spectre"}
    assert catalog.entity(ENVIRONMENT, "spectre")["properties"] == {}
    # The flag leaves a target that exists as it is.
    catalog.expect(200, "PATCH", f"/blueprints/{ENVIRONMENT}/entities/ghost", {"properties": {"region": "eu"}})
    catalog.expect(201, "POST", entities, {"identifier": "db", "relations": {"environment": "ghost"}}, flag)
    assert catalog.entity(ENVIRONMENT, "ghost")["properties"] == {"region": "eu"}
    environments = catalog.expect(200, "GET", f"/blueprints/{ENVIRONMENT}/entities")["entities"]
    assert sorted(e["identifier"] for e in environments) == ["ghost", "spectre"]


def test_a_missing_required_relation_is_422_required_relation(catalog: PortHTTP) -> None:
    entities = f"/blueprints/{DEPLOYMENT}/entities"
    catalog.upsert(SERVICE, "api")
    for relations in ({}, {"service": None}):
        expect_error(
            catalog.call("POST", entities, {"identifier": "d1", "relations": relations}),
            422,
            "required_relation",
            '"service"',
            DEPLOYMENT,
        )
    assert not catalog.exists(DEPLOYMENT, "d1")
    catalog.upsert(DEPLOYMENT, "d1", {"replicas": 1}, {"service": "api"})
    # Replacing without it, or setting it to null, is refused too; the entity keeps it.
    expect_error(
        catalog.call("PUT", f"{entities}/d1", {"properties": {"replicas": 2}}), 422, "required_relation", '"service"'
    )
    expect_error(
        catalog.call("PATCH", f"{entities}/d1", {"relations": {"service": None}}), 422, "required_relation", '"service"'
    )
    kept = catalog.entity(DEPLOYMENT, "d1")
    assert kept["relations"] == {"service": "api"} and kept["properties"] == {"replicas": 1}
    # Set, it is taken.
    replaced = catalog.expect(
        200, "PUT", f"{entities}/d1", {"properties": {"replicas": 2}, "relations": {"service": "api"}}
    )
    assert replaced["entity"]["properties"] == {"replicas": 2}


def test_an_array_for_a_single_relation_or_a_string_for_a_many_one_is_422_relation_many_violation(
    catalog: PortHTTP,
) -> None:
    catalog.upsert(SERVICE, "api")
    catalog.upsert(SERVICE, "web")
    expect_error(
        catalog.call(
            "POST", f"/blueprints/{DEPLOYMENT}/entities", {"identifier": "d1", "relations": {"service": ["api"]}}
        ),
        422,
        "relation_many_violation",
        '"service"',
    )
    expect_error(
        catalog.call(
            "POST", f"/blueprints/{SERVICE}/entities", {"identifier": "gw", "relations": {"dependsOn": "api"}}
        ),
        422,
        "relation_many_violation",
        '"dependsOn"',
    )
    expect_error(
        catalog.call("PATCH", f"/blueprints/{SERVICE}/entities/web", {"relations": {"environment": ["x", "y"]}}),
        422,
        "relation_many_violation",
        '"environment"',
    )
    assert not catalog.exists(DEPLOYMENT, "d1") and not catalog.exists(SERVICE, "gw")
    assert catalog.entity(SERVICE, "web")["relations"] == {}
    # The right shapes are taken.
    assert catalog.upsert(DEPLOYMENT, "d1", relations={"service": "api"})["relations"] == {"service": "api"}
    gateway = catalog.upsert(SERVICE, "gw", relations={"dependsOn": ["api", "web"]})
    assert gateway["relations"] == {"dependsOn": ["api", "web"]}


def test_deleting_an_entity_others_require_is_403_has_dependents_unless_delete_dependents(catalog: PortHTTP) -> None:
    catalog.upsert(ENVIRONMENT, "prod", {"region": "eu"})
    catalog.upsert(SERVICE, "api", relations={"environment": "prod"})
    catalog.upsert(SERVICE, "web")
    catalog.upsert(SERVICE, "gw", relations={"dependsOn": ["api", "web"]})
    catalog.upsert(DEPLOYMENT, "d1", {"replicas": 1}, {"service": "api"})
    catalog.upsert(DEPLOYMENT, "d2", {"replicas": 2}, {"service": "api"})
    catalog.upsert(DEPLOYMENT, "d3", {"replicas": 3}, {"service": "web"})

    expect_error(
        catalog.call("DELETE", f"/blueprints/{SERVICE}/entities/api"),
        403,
        "has_dependents",
        '"api"',
        f"{DEPLOYMENT}/d1",
        f"{DEPLOYMENT}/d2",
    )
    assert all(catalog.exists(DEPLOYMENT, d) for d in ("d1", "d2")) and catalog.exists(SERVICE, "api")

    answer = catalog.expect(200, "DELETE", f"/blueprints/{SERVICE}/entities/api", params={"delete_dependents": "true"})
    assert answer == {"ok": True}
    assert not catalog.exists(SERVICE, "api")
    assert not catalog.exists(DEPLOYMENT, "d1") and not catalog.exists(DEPLOYMENT, "d2")
    # Only api's dependents went; an optional many relation lost just the deleted id.
    assert catalog.entity(DEPLOYMENT, "d3")["relations"] == {"service": "web"}
    assert catalog.entity(SERVICE, "gw")["relations"] == {"dependsOn": ["web"]}
    assert catalog.exists(ENVIRONMENT, "prod")

    # Nothing requires an environment: deleting one needs no flag, and the optional single
    # relation pointing at it becomes null (its mirror with it).
    catalog.upsert(SERVICE, "db", relations={"environment": "prod"})
    assert catalog.expect(200, "DELETE", f"/blueprints/{ENVIRONMENT}/entities/prod") == {"ok": True}
    db = catalog.entity(SERVICE, "db")
    assert db["relations"] == {"environment": None}
    assert db["properties"]["envRegion"] is None and db["properties"]["placement"] == "nowhere/db"
    # An entity that is gone is 404.
    expect_error(catalog.call("DELETE", f"/blueprints/{SERVICE}/entities/api"), 404, "not_found", '"api"')


# --- b. cascading delete: the change log and the run -------------------------------------


def test_a_cascading_delete_publishes_dependents_first_and_is_recorded_in_the_run(
    catalog: PortHTTP, change_log: ChangeLog
) -> None:
    run_id = catalog.trigger("create_vm", {"name": "catalog-vm", "cpu": 2})
    # Unique names (the topic outlives resets), all on one partition so that offsets order them.
    prefix = f"cascade-{uuid.uuid4().hex[:6]}"
    service, first, second = sharing_a_partition(prefix, 3, len(change_log.partitions))
    catalog.upsert(ENVIRONMENT, f"{service}-env", {"region": "eu"})
    catalog.upsert(SERVICE, service, {"version": "1"}, {"environment": f"{service}-env"})
    catalog.upsert(DEPLOYMENT, first, {"replicas": 1}, {"service": service})
    catalog.upsert(DEPLOYMENT, second, {"replicas": 2}, {"service": service})
    since = change_log.mark()

    catalog.expect(
        200,
        "DELETE",
        f"/blueprints/{SERVICE}/entities/{service}",
        params={"delete_dependents": "true", "run_id": run_id},
    )

    def deletions(messages: list[ChangeMessage]) -> list[ChangeMessage]:
        return [m for m in messages if m.action == "DELETE" and m.entity in (service, first, second)]

    messages = change_log.read(since, lambda read: len(deletions(read)) >= 3)
    deleted = deletions(messages)
    assert sorted((m.blueprint, m.entity) for m in deleted) == sorted(
        [(SERVICE, service), (DEPLOYMENT, first), (DEPLOYMENT, second)]
    ), deleted
    for message in deleted:
        assert message.key == message.entity
        assert message.value["resourceType"] == "entity" and message.value["status"] == "SUCCESS"
        assert message.value["context"]["runId"] == run_id
        before = message.value["diff"]["before"]
        assert before["identifier"] == message.entity and before["blueprint"] == message.blueprint
        assert message.value["diff"]["after"] is None
    (entity_message,) = [m for m in deleted if m.entity == service]
    for dependent in (m for m in deleted if m.entity != service):
        assert dependent.published_before(entity_message), (dependent, entity_message)
        assert dependent.value["diff"]["before"]["relations"] == {"service": service}
    # Nothing else of this test's was deleted (the environment stays); each deletion is published once.
    assert [m for m in messages if m.action == "DELETE" and m.entity.startswith(prefix)] == deleted

    run = catalog.run(run_id)
    affected = [(a["operation"], a["blueprint"], a["identifier"]) for a in run["affectedEntities"]]
    assert sorted(affected[:2]) == sorted([("DELETE", DEPLOYMENT, first), ("DELETE", DEPLOYMENT, second)])
    assert affected[2:] == [("DELETE", SERVICE, service)], affected
    for record in run["affectedEntities"]:
        assert record["after"] is None and record["before"]["identifier"] == record["identifier"]
    # Port's own view of the run is unchanged by it: still in progress.
    assert catalog.expect(200, "GET", f"/actions/runs/{run_id}")["run"]["status"] == "IN_PROGRESS"


# --- c. searches ---------------------------------------------------------------------------


def page_through(port: PortHTTP, blueprint: str, body: JSON) -> list[list[str]]:
    """Every page of a blueprint search, following ``next`` until it is absent."""
    pages: list[list[str]] = []
    request = dict(body)
    while True:
        answer = port.expect(200, "POST", f"/blueprints/{blueprint}/entities/search", request)
        assert set(answer) <= {"ok", "entities", "next"}, answer.keys()
        pages.append([entity["identifier"] for entity in answer["entities"]])
        assert len(pages) <= 50, "next never ends"
        if "next" not in answer:
            return pages
        assert isinstance(answer["next"], str) and answer["next"], answer["next"]
        request["from"] = answer["next"]


def test_a_blueprint_search_pages_through_every_entity_exactly_once(catalog: PortHTTP) -> None:
    everything = [f"item-{n:03d}" for n in range(450)]
    for n, identifier in enumerate(everything):
        catalog.upsert(ITEM, identifier, {"n": n, "parity": "even" if n % 2 == 0 else "odd"})

    pages = page_through(catalog, ITEM, {"limit": 100})
    assert [len(page) for page in pages] == [100, 100, 100, 100, 50]
    flat = [identifier for page in pages for identifier in page]
    assert sorted(flat) == everything and len(set(flat)) == 450

    # A query's matches only, each once; the default limit is 200.
    query = {
        "combinator": "and",
        "rules": [
            {"property": "n", "operator": ">=", "value": 100},
            {"property": "parity", "operator": "=", "value": "even"},
        ],
    }
    expected = [f"item-{n:03d}" for n in range(100, 450, 2)]
    pages = page_through(catalog, ITEM, {"query": query, "limit": 100})
    assert [len(page) for page in pages] == [100, 75]
    assert sorted(identifier for page in pages for identifier in page) == expected
    first = catalog.expect(200, "POST", f"/blueprints/{ITEM}/entities/search", {})
    assert len(first["entities"]) == 200 and "next" in first
    # A last page that is exactly full has no next (no empty page after it).
    below = {"combinator": "and", "rules": [{"property": "n", "operator": "<", "value": 200}]}
    pages = page_through(catalog, ITEM, {"query": below, "limit": 100})
    assert [len(page) for page in pages] == [100, 100]
    # One matching entity: one page without next.
    one = {"combinator": "and", "rules": [{"property": "$identifier", "operator": "=", "value": "item-007"}]}
    assert page_through(catalog, ITEM, {"query": one}) == [["item-007"]]

    # Out of range limits and foreign cursors are Port's 422.
    for limit in (0, 1001):
        expect_error(
            catalog.call("POST", f"/blueprints/{ITEM}/entities/search", {"limit": limit}),
            422,
            "invalid_request",
            "body.limit",
        )
    cursor = catalog.expect(200, "POST", f"/blueprints/{ITEM}/entities/search", {"limit": 1})["next"]
    expect_error(
        catalog.call("POST", f"/blueprints/{SERVICE}/entities/search", {"from": cursor}),
        422,
        "invalid_request",
        "body.from",
    )
    expect_error(catalog.call("POST", "/blueprints/no_such_blueprint/entities/search", {}), 404, "not_found")


def test_a_cleanup_that_deletes_each_page_before_asking_for_the_next_reaches_every_entity(catalog: PortHTTP) -> None:
    """The usual clean-up script: search a page, delete what it holds, follow ``next``. What
    the cursor was handed out after is gone by then; no entity that is still there may be
    skipped."""
    everything = [f"item-{n:02d}" for n in range(30)]
    for n, identifier in enumerate(everything):
        catalog.upsert(ITEM, identifier, {"n": n})
    seen: list[str] = []
    request: JSON = {"limit": 10}
    for _ in range(10):
        answer = catalog.expect(200, "POST", f"/blueprints/{ITEM}/entities/search", request)
        page = [entity["identifier"] for entity in answer["entities"]]
        seen += page
        for identifier in page:
            catalog.expect(200, "DELETE", f"/blueprints/{ITEM}/entities/{identifier}")
        if "next" not in answer:
            break
        request = {"limit": 10, "from": answer["next"]}
    left = [entity["identifier"] for entity in catalog.expect(200, "GET", f"/blueprints/{ITEM}/entities")["entities"]]
    assert sorted(seen) == everything and len(set(seen)) == len(seen), (
        f"handed out {seen}; never handed out (still there): {left}"
    )
    assert left == []


def test_searching_across_blueprints_with_blueprint_and_related_to_rules(catalog: PortHTTP) -> None:
    catalog.upsert(ENVIRONMENT, "prod", {"region": "eu"})
    catalog.upsert(ENVIRONMENT, "staging", {"region": "us"})
    catalog.upsert(SERVICE, "api", {"version": "1"}, {"environment": "prod"})
    catalog.upsert(SERVICE, "web", {"version": "2"}, {"environment": "prod"})
    catalog.upsert(SERVICE, "batch", {"version": "3"}, {"environment": "staging"})
    catalog.upsert(DEPLOYMENT, "api-1", {"replicas": 1}, {"service": "api"})
    catalog.upsert(DEPLOYMENT, "batch-1", {"replicas": 1}, {"service": "batch"})

    def search(*rules: JSON, combinator: str = "and", **params: str) -> JSON:
        query = {"combinator": combinator, "rules": list(rules)}
        answer = catalog.expect(200, "POST", "/entities/search", query, params)
        assert set(answer) <= {"ok", "matchingBlueprints", "failedBlueprints", "entities"}, answer.keys()
        assert answer.get("failedBlueprints", []) == []
        return answer

    def identifiers(answer: JSON) -> list[str]:
        return sorted(entity["identifier"] for entity in answer["entities"])

    services = {"property": "$blueprint", "operator": "=", "value": SERVICE}
    answer = search(services)
    assert answer["matchingBlueprints"] == [SERVICE]
    assert identifiers(answer) == ["api", "batch", "web"]
    assert all(entity["blueprint"] == SERVICE for entity in answer["entities"])

    in_prod = {"operator": "relatedTo", "blueprint": ENVIRONMENT, "value": "prod"}
    answer = search(services, in_prod)
    assert answer["matchingBlueprints"] == [SERVICE] and identifiers(answer) == ["api", "web"]
    # Downstream of prod: what depends on it; upstream of it: what it depends on (nothing).
    assert identifiers(search(services, {**in_prod, "direction": "downstream"})) == ["api", "web"]
    assert identifiers(search(services, {**in_prod, "direction": "upstream"})) == []
    # Upstream of a deployment: the service it requires.
    upstream = {"operator": "relatedTo", "blueprint": DEPLOYMENT, "value": "batch-1", "direction": "upstream"}
    assert identifiers(search(services, upstream)) == ["batch"]
    # Several values: related to any of them.
    either = {**in_prod, "value": ["prod", "staging"], "direction": "downstream"}
    assert identifiers(search(services, either)) == ["api", "batch", "web"]
    # Required relations only: deployments require their service, nothing requires an environment.
    required = {"operator": "relatedTo", "blueprint": SERVICE, "value": "api", "required": True}
    deployments = {"property": "$blueprint", "operator": "=", "value": DEPLOYMENT}
    assert identifiers(search(deployments, required)) == ["api-1"]
    # Across blueprints: an `or` of identifiers, whatever their blueprint.
    answer = search(
        {"property": "$identifier", "operator": "=", "value": "staging"},
        {"property": "$identifier", "operator": "=", "value": "api-1"},
        combinator="or",
    )
    assert sorted((e["blueprint"], e["identifier"]) for e in answer["entities"]) == [
        (DEPLOYMENT, "api-1"),
        (ENVIRONMENT, "staging"),
    ]
    # A relatedTo naming an unknown blueprint is Port's 404.
    expect_error(
        catalog.call("POST", "/entities/search", {"combinator": "and", "rules": [{**in_prod, "blueprint": "nope"}]}),
        404,
        "not_found",
        '"nope"',
    )


# --- d. include / exclude ------------------------------------------------------------------


def test_include_and_exclude_shape_entity_reads_and_searches(catalog: PortHTTP) -> None:
    catalog.upsert(ENVIRONMENT, "prod", {"region": "eu"}, title="Production")
    catalog.upsert(SERVICE, "web", {"version": "1", "language": "go"})
    relations = {"environment": "prod", "dependsOn": ["web"]}
    catalog.upsert(SERVICE, "api", {"version": "2", "language": "swift"}, relations, "API")
    entity = f"/blueprints/{SERVICE}/entities/api"

    def read(**params: str | list[str]) -> JSON:
        answer: JSON = catalog.expect(200, "GET", entity, params=params)["entity"]
        return answer

    # Repeated include parameters, full paths.
    assert read(include=["identifier", "properties.version"]) == {"identifier": "api", "properties": {"version": "2"}}
    # Bare property and relation identifiers, $meta forms, a computed property.
    assert read(include=["$identifier", "$title", "language", "environment", "envRegion"]) == {
        "identifier": "api",
        "title": "API",
        "properties": {"language": "swift", "envRegion": "eu"},
        "relations": {"environment": "prod"},
    }
    excluded = read(exclude=["properties.language", "relations", "$createdAt", "envTitle"])
    assert "relations" not in excluded and "createdAt" not in excluded
    assert set(excluded["properties"]) == {"version", "envRegion", "label", "placement"}
    assert excluded["identifier"] == "api" and excluded["updatedAt"]
    # Both: exclude applies to what include kept.
    assert read(include=["identifier", "properties.version", "properties.language"], exclude=["language"]) == {
        "identifier": "api",
        "properties": {"version": "2"},
    }
    # attach_title_to_relation: {identifier, title} for single and many relations.
    assert read(include=["relations"], attach_title_to_relation="true") == {
        "relations": {
            "environment": {"identifier": "prod", "title": "Production"},
            "dependsOn": [{"identifier": "web", "title": "web"}],
        }
    }

    # GET entities: every entity projected.
    listed = catalog.expect(
        200, "GET", f"/blueprints/{SERVICE}/entities", params={"include": ["identifier", "properties.version"]}
    )["entities"]
    assert sorted(listed, key=lambda e: str(e["identifier"])) == [
        {"identifier": "api", "properties": {"version": "2"}},
        {"identifier": "web", "properties": {"version": "1"}},
    ]
    listed = catalog.expect(
        200, "GET", f"/blueprints/{SERVICE}/entities", params={"exclude": ["properties", "relations", "team"]}
    )["entities"]
    assert all(not {"properties", "relations", "team"} & set(e) and e["identifier"] for e in listed)

    # The blueprint search takes them in its body.
    search = f"/blueprints/{SERVICE}/entities/search"
    only_api = {"combinator": "and", "rules": [{"property": "$identifier", "operator": "=", "value": "api"}]}
    found = catalog.expect(200, "POST", search, {"query": only_api, "include": ["$identifier", "version", "dependsOn"]})
    assert found["entities"] == [
        {"identifier": "api", "properties": {"version": "2"}, "relations": {"dependsOn": ["web"]}}
    ]
    excluding = {"query": only_api, "exclude": ["properties", "$updatedAt", "$createdBy"]}
    found = catalog.expect(200, "POST", search, excluding)
    (shown,) = found["entities"]
    assert not {"properties", "updatedAt", "createdBy"} & set(shown) and shown["relations"]["environment"] == "prod"
    expect_error(catalog.call("POST", search, {"include": "identifier"}), 422, "invalid_request", "body.include")
    # The cross-blueprint search takes them as query parameters.
    found = catalog.expect(
        200,
        "POST",
        "/entities/search",
        {"combinator": "and", "rules": [{"property": "$identifier", "operator": "=", "value": "api"}]},
        {"include": ["identifier", "properties.envTitle"], "attach_title_to_relation": "true"},
    )
    assert found["entities"] == [{"identifier": "api", "properties": {"envTitle": "Production"}}]


# --- e. computed properties --------------------------------------------------------------


def test_computed_properties_follow_the_related_entities(catalog: PortHTTP) -> None:
    catalog.upsert(ENVIRONMENT, "prod", {"region": "eu"}, title="Production")
    catalog.upsert(ENVIRONMENT, "staging", {"region": "us"}, title="Staging")
    created = catalog.upsert(SERVICE, "api", {"version": "1.0"}, {"environment": "prod"})
    computed = {"envRegion": "eu", "envTitle": "Production", "label": "api@1.0", "placement": "eu/api"}
    # In the write's answer and on every read, inside properties.
    assert created["properties"] == {"version": "1.0", **computed}
    assert catalog.entity(SERVICE, "api")["properties"] == {"version": "1.0", **computed}

    # The mirror follows the environment's new property, and the calculation built on it.
    prod = f"/blueprints/{ENVIRONMENT}/entities/prod"
    catalog.expect(200, "PATCH", prod, {"properties": {"region": "ap"}, "title": "Prod"})
    assert catalog.entity(SERVICE, "api")["properties"] == {
        "version": "1.0",
        "envRegion": "ap",
        "envTitle": "Prod",
        "label": "api@1.0",
        "placement": "ap/api",
    }
    # The calculation is recomputed when the entity's own property changes.
    catalog.expect(200, "PATCH", f"/blueprints/{SERVICE}/entities/api", {"properties": {"version": "2.0"}})
    assert catalog.entity(SERVICE, "api")["properties"]["label"] == "api@2.0"
    # Pointing at another environment moves the mirrors.
    catalog.expect(200, "PATCH", f"/blueprints/{SERVICE}/entities/api", {"relations": {"environment": "staging"}})
    properties = catalog.entity(SERVICE, "api")["properties"]
    assert (properties["envRegion"], properties["envTitle"], properties["placement"]) == ("us", "Staging", "us/api")

    # Aggregations: count, sum and a filtered count over the deployments a release names.
    catalog.upsert(DEPLOYMENT, "d1", {"replicas": 2}, {"service": "api"})
    catalog.upsert(DEPLOYMENT, "d2", {"replicas": 1}, {"service": "api"})
    release = f"/blueprints/{RELEASE}/entities/r1"
    catalog.upsert(RELEASE, "r1", relations={"deployments": ["d1"]})
    assert catalog.entity(RELEASE, "r1")["properties"] == {"deploymentCount": 1, "totalReplicas": 2, "scaledOut": 1}
    catalog.expect(200, "PATCH", release, {"relations": {"deployments": ["d1", "d2"]}})
    assert catalog.entity(RELEASE, "r1")["properties"] == {"deploymentCount": 2, "totalReplicas": 3, "scaledOut": 1}
    # A related deployment's change is seen on the next read.
    catalog.expect(200, "PATCH", f"/blueprints/{DEPLOYMENT}/entities/d2", {"properties": {"replicas": 10}})
    assert catalog.entity(RELEASE, "r1")["properties"] == {"deploymentCount": 2, "totalReplicas": 12, "scaledOut": 2}
    catalog.upsert(DEPLOYMENT, "d3", {"replicas": 5}, {"service": "api"})
    catalog.expect(200, "PATCH", release, {"relations": {"deployments": ["d1", "d2", "d3"]}})
    assert catalog.entity(RELEASE, "r1")["properties"] == {"deploymentCount": 3, "totalReplicas": 17, "scaledOut": 3}
    catalog.expect(200, "DELETE", f"/blueprints/{DEPLOYMENT}/entities/d2")
    assert catalog.entity(RELEASE, "r1")["relations"] == {"deployments": ["d1", "d3"]}
    assert catalog.entity(RELEASE, "r1")["properties"] == {"deploymentCount": 2, "totalReplicas": 7, "scaledOut": 2}

    # Searches show them too.
    (found,) = catalog.expect(200, "POST", f"/blueprints/{SERVICE}/entities/search", {})["entities"]
    assert SERVICE_COMPUTED <= set(found["properties"])

    # exclude_calculated_properties=true drops every computed property, and only them.
    drop = {"exclude_calculated_properties": "true"}
    assert catalog.entity(SERVICE, "api", **drop)["properties"] == {"version": "2.0"}
    assert catalog.entity(RELEASE, "r1", **drop)["properties"] == {}
    (listed,) = catalog.expect(200, "GET", f"/blueprints/{SERVICE}/entities", params=drop)["entities"]
    assert listed["properties"] == {"version": "2.0"}
    rules = {"combinator": "and", "rules": [{"property": "$blueprint", "operator": "in", "value": [SERVICE, RELEASE]}]}
    for entity in catalog.expect(200, "POST", "/entities/search", rules, drop)["entities"]:
        assert not (SERVICE_COMPUTED | RELEASE_COMPUTED) & set(entity["properties"]), entity
    with_them = catalog.expect(200, "POST", "/entities/search", rules)["entities"]
    assert {e["identifier"]: set(e["properties"]) for e in with_them} == {
        "api": {"version"} | SERVICE_COMPUTED,
        "r1": RELEASE_COMPUTED,
    }


def test_a_service_counts_the_deployments_that_require_it(catalog: PortHTTP) -> None:
    """The aggregation Port's docs lead with: a service counting its deployments. The
    deployments blueprint needs the service blueprint to exist first (its relation's target),
    so the aggregation is added afterwards, as Port's users and Terraform provider do, with
    Port's ``PATCH /v1/blueprints/{identifier}``."""
    aggregation = {
        "deploymentCount": {
            "title": "Deployments",
            "type": "number",
            "target": DEPLOYMENT,
            "calculationSpec": {"calculationBy": "entities", "func": "count"},
        }
    }
    patched = catalog.expect(200, "PATCH", f"/blueprints/{SERVICE}", {"aggregationProperties": aggregation})
    assert patched["blueprint"]["aggregationProperties"] == aggregation
    catalog.upsert(SERVICE, "api")
    assert catalog.entity(SERVICE, "api")["properties"]["deploymentCount"] == 0
    catalog.upsert(DEPLOYMENT, "d1", relations={"service": "api"})
    assert catalog.entity(SERVICE, "api")["properties"]["deploymentCount"] == 1
    catalog.upsert(DEPLOYMENT, "d2", relations={"service": "api"})
    assert catalog.entity(SERVICE, "api")["properties"]["deploymentCount"] == 2


# --- f. an empty run_id --------------------------------------------------------------------


def test_an_empty_run_id_is_no_run(catalog: PortHTTP, change_log: ChangeLog) -> None:
    run_id = catalog.trigger("create_vm", {"name": "untouched", "cpu": 2})
    name = f"norun-{uuid.uuid4().hex[:6]}"
    entities = f"/blueprints/{ENVIRONMENT}/entities"
    empty = {"run_id": ""}
    since = change_log.mark()
    catalog.expect(201, "POST", entities, {"identifier": name, "properties": {"region": "eu"}}, empty)
    catalog.expect(200, "PATCH", f"{entities}/{name}", {"properties": {"region": "us"}}, empty)
    catalog.expect(200, "PUT", f"{entities}/{name}", {"properties": {"region": "ap"}}, empty)
    catalog.expect(200, "DELETE", f"{entities}/{name}", params=empty)
    # Unlike a run id that does not exist, which is refused.
    missing = catalog.call("POST", entities, {"identifier": name}, {"run_id": "r_missing"})
    expect_error(missing, 404, "not_found", "r_missing")

    def mine(messages: list[ChangeMessage]) -> list[ChangeMessage]:
        return [m for m in messages if m.entity == name]

    messages = mine(change_log.read(since, lambda read: len(mine(read)) >= 4))
    assert [m.action for m in messages] == ["CREATE", "UPDATE", "UPDATE", "DELETE"]
    assert all(m.value["context"]["runId"] is None for m in messages)
    assert catalog.run(run_id)["affectedEntities"] == []
    assert all(not run["affectedEntities"] for run in catalog.admin("GET", "/runs")["runs"])


def test_the_journal_records_a_call_with_an_empty_run_id_as_made_for_no_run(catalog: PortHTTP) -> None:
    entities = f"/blueprints/{ENVIRONMENT}/entities"
    catalog.expect(201, "POST", entities, {"identifier": "quiet"}, {"run_id": ""})
    catalog.expect(200, "DELETE", f"{entities}/quiet", params={"run_id": ""})
    expect_error(catalog.call("POST", entities, {"identifier": "quiet"}, {"run_id": "r_missing"}), 404, "not_found")
    journal = catalog.admin("GET", "/journal")["journal"]
    writes = [e for e in journal if e["path"] in (f"/v1{entities}", f"/v1{entities}/quiet")]
    assert [(w["method"], w["status"], w["runId"]) for w in writes] == [
        ("POST", 201, None),
        ("DELETE", 200, None),
        ("POST", 404, "r_missing"),
    ]


# --- g. malformed rules --------------------------------------------------------------------


def test_a_malformed_rule_is_422_naming_the_rule(catalog: PortHTTP) -> None:
    cases: list[tuple[str, Any, str]] = [
        (
            "/entities/search",
            {"combinator": "and", "rules": [{"property": "$blueprint", "value": SERVICE}]},
            "body.rules[0].operator",
        ),
        (
            "/entities/search",
            {
                "combinator": "and",
                "rules": [
                    {"property": "$blueprint", "operator": "=", "value": SERVICE},
                    {"property": "version", "operator": "~=", "value": "1"},
                ],
            },
            "body.rules[1].operator",
        ),
        (
            "/entities/search",
            {
                "combinator": "or",
                "rules": [
                    {"property": "$identifier", "operator": "=", "value": "a"},
                    {"combinator": "and", "rules": [{"operator": "=", "value": "x"}]},
                ],
            },
            "body.rules[1].rules[0]",
        ),
        ("/entities/search", {"combinator": "xor", "rules": []}, "body.combinator"),
        ("/entities/search", {"combinator": "and", "rules": "all"}, "body.rules"),
        (
            f"/blueprints/{SERVICE}/entities/search",
            {"query": {"combinator": "and", "rules": [{"property": "version", "operator": "between", "value": 3}]}},
            "body.query.rules[0]",
        ),
        (
            f"/blueprints/{SERVICE}/entities/search",
            {"query": {"combinator": "and", "rules": [{"operator": "relatedTo", "value": "api"}]}},
            "body.query.rules[0]",
        ),
    ]
    for path, body, named in cases:
        expect_error(catalog.call("POST", path, body), 422, "invalid_request", named)
