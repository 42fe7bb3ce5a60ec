"""A backend for Port's Kafka actions as an AWS Lambda function, in Python with the stdlib.

Lambda's Kafka event source mapping (a self-managed Kafka or an MSK trigger on the
organization's topic ``ORG_ID.runs``) reads Port's invocations and calls ``lambda_handler``
with a batch of them::

    {"eventSource": "SelfManagedKafka", "bootstrapServers": "...",
     "records": {"ORG_ID.runs-0": [{"topic": "ORG_ID.runs", "partition": 0, "offset": 17,
                                     "timestamp": 1733443200000, "timestampType": "CREATE_TIME",
                                     "key": "<base64>", "value": "<base64 of Port's JSON>",
                                     "headers": []}]}}

For each record the function decodes the value, does the work of the action and reports
back through Port's REST API: logs, a status label, links, the entities it created or
updated (tied to the run with ``run_id``), a summary, then SUCCESS or FAILURE.

What Lambda does with the answer matters:

- A run whose work fails is reported to Port as FAILURE, and the function still returns
  normally: the batch is done with, and Lambda commits its offsets.
- When Port cannot be told (it is unreachable even after retries), the function raises:
  Lambda invokes it again with the same batch. Runs that already finished are skipped (the
  function asks Port for each run's status first), so each run is done once.
- Records that are not run invocations (change-log events, anything unreadable) are skipped.

Settings, as environment variables of the function: ``PORT_API_URL`` (with ``/v1``, e.g.
``https://api.getport.io/v1``), ``PORT_CLIENT_ID`` and ``PORT_CLIENT_SECRET``. The client
secret also verifies the signature of messages meant for Port's execution agent and
decrypts secret inputs (AES-256-GCM).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import http.client
import json
import os
import random
import time
import urllib.error
import urllib.request
from typing import Any, Callable

from Crypto.Cipher import AES

JSON = dict[str, Any]


# Port's REST API ---------------------------------------------------------------------------


class PortError(Exception):
    """A call Port answered with an error (or never answered: ``status`` 0)."""

    def __init__(self, method: str, path: str, status: int, answer: JSON) -> None:
        self.status = status
        self.code = str(answer.get("error", f"http_{status}"))
        super().__init__(f"{method} {path.split('?')[0]} answered {status} {self.code}: {answer.get('message', '')}")


class Port:
    """Port's REST API with client credentials: a cached token, and retries of 429 (after
    ``Retry-After``), 5xx and network errors, as Port asks its clients to do."""

    MAX_ATTEMPTS = 6

    def __init__(self, url: str, client_id: str, client_secret: str) -> None:
        self.url = url.rstrip("/")
        self.client_id = client_id
        self.client_secret = client_secret
        self.token: str | None = None

    def call(self, method: str, path: str, body: JSON | None = None) -> JSON:
        """One call with a token; an expired token (401) is replaced once."""
        for attempt in (1, 2):
            if self.token is None:
                credentials = {"clientId": self.client_id, "clientSecret": self.client_secret}
                self.token = str(self._send("POST", "/auth/access_token", credentials, None)["accessToken"])
            try:
                return self._send(method, path, body, self.token)
            except PortError as error:
                if error.status != 401 or attempt == 2:
                    raise
                self.token = None
        raise AssertionError("unreachable")

    def _send(self, method: str, path: str, body: JSON | None, token: str | None) -> JSON:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = json.dumps(body).encode() if body is not None else None
        for attempt in range(1, self.MAX_ATTEMPTS + 1):
            request = urllib.request.Request(self.url + path, data, headers, method=method)
            delay = min(0.1 * 2 ** (attempt - 1), 10.0) * random.uniform(0.5, 1.0)
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    answer: JSON = json.load(response)
                    return answer
            except urllib.error.HTTPError as error:  # Port answered with an error status
                retryable = error.code == 429 or error.code >= 500
                if not retryable or attempt == self.MAX_ATTEMPTS:
                    raise PortError(method, path, error.code, _answer(error)) from None
                retry_after = error.headers.get("Retry-After", "")
                if error.code == 429 and retry_after.replace(".", "", 1).isdigit():
                    delay = min(float(retry_after), 10.0)
            except (urllib.error.URLError, http.client.HTTPException, OSError) as error:  # no answer
                if attempt == self.MAX_ATTEMPTS:
                    raise PortError(method, path, 0, {"error": "network", "message": str(error)}) from None
            time.sleep(delay)
        raise AssertionError("unreachable")


def _answer(error: urllib.error.HTTPError) -> JSON:
    try:
        answer = json.loads(error.read() or b"{}")
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}


# One run, as the work sees it ---------------------------------------------------------------


class WorkFailed(Exception):
    """The work cannot be done; the message becomes the run's last log (FAILURE)."""


class Run:
    """One run of an action (or one workflow node run): its inputs, and the calls that report
    its progress to Port. Each call goes to Port at once."""

    def __init__(
        self,
        port: Port,
        run_id: str,
        action: str,
        inputs: JSON,
        entity: str | None = None,
        workflow_node: bool = False,
    ) -> None:
        self.port = port
        self.id = run_id
        self.action = action
        self.inputs = inputs
        self.entity = entity
        self.workflow_node = workflow_node
        self.summary: str | None = None
        self.links: list[str] = []

    def log(self, message: str) -> None:
        """Adds a line to the run's log."""
        if self.workflow_node:
            line = {"level": "INFO", "message": message}
            self.port.call("POST", f"/workflows/nodes/runs/{self.id}/logs", {"logs": [line]})
        else:
            self.port.call("POST", f"/actions/runs/{self.id}/logs", {"message": message})

    def set_label(self, label: str) -> None:
        """The label shown beside the run's status (a workflow node logs it)."""
        if self.workflow_node:
            self.log(label)
        else:
            self.port.call("PATCH", f"/actions/runs/{self.id}", {"statusLabel": label})

    def add_link(self, url: str) -> None:
        """Adds a link to the run (Port replaces the list with each PATCH: send them all)."""
        self.links.append(url)
        if self.workflow_node:
            self.port.call("PATCH", f"/workflows/nodes/runs/{self.id}", {"links": self.links})
        else:
            self.port.call("PATCH", f"/actions/runs/{self.id}", {"link": self.links})

    def set_summary(self, summary: str) -> None:
        """The run's summary; also the text of its last log."""
        self.summary = summary
        if self.workflow_node:
            self.log(summary)
        else:
            self.port.call("PATCH", f"/actions/runs/{self.id}", {"summary": summary})

    def upsert_entity(self, blueprint: str, identifier: str, properties: JSON, title: str | None = None) -> None:
        """Creates or updates (merging properties) an entity, tied to the run with ``run_id``."""
        entity: JSON = {"identifier": identifier, "properties": properties}
        if title is not None:
            entity["title"] = title
        self.port.call("POST", f"/blueprints/{blueprint}/entities?upsert=true&merge=true&run_id={self.id}", entity)


# The work of each action ------------------------------------------------------------------


def create_microservice(run: Run) -> None:
    name = run.inputs["name"]
    region = run.inputs.get("region") or "eu-west-1"
    run.set_label(f"Creating {name}")
    run.log(f"Creating repository for {name} in {region}")
    run.add_link(f"https://git.example.com/{name}")
    run.upsert_entity("microservice", name, {"region": region}, title=name)
    run.set_summary(f"Created {name} in {region}")


def deploy_microservice(run: Run) -> None:
    service = _entity(run)
    environment = run.inputs.get("environment") or "staging"
    run.set_label(f"Deploying to {environment}")
    run.log(f"Deploying {service} to {environment}")
    run.add_link(f"https://ci.example.com/deploy/{service}/{run.id}")
    run.set_summary(f"Deployed {service} to {environment}")


def deploy_service(run: Run) -> None:
    service = _entity(run)
    version, environment = run.inputs["version"], run.inputs["environment"]
    run.set_label(f"Deploying {version}")
    run.log(f"Deploying {service} {version} to {environment} ({run.inputs.get('region') or 'us-east-1'})")
    run.add_link(f"https://ci.example.com/deploy/{service}/{run.id}")
    run.upsert_entity("service", service, {"version": version, "environment": environment})
    run.set_summary(f"{service} runs {version} in {environment}")


def create_vm(run: Run) -> None:
    name, cpu, region = run.inputs["name"], run.inputs["cpu"], run.inputs["region"]
    memory = run.inputs.get("memoryGiB", 4)
    run.log(f"Inputs: {json.dumps(run.inputs)}")
    run.set_label("Provisioning")
    run.log(f"Provisioning {name} with {cpu} vCPUs and {memory} GiB in {region}")
    run.add_link(f"https://cloud.example.com/vms/{name}")
    run.upsert_entity("vm", name, {"cpu": cpu, "memoryGiB": memory, "region": region})
    run.set_summary(f"{name} is up")


def resize_vm(run: Run) -> None:
    vm, cpu = _entity(run), run.inputs["cpu"]
    run.set_label("Resizing")
    run.log(f"Resizing {vm} to {cpu} vCPUs")
    run.upsert_entity("vm", vm, {"cpu": cpu})
    run.set_summary(f"{vm} has {cpu} vCPUs")


def rollback_service(run: Run) -> None:
    service = run.entity or "the service"
    run.log(f"Looking for the previous release of {service}")
    raise WorkFailed(f"no previous release of {service} to roll back to")


def deploy_with_secrets(run: Run) -> None:
    # apiToken and credentials were secret inputs: they arrive decrypted here. Never log them.
    service, token = run.inputs["service"], run.inputs["apiToken"]
    user = (run.inputs.get("credentials") or {}).get("user", "nobody")
    run.log(f"Deploying {service} with a {len(token)}-character token")
    run.set_summary(f"Deployed {service} with a {len(token)}-character token as {user}")


def sync_agent_deploy(run: Run) -> None:
    service = run.inputs["service"]
    run.log(f"Deploying {service} (synchronized, through the agent)")
    run.set_summary(f"{service} deployed")


def announce_microservice(run: Run) -> None:
    # An automation (a microservice was created): its payload template sends these inputs.
    service, region = run.inputs["service"], run.inputs["region"]
    run.log(f"New microservice {service} in {region}")
    run.add_link(f"https://chat.example.com/announcements/{service}")
    run.set_summary(f"Announced {service}")


def alert_rollback_failure(run: Run) -> None:
    # An automation (a rollback_service run failed): Port's default message, with the event.
    run.log(f"Opening an incident for a failed rollback (run {run.id})")
    run.add_link(f"https://incidents.example.com/rollback/{run.id}")
    run.set_summary("Incident opened")


def expire_environment(run: Run) -> None:
    # An automation (an environment's ttl timer passed).
    environment = run.inputs["environment"]
    run.log(f"Tearing down {environment} (ttl {run.inputs.get('expiredAt') or 'unknown'} passed)")
    run.upsert_entity("environment", environment, {"status": "expired"})
    run.set_summary(f"{environment} expired")


def provision_environment(run: Run) -> None:
    # The KAFKA node of the provision_environment workflow: the node's payload is the input.
    run.log(f"Provisioning from {json.dumps(run.inputs)}")
    run.add_link(f"https://envs.example.com/{run.inputs['environment']}")


def _entity(run: Run) -> str:
    if not run.entity:
        raise WorkFailed(f"{run.action} is a DAY-2 action: the run names no entity")
    return run.entity


ACTIONS: dict[str, Callable[[Run], None]] = {
    "create_microservice": create_microservice,
    "deploy_microservice": deploy_microservice,
    "deploy_service": deploy_service,
    "create_vm": create_vm,
    "resize_vm": resize_vm,
    "rollback_service": rollback_service,
    "deploy_with_secrets": deploy_with_secrets,
    "sync_agent_deploy": sync_agent_deploy,
    "announce_microservice": announce_microservice,
    "alert_rollback_failure": alert_rollback_failure,
    "expire_environment": expire_environment,
}

WORKFLOW_NODES: dict[str, Callable[[Run], None]] = {"provision": provision_environment}


# The Lambda handler -----------------------------------------------------------------------

_port: Port | None = None


def port() -> Port:
    """Port's API, made once per execution environment: warm invocations reuse its token."""
    global _port
    if _port is None:
        _port = Port(os.environ["PORT_API_URL"], os.environ["PORT_CLIENT_ID"], os.environ["PORT_CLIENT_SECRET"])
    return _port


def lambda_handler(event: JSON, context: Any) -> JSON:
    """Handles every record of a Kafka batch, in order. Raises only when Port cannot be told
    how a run ended: Lambda then retries the whole batch (finished runs are skipped)."""
    handled = skipped = 0
    for records in event.get("records", {}).values():
        for record in records:
            where = f"{record.get('topic')}-{record.get('partition')}@{record.get('offset')}"
            message = _decode(record.get("value"))
            if message is None:
                print(f"skipping {where}: the value is not a JSON object")
                skipped += 1
            elif _handle_message(port(), message, where):
                handled += 1
            else:
                skipped += 1
    return {"handled": handled, "skipped": skipped}


def _object(value: Any) -> JSON:
    """``value`` when it is a JSON object, else an empty one (messages vary in shape)."""
    return value if isinstance(value, dict) else {}


def _decode(value: str | None) -> JSON | None:
    """A record's value: base64 of Port's JSON."""
    if value is None:
        return None
    try:
        message = json.loads(base64.b64decode(value))
    except (binascii.Error, ValueError):
        return None
    return message if isinstance(message, dict) else None


def _handle_message(port: Port, message: JSON, where: str) -> bool:
    """Handles one of Port's messages; False when it is not for this backend (skipped)."""
    context = _object(message.get("context"))
    if context.get("nodeRunId"):
        return _handle_workflow_node(port, message)
    # Port's DAY-2 example wraps the whole message in one more {"payload": ...}.
    if "context" not in message and "context" in _object(message.get("payload")):
        message = message["payload"]
        context = _object(message.get("context"))
    # Legacy messages say what they are; templated ones (automations) carry only what their
    # template renders. The change log (resourceType "entity") is not for this backend.
    if message.get("resourceType", "run") != "run" or message.get("status", "TRIGGERED") != "TRIGGERED":
        print(f"skipping {where}: not a triggered run ({message.get('resourceType')}, {message.get('status')})")
        return False
    run_id = context.get("runId") or _object(message.get("run")).get("id") or message.get("runId")
    if not run_id:
        print(f"skipping {where}: no run id at context.runId, run.id or runId")
        return False
    if not _signature_is_valid(message, port.client_secret):
        print(f"skipping {where}: X-Port-Signature does not match the client secret")
        return False
    _handle_run(port, message, str(run_id))
    return True


def _handle_run(port: Port, message: JSON, run_id: str) -> None:
    payload = _object(message.get("payload"))
    definition = _object(payload.get("action"))
    action = message.get("action")
    if isinstance(action, dict):
        action = action.get("identifier")
    action = str(action or definition.get("identifier") or "")
    entity = _object(message.get("context")).get("entity") or _object(payload.get("entity")).get("identifier")
    inputs = _object(payload.get("properties") or message.get("inputs") or message.get("properties"))
    runs = f"/actions/runs/{run_id}"

    # Lambda may deliver a batch again (after an error, a timeout, a restart): a run that has
    # already finished is skipped, so that each run is done once.
    try:
        status = port.call("GET", runs)["run"]["status"]
    except PortError as error:
        if error.status != 404:
            raise
        status = "unknown to Port"
    if status != "IN_PROGRESS":
        print(f"run {run_id} ({action}): skipped, it is {status}")
        return

    run = Run(port, run_id, action, inputs, str(entity) if entity else None)
    failure: str | None = None
    try:
        run.inputs = decrypt_secret_inputs(message, inputs, port.client_secret)
        work = ACTIONS.get(action)
        if work is None:
            raise WorkFailed(f"no handler for action {action or '(none named in the message)'}")
        work(run)
    except WorkFailed as error:
        failure = f"{action} failed: {error}"
    except Exception as error:  # a bug, a missing input, a call Port refused: the run fails
        failure = f"{action} failed: {type(error).__name__}: {error}"

    # The end, exactly once: a log with terminationStatus. If Port cannot be told, this
    # raises and Lambda retries the batch.
    final = {
        "message": failure or run.summary or "Succeeded",
        "terminationStatus": "FAILURE" if failure else "SUCCESS",
        "statusLabel": "Failed" if failure else "Succeeded",
    }
    try:
        port.call("POST", f"{runs}/logs", final)
    except PortError as error:
        if error.code != "run_exhausted":  # run_exhausted: it was already finished
            raise
    print(f"run {run_id} ({action}): {final['terminationStatus']}" + (f": {failure}" if failure else ""))


def _handle_workflow_node(port: Port, message: JSON) -> bool:
    """A workflow's KAFKA node: reported through the node-run routes."""
    context = _object(message.get("context"))
    node_run_id, node = str(context["nodeRunId"]), str(context.get("node", ""))
    path = f"/workflows/nodes/runs/{node_run_id}"
    try:
        if port.call("GET", path).get("nodeRun", {}).get("status") == "COMPLETED":
            return False  # delivered again: already done
    except PortError as error:
        if error.status == 404:
            return False
        raise
    run = Run(port, node_run_id, node, _object(message.get("payload")), workflow_node=True)
    failure: str | None = None
    try:
        work = WORKFLOW_NODES.get(node)
        if work is None:
            raise WorkFailed(f"no handler for workflow node {node}")
        work(run)
    except Exception as error:
        failure = f"{node} failed: {error}"
    last_line = {"level": "ERROR" if failure else "INFO", "message": failure or "Succeeded"}
    port.call("POST", f"{path}/logs", {"logs": [last_line]})
    try:
        port.call("PATCH", path, {"status": "COMPLETED", "result": "FAILED" if failure else "SUCCESS"})
    except PortError as error:
        if error.code != "run_exhausted":
            raise
    return True


# Port's signatures and secret inputs ------------------------------------------------------


def _signature_is_valid(message: JSON, client_secret: str) -> bool:
    """Messages for Port's execution agent (WEBHOOK actions with ``agent: true``) are signed:
    base64(HMAC-SHA256(client secret, "<timestamp>.<compact JSON without the two headers>")).
    A message without a signature is not checked."""
    headers = dict(_object(message.get("headers")))
    signature, timestamp = headers.pop("X-Port-Signature", None), headers.pop("X-Port-Timestamp", None)
    if signature is None:
        return True
    text = json.dumps({**message, "headers": headers}, separators=(",", ":"), ensure_ascii=False)
    digest = hmac.new(client_secret.encode(), f"{timestamp}.{text}".encode(), hashlib.sha256).digest()
    return hmac.compare_digest(str(signature), "v1," + base64.b64encode(digest).decode())


def decrypt_secret_inputs(message: JSON, inputs: JSON, client_secret: str) -> JSON:
    """The inputs with the secret ones (``"encryption": "aes256-gcm"``) decrypted.

    Port sends them as base64(16-byte IV + ciphertext + 16-byte GCM tag), keyed with the first
    32 bytes of the client secret; an ``object`` input is encrypted as its JSON text. Which
    inputs are secret: those the action's definition marks (default messages carry it), and
    those ``encryptedProperties`` names (templated messages may carry it)."""
    definition = _object(_object(message.get("payload")).get("action"))
    user_inputs = definition.get("userInputs") or _object(definition.get("trigger")).get("userInputs")
    schema = _object(_object(user_inputs).get("properties"))
    secret = {name: _object(spec).get("type") for name, spec in schema.items() if _object(spec).get("encryption")}
    for listed in (message.get("encryptedProperties"), _object(message.get("action")).get("encryptedProperties")):
        for name in listed or []:
            secret.setdefault(name, None)
    decrypted = dict(inputs)
    key = client_secret.encode()[:32]
    for name, kind in secret.items():
        if decrypted.get(name) is None:
            continue
        try:
            raw = base64.b64decode(decrypted[name], validate=True)
            cipher = AES.new(key, AES.MODE_GCM, nonce=raw[:16])
            text = cipher.decrypt_and_verify(raw[16:-16], raw[-16:]).decode()
        except (TypeError, ValueError) as error:  # not base64, too short, or the wrong key
            raise WorkFailed(f"the secret input {name} cannot be decrypted: {error}") from None
        decrypted[name] = json.loads(text) if kind == "object" else text
    return decrypted
