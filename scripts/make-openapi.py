#!/usr/bin/env python3
"""Writes the emulator's OpenAPI document: exactly the Port API routes port-emulator serves,
each with Port's own operation (parameters, request body, responses, components) taken from
Port's OpenAPI document, and a short operation of ours for the few routes Port's document
lacks. Where Port's published response schemas disagree with Port's real answers (the v1 run
shape, the fields Port adds to entities), the contract wins and the correction is marked here;
OpenAPI links lead from a created run or entity to the routes that use it. The result is
written to Sources/Emulator/Dashboard/openapi.json (committed: the source of truth, reviewed as
JSON), embedded in the binary from it (OpenAPIDocument.swift, generated) and served at
/openapi.json; a test checks that it lists exactly the routes served, and schemathesis checks
live answers against it (in the suite, and in full with `make fuzz`).

Usage: scripts/make-openapi.py ../shared/reference/port-openapi.json
       scripts/make-openapi.py --embed   (OpenAPIDocument.swift again from the committed openapi.json)
"""
import copy
import json
import re
import sys

# The Port API routes the emulator serves (GET /_emulator/routes lists them live).
ROUTES = [
    ("post", "/v1/auth/access_token"),
    ("get", "/v1/blueprints"), ("post", "/v1/blueprints"), ("get", "/v1/blueprints/{blueprint_identifier}"),
    ("put", "/v1/blueprints/{blueprint_identifier}"), ("patch", "/v1/blueprints/{blueprint_identifier}"),
    ("get", "/v1/actions"), ("post", "/v1/actions"), ("get", "/v1/actions/{action_identifier}"),
    ("post", "/v1/actions/{action_identifier}/runs"),
    ("get", "/v1/actions/runs"), ("get", "/v1/actions/runs/{run_id}"), ("patch", "/v1/actions/runs/{run_id}"),
    ("post", "/v1/actions/runs/{run_id}/logs"), ("get", "/v1/actions/runs/{run_id}/logs"),
    ("patch", "/v1/actions/runs/{run_id}/approval"), ("patch", "/v1/actions/runs/{run_id}/response"),
    ("get", "/v1/blueprints/{blueprint_identifier}/entities"), ("post", "/v1/blueprints/{blueprint_identifier}/entities"),
    ("get", "/v1/blueprints/{blueprint_identifier}/entities/{entity_identifier}"),
    ("put", "/v1/blueprints/{blueprint_identifier}/entities/{entity_identifier}"),
    ("patch", "/v1/blueprints/{blueprint_identifier}/entities/{entity_identifier}"),
    ("delete", "/v1/blueprints/{blueprint_identifier}/entities/{entity_identifier}"),
    ("post", "/v1/entities/search"), ("post", "/v1/blueprints/{blueprint_identifier}/entities/search"),
    ("get", "/v1/workflows/nodes/runs/{node_run_id}"), ("patch", "/v1/workflows/nodes/runs/{node_run_id}"),
    ("post", "/v1/workflows/nodes/runs/{node_run_id}/logs"),
    ("patch", "/v1/workflows/runs/{workflow_run_id}/nodes/{node_run_id}"),
    ("get", "/v1/kafka-credentials"),
    ("get", "/v1/organization"), ("patch", "/v1/organization"),
    ("get", "/v1/organization/secrets"), ("post", "/v1/organization/secrets"),
    ("get", "/v1/organization/secrets/{secret_name}"), ("patch", "/v1/organization/secrets/{secret_name}"),
    ("delete", "/v1/organization/secrets/{secret_name}"),
    # Part II of the catalog (issue #25): bulk writes and counts, blueprint deletion.
    ("post", "/v1/blueprints/{blueprint_identifier}/entities/bulk"),
    ("post", "/v1/blueprints/{blueprint_identifier}/bulk/entities/delete"),
    ("delete", "/v1/blueprints/{blueprint_identifier}/all-entities"),
    ("get", "/v1/blueprints/{blueprint_identifier}/entities-count"),
    ("delete", "/v1/blueprints/{identifier}"),
    ("post", "/v1/entities/aggregate"),
    ("patch", "/v1/blueprints/{blueprint_identifier}/properties/{property_identifier}/rename"),
    ("patch", "/v1/blueprints/{blueprint_identifier}/mirror/{property_identifier}/rename"),
    ("patch", "/v1/blueprints/{blueprint_identifier}/relations/{relation_identifier}/rename"),
    ("get", "/v1/blueprints/{blueprint_identifier}/permissions"),
    ("patch", "/v1/blueprints/{blueprint_identifier}/permissions"),
    ("put", "/v1/actions/{action_identifier}"), ("delete", "/v1/actions/{action_identifier}"),
    ("get", "/v1/actions/{action_identifier}/permissions"), ("patch", "/v1/actions/{action_identifier}/permissions"),
    ("get", "/v1/actions/runs/{run_id}/approvers"),
    ("get", "/v1/teams"), ("post", "/v1/teams"), ("get", "/v1/teams/{name}"), ("patch", "/v1/teams/{name}"),
    ("put", "/v1/teams/{name}"), ("delete", "/v1/teams/{name}"),
    ("get", "/v1/users"), ("post", "/v1/users/invite"), ("get", "/v1/users/{user_email}"),
    ("patch", "/v1/users/{user_email}"), ("delete", "/v1/users/{user_email}"),
    ("get", "/v1/scorecards"), ("get", "/v1/blueprints/{blueprint_identifier}/scorecards"),
    ("post", "/v1/blueprints/{blueprint_identifier}/scorecards"),
    ("put", "/v1/blueprints/{blueprint_identifier}/scorecards"),
    ("get", "/v1/blueprints/{blueprint_identifier}/scorecards/{scorecard_identifier}"),
    ("put", "/v1/blueprints/{blueprint_identifier}/scorecards/{scorecard_identifier}"),
    ("delete", "/v1/blueprints/{blueprint_identifier}/scorecards/{scorecard_identifier}"),
    ("get", "/v1/audit-log"),
    # Ocean's stale-entity query (contract §11): not in Port's document.
    ("post", "/v1/blueprints/entities/datasource-entities"),
    # Integrations, as Ocean calls them (contract §11); the last five are not in Port's document.
    ("get", "/v1/integration"), ("get", "/v1/integration/metadata"), ("get", "/v1/integration/{identifier}"),
    ("patch", "/v1/integration/{identifier}"), ("delete", "/v1/integration/{identifier}"),
    ("get", "/v1/integration/{identifier}/logs"), ("patch", "/v1/integration/{identifier}/config"),
    ("get", "/v1/integration/{integrationInternalId}/syncMetrics"),
    ("get", "/v1/integration/{integrationInternalId}/syncsMetadata"),
    ("get", "/v1/integration/provision-enabled"), ("post", "/v1/integration"),
    ("patch", "/v1/integration/{identifier}/resync-state"), ("get", "/v1/integration/{identifier}/resync-request"),
    ("post", "/v1/integration/{identifier}/kinds/{kind}/examples"),
    # HTTP polling (contract §9): reserved routes, not in Port's published document.
    ("post", "/v1/actions/runs/claim-pending"), ("patch", "/v1/actions/runs/ack"),
    ("post", "/v1/workflows/runs/claim-pending"), ("patch", "/v1/workflows/runs/ack"),
]

# Contract §9: the polling routes, as port-agent (app/port_client.py) and Ocean call them.
CLAIM_BODY = {
    "type": "object", "additionalProperties": False, "required": ["installationId"],
    "properties": {
        "installationId": {"type": "string", "minLength": 1}, "limit": {"type": "integer", "minimum": 1, "maximum": 1000},
        "invocationMethod": {"oneOf": [{"type": "string"}, {"type": "object", "required": ["type"],
                                                            "properties": {"type": {"type": "string"}}}]},
        "visibilityTimeoutMs": {"type": "integer", "minimum": 1, "maximum": 600000},
        "exclude": {"type": "array", "items": {"type": "string"}},
    },
}
POLLING = {
    ("post", "/v1/actions/runs/claim-pending"): (CLAIM_BODY, "runs"),
    ("post", "/v1/workflows/runs/claim-pending"): (CLAIM_BODY, "nodeRuns"),
    ("patch", "/v1/actions/runs/ack"): ({
        "oneOf": [
            {"type": "object", "additionalProperties": False, "required": ["runIds"],
             "properties": {"runIds": {"type": "array", "minItems": 1, "items": {"type": "string"}}}},
            {"type": "object", "additionalProperties": False, "required": ["runId"],
             "properties": {"runId": {"type": "string"}}},
        ]}, "ackedCount"),
    ("patch", "/v1/workflows/runs/ack"): ({
        "type": "object", "additionalProperties": False, "required": ["nodeRunIdentifier"],
        "properties": {"nodeRunIdentifier": {"type": "string"}}}, "acked"),
}


def polling(method, path):
    """A polling route: the reserved header, its body, and every status it answers."""
    body, key = POLLING[(method, path)]
    operation = ours(method, path)
    operation["summary"] = f"{method.upper()} {path} (HTTP polling, contract §9; reserved: not in Port's document)"
    operation["parameters"] = [{"name": "x-port-reserved-usage", "in": "header", "required": True,
                                "schema": {"type": "string", "enum": ["true"]}}]
    operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    operation["responses"]["200"]["content"]["application/json"]["schema"] = {
        "type": "object", "required": ["ok", key], "properties": {"ok": {"const": True}}}
    operation["responses"]["403"] = {"description": "Without x-port-reserved-usage: true"}
    if "ack" in path:
        operation["responses"]["409"] = {"description": "Already acked"}
    return operation


def shape(path):
    return re.sub(r"\{[^}]+\}", "{}", path)


def ours(method, path):
    """A short operation for a route Port's document lacks."""
    parameters = [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                  for name in re.findall(r"\{([^}]+)\}", path)]
    operation = {
        "summary": f"{method.upper()} {path} (as port-emulator serves it; not in Port's OpenAPI document)",
        "tags": ["Emulated without Port's schema"],
        "parameters": parameters,
        "security": [{"bearer": []}],
        "responses": {
            "200": {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}},
            "400": {"description": "Malformed request"}, "401": {"description": "Missing or invalid token"},
            "404": {"description": "Not found"}, "422": {"description": "Refused by Port's rules"},
        },
    }
    if method in ("post", "patch", "put"):
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}}
    return operation


# Where Port's published response schemas and Port's real answers (the contract,
# ../shared/port-contract.md, from Port's docs and messages) disagree, the document says what
# the emulator answers, which is what Port answers. Each correction names its source.

# Contract §3: without ?version, Port answers the v1 run of its docs (seeds/004: "action" is
# the identifier string, "endedAt": null until the run ends). Port's schema has only the v2 run.
V1_RUN = {
    "type": "object",
    "title": "Run, v1 shape (no ?version), as in Port's docs",
    "required": ["id", "status", "action", "properties", "requiredApproval", "source", "endedAt",
                 "relatedEntityExists", "relatedBlueprintExists", "createdAt", "updatedAt", "createdBy", "updatedBy"],
    "additionalProperties": False,
    "properties": {
        "id": {"type": "string"},
        "status": {"type": "string", "enum": ["IN_PROGRESS", "SUCCESS", "FAILURE", "WAITING_FOR_APPROVAL", "DECLINED"]},
        "statusLabel": {"type": ["string", "null"]},
        "link": {"type": "array", "items": {"type": "string"}},
        "summary": {"type": ["string", "null"]},
        "externalRunId": {"type": ["string", "null"]},
        "endedAt": {"type": ["string", "null"], "format": "date-time"},
        "source": {"type": "string", "enum": ["UI", "API", "AUTOMATION"]},
        "requiredApproval": {"type": "boolean"},
        "properties": {"type": "object"},
        "action": {"type": "string", "description": "The action's identifier."},
        "blueprint": {"type": "object", "required": ["identifier", "title"], "additionalProperties": False,
                      "properties": {"identifier": {"type": "string"}, "title": {"type": "string"}}},
        "entity": {"type": "object", "required": ["identifier", "title"], "additionalProperties": False,
                   "properties": {"identifier": {"type": "string"}, "title": {"type": "string"}}},
        "relatedEntityExists": {"type": "boolean"},
        "relatedBlueprintExists": {"type": "boolean"},
        "approval": {"type": ["object", "null"]},
        "createdBy": {"type": "string"}, "updatedBy": {"type": "string"},
        "createdAt": {"type": "string", "format": "date-time"}, "updatedAt": {"type": "string", "format": "date-time"},
    },
}

# Contract §4: entity objects carry these besides what Port's entity schema lists (Port's
# messages in seeds/004 do too), and Port's schema says additionalProperties: false.
ENTITY_FIELDS = {
    "blueprint": {"type": "string"},
    # The entity's scorecard results (`{id: {rules: [...], level}}`), which Port's answers carry
    # once its blueprint has scorecards and its document leaves out.
    "scorecards": {"type": "object", "additionalProperties": {
        "type": "object", "required": ["rules", "level"],
        "properties": {"level": {"type": "string"}, "rules": {"type": "array", "items": {
            "type": "object", "required": ["identifier", "status", "level"],
            "properties": {"identifier": {"type": "string"}, "status": {"enum": ["SUCCESS", "FAILURE"]},
                           "level": {"type": "string"}}}}}}},
    "createdAt": {"type": "string", "format": "date-time"}, "createdBy": {"type": "string"},
    "updatedAt": {"type": "string", "format": "date-time"}, "updatedBy": {"type": "string"},
}


# Contract §6: port-agent sends PATCH /v1/organization {"settings": {"portAgentStreamerName":
# "KAFKA"|"POLLING"}} at start-up, without the `name` Port's schema requires, and Port takes it;
# Port's document gives GET /v1/organization no 200 answer at all.
ORGANIZATION = {
    "type": "object",
    "properties": {
        "id": {"type": "string"}, "name": {"type": "string"},
        "settings": {"type": "object"}, "createdAt": {"type": "string", "format": "date-time"},
        "updatedAt": {"type": "string", "format": "date-time"},
    },
    "required": ["id", "name", "settings"],
}


def correct_organization(method, operation):
    if method == "patch":
        schema = operation["requestBody"]["content"]["application/json"]["schema"]
        schema["required"] = [name for name in schema.get("required", []) if name != "name"]
        schema["properties"]["settings"]["properties"]["portAgentStreamerName"] = {
            "type": "string", "enum": ["KAFKA", "POLLING"],
            "description": "The streamer port-agent reports at start-up (contract §6).",
        }
    else:
        operation["responses"]["200"] = {
            "description": "The organization.",
            "content": {"application/json": {"schema": {
                "type": "object", "properties": {"ok": {"enum": [True]}, "organization": ORGANIZATION},
                "required": ["ok", "organization"],
            }}},
        }


# Port's document gives POST /v1/entities/aggregate the search's answer, which has no field
# for the aggregate; the emulator answers {ok, result}, as aggregate-over-time does.
AGGREGATE_ANSWER = {
    "description": "The aggregate: a number, null, or counts by value (countValues).",
    "content": {"application/json": {"schema": {
        "type": "object", "required": ["ok", "result"], "additionalProperties": False,
        "properties": {"ok": {"enum": [True]}, "result": {
            "anyOf": [{"type": "number"}, {"type": "null"}, {"type": "object", "additionalProperties": {"type": "number"}}]
        }},
    }}},
}


def correct(method, path, operation):
    """Applies the corrections above to one of Port's operations, in place."""
    if path == "/v1/organization":
        correct_organization(method, operation)
    if path == "/v1/entities/aggregate":
        operation["responses"]["200"] = AGGREGATE_ANSWER
    for response in operation.get("responses", {}).values():
        schema = response.get("content", {}).get("application/json", {}).get("schema")
        if not isinstance(schema, dict):
            continue
        members = schema.get("properties", {})
        # Port's bulk answers list "ok" twice in `required`, which JSON Schema 2020-12 forbids.
        if isinstance(schema.get("required"), list):
            schema["required"] = list(dict.fromkeys(schema["required"]))
        if path.startswith("/v1/actions/runs") and not path.endswith("/logs"):
            if "run" in members:
                members["run"] = {"anyOf": [members["run"], V1_RUN]}
            if "runs" in members and "items" in members["runs"]:
                members["runs"]["items"] = {"anyOf": [members["runs"]["items"], V1_RUN]}
        if "/entities" in path:
            for key in ("entity", "entities"):
                target = members.get(key)
                target = target.get("items", target) if isinstance(target, dict) else None
                if isinstance(target, dict) and "properties" in target:
                    for name, field in ENTITY_FIELDS.items():
                        target["properties"].setdefault(name, field)


def pointer(method, path):
    return "#/paths/" + path.replace("~", "~0").replace("/", "~1") + "/" + method


# OpenAPI links (ours: Port's document has none), so that clients and fuzzers such as
# schemathesis's stateful phase can follow a created run or entity to the routes that use it.
RUN = "/v1/actions/runs/{run_id}"
ENTITY = "/v1/blueprints/{blueprint_identifier}/entities/{entity_identifier}"
LINKS = {
    ("post", "/v1/actions/{action_identifier}/runs", "202"): {
        name: {"operationRef": pointer(method, RUN + suffix), "parameters": {"run_id": "$response.body#/run/id"}}
        for name, method, suffix in [
            ("GetRun", "get", ""), ("PatchRun", "patch", ""), ("ApproveRun", "patch", "/approval"),
            ("GetRunLogs", "get", "/logs"), ("PostRunLog", "post", "/logs"), ("PatchRunResponse", "patch", "/response"),
        ]
    },
    ("post", "/v1/blueprints/{blueprint_identifier}/entities", "201"): {
        name: {
            "operationRef": pointer(method, ENTITY),
            "parameters": {"blueprint_identifier": "$request.path.blueprint_identifier",
                           "entity_identifier": "$response.body#/entity/identifier"},
        }
        for name, method in [("GetEntity", "get"), ("PatchEntity", "patch"), ("PutEntity", "put"),
                             ("DeleteEntity", "delete")]
    },
}


def add_links(paths):
    for (method, path, status), links in LINKS.items():
        response = paths[path][method]["responses"][status]
        response.setdefault("links", {}).update(links)
        for link in links.values():
            target = link["operationRef"][len("#/paths/"):].rsplit("/", 1)
            assert target[0].replace("~1", "/").replace("~0", "~") in paths, link


def references(node, found):
    if isinstance(node, dict):
        reference = node.get("$ref")
        if isinstance(reference, str) and reference.startswith("#/components/"):
            found.add(tuple(reference[len("#/components/"):].split("/", 1)))
        for value in node.values():
            references(value, found)
    elif isinstance(node, list):
        for value in node:
            references(value, found)


SOURCE = "Sources/Emulator/Dashboard/openapi.json"

# The operations whose request bodies the emulator checks against Port's schema
# (PortRequestSchemas): their part of the document is embedded apart, so that start-up parses
# a few KB instead of the whole document.
REQUEST_SCHEMAS = [
    ("post", "/v1/blueprints"),
    ("patch", "/v1/organization"),
    ("post", "/v1/organization/secrets"),
    ("patch", "/v1/organization/secrets/{secret_name}"),
]


def request_schema_document(document):
    """The request bodies of REQUEST_SCHEMAS, with every component they reach."""
    paths = {}
    for method, path in REQUEST_SCHEMAS:
        body = document["paths"][path][method]["requestBody"]
        paths.setdefault(path, {})[method] = {"requestBody": body}
    components, found, pending = {}, set(), set()
    references(paths, pending)
    while pending:
        kind, name = pending.pop()
        found.add((kind, name))
        value = document["components"][kind][name]
        components.setdefault(kind, {})[name] = value
        reached = set()
        references(value, reached)
        pending |= reached - found
    return {"components": components, "paths": paths}


def swift_string_enum(name, doc, text):
    assert '"##' not in text, "the document would end a raw string literal"
    # Short lines, for swift-format: the compact JSON in pieces, joined once at start-up.
    pieces = "".join(f'            ##"{text[i:i + 96]}"##,\n' for i in range(0, len(text), 96))
    return (
        "// Generated by scripts/make-openapi.py from openapi.json beside it: do not edit.\n\n"
        f"/// {doc}\n"
        f"enum {name} {{\n"
        "    /// The document, compact JSON.\n"
        "    static let json: String =\n"
        "        ([\n"
        f"{pieces}"
        "        ] as [String]).joined()\n"
        "}\n"
    )


def embed():
    """Writes OpenAPIDocument.swift from the committed JSON document; returns the compact text."""
    document = json.load(open(SOURCE))
    text = json.dumps(document, separators=(",", ":"), sort_keys=True)
    open("Sources/Emulator/Dashboard/OpenAPIDocument.swift", "w").write(swift_string_enum(
        "OpenAPIDocument",
        "The OpenAPI document of the routes of Port's API the emulator serves (`GET /openapi.json`).",
        text,
    ))
    subset = json.dumps(request_schema_document(document), separators=(",", ":"), sort_keys=True)
    open("Sources/Emulator/Routes/RequestSchemaDocument.swift", "w").write(swift_string_enum(
        "RequestSchemaDocument",
        "The request bodies `PortRequestSchemas` checks, from the served document, with the components they use.",
        subset,
    ))
    return text


def main():
    if sys.argv[1:] == ["--embed"]:
        embed()
        return
    port = json.load(open(sys.argv[1]))
    by_shape = {(method, shape(path)): (path, operation)
                for path, item in port["paths"].items() for method, operation in item.items()
                if isinstance(operation, dict)}
    paths = {}
    for method, path in ROUTES:
        found = by_shape.get((method, shape(path)))
        if found:
            template, operation = found
            operation = copy.deepcopy(operation)
            correct(method, template, operation)
            paths.setdefault(template, {})[method] = operation
        elif (method, path) in POLLING:
            paths.setdefault(path, {})[method] = polling(method, path)
        else:
            paths.setdefault(path, {})[method] = ours(method, path)
    add_links(paths)
    # The components those operations refer to, transitively.
    needed, pending = set(), set()
    references(paths, pending)
    components = port.get("components", {})
    while pending:
        kind, name = pending.pop()
        if (kind, name) in needed:
            continue
        needed.add((kind, name))
        references(components.get(kind, {}).get(name, {}), pending)
    kept = {}
    for kind, name in sorted(needed):
        kept.setdefault(kind, {})[name] = components[kind][name]
    kept.setdefault("securitySchemes", {})["bearer"] = {"type": "http", "scheme": "bearer"}
    document = {
        "openapi": port.get("openapi", "3.1.0"),
        "info": {
            "title": "Port API, as port-emulator serves it",
            "version": port.get("info", {}).get("version", "1"),
            "description": "The routes of Port's API that port-emulator emulates, with Port's own operation "
                           "definitions from Port's OpenAPI document. The emulator's admin routes (/_emulator/…) "
                           "are described in the README.",
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": kept,
    }
    # The committed source of truth, readable in review; the Swift literal is generated from it.
    with open(SOURCE, "w") as file:
        json.dump(document, file, indent=1, sort_keys=True)
        file.write("\n")
    text = embed()
    print(f"{len(paths)} paths, {sum(len(v) for v in paths.values())} operations, "
          f"{sum(len(v) for v in kept.values())} components, {len(text)} bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
