#!/usr/bin/env python3
"""A Port Kafka consumer in Python that works with the catalog: search and relations.

It reads its settings from the environment `port-emulator verify` gives a consumer (the same
names port-agent reads), takes the runs of Tests/ConformanceTests/CatalogFixtures' actions
from `ORG_ID.runs`, and commits each message after reporting:

  record_deployment         finds the run's service with the blueprint search
                            (POST /v1/blueprints/service/entities/search), reads its
                            `environment` relation, finds that environment with the search
                            across blueprints (POST /v1/entities/search), creates the deployment
                            `SERVICE-VERSION` with run_id, related to both, reads it back and
                            reports SUCCESS with a summary naming the relations Port stored
  record_deployment_broken  relates the deployment to the `environment` input as given, without
                            looking it up (nor create_missing_related_entities): for an
                            environment that does not exist Port answers 404 not_found, and the
                            run is reported FAILURE with Port's message in a log

Any other action is reported FAILURE ("no handler").
"""
import json
import os
import urllib.error
import urllib.parse
import urllib.request

from confluent_kafka import Consumer

API = os.environ["PORT_API_BASE_URL"].rstrip("/") + "/v1"


def call(method, path, body=None, token=None):
    """One request; returns (status, json)."""
    request = urllib.request.Request(API + path, method=method,
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Content-Type": "application/json"})
    if token:
        request.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def token():
    status, answer = call("POST", "/auth/access_token", {
        "clientId": os.environ["PORT_CLIENT_ID"], "clientSecret": os.environ["PORT_CLIENT_SECRET"]})
    if status != 200:
        raise RuntimeError(f"no token: {status} {answer}")
    return answer["accessToken"]


class Run:
    """One run's calls to Port, with one token."""

    def __init__(self, run_id):
        self.id = run_id
        self.token = token()

    def call(self, method, path, body=None):
        return call(method, path, body, self.token)

    def log(self, message):
        self.call("POST", f"/actions/runs/{self.id}/logs", {"message": message})

    def finish(self, status, summary):
        self.call("PATCH", f"/actions/runs/{self.id}", {"status": status, "summary": summary})
        print(f"{self.id} {status}: {summary}", flush=True)

    def create_deployment(self, identifier, version, relations):
        query = urllib.parse.urlencode({"run_id": self.id})
        return self.call("POST", f"/blueprints/deployment/entities?{query}", {
            "identifier": identifier, "title": identifier,
            "properties": {"version": version}, "relations": relations})


def identifier_rule(value):
    return {"property": "$identifier", "operator": "=", "value": value}


def record_deployment(run, service, inputs):
    # The service, by the blueprint's search.
    status, answer = run.call("POST", "/blueprints/service/entities/search",
                              {"query": {"combinator": "and", "rules": [identifier_rule(service)]}})
    found = answer.get("entities", []) if status == 200 else []
    if len(found) != 1:
        return run.finish("FAILURE", f"service {service} not found by search: {status} {answer}")
    environment = (found[0].get("relations") or {}).get("environment")
    if not isinstance(environment, str):
        return run.finish("FAILURE", f"service {service} has no environment relation: {found[0]}")
    if inputs.get("environment") not in (None, environment):
        run.log(f"input environment {inputs['environment']} differs from {service}'s relation; using {environment}")
    # Its environment, by the search across blueprints.
    status, answer = run.call("POST", "/entities/search", {"combinator": "and", "rules": [
        {"property": "$blueprint", "operator": "=", "value": "environment"}, identifier_rule(environment)]})
    found = answer.get("entities", []) if status == 200 else []
    if len(found) != 1:
        return run.finish("FAILURE", f"environment {environment} not found by search: {status} {answer}")
    run.log(f"{service} runs in environment {environment} ({found[0].get('properties', {}).get('region')})")
    identifier = f"{service}-{inputs['version']}"
    status, answer = run.create_deployment(identifier, inputs["version"],
                                           {"service": service, "environment": environment})
    if status not in (200, 201):
        run.log(f"creating deployment {identifier} failed: {status} {answer.get('error')}: {answer.get('message')}")
        return run.finish("FAILURE", f"deployment {identifier} not recorded ({status})")
    # What Port stored, not what was sent.
    status, answer = run.call("GET", f"/blueprints/deployment/entities/{urllib.parse.quote(identifier)}")
    relations = (answer.get("entity") or {}).get("relations") or {}
    run.finish("SUCCESS", f"deployment {identifier} recorded: service {relations.get('service')}, "
                          f"environment {relations.get('environment')}")


def record_deployment_broken(run, service, inputs):
    identifier = f"{service}-{inputs['version']}"
    status, answer = run.create_deployment(identifier, inputs["version"],
                                           {"service": service, "environment": inputs["environment"]})
    if status in (200, 201):
        return run.finish("SUCCESS", f"deployment {identifier} recorded")
    run.log(f"creating deployment {identifier} failed: {status} {answer.get('error')}: {answer.get('message')}")
    run.finish("FAILURE", f"deployment {identifier} not recorded ({status} {answer.get('error')})")


HANDLERS = {"record_deployment": record_deployment, "record_deployment_broken": record_deployment_broken}


def handle(message):
    context = message.get("context") or {}
    payload = message.get("payload") or {}
    action = message.get("action") or (payload.get("action") or {}).get("identifier")
    run = Run(context["runId"])
    handler = HANDLERS.get(action)
    if handler is None:
        return run.finish("FAILURE", f"no handler for action {action}")
    run.log(f"catalog consumer: {action} on {context.get('entity')}")
    try:
        handler(run, context.get("entity"), payload.get("properties") or {})
    except Exception as error:  # a bug here must still end the run
        run.finish("FAILURE", f"{action} failed: {error!r}")


def main():
    consumer = Consumer({
        "bootstrap.servers": os.environ["KAFKA_CONSUMER_BOOTSTRAP_SERVERS"],
        "group.id": os.environ["KAFKA_CONSUMER_GROUP_ID"],
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
        "session.timeout.ms": 6000,
        "heartbeat.interval.ms": 500,
    })
    consumer.subscribe([os.environ["KAFKA_RUNS_TOPIC"]],
                       on_assign=lambda c, partitions: print("assigned", len(partitions), "partitions", flush=True))
    print("catalog consumer started", flush=True)
    while True:
        record = consumer.poll(0.1)
        if record is None or record.error():
            continue
        handle(json.loads(record.value()))
        consumer.commit(record, asynchronous=False)


if __name__ == "__main__":
    main()
