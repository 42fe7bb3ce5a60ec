#!/usr/bin/env python3
"""A consumer that gets its work by HTTP polling, the way port-agent's HttpPollingConsumer
does (app/consumers/http_polling_consumer.py, app/port_client.py):

- at start-up, PATCH /v1/organization {"settings": {"portAgentStreamerName": STREAMER_NAME}}
  (POLLING under `verify --polling`, else KAFKA, as port-agent's default);
- in a loop: POST /v1/actions/runs/claim-pending {installationId, limit} and POST
  /v1/workflows/runs/claim-pending, each with x-port-reserved-usage: true; every run claimed
  is acked first (PATCH /v1/actions/runs/ack {runIds: [id]}, node runs with
  {nodeRunIdentifier}), then processed; a full batch polls again at once, else it sleeps.

Unlike port-agent it takes every invocation method (no "WEBHOOK" filter), so the shipped
KAFKA fixtures reach it. Processing a run: a log, then PATCH {status: SUCCESS, summary}
(`polled ACTION`); a node run: PATCH {status: COMPLETED, result: SUCCESS}.
"""
import json
import os
import signal
import time
import urllib.error
import urllib.request

API = os.environ["PORT_API_BASE_URL"].rstrip("/") + "/v1"
BATCH = 10
running = True


def stop(*_):
    global running
    running = False


signal.signal(signal.SIGTERM, stop)
signal.signal(signal.SIGINT, stop)


def call(method, path, body=None, reserved=False):
    token_request = urllib.request.Request(API + "/auth/access_token", method="POST", data=json.dumps({
        "clientId": os.environ["PORT_CLIENT_ID"], "clientSecret": os.environ["PORT_CLIENT_SECRET"]}).encode(),
        headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(token_request, timeout=10) as response:
        token = json.loads(response.read())["accessToken"]
    headers = {"Content-Type": "application/json", "Authorization": "Bearer " + token}
    if reserved:
        headers["x-port-reserved-usage"] = "true"
    request = urllib.request.Request(API + path, method=method, data=json.dumps(body).encode() if body is not None else None,
                                     headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def process_run(run):
    body = run["payload"]["body"]
    action = body.get("action") if isinstance(body.get("action"), str) else (body.get("action") or {}).get("identifier", "")
    run_id = run["id"]
    call("POST", f"/actions/runs/{run_id}/logs", {"message": f"claimed by polling: {action}"})
    call("PATCH", f"/actions/runs/{run_id}", {"status": "SUCCESS", "summary": f"polled {action}"})


def process_node_run(node_run):
    call("PATCH", f"/workflows/nodes/runs/{node_run['identifier']}", {"status": "COMPLETED", "result": "SUCCESS"})


def poll(path, key, id_field, ack):
    status, answer = call("POST", path, {"installationId": "polling-consumer", "limit": BATCH}, reserved=True)
    if status != 200:
        print(f"claim answered {status}: {answer}", flush=True)
        time.sleep(0.5)
        return 0
    items = answer.get(key, [])
    for item in items:
        item_id = item[id_field]
        ack_status, ack_answer = ack(item_id)
        if ack_status != 200:
            print(f"ack of {item_id} answered {ack_status}: {ack_answer}", flush=True)
            continue
        print(f"acked {item_id}", flush=True)
        (process_run if key == "runs" else process_node_run)(item)
        print(f"handled {item_id}", flush=True)
    return len(items)


# port-agent writes its own STREAMER_NAME (KAFKA by default) to the organization at start-up.
status, _ = call("PATCH", "/organization", {"settings": {"portAgentStreamerName": os.environ.get("STREAMER_NAME", "KAFKA")}})
print(f"streamer setting answered {status}", flush=True)
while running:
    claimed = poll("/actions/runs/claim-pending", "runs", "id",
                   lambda run_id: call("PATCH", "/actions/runs/ack", {"runIds": [run_id]}, reserved=True))
    claimed += poll("/workflows/runs/claim-pending", "nodeRuns", "identifier",
                    lambda node_id: call("PATCH", "/workflows/runs/ack", {"nodeRunIdentifier": node_id}, reserved=True))
    if claimed < BATCH:
        time.sleep(0.2)
print("stopped", flush=True)
