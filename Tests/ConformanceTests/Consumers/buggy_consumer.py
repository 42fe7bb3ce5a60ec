#!/usr/bin/env python3
"""A small Port Kafka consumer in Python with one deliberate bug, chosen by argv[1].

It reads its settings from the environment `port-emulator verify` gives a consumer (the same
names port-agent reads), handles each invocation by logging and reporting SUCCESS, and
commits the message's offset after reporting. Each bug breaks exactly one rule:

  correct               no bug (the control)
  never-terminates      logs, but never reports a terminal status
  patches-in-progress   PATCHes status IN_PROGRESS before finishing (Port refuses it)
  writes-after-finish   posts one more log after the run is finished (Port refuses it)
  commit-then-crash     commits the offset before reporting, then crashes on its first run
  ignores-429           retries a 429 at once instead of waiting for Retry-After
"""
import json
import os
import sys
import time
import urllib.error
import urllib.request

from confluent_kafka import Consumer

BUG = sys.argv[1] if len(sys.argv) > 1 else "correct"
API = os.environ["PORT_API_BASE_URL"].rstrip("/") + "/v1"
CRASH_MARKER = os.environ.get("BUGGY_CONSUMER_CRASH_MARKER", "/tmp/buggy-consumer-crashed")


def call(method, path, body=None, token=None):
    """One request; returns (status, json). A 429 is retried: after Retry-After, or at once with the bug."""
    for _ in range(50):
        request = urllib.request.Request(API + path, method=method)
        request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", "Bearer " + token)
        data = json.dumps(body).encode() if body is not None else None
        try:
            with urllib.request.urlopen(request, data, timeout=10) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            if error.code == 429:
                if BUG != "ignores-429":
                    time.sleep(float(error.headers.get("Retry-After", "1")))
                continue
            return error.code, json.loads(error.read() or b"{}")
    return 429, {}


def token():
    status, answer = call("POST", "/auth/access_token", {
        "clientId": os.environ["PORT_CLIENT_ID"], "clientSecret": os.environ["PORT_CLIENT_SECRET"]})
    return answer["accessToken"]


def run_id(message):
    context = message.get("context") or message.get("payload", {}).get("context") or {}
    return context.get("runId") or message.get("run", {}).get("id")


def main():
    consumer = Consumer({
        "bootstrap.servers": os.environ["KAFKA_CONSUMER_BOOTSTRAP_SERVERS"],
        # wrong-group: the most common production mistake, a group without the ORG_ID. prefix.
        "group.id": "my-group" if BUG == "wrong-group" else os.environ["KAFKA_CONSUMER_GROUP_ID"],
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
        "session.timeout.ms": 6000,
        "heartbeat.interval.ms": 500,
    })
    consumer.subscribe([os.environ["KAFKA_RUNS_TOPIC"]],
                       on_assign=lambda c, partitions: print("assigned", len(partitions), "partitions", flush=True))
    print("buggy consumer started with bug:", BUG, flush=True)
    while True:
        record = consumer.poll(0.1)
        if record is None or record.error():
            continue
        message = json.loads(record.value())
        rid = run_id(message)
        if BUG == "commit-then-crash":
            consumer.commit(record, asynchronous=False)
            if not os.path.exists(CRASH_MARKER):
                open(CRASH_MARKER, "w").close()
                print("crashing while handling", rid, flush=True)
                os._exit(1)
        bearer = token()
        call("POST", f"/actions/runs/{rid}/logs", {"message": "handled by the buggy consumer"}, bearer)
        if BUG == "patches-in-progress":
            call("PATCH", f"/actions/runs/{rid}", {"status": "IN_PROGRESS"}, bearer)
        if BUG != "never-terminates":
            call("PATCH", f"/actions/runs/{rid}", {"status": "SUCCESS", "summary": "done"}, bearer)
        if BUG == "writes-after-finish":
            call("POST", f"/actions/runs/{rid}/logs", {"message": "one more thing"}, bearer)
        if BUG != "commit-then-crash":
            consumer.commit(record, asynchronous=False)


if __name__ == "__main__":
    main()
