"""Teams, users, scorecards and the audit log (issue #25), through Port's API with
``requests`` and, for a run's ``trigger.by.user``, the run message read with confluent_kafka.
"""

from __future__ import annotations

import time
import uuid

from catalog_clients import DEPLOYMENT, SERVICE, JSON, ChangeLog, PortHTTP, expect_error
from port_kafka_harness import Emulator


def invite(port: PortHTTP, email: str, **fields: object) -> None:
    port.expect(200, "POST", "/users/invite", {"invitee": {"email": email, **fields}})


def test_teams_and_users_crud_and_membership(port: PortHTTP) -> None:
    invite(port, "ada@example.com")
    invite(port, "bob@example.com", roles=["Admin"])
    expect_error(port.call("POST", "/users/invite", {"invitee": {"email": "ada@example.com"}}), 409, "identifier_taken")
    expect_error(port.call("POST", "/users/invite", {"invitee": {"email": "nope"}}), 422, "invalid_request")
    team = port.expect(200, "POST", "/teams", {"name": "platform", "users": ["ada@example.com"]})["team"]
    assert team["name"] == "platform" and [u["email"] for u in team["users"]] == ["ada@example.com"]
    expect_error(port.call("POST", "/teams", {"name": "platform"}), 409, "identifier_taken")
    expect_error(port.call("POST", "/teams", {"name": "x", "users": []}), 422, "invalid_request", "body.name")
    expect_error(port.call("POST", "/teams", {"name": "ghosts", "users": ["ghost@example.com"]}), 404, "not_found")
    # A user's teams are read from the teams; PATCH sets them.
    assert port.expect(200, "GET", "/users/ada@example.com")["user"]["teams"] == ["platform"]
    port.expect(200, "POST", "/teams", {"name": "data"})
    patched = port.expect(200, "PATCH", "/users/bob@example.com", {"teams": ["platform", "data"]})
    assert patched["email"] == "bob@example.com" and patched["teams"] == ["platform", "data"]
    members = port.expect(200, "GET", "/teams/platform")["team"]["users"]
    assert [u["email"] for u in members] == ["ada@example.com", "bob@example.com"]
    renamed = port.expect(200, "PATCH", "/teams/data", {"name": "analytics", "description": "numbers"})["team"]
    assert renamed["name"] == "analytics" and renamed["description"] == "numbers"
    expect_error(port.call("GET", "/teams/data"), 404, "not_found")
    replaced = port.expect(200, "PUT", "/teams/analytics", {"name": "analytics"})["team"]
    assert replaced["users"] == [] and "description" not in replaced
    assert [t["name"] for t in port.expect(200, "GET", "/teams")["teams"]] == ["platform", "analytics"]
    port.expect(200, "DELETE", "/users/ada@example.com")
    assert [u["email"] for u in port.expect(200, "GET", "/teams/platform")["team"]["users"]] == ["bob@example.com"]
    assert [u["email"] for u in port.expect(200, "GET", "/users")["users"]] == ["bob@example.com"]
    port.expect(200, "DELETE", "/teams/analytics")
    expect_error(port.call("DELETE", "/teams/analytics"), 404, "not_found")


def test_an_entity_team_and_a_run_as_must_exist_once_the_organization_has_them(catalog: PortHTTP) -> None:
    # No teams yet: any name is taken (as before teams existed).
    catalog.expect(201, "POST", f"/blueprints/{SERVICE}/entities", {"identifier": "a", "team": "anyone"})
    catalog.expect(200, "POST", "/teams", {"name": "platform"})
    expect_error(
        catalog.call("POST", f"/blueprints/{SERVICE}/entities", {"identifier": "b", "team": "ghosts"}),
        404,
        "not_found",
        '"ghosts"',
    )
    catalog.expect(201, "POST", f"/blueprints/{SERVICE}/entities", {"identifier": "b", "team": ["platform"]})
    expect_error(catalog.call("DELETE", "/teams/platform"), 403, "has_dependents")
    # No users yet: any run_as is taken; then it must be a user, whose record the run carries.
    run = catalog.expect(202, "POST", "/actions/create_vm/runs", {"properties": {"name": "v", "cpu": 1}},
                         {"run_as": "someone@example.com"})["run"]
    assert run["createdBy"] == "someone@example.com"
    invite(catalog, "ada@example.com", firstName="Ada", lastName="Lovelace")
    expect_error(
        catalog.call("POST", "/actions/create_vm/runs", {"properties": {"name": "v", "cpu": 1}},
                     {"run_as": "someone@example.com"}),
        404,
        "not_found",
        "someone@example.com",
    )
    catalog.expect(202, "POST", "/actions/create_vm/runs", {"properties": {"name": "v", "cpu": 1}},
                   {"run_as": "ada@example.com"})


def test_a_runs_trigger_by_user_on_kafka_is_the_users_record(port: PortHTTP, emulator: Emulator) -> None:
    invite(port, "ada@example.com", firstName="Ada", lastName="Lovelace")
    runs = ChangeLog(emulator.kafka_brokers, emulator.org_id, f"runs-{uuid.uuid4().hex[:8]}", suffix="runs")
    try:
        since = runs.mark()
        run = port.expect(202, "POST", "/actions/create_vm/runs", {"properties": {"name": "v", "cpu": 1}},
                          {"run_as": "ada@example.com"})["run"]

        def mine(message: object) -> bool:
            value = getattr(message, "value")
            return isinstance(value, dict) and value.get("context", {}).get("runId") == run["id"]

        messages = runs.read(since, lambda read: any(mine(m) for m in read))
        (message,) = [m for m in messages if mine(m)]
        by = message.value["trigger"]["by"]
        assert by["user"] == {"email": "ada@example.com", "firstName": "Ada", "lastName": "Lovelace",
                              "id": "emulator|ada@example.com"}, by
        assert by["userId"] == "emulator|ada@example.com"
    finally:
        runs.close()


SCORECARD: JSON = {
    "identifier": "readiness",
    "title": "Readiness",
    "rules": [
        {"identifier": "has-version", "title": "Has a version", "level": "Bronze",
         "query": {"combinator": "and", "conditions": [{"property": "version", "operator": "isNotEmpty"}]}},
        {"identifier": "is-go", "title": "Written in Go", "level": "Silver",
         "query": {"combinator": "and", "conditions": [{"property": "language", "operator": "=", "value": "go"}]}},
        {"identifier": "has-env", "title": "Has an environment", "level": "Gold",
         "query": {"combinator": "and", "conditions": [{"relation": "environment", "operator": "isNotEmpty"}]}},
    ],
}


def test_scorecards_crud_and_levels_on_entity_reads(catalog: PortHTTP) -> None:
    path = f"/blueprints/{SERVICE}/scorecards"
    created = catalog.expect(201, "POST", path, SCORECARD)["scorecard"]
    assert created["identifier"] == "readiness" and created["blueprint"] == SERVICE
    assert [level["title"] for level in created["levels"]] == ["Basic", "Bronze", "Silver", "Gold"]
    expect_error(catalog.call("POST", path, SCORECARD), 409, "identifier_taken")
    bad = {**SCORECARD, "identifier": "bad", "rules": [{**SCORECARD["rules"][0], "level": "Platinum"}]}
    expect_error(catalog.call("POST", path, bad), 422, "invalid_request", "level")
    catalog.upsert(SERVICE, "none")
    catalog.upsert(SERVICE, "bronze", {"version": "1"})
    catalog.upsert(SERVICE, "silver", {"version": "1", "language": "go"})
    # Gold's rule passes but Silver's does not: the level stops at Bronze.
    catalog.upsert("ct_environment", "prod")
    catalog.upsert(SERVICE, "gapped", {"version": "1"}, {"environment": "prod"})

    def level(identifier: str) -> str:
        result: str = catalog.entity(SERVICE, identifier)["scorecards"]["readiness"]["level"]
        return result

    assert [level(e) for e in ("none", "bronze", "silver", "gapped")] == ["Basic", "Bronze", "Silver", "Bronze"]
    rules = catalog.entity(SERVICE, "gapped")["scorecards"]["readiness"]["rules"]
    assert {r["identifier"]: r["status"] for r in rules} == {
        "has-version": "SUCCESS", "is-go": "FAILURE", "has-env": "SUCCESS"}
    # Searches show them too; a change of the scorecard changes every read.
    found = catalog.expect(200, "POST", f"/blueprints/{SERVICE}/entities/search",
                           {"query": {"combinator": "and", "rules": [{"property": "$identifier", "operator": "=",
                                                                     "value": "silver"}]}})
    assert found["entities"][0]["scorecards"]["readiness"]["level"] == "Silver"
    easier = {**SCORECARD, "rules": SCORECARD["rules"][:1]}
    catalog.expect(200, "PUT", f"{path}/readiness", easier)
    assert level("gapped") == "Bronze"  # Silver and Gold have no rules left: no level to reach
    assert [s["identifier"] for s in catalog.expect(200, "GET", "/scorecards")["scorecards"]] == ["readiness"]
    upserted = catalog.expect(200, "PUT", path, [{**SCORECARD, "identifier": "second"}])["scorecards"]
    assert [s["identifier"] for s in upserted] == ["second"]
    assert [s["identifier"] for s in catalog.expect(200, "GET", path)["scorecards"]] == ["readiness", "second"]
    catalog.expect(200, "DELETE", f"{path}/readiness")
    expect_error(catalog.call("GET", f"{path}/readiness"), 404, "not_found")
    expect_error(catalog.call("GET", f"/blueprints/{DEPLOYMENT}/scorecards/second"), 404, "not_found")


def test_the_audit_log_records_entities_runs_and_definitions_with_filters(catalog: PortHTTP) -> None:
    start = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(time.time() - 1))
    run_id = catalog.trigger("create_vm", {"name": "audit-vm", "cpu": 1})
    catalog.expect(201, "POST", f"/blueprints/{SERVICE}/entities", {"identifier": "svc"}, {"run_id": run_id})
    catalog.expect(200, "PATCH", f"/actions/runs/{run_id}", {"status": "SUCCESS"})
    catalog.expect(201, "POST", f"/blueprints/{SERVICE}/scorecards", SCORECARD)

    by_run = catalog.expect(200, "GET", "/audit-log", params={"run_id": run_id})["audits"]
    assert [(a["resourceType"], a["action"]) for a in by_run] == [
        ("run", "UPDATE"), ("entity", "CREATE"), ("run", "CREATE")]
    entity = catalog.expect(200, "GET", "/audit-log", params={"entity": "svc", "resources": "entity"})["audits"]
    assert len(entity) == 1 and entity[0]["diff"]["after"]["identifier"] == "svc"
    assert entity[0]["context"] == {"entity": "svc", "blueprint": SERVICE, "runId": run_id}
    scorecards = catalog.expect(200, "GET", "/audit-log", params={"resources": ["scorecard"]})["audits"]
    assert scorecards[0]["context"]["scorecard"] == "readiness" and scorecards[0]["action"] == "CREATE"
    one = catalog.expect(200, "GET", "/audit-log", params={"limit": "1", "includes": ["identifier", "action"]})
    assert len(one["audits"]) == 1 and set(one["audits"][0]) == {"identifier", "action"}
    assert catalog.expect(200, "GET", "/audit-log", params={"to": start})["audits"] == []
    since = catalog.expect(200, "GET", "/audit-log", params={"from": start, "resources": "blueprint"})["audits"]
    assert {a["context"]["blueprint"] for a in since} >= {SERVICE}
    expect_error(catalog.call("GET", "/audit-log", params={"resources": "page"}), 422, "invalid_request")
    expect_error(catalog.call("GET", "/audit-log", params={"from": "yesterday"}), 422, "invalid_request")
