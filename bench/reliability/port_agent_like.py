#!/usr/bin/env python3
"""A sequential consumer shaped like Port's port-agent, for the reliability comparison.

One message at a time: run the handler, report the run to Port, and commit the offset in a
`finally` block, whatever happened. A report that fails (a 5xx, a dropped connection, a 429)
is logged and dropped, as port-agent does; only an expired token is fetched again once.
"""
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request

from confluent_kafka import Consumer

API = os.environ["PORT_API_BASE_URL"].rstrip("/") + "/v1"
HANDLER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "record.sh")
token = None


def call(method, path, body=None, authorized=True):
    global token
    for attempt in range(2):
        if authorized and token is None:
            token = call("POST", "/auth/access_token", {
                "clientId": os.environ["PORT_CLIENT_ID"],
                "clientSecret": os.environ["PORT_CLIENT_SECRET"]}, authorized=False)["accessToken"]
        request = urllib.request.Request(API + path, method=method, data=json.dumps(body).encode())
        request.add_header("Content-Type", "application/json")
        if authorized:
            request.add_header("Authorization", "Bearer " + token)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            if error.code == 401 and authorized and attempt == 0:
                token = None
                continue
            raise


def handle(message):
    context = message.get("context") or {}
    run_id = context.get("runId")
    environment = dict(os.environ, PORT_RUN_ID=run_id)
    output = subprocess.run([HANDLER], env=environment, capture_output=True, text=True, timeout=30)
    call("POST", f"/actions/runs/{run_id}/logs", {"message": output.stdout.strip() or "handled"})
    call("PATCH", f"/actions/runs/{run_id}", {"status": "SUCCESS" if output.returncode == 0 else "FAILURE"})


def main():
    # port-agent at start-up (contract §6): it tells Port its streamer; only a 2xx matters,
    # and it carries on if refused.
    try:
        call("PATCH", "/organization", {"settings": {"portAgentStreamerName": "KAFKA"}})
    except Exception as error:
        print("could not set portAgentStreamerName:", error, flush=True)
    consumer = Consumer({
        "bootstrap.servers": os.environ["KAFKA_CONSUMER_BOOTSTRAP_SERVERS"],
        "group.id": os.environ["KAFKA_CONSUMER_GROUP_ID"],
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
        "fetch.wait.max.ms": 10,
        "session.timeout.ms": 6000,
        "heartbeat.interval.ms": 500,
    })
    consumer.subscribe([os.environ["KAFKA_RUNS_TOPIC"]],
                       on_assign=lambda c, partitions: print("assigned", len(partitions), "partitions", flush=True))
    while True:
        message = consumer.poll(0.1)
        if message is None or message.error():
            continue
        try:
            handle(json.loads(message.value()))
        except Exception as error:  # port-agent logs the failure and moves on
            print("failed to handle a message:", error, file=sys.stderr, flush=True)
        finally:
            try:
                consumer.commit(message, asynchronous=False)
            except Exception as error:
                print("commit failed:", error, file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
