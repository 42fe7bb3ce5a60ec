"""``Emulator`` over a real port-emulator: settings, Port's API, waiting, journal, violations."""

from __future__ import annotations

import json
import urllib.request

import pytest

from port_kafka_harness import Emulator, PortAPIError, RunAssertionError


def test_settings_are_the_env_file_s_and_reach_a_live_api(emulator: Emulator) -> None:
    assert emulator.api_url == emulator.base_url + "/v1"
    assert emulator.runs_topic == emulator.org_id + ".runs"
    assert emulator.kafka_brokers.startswith("127.0.0.1:")
    env = emulator.env({"PATH": "/bin"})
    assert env["PATH"] == "/bin" and env["KAFKA_BROKERS"] == emulator.kafka_brokers
    with urllib.request.urlopen(emulator.base_url + "/_emulator/health") as response:
        assert json.load(response) == {"ok": True}


def test_trigger_answers_as_port_and_wait_returns_the_finished_run(emulator: Emulator) -> None:
    emulator.reset()
    run = emulator.trigger("create_microservice", {"name": "billing"})
    assert run["id"].startswith("r_") and run["status"] == "IN_PROGRESS"
    assert run["action"]["identifier"] == "create_microservice"
    # The test plays the consumer: Port's API with the emulator's credentials.
    emulator.port_api("PATCH", f"/actions/runs/{run['id']}", {"status": "SUCCESS"})
    done = emulator.wait(run["id"], status="SUCCESS", timeout=10)
    assert done["status"] == "SUCCESS" and done["endedAt"]
    assert [call["method"] for call in emulator.journal(run["id"])] == ["PATCH"]


def test_refusals_raise_port_s_error(emulator: Emulator) -> None:
    with pytest.raises(PortAPIError) as unknown:
        emulator.trigger("no_such_action", {})
    assert unknown.value.status == 404
    with pytest.raises(PortAPIError) as missing:
        emulator.run("r_0000000000000000")
    assert missing.value.status == 404 and "r_0000000000000000" in str(missing.value)


def test_a_refused_call_is_a_violation_and_wait_says_why_it_failed(emulator: Emulator) -> None:
    emulator.reset()
    run = emulator.trigger("create_microservice", {"name": "billing"})
    with pytest.raises(PortAPIError) as refused:
        emulator.port_api("PATCH", f"/actions/runs/{run['id']}", {"status": "IN_PROGRESS"})
    assert refused.value.status == 422
    [violation] = emulator.violations(run["id"])
    assert violation["method"] == "PATCH" and violation["error"] == "invalid_request"
    emulator.port_api("PATCH", f"/actions/runs/{run['id']}", {"status": "FAILURE"})
    with pytest.raises(RunAssertionError) as failed:
        emulator.wait(run["id"], status="SUCCESS", timeout=10)
    message = str(failed.value)
    assert f"run {run['id']} finished as FAILURE, not SUCCESS" in message
    assert "refused calls (1):" in message and "-> 422 invalid_request" in message


def test_wait_times_out_with_the_run_s_state(emulator: Emulator) -> None:
    emulator.reset()
    run = emulator.trigger("create_microservice", {"name": "billing"})
    with pytest.raises(RunAssertionError) as timed_out:
        emulator.wait(run["id"], timeout=0.3)
    assert "did not reach a finished status within 0.3 s (it is IN_PROGRESS)" in str(timed_out.value)
    assert "API calls: none" in str(timed_out.value)


def test_reset_forgets_runs(emulator: Emulator) -> None:
    emulator.trigger("create_microservice", {"name": "billing"})
    assert emulator.runs()
    emulator.reset()
    assert emulator.runs() == [] and emulator.journal() == []


def test_an_expired_token_is_replaced_once(emulator: Emulator) -> None:
    emulator.trigger("create_microservice", {"name": "one"})
    urllib.request.urlopen(urllib.request.Request(emulator.base_url + "/_emulator/tokens/expire", b"{}", method="POST"))
    assert emulator.trigger("create_microservice", {"name": "two"})["status"] == "IN_PROGRESS"


def test_the_emulator_is_reached_directly_even_with_a_proxy_set(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.delenv("no_proxy", raising=False)
    assert isinstance(emulator.runs(), list)
