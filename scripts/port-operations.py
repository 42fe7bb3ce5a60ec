#!/usr/bin/env python3
"""Port's API operations against the routes port-emulator serves: docs/port-api.md.

Why this exists (issue #25): each of Port's operations is either served by the emulator or
listed as not served with the reason, and the emulator serves no route of Port's API that
nobody has explained. Port's OpenAPI document (~780 KB) lives outside the repository, so its
operations are copied into Tests/CatalogHTTP/port-operations.json (committed); the table is
generated from that copy and the live route list (`GET /_emulator/routes`), so it says
"served" as soon as a route lands. Tests/CatalogHTTP/test_port_operations.py regenerates the
table from a running emulator and fails while the committed one differs, or while an
operation or a route has no reason or note here.

Usage, from the repository root:

    scripts/port-operations.py --extract ../shared/reference/port-openapi.json
        writes Tests/CatalogHTTP/port-operations.json (when Port's document changes)
    scripts/port-operations.py --table --routes http://127.0.0.1:5100
        writes docs/port-api.md from a running emulator's routes (or --routes routes.json, a
        saved answer of GET /_emulator/routes)

The reasons for what is not served, and the notes on the routes Port's document lacks, are
the maps below (REASONS_BY_OPERATION, REASONS_BY_PREFIX, REASONS_BY_TAG, NOT_IN_PORT).
Standard library only.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

REPOSITORY = Path(__file__).resolve().parents[1]
OPERATIONS_FILE = REPOSITORY / "Tests/CatalogHTTP/port-operations.json"
TABLE_FILE = REPOSITORY / "docs/port-api.md"
ROUTES_PATH = "/_emulator/routes"
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

#: One of Port's operations: {"method", "path", "summary", "tag"}; one served route: {"method", "path"}.
Operation = Dict[str, str]
Route = Dict[str, str]

# Why an operation of Port's is not served. The first of these that names it wins: its
# (method, path), then the longest path prefix (whole segments), then its tag.

AI = "Port AI (an LLM): nothing a backend calls, nothing to emulate deterministically"
PORTAL_UI = "portal UI layout: no backend reads it"
WEBHOOKS = "not yet: Port's webhook ingestion (mapping incoming events to entities) is not emulated"
APPS = (
    "not yet: the emulator has one client id and secret, set when it starts "
    "(`--client-id`, `--client-secret`); credential sets cannot be listed, renamed, rotated or deleted"
)
ROTATE_CREDENTIALS = (
    "not yet: the emulator's API client is the one client id and secret it starts with; "
    "users have no credentials to rotate"
)
MIGRATIONS = "not yet: Port's data migrations (moving or transforming entities' data between blueprints) are not emulated"
HISTORY = "not yet: the emulator keeps no history of entities' property values"
OVER_TIME = "not yet: aggregating over a time range needs entities' history, which the emulator does not keep"
DEPRECATED_ACTIONS = "deprecated by Port since November 20th 2024, in favour of `/v1/actions…`, which the emulator serves"
ORGANIZATION_PUT = (
    "not yet: `PATCH /v1/organization` is served; replacing the whole organization "
    "(name, settings, announcement) is not"
)

REASONS_BY_OPERATION: Dict[Tuple[str, str], str] = {
    ("PUT", "/v1/organization"): ORGANIZATION_PUT,
    ("POST", "/v1/entities/aggregate-over-time"): OVER_TIME,
    ("POST", "/v1/entities/properties-history"): HISTORY,
}

REASONS_BY_PREFIX: Dict[str, str] = {
    "/v1/blueprints/{blueprint_identifier}/actions": DEPRECATED_ACTIONS,
    "/v1/webhooks": WEBHOOKS,
    "/v1/apps": APPS,
    "/v1/rotate-credentials": ROTATE_CREDENTIALS,
    "/v1/migrations": MIGRATIONS,
    "/v1/pages": PORTAL_UI,
    "/v1/ai": AI,
    "/v1/agent": AI,
    "/v1/llm-providers": AI,
    "/v1/memory": AI,
    "/v1/quota/ai-invocations": AI,
}

REASONS_BY_TAG: Dict[str, str] = {
    "AI": AI,
    "LLM management": AI,
    "Catalog auto discovery": AI,
    "Memory": AI,
    "Pages": PORTAL_UI,
}

# The routes of Port's API (/v1) the emulator serves that Port's OpenAPI document lacks, keyed
# by (method, path) and matched by shape as Port's operations are. A served /v1 route missing
# here and from Port's document gets UNKNOWN_ROUTE, and the test fails until it has a note.
NOT_IN_PORT: Dict[Tuple[str, str], str] = {
    ("PATCH", "/v1/actions/runs/{run_id}/response"): (
        "port-agent stores a synchronized webhook's answer before it sets the run's status (contract §3, §6)"
    ),
    ("POST", "/v1/actions/runs/claim-pending"): (
        "HTTP polling: claim pending runs (port-agent's POLLING streamer, Ocean's actions processor; contract §9)"
    ),
    ("PATCH", "/v1/actions/runs/ack"): "HTTP polling: acknowledge claimed runs (contract §9)",
    ("POST", "/v1/workflows/runs/claim-pending"): "HTTP polling: claim pending workflow node runs (contract §9)",
    ("PATCH", "/v1/workflows/runs/ack"): "HTTP polling: acknowledge a claimed workflow node run (contract §9)",
    ("GET", "/v1/workflows/nodes/runs/{node_run_id}"): "a workflow node run (contract §5)",
    ("PATCH", "/v1/workflows/nodes/runs/{node_run_id}"): (
        "a backend reports a workflow node run's status, result and output (contract §5)"
    ),
    ("POST", "/v1/workflows/nodes/runs/{node_run_id}/logs"): "a backend logs to a workflow node run (contract §5)",
    ("PATCH", "/v1/workflows/runs/{workflow_run_id}/nodes/{node_run_id}"): (
        "the same report as `PATCH /v1/workflows/nodes/runs/{id}`, addressed through the workflow run (contract §5)"
    ),
    ("GET", "/v1/kafka-credentials"): (
        "Kafka brokers and SASL user for port-agent and Ocean outside local mode (contract §6, §11)"
    ),
    ("POST", "/v1/blueprints/entities/datasource-entities"): (
        "Ocean finds the entities an integration wrote (by `$datasource`), to delete stale ones after a resync"
    ),
    ("GET", "/v1/integration/provision-enabled"): "Ocean at start-up: the integration types Port provisions (contract §11)",
    ("POST", "/v1/integration"): "Ocean at start-up: registers its integration (contract §11)",
    ("PATCH", "/v1/integration/{identifier}/resync-state"): "Ocean reports its resync state (contract §11)",
    ("GET", "/v1/integration/{identifier}/resync-request"): (
        "the last resync request (an empty `PATCH /v1/integration/{identifier}`) of an integration"
    ),
    ("POST", "/v1/integration/{identifier}/kinds/{kind}/examples"): (
        "Ocean sends examples of a kind's raw data (contract §11)"
    ),
}
UNKNOWN_ROUTE = "**no note yet**: served by the emulator, not in Port's document (add a note in scripts/port-operations.py)"
NO_REASON = "**no reason given** (add one in scripts/port-operations.py)"


# Port's document -> Tests/CatalogHTTP/port-operations.json


def extract(document: Dict[str, Any]) -> List[Operation]:
    """Every operation of an OpenAPI document: method (upper case), path, summary, first tag;
    sorted by path, then method."""
    operations: List[Operation] = []
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            tags = operation.get("tags") or [""]
            operations.append({
                "method": method.upper(),
                "path": path,
                "summary": " ".join(str(operation.get("summary", "")).split()),
                "tag": str(tags[0]),
            })
    return sorted(operations, key=lambda operation: (operation["path"], operation["method"]))


def operations_json(operations: List[Operation]) -> str:
    return json.dumps(operations, indent=2, ensure_ascii=False) + "\n"


def load_operations(path: Path = OPERATIONS_FILE) -> List[Operation]:
    operations: List[Operation] = json.loads(path.read_text(encoding="utf-8"))
    return operations


# The emulator's routes


def load_routes(source: str) -> List[Route]:
    """The routes served, from an emulator's URL (its base, or …/_emulator/routes) or a file
    holding the answer of GET /_emulator/routes."""
    if re.match(r"https?://", source):
        url = source.rstrip("/")
        if not url.endswith(ROUTES_PATH):
            url += ROUTES_PATH
        with urllib.request.urlopen(url, timeout=30) as answer:
            return routes_of(json.load(answer))
    return routes_of(json.loads(Path(source).read_text(encoding="utf-8")))


def routes_of(answer: Any) -> List[Route]:
    """The routes of an answer of GET /_emulator/routes (`{"routes": [...]}`, or the list)."""
    listed = answer["routes"] if isinstance(answer, dict) else answer
    return [{"method": str(route["method"]).upper(), "path": str(route["path"])} for route in listed]


def shape(path: str) -> str:
    """A path with each parameter segment, Port's `{name}` or the emulator's `:name`, as `{}`."""
    return "/".join("{}" if re.fullmatch(r"\{[^}]*\}|:.+", segment) else segment for segment in path.split("/"))


def key(method: str, path: str) -> Tuple[str, str]:
    return method.upper(), shape(path)


def port_routes(routes: List[Route]) -> List[Route]:
    """The routes of Port's API (/v1/…); the emulator's own (/_emulator/…, /, /openapi.json) are not."""
    return [route for route in routes if route["path"].startswith("/v1/")]


# Reasons and notes


def reason(operation: Operation) -> Optional[str]:
    """Why the emulator does not serve `operation`, from the maps above; None when they say nothing."""
    method, path = operation["method"], operation["path"]
    if (method, path) in REASONS_BY_OPERATION:
        return REASONS_BY_OPERATION[(method, path)]
    prefixes = [prefix for prefix in REASONS_BY_PREFIX if path == prefix or path.startswith(prefix + "/")]
    if prefixes:
        return REASONS_BY_PREFIX[max(prefixes, key=len)]
    return REASONS_BY_TAG.get(operation["tag"])


def note(route: Route) -> Optional[str]:
    """The note on a served route Port's document lacks; None when NOT_IN_PORT has none."""
    notes = {key(method, path): text for (method, path), text in NOT_IN_PORT.items()}
    return notes.get(key(route["method"], route["path"]))


def served_by(operations: List[Operation], routes: List[Route]) -> Dict[Tuple[str, str], List[str]]:
    """For each of Port's operations (by method and path), the emulator's patterns serving it."""
    patterns: Dict[Tuple[str, str], List[str]] = {}
    for route in port_routes(routes):
        patterns.setdefault(key(route["method"], route["path"]), []).append(route["path"])
    return {
        (operation["method"], operation["path"]): sorted(patterns.get(key(operation["method"], operation["path"]), []))
        for operation in operations
    }


def not_in_port(operations: List[Operation], routes: List[Route]) -> List[Route]:
    """The served /v1 routes that are none of Port's operations, by path then method."""
    documented = {key(operation["method"], operation["path"]) for operation in operations}
    extra = [route for route in port_routes(routes) if key(route["method"], route["path"]) not in documented]
    return sorted(extra, key=lambda route: (route["path"], route["method"]))


def unexplained_operations(operations: List[Operation], routes: List[Route]) -> List[Operation]:
    """Port's operations neither served nor given a (non-empty) reason."""
    served = served_by(operations, routes)
    return [
        operation for operation in operations
        if not served[(operation["method"], operation["path"])] and not (reason(operation) or "").strip()
    ]


def unexplained_routes(operations: List[Operation], routes: List[Route]) -> List[Route]:
    """Served /v1 routes that are none of Port's operations and have no (non-empty) note."""
    return [route for route in not_in_port(operations, routes) if not (note(route) or "").strip()]


# docs/port-api.md


def cell(text: str) -> str:
    return text.replace("|", "\\|")


def table(operations: List[Operation], routes: List[Route]) -> str:
    """The text of docs/port-api.md."""
    served = served_by(operations, routes)
    not_served = [operation for operation in operations if not served[(operation["method"], operation["path"])]]
    reasons = Counter(reason(operation) or NO_REASON for operation in not_served)
    extra = not_in_port(operations, routes)
    total = len(operations)

    lines = [
        "<!-- Generated by scripts/port-operations.py --table; do not edit by hand. -->",
        "",
        "# Port's API operations and what port-emulator serves",
        "",
        f"Each of the {total} operations in Port's OpenAPI document (\"Port API\" 1.0, kept as",
        "`Tests/CatalogHTTP/port-operations.json`) is either served by port-emulator or listed here",
        "as not served, with the reason.",
        "",
        "**Served** means that the emulator has a route for the method and a path of the same shape:",
        "the same literal segments, where Port's `{name}` and the emulator's `:name` each stand for",
        "one segment, whatever the name. The column shows the emulator's pattern. What each route",
        "does, and where Port's document differs from Port's real answers, is in",
        "[http-api.md](http-api.md) and in the emulator's own `/openapi.json`.",
        "",
        f"**Served: {total - len(not_served)} of {total}.** Not served: {len(not_served)}, because:",
        "",
        "| Not served because | Operations |",
        "|---|---|",
    ]
    for text, count in sorted(reasons.items(), key=lambda item: (-item[1], item[0])):
        lines.append(f"| {cell(text)} | {count} |")
    lines += [
        "",
        "\"not yet\" marks operations a backend could call that the emulator does not serve yet. The",
        "table is generated from the live route list, so an operation reads as served once its route exists:",
        "",
        "```sh",
        "scripts/port-operations.py --table --routes http://127.0.0.1:5100   # a running emulator",
        "```",
        "",
        "`Tests/CatalogHTTP/test_port_operations.py` fails while this file differs from what the",
        "emulator serves, while an operation not served has no reason, or while the emulator serves",
        "a `/v1` route that is neither Port's nor noted below. The reasons and notes are maps in",
        "`scripts/port-operations.py`; `scripts/port-operations.py --extract",
        "../shared/reference/port-openapi.json` copies Port's operations again when its document changes.",
        "",
        f"## Port's {total} operations",
        "",
        "Sorted by path, then method; the summary is Port's (the document has no operation ids).",
        "",
        "| # | Method | Path | Summary | Served | Not served because |",
        "|---|---|---|---|---|---|",
    ]
    for number, operation in enumerate(operations, start=1):
        patterns = served[(operation["method"], operation["path"])]
        if patterns:
            status, why = "yes: " + ", ".join(f"`{pattern}`" for pattern in patterns), ""
        else:
            status, why = "no", reason(operation) or NO_REASON
        lines.append(
            f"| {number} | {operation['method']} | `{cell(operation['path'])}` | {cell(operation['summary'])} "
            f"| {status} | {cell(why)} |"
        )
    lines += [
        "",
        "## Served, not in Port's document",
        "",
        f"The emulator also serves {len(extra)} routes of Port's API (`/v1/…`) that Port's OpenAPI document",
        "does not describe: mostly routes Port's own clients call (port-agent, Ocean) and the reserved",
        "HTTP polling routes. \"contract §n\" is a section of Port's contract (`../shared/port-contract.md`,",
        "beside the repository). The emulator's own routes (`/_emulator/…`, among them the log and metric",
        "ingest URLs it gives Ocean; the dashboard; `/openapi.json`) are not Port's API and are not listed.",
        "",
        "| Method | Route | Note |",
        "|---|---|---|",
    ]
    for route in extra:
        lines.append(f"| {route['method']} | `{cell(route['path'])}` | {cell(note(route) or UNKNOWN_ROUTE)} |")
    return "\n".join(lines) + "\n"


def main(arguments: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--extract", metavar="PORT_OPENAPI_JSON",
                        help=f"write {OPERATIONS_FILE.relative_to(REPOSITORY)} from Port's OpenAPI document")
    action.add_argument("--table", action="store_true", help=f"write {TABLE_FILE.relative_to(REPOSITORY)}")
    parser.add_argument("--routes", metavar="URL_OR_FILE",
                        help="with --table: a running emulator's URL, or a file with its GET /_emulator/routes answer")
    options = parser.parse_args(arguments)

    if options.extract:
        document = json.loads(Path(options.extract).read_text(encoding="utf-8"))
        operations = extract(document)
        OPERATIONS_FILE.write_text(operations_json(operations), encoding="utf-8")
        print(f"{OPERATIONS_FILE.relative_to(REPOSITORY)}: {len(operations)} operations")
        return 0

    if not options.routes:
        parser.error("--table needs --routes URL_OR_FILE")
    operations = load_operations()
    routes = load_routes(options.routes)
    TABLE_FILE.write_text(table(operations, routes), encoding="utf-8")
    served = served_by(operations, routes)
    count = sum(1 for patterns in served.values() if patterns)
    print(f"{TABLE_FILE.relative_to(REPOSITORY)}: served {count} of {len(operations)}")
    for operation in unexplained_operations(operations, routes):
        print(f"no reason: {operation['method']} {operation['path']} (add one to the maps)", file=sys.stderr)
    for route in unexplained_routes(operations, routes):
        print(f"no note: {route['method']} {route['path']} (add one to NOT_IN_PORT)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
