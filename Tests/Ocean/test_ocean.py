"""Port Ocean, unmodified, runs the demo integration (demo-integration/) against the emulator:
its start-up (integration record), a resync (bulk upserts, stale-entity deletion through
datasource-entities, resync state) and an INTEGRATION_ACTION run it claims, acks and completes.

Everything is checked through Port's API, as Port's UI would show it, then in the emulator's
journal: the calls Ocean made, in order, none answered 5xx, none to a route the emulator lacks.
A failure shows the tail of Ocean's output and the routes Ocean called that the emulator lacks.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from typing import Callable

from conftest import INTEGRATION, INTEGRATION_ID, INTEGRATION_TYPE, JSON, Ocean, Port

#: Over 10, so Ocean first asks what Port has (POST /v1/entities/search), and over 20, so its
#: bulk upserts take two batches.
DEMO_N = 25
BLUEPRINT = "demoItem"
STALE = "stale-item"
#: Port derives an entity's $datasource from the writer's User-Agent; this is Ocean's for the demo.
OCEAN_USER_AGENT = f"port-ocean/{INTEGRATION_TYPE}/0.1.0/{INTEGRATION_ID}/exporter"
ACTION: JSON = {
    "identifier": "demo_action",
    "title": "Demo action",
    "trigger": {
        "type": "self-service",
        "operation": "CREATE",
        "userInputs": {"properties": {"message": {"type": "string"}}, "required": []},
    },
    "invocationMethod": {
        "type": "INTEGRATION_ACTION",
        "installationId": INTEGRATION_ID,
        "integrationActionType": "demo_action",
        "integrationActionExecutionProperties": {"message": "{{ .inputs.message }}"},
    },
}
RESYNC_TIMEOUT = 120.0
RUN_TIMEOUT = 60.0


class GiveUp(AssertionError):
    """A check's verdict that waiting longer cannot help."""


def report(port: Port, ocean: Ocean) -> str:
    """What Ocean printed, the routes it called that the emulator lacks, and any 5xx answer."""
    missing = Counter(
        f"{v['method']} {v['path']} ({v['status']} {v['error']})"
        for v in port.violations()
        if v["rule"] in ("route-exists", "method-allowed")
    )
    lines = [
        "routes called that the emulator does not serve: "
        + (", ".join(f"{call} x{count}" for call, count in missing.items()) or "none")
    ]
    failed = [f"{e['method']} {e['path']} -> {e['status']}" for e in port.journal() if e["status"] >= 500]
    if failed:
        lines.append(f"answered 5xx: {failed}")
    return "\n".join(lines + [ocean.tail()])


def wait_until(what: str, check: Callable[[], str | None], port: Port, ocean: Ocean, timeout: float) -> None:
    """Polls ``check`` (None: done; else what is still missing) until ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        exited = ocean.process.poll()
        try:
            missing = check()
        except GiveUp as verdict:
            raise AssertionError(f"{what}: {verdict}\n{report(port, ocean)}") from None
        if missing is None:
            return
        if exited is not None:
            raise AssertionError(f"Ocean exited ({exited}) before {what}; {missing}\n{report(port, ocean)}")
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what}: not within {timeout:g} s; {missing}\n{report(port, ocean)}")
        time.sleep(0.5)


def resync_missing(port: Port) -> str | None:
    """What the first resync has not done yet, as Port's API shows it (None: all done)."""
    missing: list[str] = []
    answer = port.call("GET", f"/blueprints/{BLUEPRINT}/entities")
    assert answer.status_code == 200, f"GET {answer.url}: {answer.status_code} {answer.text}"
    entities = {entity["identifier"]: entity for entity in answer.json()["entities"]}
    absent = [f"item-{n}" for n in range(DEMO_N) if f"item-{n}" not in entities]
    if absent:
        missing.append(f"{len(absent)} of the {DEMO_N} entities do not exist ({', '.join(absent[:5])}, ...)")
    for n in range(DEMO_N):
        entity = entities.get(f"item-{n}")
        if entity is not None and (entity.get("title") != f"Item {n}" or entity.get("properties", {}).get("n") != n):
            missing.append(f"item-{n} is not what Ocean sent (title 'Item {n}', n {n}): {entity}")
    if STALE in entities:
        missing.append(f"{STALE} is not deleted")
    answer = port.call("GET", f"/integration/{INTEGRATION_ID}")
    if answer.status_code != 200:
        missing.append(f"GET /v1/integration/{INTEGRATION_ID} answers {answer.status_code} {answer.text[:200]}")
    else:
        state = answer.json().get("integration", {}).get("resyncState") or {}
        if state.get("status") == "failed":
            raise GiveUp(f"Ocean reported its resync failed (resyncState {state}); also {missing}")
        if state.get("status") != "completed":
            missing.append(f"the integration's resyncState is {state}, not completed")
    return "; ".join(missing) or None


def run_missing(port: Port, run_id: str) -> str | None:
    run = port.expect({200}, "GET", f"/actions/runs/{run_id}")["run"]
    if run["status"] == "FAILURE":
        raise GiveUp(f"run {run_id} failed: {json.dumps(run)}")
    return None if run["status"] == "SUCCESS" else f"run {run_id} is {run['status']} (not claimed and completed)"


def render(journal: list[JSON], start: int) -> str:
    """The journal from ``start``, without the claim-pending polls (counted instead)."""
    polls = sum(1 for entry in journal[start:] if entry["path"].endswith("/claim-pending"))
    lines = [
        f"  #{index} {entry['method']} {entry['path']} -> {entry['status']}"
        for index, entry in enumerate(journal)
        if index >= start and not entry["path"].endswith("/claim-pending")
    ]
    return "\n".join(lines + [f"  (and {polls} claim-pending polls)"])


def in_order(journal: list[JSON], calls: list[tuple[str, str]], start: int) -> int:
    """Asserts each call (method, path regex) answered 2xx after the one before, from
    ``start``; returns the position of the last."""
    at = start
    for method, pattern in calls:
        found = next(
            (
                index
                for index in range(at, len(journal))
                if journal[index]["method"] == method
                and re.fullmatch(pattern, journal[index]["path"].split("?")[0])
                and 200 <= journal[index]["status"] < 300
            ),
            None,
        )
        assert found is not None, (
            f"no 2xx {method} {pattern} after #{at - 1} in the journal, as in {calls}:\n{render(journal, start)}"
        )
        at = found + 1
    return at - 1


def test_ocean_resyncs_deletes_stale_entities_and_runs_an_integration_action(
    port: Port, start_ocean: Callable[..., Ocean]
) -> None:
    # Before Ocean: its blueprint (so it skips creating its defaults), an entity its last
    # resync would have written (the User-Agent makes the $datasource) and an action for it.
    blueprint = json.loads((INTEGRATION / ".port/resources/blueprints.json").read_text())[0]
    assert blueprint["identifier"] == BLUEPRINT
    port.expect({201}, "POST", "/blueprints", blueprint)
    stale = {"identifier": STALE, "title": "Stale", "properties": {"n": -1}, "relations": {}}
    headers = {"User-Agent": OCEAN_USER_AGENT}
    port.expect({200, 201}, "POST", f"/blueprints/{BLUEPRINT}/entities", stale, {"upsert": "true"}, **headers)
    port.expect({201}, "POST", "/actions", ACTION)
    started = len(port.journal())

    ocean = start_ocean(DEMO_N=str(DEMO_N))
    wait_until("Ocean's first resync", lambda: resync_missing(port), port, ocean, RESYNC_TIMEOUT)

    triggered = port.expect({202}, "POST", "/actions/demo_action/runs", {"properties": {"message": "hello"}})
    run_id: str = triggered["run"]["id"]
    wait_until(f"run {run_id} of demo_action", lambda: run_missing(port, run_id), port, ocean, RUN_TIMEOUT)
    logs = port.expect({200}, "GET", f"/actions/runs/{run_id}/logs")["runLogs"]
    messages = [log.get("message") for log in logs]
    assert "echo: hello" in messages, f"run {run_id}'s logs lack 'echo: hello': {messages}\n{report(port, ocean)}"

    journal = port.journal()
    integration = f"/v1/integration/{INTEGRATION_ID}"
    resynced = in_order(
        journal,
        [
            ("GET", "/v1/integration/provision-enabled"),
            ("GET", "/v1/organization"),
            ("POST", "/v1/integration"),
            ("PATCH", integration + "/resync-state"),  # running
            ("POST", "/v1/entities/search"),  # what Port has of the 25 (more than 10)
            ("POST", f"/v1/blueprints/{BLUEPRINT}/entities/bulk"),
            ("POST", "/v1/blueprints/entities/datasource-entities"),
            ("POST", f"/v1/blueprints/{BLUEPRINT}/bulk/entities/delete"),
            ("PATCH", integration + "/resync-state"),  # completed
        ],
        started,
    )
    in_order(
        journal,
        [
            ("POST", "/v1/actions/demo_action/runs"),  # the test's
            ("POST", "/v1/actions/runs/claim-pending"),
            ("PATCH", "/v1/actions/runs/ack"),
            ("POST", f"/v1/actions/runs/{run_id}/logs"),
            ("PATCH", f"/v1/actions/runs/{run_id}"),
        ],
        resynced,
    )
    failed = [entry for entry in journal if entry["status"] >= 500]
    assert not failed, f"calls answered 5xx: {failed}\n{render(journal, started)}"
    unserved = [v for v in port.violations() if v["rule"] in ("route-exists", "method-allowed")]
    assert not unserved, f"Ocean called routes the emulator does not serve: {unserved}\n{ocean.tail()}"

    status = ocean.stop()
    assert status == 0, f"Ocean did not exit cleanly on SIGINT ({status}; None: killed)\n{ocean.tail()}"
