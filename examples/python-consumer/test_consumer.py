"""The consumer's contract with Port, checked end to end through port-emulator."""

from port_kafka_harness import Emulator


def test_create_microservice(port_emulator: Emulator, consumer: object) -> None:
    run = port_emulator.trigger("create_microservice", {"name": "billing", "region": "eu-west-1"})
    assert run["status"] == "IN_PROGRESS"
    done = port_emulator.wait(run["id"], status="SUCCESS")
    assert done["link"] == ["https://git.example.com/billing"]
    assert [entity["identifier"] for entity in done["affectedEntities"]] == ["billing"]


def test_deploy_service_updates_the_entity(port_emulator: Emulator, consumer: object) -> None:
    port_emulator.upsert_entity("service", "payments", {"version": "2.4.0"})
    run = port_emulator.trigger("deploy_service", {"version": "2.4.1", "environment": "staging"}, entity="payments")
    done = port_emulator.wait(run["id"], status="SUCCESS")
    assert done["summary"] == "payments runs 2.4.1 in staging"
    calls = [(call["method"], call["path"].split("?")[0]) for call in port_emulator.journal(run["id"])]
    assert calls == [
        ("POST", f"/v1/actions/runs/{run['id']}/logs"),
        ("PATCH", "/v1/blueprints/service/entities/payments"),
        ("PATCH", f"/v1/actions/runs/{run['id']}"),
    ]


def test_a_failed_build_is_reported_as_failure(port_emulator: Emulator, consumer: object) -> None:
    port_emulator.upsert_entity("service", "payments", {"version": "2.4.0"})
    run = port_emulator.trigger("deploy_service", {"version": "9.9.9-broken", "environment": "staging"}, "payments")
    done = port_emulator.wait(run["id"], status="FAILURE")
    assert done["logs"][-1]["message"] == "failed: version 9.9.9-broken does not build"
