"""Changing definitions through Port's API (issue #25): actions' PUT and DELETE, the
permissions of actions and blueprints, a run's approvers, renames of a blueprint's
property, mirror property and relation (stored entities follow), and aggregations.
"""

from __future__ import annotations

import copy

from catalog_clients import DEPLOYMENT, ENVIRONMENT, ITEM, SERVICE, JSON, PortHTTP, expect_error

ACTION: JSON = {
    "identifier": "ct_action",
    "title": "CT action",
    "trigger": {"type": "self-service", "operation": "CREATE", "userInputs": {"properties": {}, "required": []}},
    "invocationMethod": {"type": "KAFKA"},
}


def test_an_action_is_replaced_and_deleted_and_its_runs_stay(port: PortHTTP) -> None:
    created = port.expect(201, "POST", "/actions", ACTION)["action"]
    changed = copy.deepcopy(ACTION)
    changed["title"] = "Renamed"
    replaced = port.expect(200, "PUT", "/actions/ct_action", changed)["action"]
    assert replaced["title"] == "Renamed" and replaced["id"] == created["id"]
    assert replaced["createdAt"] == created["createdAt"]
    expect_error(port.call("PUT", "/actions/ct_action", {**changed, "identifier": "other"}), 422, "invalid_request")
    expect_error(port.call("PUT", "/actions/ghost", {**changed, "identifier": "ghost"}), 404, "not_found")
    expect_error(
        port.call("PUT", "/actions/ct_action", {**changed, "trigger": {**changed["trigger"], "blueprintIdentifier": "x"}}),
        404,
        "not_found",
    )
    run_id = port.trigger("ct_action", {})
    port.expect(200, "DELETE", "/actions/ct_action")
    expect_error(port.call("GET", "/actions/ct_action"), 404, "not_found")
    expect_error(port.call("DELETE", "/actions/ct_action"), 404, "not_found")
    assert port.expect(200, "GET", f"/actions/runs/{run_id}")["run"]["id"] == run_id


def test_permissions_are_stored_and_shown(port: PortHTTP) -> None:
    defaults = port.expect(200, "GET", "/actions/create_vm/permissions")["permissions"]
    assert set(defaults) == {"execute", "approve"}
    patched = port.expect(
        200, "PATCH", "/actions/create_vm/permissions", {"approve": {"users": ["ada@example.com"]}}
    )["permissions"]
    assert patched["approve"]["users"] == ["ada@example.com"] and patched["approve"]["roles"] == ["Admin"]
    assert patched["execute"] == defaults["execute"]
    expect_error(port.call("PATCH", "/actions/create_vm/permissions", {"read": {}}), 422, "invalid_request")
    expect_error(port.call("GET", "/actions/ghost/permissions"), 404, "not_found")
    blueprint = port.expect(200, "PATCH", "/blueprints/vm/permissions", {"entities": {"register": {"roles": []}}})
    assert blueprint["permissions"]["entities"]["register"] == {"roles": [], "users": [], "teams": [], "ownedByTeam": False}
    assert port.expect(200, "GET", "/blueprints/vm/permissions")["permissions"] == blueprint["permissions"]


def test_a_runs_approvers(port: PortHTTP) -> None:
    # resize_vm requires approval (fixtures/actions/resize_vm.json).
    port.expect(200, "PATCH", "/actions/resize_vm/permissions", {"approve": {"users": ["ada@example.com"]}})
    port.upsert("vm", "vm-1", {"cpu": 1, "region": "eu-west-1"})
    run = port.expect(202, "POST", "/actions/resize_vm/runs", {"properties": {"cpu": 2}, "entity": "vm-1"})
    run_id = run["run"]["id"]
    assert run["run"]["status"] == "WAITING_FOR_APPROVAL", run
    path = f"/actions/runs/{run_id}/approvers"
    assert port.expect(200, "GET", path, params={"include_pending_approvers": "false"})["approvers"] == []
    pending = port.expect(200, "GET", path, params={"include_pending_approvers": "true"})["approvers"]
    assert pending == [{"userId": "ada@example.com", "state": "PENDING", "description": None}]
    port.expect(201, "PATCH", f"/actions/runs/{run_id}/approval", {"status": "APPROVE", "description": "ok"})
    decided = port.expect(200, "GET", path, params={"include_pending_approvers": "true"})["approvers"]
    assert [(a["state"], a["description"]) for a in decided] == [("APPROVED", "ok")]
    expect_error(port.call("GET", "/actions/runs/r_ghost/approvers"), 404, "not_found")


def test_renames_move_stored_values_and_links(catalog: PortHTTP) -> None:
    catalog.upsert(ENVIRONMENT, "prod", {"region": "eu"})
    catalog.upsert(SERVICE, "api", {"version": "1"}, {"environment": "prod"})
    catalog.upsert(DEPLOYMENT, "d1", {"replicas": 2}, {"service": "api"})
    renamed = catalog.expect(
        200, "PATCH", f"/blueprints/{SERVICE}/properties/version/rename", {"newPropertyName": "release"}
    )["blueprint"]
    assert "release" in renamed["schema"]["properties"] and "version" not in renamed["schema"]["properties"]
    assert catalog.entity(SERVICE, "api", exclude_calculated_properties="true")["properties"] == {"release": "1"}
    expect_error(
        catalog.call("PATCH", f"/blueprints/{SERVICE}/properties/version/rename", {"newPropertyName": "x"}),
        404,
        "not_found",
    )
    expect_error(
        catalog.call("PATCH", f"/blueprints/{SERVICE}/properties/release/rename", {"newPropertyName": "language"}),
        409,
        "identifier_taken",
    )
    expect_error(
        catalog.call("PATCH", f"/blueprints/{SERVICE}/properties/release/rename", {"newPropertyName": "a b"}),
        422,
        "invalid_request",
    )
    # A relation: entities' values move, mirror paths follow, and links still protect the target.
    relation = catalog.expect(
        200, "PATCH", f"/blueprints/{SERVICE}/relations/environment/rename", {"newRelationIdentifier": "env"}
    )["blueprint"]
    assert "env" in relation["relations"] and relation["mirrorProperties"]["envRegion"]["path"] == "env.region"
    api = catalog.entity(SERVICE, "api")
    assert api["relations"]["env"] == "prod" and api["properties"]["envRegion"] == "eu"
    catalog.expect(200, "PATCH", f"/blueprints/{SERVICE}/mirror/envRegion/rename", {"newMirrorName": "region"})
    assert catalog.entity(SERVICE, "api")["properties"]["region"] == "eu"
    # The deployment's required relation to the service still counts after the renames.
    expect_error(catalog.call("DELETE", f"/blueprints/{SERVICE}/entities/api"), 403, "has_dependents")
    catalog.expect(200, "DELETE", f"/blueprints/{ENVIRONMENT}/entities/prod")
    assert catalog.entity(SERVICE, "api")["relations"]["env"] is None


def test_aggregations(catalog: PortHTTP) -> None:
    for n in range(1, 6):
        catalog.upsert(ITEM, f"i{n}", {"n": n, "parity": "odd" if n % 2 else "even"})
    query = {"combinator": "and", "rules": [{"property": "$blueprint", "operator": "=", "value": ITEM}]}

    def aggregate(body: JSON) -> object:
        return catalog.expect(200, "POST", "/entities/aggregate", {"query": query, **body})["result"]

    assert aggregate({"func": "count"}) == 5
    assert aggregate({"func": "sum", "property": "n"}) == 15
    assert aggregate({"func": "average", "property": "n"}) == 3
    assert aggregate({"func": "median", "property": "n"}) == 3
    assert (aggregate({"func": "min", "property": "n"}), aggregate({"func": "max", "property": "n"})) == (1, 5)
    assert aggregate({"func": "countValues", "property": "parity"}) == {"even": 2, "odd": 3}
    odd = {"combinator": "and", "rules": [*query["rules"], {"property": "parity", "operator": "=", "value": "odd"}]}
    assert catalog.expect(200, "POST", "/entities/aggregate", {"query": odd, "func": "count"})["result"] == 3
    expect_error(catalog.call("POST", "/entities/aggregate", {"query": query, "func": "mode"}), 422, "invalid_request")
    expect_error(catalog.call("POST", "/entities/aggregate", {"func": "count"}), 422, "invalid_request", "query")
