"""The pytest plugin, run as a user runs it: inner pytest sessions through pytester."""

from __future__ import annotations

import pytest

from conftest import plugin_arguments

pytest_plugins = ["pytester"]

CONSUMER_STANDIN = '''
def finish(emulator, run_id, status):
    """Plays a consumer: Port's API with the emulator's credentials."""
    emulator._port("PATCH", f"/actions/runs/{run_id}", {"status": status})
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
        port_emulator._port("PATCH", f"/actions/runs/{run['id']}", {"status": "DONE"})
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
