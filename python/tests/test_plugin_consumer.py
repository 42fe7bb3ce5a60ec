"""The plugin's port_consumer fixture, strict mode and override fixtures, as a user runs them:
inner pytest sessions through pytester, against a real port-emulator."""

from __future__ import annotations

import pytest

from conftest import plugin_arguments

pytest_plugins = ["pytester"]

# A consumer stand-in: prints what the plugin must hand it, then either calls Port's API
# (its first call makes it ready when no ready_log is given) or exits, as its argv says.
STANDIN = r'''
import json, os, sys, time, urllib.request

print("settings:", os.environ["PORT_API_URL"], os.environ["KAFKA_BROKERS"], os.environ.get("EXTRA", "-"), flush=True)
mode = sys.argv[1]
if mode == "exit":
    print("cannot connect to the brokers", flush=True)
    sys.exit(3)
if mode == "call":
    time.sleep(0.3)
    body = json.dumps({"clientId": os.environ["PORT_CLIENT_ID"], "clientSecret": os.environ["PORT_CLIENT_SECRET"]})
    request = urllib.request.Request(os.environ["PORT_API_URL"] + "/auth/access_token", body.encode(),
                                     {"Content-Type": "application/json"}, method="POST")
    urllib.request.urlopen(request).read()
print("consuming", flush=True)
while True:
    time.sleep(0.05)
'''


def test_port_consumer_starts_it_with_the_settings_waits_and_stops_it(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(standin=STANDIN)
    pytester.makepyfile(
        """
import os, sys

pids = []

def test_ready_line(port_consumer, port_emulator):
    consumer = port_consumer([sys.executable, "standin.py", "quiet"], env={"EXTRA": "x1"}, ready_log=r"consum\\w+")
    assert f"settings: {port_emulator.api_url} {port_emulator.kafka_brokers} x1" in consumer.output()
    assert consumer.returncode is None
    pids.append(consumer.pid)

def test_first_api_call(port_consumer, port_emulator):
    consumer = port_consumer(f"{sys.executable} standin.py call")
    calls = [(call["method"], call["path"]) for call in port_emulator.journal()]
    assert calls == [("POST", "/v1/auth/access_token")]
    pids.append(consumer.pid)

def test_each_was_stopped_after_its_test():
    for pid in pids:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            continue
        # a zombie until reaped is stopped too
        with open(f"/proc/{pid}/stat") as stat:
            assert stat.read().split(")")[1].split()[0] == "Z", pid
"""
    )
    result = pytester.runpytest_subprocess(*plugin_arguments(), timeout=120)
    result.assert_outcomes(passed=3)


def test_a_consumer_that_exits_first_fails_the_test_with_its_output(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(standin=STANDIN)
    pytester.makepyfile(
        """
import sys

def test_it(port_consumer):
    port_consumer([sys.executable, "standin.py", "exit"])

def test_not_ready_in_time(port_consumer):
    port_consumer([sys.executable, "standin.py", "quiet"], ready_log="never printed", ready_timeout=1)
"""
    )
    result = pytester.runpytest_subprocess(*plugin_arguments(), timeout=120)
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            "*port_consumer: the consumer exited with status 3 before it was ready.",
            "command: * standin.py exit",
            "last output:",
            "  settings: http://127.0.0.1:*",
            "  cannot connect to the brokers",
        ]
    )
    result.stdout.fnmatch_lines(
        ["*port_consumer: the consumer was not ready within 1 s: its output never matched ready_log /never printed/."]
    )


def test_a_failed_test_shows_what_the_session_consumer_printed_during_it(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(standin=STANDIN)
    pytester.makeini("[pytest]\nport_consumer_scope = session\n")
    pytester.makepyfile(
        """
import sys, time
import pytest

@pytest.fixture(scope="session")
def consumer(port_consumer):
    return port_consumer([sys.executable, "-u", "-c", "import time\\nprint('up', flush=True)\\n"
                          "for n in range(10**6):\\n    print('tick', n, flush=True); time.sleep(0.05)"],
                         ready_log="up")

def test_passes(consumer, port_emulator):
    time.sleep(0.3)

def test_fails(consumer, port_emulator):
    time.sleep(0.3)
    assert False, "the run never finished"
"""
    )
    result = pytester.runpytest_subprocess(*plugin_arguments(), timeout=120)
    result.assert_outcomes(passed=1, failed=1)
    output = result.stdout.str()
    section = output[output.index("port-consumer: ") :]
    assert "its output during this test:" in section
    assert "\nup\n" not in section  # printed before this test
    assert "tick" in section


STANDIN_CALLS = '''
def refused_then_done(emulator):
    """Plays a consumer that sends one call Port refuses, then finishes the run."""
    run = emulator.trigger("create_microservice", {"name": "billing"})
    try:
        emulator.port_api("PATCH", f"/actions/runs/{run['id']}", {"status": "DONE"})
    except Exception:
        pass
    emulator.port_api("PATCH", f"/actions/runs/{run['id']}", {"status": "SUCCESS"})
    return run
'''


def test_strict_mode_fails_a_passing_test_with_violations(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nport_emulator_strict = true\n")
    pytester.makepyfile(
        STANDIN_CALLS
        + """
import pytest

def test_refused(port_emulator):
    refused_then_done(port_emulator)

def test_clean(port_emulator):
    run = port_emulator.trigger("create_microservice", {"name": "ledger"})
    port_emulator.port_api("PATCH", f"/actions/runs/{run['id']}", {"status": "SUCCESS"})

@pytest.mark.port_emulator_strict(False)
def test_opted_out(port_emulator):
    refused_then_done(port_emulator)
"""
    )
    result = pytester.runpytest_subprocess(*plugin_arguments(), timeout=120)
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*port_emulator strict mode: the emulator refused 1 request(s) during this test:",
            "  PATCH /v1/actions/runs/r_* -> 422 invalid_request: *(patch-status-terminal-only) ?run r_*?",
        ]
    )
    result.stdout.fnmatch_lines(["FAILED test_strict_mode_fails_a_passing_test_with_violations.py::test_refused*"])


def test_the_strict_marker_alone_turns_it_on(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        STANDIN_CALLS
        + """
import pytest

@pytest.mark.port_emulator_strict
def test_strict(port_emulator):
    refused_then_done(port_emulator)

def test_lenient(port_emulator):
    refused_then_done(port_emulator)
"""
    )
    result = pytester.runpytest_subprocess(*plugin_arguments(), timeout=120)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["port_emulator strict mode: the emulator refused 1 request(s) during this test:"])
    result.stdout.fnmatch_lines(["FAILED *::test_strict - *"])


def test_fixtures_dir_and_serve_args_can_be_overridden_in_a_conftest(pytester: pytest.Pytester) -> None:
    actions = pytester.mkdir("only").joinpath("actions")
    actions.mkdir()
    actions.joinpath("ping.json").write_text(
        '{"identifier": "ping", "title": "Ping", "trigger": {"type": "self-service", "operation": "CREATE",'
        ' "userInputs": {"properties": {}}}, "invocationMethod": {"type": "KAFKA"}}'
    )
    pytester.makeconftest(
        """
import pathlib
import pytest

@pytest.fixture(scope="session")
def port_emulator_fixtures_dir():
    return pathlib.Path(__file__).parent / "only"

@pytest.fixture(scope="session")
def port_emulator_serve_args():
    return ["--org-id", "org_custom"]
"""
    )
    pytester.makepyfile(
        """
import pytest
from port_kafka_harness import PortAPIError

def test_it(port_emulator):
    assert port_emulator.org_id == "org_custom"
    assert port_emulator.runs_topic == "org_custom.runs"
    assert port_emulator.trigger("ping")["status"] == "IN_PROGRESS"
    with pytest.raises(PortAPIError) as refused:  # the shipped fixtures are not loaded
        port_emulator.trigger("create_microservice", {"name": "billing"})
    assert refused.value.status == 404
"""
    )
    result = pytester.runpytest_subprocess(*plugin_arguments(), timeout=120)
    result.assert_outcomes(passed=1)
