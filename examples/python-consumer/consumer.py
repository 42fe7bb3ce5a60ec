"""A backend for Port's Kafka actions, in Python with confluent-kafka.

It reads invocations from ORG_ID.runs, does the work of `create_microservice` and
`deploy_service`, and reports back through Port's REST API: logs, a link, the entity it
created or updated (tied to the run with `run_id`), then SUCCESS or FAILURE. Settings come
from the environment, under the names port-emulator writes (and Port's production values fit
the same names): PORT_API_URL, PORT_CLIENT_ID, PORT_CLIENT_SECRET, PORT_ORG_ID, KAFKA_BROKERS,
KAFKA_CONSUMER_GROUP_ID, and for Port's brokers KAFKA_SECURITY_PROTOCOL=SASL_SSL with
KAFKA_USERNAME, KAFKA_PASSWORD and KAFKA_SSL_CA_LOCATION.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import urllib.error
import urllib.request
from typing import Any

from confluent_kafka import Consumer, Message

JSON = dict[str, Any]


class Port:
    """Port's REST API with client credentials."""

    def __init__(self, url: str, client_id: str, client_secret: str) -> None:
        self.url = url.rstrip("/")
        self.credentials = {"clientId": client_id, "clientSecret": client_secret}
        self.token: str | None = None

    def call(self, method: str, path: str, body: JSON, query: str = "") -> JSON:
        """One call with a token; an expired token (401) is replaced once."""
        for attempt in (1, 2):
            if self.token is None:
                self.token = str(self._send("POST", "/auth/access_token", self.credentials, None)["accessToken"])
            try:
                return self._send(method, path + query, body, self.token)
            except urllib.error.HTTPError as error:
                if error.code != 401 or attempt == 2:
                    raise
                self.token = None
        raise AssertionError("unreachable")

    def _send(self, method: str, path: str, body: JSON, token: str | None) -> JSON:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(self.url + path, json.dumps(body).encode(), headers, method=method)
        with urllib.request.urlopen(request, timeout=30) as response:
            answer: JSON = json.load(response)
            return answer


def handle(port: Port, invocation: JSON) -> None:
    """Does one run's work and reports it; a failure of the work is reported as FAILURE."""
    run_id = invocation["context"]["runId"]
    payload = invocation["payload"]
    payload = payload.get("payload", payload)  # Port's DAY-2 example wraps it once more
    inputs = payload.get("properties", {})
    action = invocation["action"]
    runs = f"/actions/runs/{run_id}"
    try:
        if action == "create_microservice":
            name = inputs["name"]
            port.call("POST", f"{runs}/logs", {"message": f"creating {name} in {inputs.get('region', 'us-east-1')}"})
            port.call(
                "POST",
                "/blueprints/microservice/entities",
                {"identifier": name, "title": name, "properties": {}},
                query=f"?upsert=true&run_id={run_id}",
            )
            port.call("PATCH", runs, {"status": "SUCCESS", "link": [f"https://git.example.com/{name}"]})
        elif action == "deploy_service":
            service = invocation["context"]["entity"]
            version, environment = inputs["version"], inputs["environment"]
            if version.endswith("-broken"):
                raise ValueError(f"version {version} does not build")
            port.call("POST", f"{runs}/logs", {"message": f"deploying {service} {version} to {environment}"})
            port.call(
                "PATCH",
                f"/blueprints/service/entities/{service}",
                {"properties": {"version": version}},
                query=f"?run_id={run_id}",
            )
            port.call("PATCH", runs, {"status": "SUCCESS", "summary": f"{service} runs {version} in {environment}"})
        else:
            port.call("PATCH", runs, {"status": "FAILURE", "summary": f"this backend has no handler for {action}"})
    except Exception as error:  # the work failed: tell Port, then go on with the next run
        try:
            port.call("POST", f"{runs}/logs", {"message": f"failed: {error}", "terminationStatus": "FAILURE"})
        except urllib.error.URLError as report_error:  # e.g. 422 run_exhausted: already finished
            print(f"run {run_id}: could not report the failure: {report_error}", file=sys.stderr, flush=True)


def kafka_settings(env: dict[str, str]) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "bootstrap.servers": env["KAFKA_BROKERS"],
        "group.id": env["KAFKA_CONSUMER_GROUP_ID"],
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
    }
    if env.get("KAFKA_SECURITY_PROTOCOL", "PLAINTEXT").upper() == "SASL_SSL":
        settings |= {
            "security.protocol": "SASL_SSL",
            "sasl.mechanisms": env.get("KAFKA_SASL_MECHANISM", "SCRAM-SHA-512"),
            "sasl.username": env["KAFKA_USERNAME"],
            "sasl.password": env["KAFKA_PASSWORD"],
        }
        if env.get("KAFKA_SSL_CA_LOCATION"):
            settings["ssl.ca.location"] = env["KAFKA_SSL_CA_LOCATION"]
    return settings


def main() -> None:
    env = dict(os.environ)
    port = Port(env["PORT_API_URL"], env["PORT_CLIENT_ID"], env["PORT_CLIENT_SECRET"])
    consumer = Consumer(kafka_settings(env))
    consumer.subscribe([f"{env['PORT_ORG_ID']}.runs"])
    running = True

    def stop(*_: object) -> None:
        nonlocal running
        running = False

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print("consumer started", flush=True)
    while running:
        message: Message | None = consumer.poll(0.5)
        if message is None or message.error():
            continue
        try:
            invocation = json.loads(message.value() or b"")
            if invocation.get("resourceType") == "run" and invocation.get("status") == "TRIGGERED":
                handle(port, invocation)
        except (ValueError, KeyError, TypeError) as error:  # not an invocation we can read: skip it
            print(f"skipping offset {message.offset()}: {error}", file=sys.stderr, flush=True)
        consumer.commit(message=message, asynchronous=False)
    consumer.close()


if __name__ == "__main__":
    main()
