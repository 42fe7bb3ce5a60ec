#!/usr/bin/env python3
"""A consumer that does what Port's port-agent does with agent runs (its app/invokers/
webhook_invoker.py and app/port_client.py), so that the suite catches a regression of the
emulator in these steps:

- at start-up, PATCH /v1/organization {"settings": {"portAgentStreamerName": "KAFKA"}},
  carrying on if refused;
- for a `.runs` message whose invocation method has `agent: true` and a valid signature:
  the step logs, the webhook call (to the action's url, with the message as its body), then
  for a synchronized action PATCH .../response with the webhook's answer and
  {status: SUCCESS}; for an asynchronous one no status; a non-2xx answer reports FAILURE
  with port-agent's summary.

It serves the webhook itself, on a free port it prints ("webhook=URL"), answering
{"deployed": true}. It commits every message, as port-agent does.
"""
import base64
import hashlib
import hmac
import http.server
import json
import os
import sys
import threading
import urllib.error
import urllib.request

from confluent_kafka import Consumer

API = os.environ["PORT_API_BASE_URL"].rstrip("/") + "/v1"
SECRET = os.environ["PORT_CLIENT_SECRET"]
PRINTING = threading.Lock()


def say(line):
    """One whole line of output: the webhook's thread prints too, and print() writes its
    parts one by one, so that two threads' lines could interleave mid-line."""
    with PRINTING:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def call(method, path, body=None):
    """A fresh token before every call, as port-agent does."""
    token_request = urllib.request.Request(API + "/auth/access_token", method="POST", data=json.dumps({
        "clientId": os.environ["PORT_CLIENT_ID"], "clientSecret": SECRET}).encode(),
        headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(token_request, timeout=60) as response:
        token = json.loads(response.read())["accessToken"]
    request = urllib.request.Request(API + path, method=method, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json", "Authorization": "Bearer " + token})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


class Webhook(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = json.dumps({"deployed": True}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        say("webhook called")

    def log_message(self, *args):
        pass


def signature_ok(message):
    headers = message.get("headers", {})
    signature, timestamp = headers.pop("X-Port-Signature", None), headers.pop("X-Port-Timestamp", None)
    if not signature or not timestamp:
        return False
    text = json.dumps(message, separators=(",", ":"), ensure_ascii=False)
    digest = hmac.new(SECRET.encode(), f"{timestamp}.{text}".encode(), hashlib.sha256).digest()
    return signature == "v1," + base64.b64encode(digest).decode()


def invoke(message):
    run_id = message["context"]["runId"]
    method = message["payload"]["action"]["invocationMethod"]
    log = lambda text: call("POST", f"/actions/runs/{run_id}/logs", {"message": text})
    log("An action message has been received")
    log("Preparing the payload for the request")
    log("Sending the request")
    request = urllib.request.Request(method["url"], method="POST", data=json.dumps(message).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            status, text = response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read().decode()
    ok = 200 <= status < 300
    if method.get("synchronized") and text:
        log("Reporting the run response")
        call("PATCH", f"/actions/runs/{run_id}/response", {"response": json.loads(text)})
    report = {"status": "SUCCESS"} if ok and method.get("synchronized") else {}
    if not ok:
        report = {"status": "FAILURE", "summary": f"Failed to invoke the webhook with status code: {status}."}
    if report:
        call("PATCH", f"/actions/runs/{run_id}", report)
    say(f"handled {run_id}")


def main():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Webhook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    say(f"webhook=http://127.0.0.1:{server.server_address[1]}/hook")
    say(f"streamer setting answered {call('PATCH', '/organization', {'settings': {'portAgentStreamerName': 'KAFKA'}})}")
    consumer = Consumer({
        "bootstrap.servers": os.environ["KAFKA_CONSUMER_BOOTSTRAP_SERVERS"],
        "group.id": os.environ["KAFKA_CONSUMER_GROUP_ID"],
        "auto.offset.reset": "earliest",
        "session.timeout.ms": 6000,
        "heartbeat.interval.ms": 500,
    })
    consumer.subscribe([os.environ["KAFKA_RUNS_TOPIC"]],
                       on_assign=lambda c, partitions: say(f"assigned {len(partitions)} partitions"))
    while True:
        record = consumer.poll(0.1)
        if record is None or record.error():
            continue
        message = json.loads(record.value())
        method = (message.get("payload", {}).get("action") or {}).get("invocationMethod") or {}
        if method.get("agent") and signature_ok(message):
            invoke(message)


if __name__ == "__main__":
    main()
