"""The Lambda function's contract with Port and with Lambda, checked end to end.

Every handler runs unmodified under AWS's runtime interface client (``python -m awslambdaric``,
from PyPI), invoked by port-emulator as Lambda's Kafka event source mapping invokes it. The
misbehaving handlers the retry tests need are in ``test_handlers/``; each wraps the example.
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any, Callable

from conftest import HERE
from port_kafka_harness import Emulator
from port_kafka_harness.pytest_plugin import LambdaFactory, lambda_python

JSON = dict[str, Any]


# The example, through the session's emulator (pytest.ini: port_emulator_lambda) --------------


def test_create_microservice(port_emulator: Emulator) -> None:
    run = port_emulator.trigger("create_microservice", {"name": "billing", "region": "eu-west-1"})
    assert run["status"] == "IN_PROGRESS"
    done = port_emulator.wait(run["id"], status="SUCCESS")
    assert done["link"] == ["https://git.example.com/billing"]
    assert done["summary"] == "Created billing in eu-west-1"
    assert [entity["identifier"] for entity in done["affectedEntities"]] == ["billing"]
    assert port_emulator.violations() == []
    # One invocation carried the run, it succeeded, and its offsets were committed.
    status = port_emulator.wait_lambda(lambda s: _carrying(s, run["id"]), what=f"an invocation with {run['id']}")
    assert [(i["attempt"], i["outcome"], i["then"]) for i in _carrying(status, run["id"])] == [
        (1, "success", "committed")
    ]


def test_change_log_records_are_skipped(port_emulator: Emulator) -> None:
    # The vm blueprint sends its changes to the change log, which this emulator passes on to
    # the function (--lambda-change-log): the function must skip them, not fail the batch.
    run = port_emulator.trigger("create_vm", {"name": "ci-runner", "cpu": 2})
    port_emulator.wait(run["id"], status="SUCCESS")
    change_log = f"{port_emulator.org_id}.change.log-"
    status = port_emulator.wait_lambda(
        lambda s: [i for i in s["invocations"] if any(r.startswith(change_log) for r in i["records"])],
        what="an invocation with a change-log record",
    )
    with_changes = [i for i in status["invocations"] if any(r.startswith(change_log) for r in i["records"])]
    assert all(i["succeeded"] and i["then"] == "committed" for i in with_changes), with_changes
    assert f"skipping {change_log}" in port_emulator.lambda_log()


def test_a_workflow_node(port_emulator: Emulator) -> None:
    started = _admin(port_emulator, "POST", "/workflows/provision_environment/runs", {"inputs": {"name": "pr-42"}})
    path = f"/workflows/runs/{started['workflowRun']['id']}"
    deadline = time.monotonic() + 30
    while (run := _admin(port_emulator, "GET", path)["workflowRun"])["status"] != "COMPLETED":
        assert time.monotonic() < deadline, f"the workflow run is still {run['status']}: {run}"
        time.sleep(0.1)
    assert run["result"] == "SUCCESS"
    node = next(node for node in run["nodeRuns"] if node["node"] == "provision")
    assert node["links"] == ["https://envs.example.com/pr-42"]
    assert node["logs"][0]["message"].startswith("Provisioning from {")


# verify: every shipped scenario, and a function that reports nothing ------------------------


def test_every_shipped_scenario_passes(tmp_path: Path) -> None:
    result = _verify(tmp_path, "lambda_function.lambda_handler")
    assert result.returncode == 0, result.stdout + result.stderr
    shipped = len(list(_scenarios().glob("*.json")))
    assert shipped >= 19
    assert f"{shipped} of {shipped} scenarios passed" in result.stdout
    # No invocation failed: nothing had to be retried.
    assert re.search(r"Lambda: \d+ invocation\(s\), 0 failed", result.stdout), result.stdout


def test_a_function_that_reports_nothing_leaves_its_run_in_progress_and_verify_names_it(tmp_path: Path) -> None:
    # 01_create_microservice with a shorter deadline: the function is invoked, returns, and
    # never tells Port.
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    scenario = json.loads((_scenarios() / "01_create_microservice.json").read_text())
    scenario["expect"]["within"] = "4s"  # verify waits for the mapping's partitions first
    (scenarios / "01_create_microservice.json").write_text(json.dumps(scenario))
    result = _verify(tmp_path, "test_handlers.silent.lambda_handler", scenarios)
    assert result.returncode == 1, result.stdout + result.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    [run_id] = report["results"][0]["runs"]
    assert "FAIL  01_create_microservice  (IN_PROGRESS" in result.stdout
    assert f"run {run_id} is IN_PROGRESS after" in result.stdout
    assert "0 of 1 scenarios passed" in result.stdout
    # The function was invoked with the run, and the batch was committed: the run is lost.
    assert "the function was invoked with it (#1 success, then committed) but never called Port's API" in result.stdout
    assert "then committed" in result.stdout
    assert "the run is lost" in result.stdout


# A custom runtime: the Runtime API as AWS's custom-runtime tutorial drives it (sh and curl) ---

BOOTSTRAP = r"""#!/bin/sh
set -eu
# The event loop of AWS's "custom runtime" tutorial: ask for the next invocation, answer it.
while true; do
    HEADERS="$(mktemp)"
    EVENT_DATA=$(curl -sS -LD "$HEADERS" "http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/next")
    REQUEST_ID=$(grep -Fi Lambda-Runtime-Aws-Request-Id "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)
    printf '%s\n' "$EVENT_DATA" >> "$OUT/events"
    cat "$HEADERS" >> "$OUT/headers"
    curl -sS "http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/$REQUEST_ID/response" -d '{"ok":true}'
done
"""


def test_a_custom_runtime_in_sh_and_curl(port_lambda: LambdaFactory, tmp_path: Path) -> None:
    bootstrap = tmp_path / "bootstrap"
    bootstrap.write_text(BOOTSTRAP)
    bootstrap.chmod(0o755)
    emulator = port_lambda([str(bootstrap)], directory=tmp_path, environment={"OUT": str(tmp_path)})
    run = emulator.trigger("create_vm", {"name": "custom", "cpu": 2})
    status = emulator.wait_lambda(lambda s: _carrying(s, run["id"], succeeded=True), what="a successful invocation")
    assert [(i["outcome"], i["then"]) for i in _carrying(status, run["id"])] == [("success", "committed")]
    events = [json.loads(line) for line in (tmp_path / "events").read_text().splitlines()]
    event = next(event for event in events if run["id"] in _runs_in(event))
    assert event["eventSource"] == "SelfManagedKafka"
    headers = (tmp_path / "headers").read_text().lower()
    for name in ("lambda-runtime-aws-request-id", "lambda-runtime-deadline-ms", "lambda-runtime-invoked-function-arn",
                 "lambda-runtime-trace-id"):
        assert name + ":" in headers, headers


def _runs_in(event: JSON) -> list[str]:
    """The run ids an event's records carry (change-log records carry none)."""
    values = [json.loads(base64.b64decode(r["value"])) for records in event["records"].values() for r in records]
    return [value["context"]["runId"] for value in values if "runId" in value.get("context", {})]


# Lambda's retries: an error, a timeout, a mapping stopped mid-batch ---------------------------


def test_a_handler_that_raises_gets_its_batch_again(port_lambda: LambdaFactory, tmp_path: Path) -> None:
    emulator = port_lambda(
        "{python} -m awslambdaric test_handlers.flaky.lambda_handler",
        environment={"TEST_HANDLER_COUNT_FILE": str(tmp_path / "count"), "FLAKY_FAILURES": "2"},
    )
    run = emulator.trigger("create_microservice", {"name": "retried"})
    emulator.wait(run["id"], status="SUCCESS", timeout=60)
    status = emulator.wait_lambda(lambda s: _carrying(s, run["id"], succeeded=True), what="a successful invocation")
    attempts = _carrying(status, run["id"])
    assert [(i["attempt"], i["outcome"], i["then"]) for i in attempts] == [
        (1, "error RuntimeError: failing on purpose (1 of 2)", "retrying"),
        (2, "error RuntimeError: failing on purpose (2 of 2)", "retrying"),
        (3, "success", "committed"),
    ]
    assert len({tuple(i["records"]) for i in attempts}) == 1, "every attempt carries the same records"
    assert emulator.violations() == []


def test_a_handler_past_its_timeout_is_retried_in_a_new_environment(
    port_lambda: LambdaFactory, tmp_path: Path
) -> None:
    emulator = port_lambda(
        "{python} -m awslambdaric test_handlers.slow.lambda_handler",
        args=["--lambda-timeout", "2s"],
        environment={"TEST_HANDLER_COUNT_FILE": str(tmp_path / "count"), "SLOW_SECONDS": "5"},
    )
    run = emulator.trigger("create_vm", {"name": "slow-vm", "cpu": 2})
    emulator.wait(run["id"], status="SUCCESS", timeout=60)
    status = emulator.wait_lambda(lambda s: _carrying(s, run["id"], succeeded=True), what="a successful invocation")
    attempts = _carrying(status, run["id"])
    assert [(i["attempt"], i["outcome"], i["then"]) for i in attempts] == [
        (1, "timeout", "retrying"),
        (2, "success", "committed"),
    ]
    assert attempts[0]["records"] == attempts[1]["records"]
    assert 1900 <= attempts[0]["durationMs"] < 5000
    assert status["environments"] >= 2, "the timed-out environment is discarded and a new one started"
    assert status["environmentExits"], status
    assert emulator.violations() == []


def test_a_batch_cut_off_by_a_mapping_restart_is_delivered_again(port_lambda: LambdaFactory, tmp_path: Path) -> None:
    blocked, release = tmp_path / "blocked", tmp_path / "release"
    emulator = port_lambda(
        "{python} -m awslambdaric test_handlers.blocking.lambda_handler",
        environment={
            "TEST_HANDLER_COUNT_FILE": str(tmp_path / "count"),
            "BLOCKED_FILE": str(blocked),
            "RELEASE_FILE": str(release),
        },
    )
    runs = [emulator.trigger("create_vm", {"name": f"vm-{n}", "cpu": 1})["id"] for n in range(3)]
    _await(blocked.exists, "the first invocation to block")
    # The mapping's consumer stops mid-invocation: nothing of that batch may be committed.
    emulator.restart_lambda_mapping()
    status = emulator.wait_lambda(lambda s: _abandoned(s), what="the invocation in flight to be abandoned")
    [cut_off] = _abandoned(status)
    assert not cut_off["succeeded"] and cut_off["records"]
    runs += [emulator.trigger("create_vm", {"name": f"vm-{n}", "cpu": 1})["id"] for n in range(3, 5)]
    release.touch()

    for run_id in runs:
        emulator.wait(run_id, status="SUCCESS", timeout=60)
    offsets = {_record(emulator.run(run_id)) for run_id in runs}
    assert set(cut_off["records"]) <= offsets
    status = emulator.wait_lambda(
        lambda s: offsets <= _delivered(s), what="every run's record in a successful invocation"
    )
    # The cut-off batch came again, after the restart, in invocations that succeeded.
    again = [i for i in status["invocations"] if i["number"] > cut_off["number"] and i["succeeded"]]
    assert set(cut_off["records"]) <= {record for i in again for record in i["records"]}
    assert status["mappingStarts"] == 2
    assert all(i["then"] == "committed" for i in again)
    assert emulator.violations() == [], "runs delivered again are skipped, not reported twice"


# Helpers ------------------------------------------------------------------------------------


def _fixtures() -> Path:
    """The fixtures the plugin's emulators load (``Emulator`` finds them; nothing is started)."""
    return Path(Emulator().fixtures or HERE.parents[1] / "fixtures").resolve()


def _scenarios() -> Path:
    return _fixtures() / "scenarios"


def _verify(directory: Path, handler: str, scenarios: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``port-emulator verify --lambda -- python -m awslambdaric HANDLER``, from the function's
    directory, with its logs and JSON report in ``directory``."""
    command = [str(Emulator().binary), "verify", "--fixtures", str(_fixtures())]
    command += ["--scenarios", str(scenarios or _scenarios())]
    command += ["--json", str(directory / "report.json"), "--consumer-log", str(directory / "consumer.log")]
    command += ["--lambda", "--lambda-log", str(directory / "lambda.log")]
    command += ["--", lambda_python(), "-m", "awslambdaric", handler]
    return subprocess.run(command, cwd=HERE, capture_output=True, text=True, timeout=300)


def _carrying(status: JSON, run_id: str, succeeded: bool | None = None) -> list[JSON]:
    """The invocations whose batch carried the run (only successful ones with ``succeeded``)."""
    return [
        i for i in status["invocations"] if run_id in i["runIds"] and (succeeded is None or i["succeeded"] == succeeded)
    ]


def _abandoned(status: JSON) -> list[JSON]:
    return [i for i in status["invocations"] if i["then"].startswith("abandoned")]


def _delivered(status: JSON) -> set[str]:
    """Every record of a successful invocation."""
    return {record for i in status["invocations"] if i["succeeded"] for record in i["records"]}


def _record(run: JSON) -> str:
    """A run's Kafka message as the invocation log names it: ``topic-partition@offset``."""
    kafka = run["kafka"]
    return f"{kafka['topic']}-{kafka['partition']}@{kafka['offset']}"


def _await(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def _admin(emulator: Emulator, method: str, path: str, body: JSON | None = None) -> JSON:
    """The emulator's admin API (workflows have no helper in ``Emulator``)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        f"{emulator.base_url}/_emulator{path}", data, {"Content-Type": "application/json"}, method=method
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        answer: JSON = json.load(response)
        return answer
