"""Independent clients for the catalog tests: Port's API through ``requests``, the change log
through ``confluent_kafka``, and the blueprints the tests build their catalog from.

Nothing here uses the emulator's own client code: the tests talk to it as a Port customer's
program would (an access token from ``/v1/auth/access_token``, then bearer calls), and read
``ORG_ID.change.log`` as any Kafka consumer would. The admin API (``/_emulator/...``) is used
only to start over and to look at runs.
"""

from __future__ import annotations

import json
import time
import zlib
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import requests
from confluent_kafka import Consumer, KafkaException, TopicPartition

JSON = dict[str, Any]

#: Every error body of Port's API has exactly these keys (its OpenAPI document says
#: ``additionalProperties: false`` for ``{ok, error, message}``).
ERROR_KEYS = {"ok", "error", "message"}

# The catalog the tests build through the API (`POST /v1/blueprints`), in creation order: a
# relation's target must exist when its blueprint is created.
ENVIRONMENT = "ct_environment"
SERVICE = "ct_service"
DEPLOYMENT = "ct_deployment"
RELEASE = "ct_release"
ITEM = "ct_item"

BLUEPRINTS: list[JSON] = [
    {
        "identifier": ENVIRONMENT,
        "title": "Environment",
        "schema": {"properties": {"region": {"type": "string", "title": "Region"}}, "required": []},
        "changelogDestination": {"type": "KAFKA"},
    },
    {
        "identifier": SERVICE,
        "title": "Service",
        "schema": {
            "properties": {
                "version": {"type": "string", "title": "Version"},
                "language": {"type": "string", "title": "Language"},
            },
            "required": [],
        },
        "relations": {
            "environment": {"title": "Environment", "target": ENVIRONMENT, "required": False, "many": False},
            "dependsOn": {"title": "Depends on", "target": SERVICE, "required": False, "many": True},
        },
        "mirrorProperties": {
            "envRegion": {"title": "Region of the environment", "path": "environment.region"},
            "envTitle": {"title": "Environment's title", "path": "environment.$title"},
        },
        "calculationProperties": {
            "label": {
                "title": "Label",
                "type": "string",
                "calculation": '.identifier + "@" + (.properties.version // "none")',
            },
            # A calculation sees the mirror properties in .properties.
            "placement": {
                "title": "Placement",
                "type": "string",
                "calculation": '(.properties.envRegion // "nowhere") + "/" + .identifier',
            },
        },
        "changelogDestination": {"type": "KAFKA"},
    },
    {
        "identifier": DEPLOYMENT,
        "title": "Deployment",
        "schema": {
            "properties": {
                "version": {"type": "string", "title": "Version"},
                "replicas": {"type": "number", "title": "Replicas"},
            },
            "required": [],
        },
        "relations": {"service": {"title": "Service", "target": SERVICE, "required": True, "many": False}},
        "changelogDestination": {"type": "KAFKA"},
    },
    {
        # Aggregations over the deployments a release names (the deployments blueprint exists
        # by then, so the API takes it).
        "identifier": RELEASE,
        "title": "Release",
        "schema": {"properties": {}, "required": []},
        "relations": {
            "deployments": {"title": "Deployments", "target": DEPLOYMENT, "required": False, "many": True},
        },
        "aggregationProperties": {
            "deploymentCount": {
                "title": "Deployments",
                "type": "number",
                "target": DEPLOYMENT,
                "calculationSpec": {"calculationBy": "entities", "func": "count"},
            },
            "totalReplicas": {
                "title": "Replicas in all",
                "type": "number",
                "target": DEPLOYMENT,
                "calculationSpec": {"calculationBy": "property", "func": "sum", "property": "replicas"},
            },
            "scaledOut": {
                "title": "Deployments with more than one replica",
                "type": "number",
                "target": DEPLOYMENT,
                "calculationSpec": {"calculationBy": "entities", "func": "count"},
                "query": {"combinator": "and", "rules": [{"property": "replicas", "operator": ">", "value": 1}]},
            },
        },
    },
    {
        # Many entities to page through; no change log (nothing reads it).
        "identifier": ITEM,
        "title": "Item",
        "schema": {
            "properties": {"n": {"type": "number", "title": "N"}, "parity": {"type": "string", "title": "Parity"}},
            "required": [],
        },
    },
]

#: The computed properties of the service blueprint (mirror and calculation).
SERVICE_COMPUTED = {"envRegion", "envTitle", "label", "placement"}
#: The computed properties of the release blueprint (aggregations).
RELEASE_COMPUTED = {"deploymentCount", "totalReplicas", "scaledOut"}


class PortHTTP:
    """Port's API and the emulator's admin API over one ``requests`` session."""

    def __init__(self, base_url: str, client_id: str, client_secret: str) -> None:
        self.base_url = base_url
        self.api_url = base_url + "/v1"
        self.client_id = client_id
        self.client_secret = client_secret
        self.session = requests.Session()
        self.session.trust_env = False  # the emulator is local: no $http_proxy

    def close(self) -> None:
        self.session.close()

    def authenticate(self) -> None:
        """An access token, as a Port customer gets one; every later call carries it."""
        response = self.session.post(
            self.api_url + "/auth/access_token",
            json={"clientId": self.client_id, "clientSecret": self.client_secret},
            timeout=30,
        )
        assert response.status_code == 200, f"access token: {response.status_code} {response.text}"
        body = response.json()
        assert isinstance(body.get("accessToken"), str), body
        self.session.headers["Authorization"] = "Bearer " + body["accessToken"]

    @property
    def token(self) -> str:
        header = self.session.headers.get("Authorization")
        assert isinstance(header, str) and header.startswith("Bearer "), "authenticate() first"
        return header.removeprefix("Bearer ")

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        params: Mapping[str, str | Sequence[str]] | None = None,
    ) -> requests.Response:
        """``method`` on Port's API (``path`` under ``/v1``), with a JSON body when given."""
        kwargs: dict[str, Any] = {"params": params, "timeout": 30}
        if body is not None:
            kwargs["json"] = body
        return self.session.request(method, self.api_url + path, **kwargs)

    def expect(
        self,
        status: int,
        method: str,
        path: str,
        body: Any = None,
        params: Mapping[str, str | Sequence[str]] | None = None,
    ) -> JSON:
        """The JSON answer of a call that must answer ``status`` with ``ok: true``."""
        response = self.call(method, path, body, params)
        assert response.status_code == status, (
            f"{method} {response.url}: expected {status}, got {response.status_code} {response.text}"
        )
        answer: JSON = response.json()
        assert answer.get("ok") is True, f"{method} {response.url}: {answer}"
        return answer

    def admin(self, method: str, path: str, body: Any = None) -> JSON:
        """The emulator's admin API (``/_emulator`` + ``path``); it must answer 2xx."""
        kwargs: dict[str, Any] = {"timeout": 30}
        if body is not None:
            kwargs["json"] = body
        response = self.session.request(method, self.base_url + "/_emulator" + path, **kwargs)
        assert response.ok, f"{method} /_emulator{path}: {response.status_code} {response.text}"
        answer: JSON = response.json()
        return answer

    def reset(self) -> None:
        """Forget runs, entities and API-made blueprints (`POST /_emulator/reset`)."""
        self.admin("POST", "/reset", {})

    # Shortcuts

    def create_blueprints(self, blueprints: Sequence[JSON] = BLUEPRINTS) -> None:
        for blueprint in blueprints:
            created = self.expect(201, "POST", "/blueprints", blueprint)
            assert created["blueprint"]["identifier"] == blueprint["identifier"]

    def entity(self, blueprint: str, identifier: str, **params: str | Sequence[str]) -> JSON:
        """``GET`` one entity (200)."""
        entity: JSON = self.expect(200, "GET", f"/blueprints/{blueprint}/entities/{identifier}", params=params)[
            "entity"
        ]
        return entity

    def upsert(
        self,
        blueprint: str,
        identifier: str,
        properties: JSON | None = None,
        relations: JSON | None = None,
        title: str | None = None,
    ) -> JSON:
        """Creates (201) an entity that does not exist yet."""
        body: JSON = {"identifier": identifier, "properties": properties or {}, "relations": relations or {}}
        if title is not None:
            body["title"] = title
        entity: JSON = self.expect(201, "POST", f"/blueprints/{blueprint}/entities", body)["entity"]
        return entity

    def exists(self, blueprint: str, identifier: str) -> bool:
        response = self.call("GET", f"/blueprints/{blueprint}/entities/{identifier}")
        assert response.status_code in (200, 404), f"{response.status_code} {response.text}"
        return response.status_code == 200

    def trigger(self, action: str, properties: JSON) -> str:
        """Runs a fixture action through Port's API (202); returns the run's id."""
        run: JSON = self.expect(202, "POST", f"/actions/{action}/runs", {"properties": properties})["run"]
        assert run["status"] == "IN_PROGRESS", run
        identifier: str = run["id"]
        return identifier

    def run(self, run_id: str) -> JSON:
        """The run with its affected entities (admin API)."""
        run: JSON = self.admin("GET", f"/runs/{run_id}")["run"]
        return run


def expect_error(response: requests.Response, status: int, code: str, *fragments: str) -> str:
    """Asserts Port's error answer: ``status``, ``{ok: false, error: code, message}`` and
    nothing else, the message holding every fragment. Returns the message."""
    where = f"{response.request.method} {response.url}"
    assert response.status_code == status, (
        f"{where}: expected {status} {code}, got {response.status_code} {response.text}"
    )
    body = response.json()
    assert isinstance(body, dict) and set(body) == ERROR_KEYS, f"{where}: {body}"
    assert body["ok"] is False and body["error"] == code, f"{where}: {body}"
    message = body["message"]
    assert isinstance(message, str)
    for fragment in fragments:
        assert fragment in message, f"{where}: {fragment!r} is not in the message {message!r}"
    return message


@dataclass(frozen=True)
class ChangeMessage:
    """One message of ``ORG_ID.change.log`` with where Kafka put it."""

    partition: int
    offset: int
    timestamp: int
    key: str
    value: JSON

    @property
    def action(self) -> str:
        action: str = self.value["action"]
        return action

    @property
    def entity(self) -> str:
        entity: str = self.value["context"]["entity"]
        return entity

    @property
    def blueprint(self) -> str:
        blueprint: str = self.value["context"]["blueprint"]
        return blueprint

    def published_before(self, other: ChangeMessage) -> bool:
        """Whether Kafka shows this message written before ``other``: by offset within a
        partition (Kafka's only ordering guarantee), by timestamp across partitions."""
        if self.partition == other.partition:
            return self.offset < other.offset
        return self.timestamp <= other.timestamp


class ChangeLog:
    """Reads ``ORG_ID.change.log`` with confluent_kafka from marked offsets (no commits)."""

    def __init__(self, brokers: str, org_id: str, group: str, suffix: str = "change.log") -> None:
        self.topic = f"{org_id}.{suffix}"
        # Port's ACLs allow consumer groups ORG_ID.* only.
        self.consumer = Consumer(
            {
                "bootstrap.servers": brokers,
                "group.id": f"{org_id}.{group}",
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
            }
        )
        metadata = self.consumer.list_topics(self.topic, timeout=15)
        topic = metadata.topics[self.topic]
        assert topic.error is None, f"{self.topic}: {topic.error}"
        self.partitions = sorted(topic.partitions)

    def close(self) -> None:
        self.consumer.close()

    def mark(self) -> dict[int, int]:
        """Each partition's end offset now: what ``read`` starts from."""
        marks: dict[int, int] = {}
        for partition in self.partitions:
            _, high = self.consumer.get_watermark_offsets(TopicPartition(self.topic, partition), timeout=15)
            marks[partition] = high
        return marks

    def read(
        self,
        since: Mapping[int, int],
        until: Callable[[list[ChangeMessage]], bool],
        timeout: float = 20.0,
        settle: float = 0.5,
    ) -> list[ChangeMessage]:
        """The messages written after ``since``, once ``until`` holds for them (then for
        ``settle`` more seconds, to catch anything published after them); raises
        ``AssertionError`` with what arrived when the deadline passes first."""
        self.consumer.assign([TopicPartition(self.topic, partition, offset) for partition, offset in since.items()])
        messages: list[ChangeMessage] = []
        deadline = time.monotonic() + timeout
        settled_at: float | None = None
        try:
            while True:
                now = time.monotonic()
                if settled_at is None and until(messages):
                    settled_at = now + settle
                if settled_at is not None and now >= settled_at:
                    return messages
                if now >= deadline:
                    seen = [(m.action, m.blueprint, m.entity) for m in messages]
                    raise AssertionError(f"{self.topic}: not there within {timeout:g} s; read {seen}")
                message = self.consumer.poll(min(0.2, max(0.01, deadline - now)))
                if message is None:
                    continue
                error = message.error()
                if error is not None:
                    raise KafkaException(error)
                raw_key = message.key()
                raw_value = message.value()
                assert isinstance(raw_value, bytes), "a change-log message has a JSON value"
                partition = message.partition()
                offset = message.offset()
                assert partition is not None and offset is not None
                messages.append(
                    ChangeMessage(
                        partition=partition,
                        offset=offset,
                        timestamp=message.timestamp()[1],
                        key=raw_key.decode() if isinstance(raw_key, bytes) else str(raw_key),
                        value=json.loads(raw_value),
                    )
                )
        finally:
            self.consumer.unassign()


def sharing_a_partition(prefix: str, count: int, partitions: int) -> list[str]:
    """``count`` identifiers ``prefix-N`` whose keys the producer's default partitioner
    (librdkafka's CRC32 of the key) puts on one partition, so that Kafka's offsets show the
    order they were published in. ``ChangeMessage.published_before`` still orders them by
    timestamp if they land apart."""
    target = zlib.crc32(f"{prefix}-0".encode()) % partitions
    names = (f"{prefix}-{n}" for n in range(10_000))
    found = [name for name in names if zlib.crc32(name.encode()) % partitions == target]
    return found[:count]
