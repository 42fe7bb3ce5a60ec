"""The pytest plugin, run as a user runs it: inner pytest sessions through pytester."""

from __future__ import annotations

import pytest

from conftest import plugin_arguments

pytest_plugins = ["pytester"]

CONSUMER_STANDIN = '''
def finish(emulator, run_id, status):
    """Plays a consumer: Port's API with the emulator's credentials."""
    emulator.port_api("PATCH", f"/actions/runs/{run_id}", {"status": status})
'''


def test_one_process_per_session_and_a_fresh_state_per_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        CONSUMER_STANDIN
        + """
pids = []

def test_first(port_emulator):
    pids.append(port_emulator.pid)
    run = port_emulator.trigger("create_microservice", {"name": "one"})
    finish(port_emulator, run["id"], "SUCCESS")
    assert port_emulator.wait(run["id"], status="SUCCESS")["status"] == "SUCCESS"

def test_second_sees_none_of_the_first(port_emulator):
    pids.append(port_emulator.pid)
    assert port_emulator.runs() == []
    assert pids[0] == pids[1]
"""
    )
    result = pytester.runpytest_subprocess(*plugin_arguments())
    result.assert_outcomes(passed=2)


def test_a_failed_run_assertion_shows_the_journal_and_refused_calls(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        CONSUMER_STANDIN
        + """
def test_deploy(port_emulator):
    run = port_emulator.trigger("create_microservice", {"name": "billing"})
    try:
        port_emulator.port_api("PATCH", f"/actions/runs/{run['id']}", {"status": "DONE"})
    except Exception:
        pass
    finish(port_emulator, run["id"], "FAILURE")
    assert port_emulator.run(run["id"])["status"] == "SUCCESS"
"""
    )
    result = pytester.runpytest_subprocess(*plugin_arguments())
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*- port-emulator -*",
            "run r_* (create_microservice): status FAILURE*",
            "  API calls (2):",
            "    * PATCH /v1/actions/runs/r_* -> 422",
            "    * PATCH /v1/actions/runs/r_* -> 200",
            "  refused calls (1):",
            "    PATCH /v1/actions/runs/r_* -> 422 invalid_request: *",
        ]
    )


def test_a_missing_binary_errors_every_test_with_the_reason(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_uses_it(port_emulator):\n    pass\n")
    result = pytester.runpytest_subprocess(*plugin_arguments(), "--port-emulator-binary=/nonexistent/port-emulator")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*port_emulator: port-emulator not found: given path /nonexistent/port-emulator*"])


def test_an_emulator_that_dies_mid_test_fails_it_and_the_next_with_its_status(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
import os, signal

def test_killed(port_emulator):
    run = port_emulator.trigger("create_microservice", {"name": "billing"})
    os.kill(port_emulator.pid, signal.SIGKILL)
    port_emulator.wait(run["id"], timeout=600)

def test_after(port_emulator):
    pass
"""
    )
    result = pytester.runpytest_subprocess(*plugin_arguments(), timeout=120)
    result.assert_outcomes(failed=1, errors=1)
    result.stdout.fnmatch_lines(["*EmulatorDied: port-emulator (pid *) exited with status -9*"])
    result.stdout.fnmatch_lines(["*port_emulator: port-emulator (pid *) exited with status -9*"])


def test_a_bad_scope_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nport_emulator_scope = forever\n")
    pytester.makepyfile("def test_uses_it(port_emulator):\n    pass\n")
    result = pytester.runpytest_subprocess(*plugin_arguments())
    assert result.ret != 0
    result.stderr.fnmatch_lines(["*port_emulator_scope must be one of session, package, module, class, function*"])


# AWS Lambda functions: the port_emulator_lambda ini key and the port_lambda fixture. The
# handlers run under AWS's runtime interface client (PyPI's awslambdaric), unmodified.

TINY_HANDLER = '''
import base64, json, os, urllib.request

def call(method, path, body, token=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    request = urllib.request.Request(os.environ["PORT_API_URL"] + path, json.dumps(body).encode(), headers, method=method)
    with urllib.request.urlopen(request) as response:
        return json.load(response)

def lambda_handler(event, context):
    token = call("POST", "/auth/access_token", {"clientId": os.environ["PORT_CLIENT_ID"], "clientSecret": os.environ["PORT_CLIENT_SECRET"]})["accessToken"]
    for records in event["records"].values():
        for record in records:
            message = json.loads(base64.b64decode(record["value"]))
            summary = "%s %s@%d" % (event["eventSource"], record["topic"], record["offset"])
            call("PATCH", "/actions/runs/" + message["context"]["runId"], {"status": "SUCCESS", "summary": summary}, token)
    return {"ok": True}

def raising(event, context):
    raise ValueError("boom")
'''


def test_the_lambda_ini_key_runs_the_function_for_the_session(pytester: pytest.Pytester) -> None:
    pytest.importorskip("awslambdaric", reason="the Lambda tests run handlers under awslambdaric (make deps)")
    pytester.makepyfile(handler=TINY_HANDLER)
    pytester.makeini(
        "[pytest]\n"
        "port_emulator_lambda = {python} -m awslambdaric handler.lambda_handler\n"
        "port_emulator_args = --lambda-batching-window 0s\n"
    )
    pytester.makepyfile(
        """
def test_a_run(port_emulator):
    run = port_emulator.trigger("create_microservice", {"name": "billing"})
    done = port_emulator.wait(run["id"], status="SUCCESS")
    assert done["summary"] == "SelfManagedKafka org_emulator.runs@0"
    status = port_emulator.wait_lambda(lambda s: s["invocations"], what="an invocation")
    [invocation] = status["invocations"]
    assert invocation["runIds"] == [run["id"]] and invocation["outcome"] == "success"
    assert invocation["then"] == "committed"
    assert status["consumerGroup"] == "org_emulator.lambda.port-action-handler"

def test_the_same_function_after_a_reset(port_emulator):
    assert port_emulator.runs() == []
    run = port_emulator.trigger("create_microservice", {"name": "ledger"})
    port_emulator.wait(run["id"], status="SUCCESS")
    assert port_emulator.lambda_status()["environments"] == 1
"""
    )
    result = pytester.runpytest_subprocess(*plugin_arguments(), timeout=120)
    result.assert_outcomes(passed=2)


def test_port_lambda_runs_a_function_per_test_and_a_failure_shows_its_invocations(pytester: pytest.Pytester) -> None:
    pytest.importorskip("awslambdaric", reason="the Lambda tests run handlers under awslambdaric (make deps)")
    pytester.makepyfile(handler=TINY_HANDLER)
    pytester.makepyfile(
        """
import sys

def test_raises(port_lambda):
    emulator = port_lambda(
        "{python} -m awslambdaric handler.raising",
        args=["--lambda-max-retries", "0", "--lambda-batching-window", "0s", "--lambda-trigger", "msk"],
    )
    run = emulator.trigger("create_microservice", {"name": "billing"})
    emulator.wait_lambda(lambda s: s["invocations"], what="an invocation")
    assert emulator.run(run["id"])["status"] == "SUCCESS"

def test_a_command_as_words_and_options(port_lambda):
    emulator = port_lambda(
        [sys.executable, "-m", "awslambdaric", "handler.lambda_handler"],
        args=["--lambda-trigger", "msk", "--lambda-consumer-group", "org_emulator.tests"],
    )
    run = emulator.trigger("create_microservice", {"name": "billing"})
    assert emulator.wait(run["id"], status="SUCCESS")["summary"] == "aws:kafka org_emulator.runs@0"
    assert emulator.lambda_status()["consumerGroup"] == "org_emulator.tests"
"""
    )
    result = pytester.runpytest_subprocess(*plugin_arguments(), timeout=120)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*- port-emulator -*",
            "run r_* (create_microservice): status IN_PROGRESS*",
            "Lambda function port-action-handler (group org_emulator.lambda.port-action-handler): 1 environment(s)*",
            "    #1 attempt 1 org_emulator.runs-*@0: error ValueError: boom (* ms) -> discarded after 0 retries",
            "  function output (last lines):",
            "*ValueError: boom*",
        ]
    )


def test_a_function_that_cannot_start_fails_the_test_with_its_init_error(pytester: pytest.Pytester) -> None:
    pytest.importorskip("awslambdaric", reason="the Lambda tests run handlers under awslambdaric (make deps)")
    pytester.makeini("[pytest]\nport_emulator_lambda = {python} -m awslambdaric missing_module.lambda_handler\n")
    pytester.makepyfile("def test_uses_it(port_emulator):\n    pass\n")
    result = pytester.runpytest_subprocess(*plugin_arguments(), timeout=120)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*port_emulator: the Lambda function failed to start: Runtime.ImportModuleError: "
            "Unable to import module 'missing_module'*"
        ]
    )
