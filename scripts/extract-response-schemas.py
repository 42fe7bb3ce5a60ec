#!/usr/bin/env python3
"""Extract the response-body schemas of the Port operations the emulator serves.

Why this exists: the emulator's tests check every response body against the required
fields and types in Port's own OpenAPI document, so that the emulator cannot drift from
what real Port returns. The full document (~780 KB) lives outside the repository and
tests must not read it, so this script copies just the schemas the tests need into
Tests/TestSupport/Resources/port-response-schemas.json, which is committed.

Re-run it when Port's OpenAPI document changes, from the repository root:

    python3 scripts/extract-response-schemas.py [path/to/port-openapi.json]

The output is a JSON object keyed by "METHOD /path STATUS"; each value is the
application/json schema of that response with every "$ref" expanded inline (a ref
that is already being expanded, i.e. a cycle, becomes {}), and with the purely
descriptive keywords (description, title, examples, example) dropped to keep it small.
Keys are sorted and the output is pretty-printed so that diffs stay readable.

Standard library only.
"""

import json
import os
import sys

DEFAULT_INPUT = "../shared/reference/port-openapi.json"
OUTPUT = "Tests/TestSupport/Resources/port-response-schemas.json"

# The operations the emulator implements; all of their documented statuses are kept.
OPERATIONS = [
    ("POST", "/v1/auth/access_token"),
    ("GET", "/v1/actions/runs/{run_id}"),
    ("PATCH", "/v1/actions/runs/{run_id}"),
    ("GET", "/v1/actions/runs"),
    ("POST", "/v1/actions/runs/{run_id}/logs"),
    ("GET", "/v1/actions/runs/{run_id}/logs"),
    ("PATCH", "/v1/actions/runs/{run_id}/approval"),
    ("POST", "/v1/actions/{action_identifier}/runs"),
    ("POST", "/v1/actions"),
    ("GET", "/v1/actions"),
    ("GET", "/v1/actions/{action_identifier}"),
    ("GET", "/v1/blueprints"),
    ("POST", "/v1/blueprints"),
    ("GET", "/v1/blueprints/{identifier}"),
    ("POST", "/v1/blueprints/{blueprint_identifier}/entities"),
    ("GET", "/v1/blueprints/{blueprint_identifier}/entities"),
    ("GET", "/v1/blueprints/{blueprint_identifier}/entities/{entity_identifier}"),
    ("PUT", "/v1/blueprints/{blueprint_identifier}/entities/{entity_identifier}"),
    ("PATCH", "/v1/blueprints/{blueprint_identifier}/entities/{entity_identifier}"),
    ("DELETE", "/v1/blueprints/{blueprint_identifier}/entities/{entity_identifier}"),
]

# Keywords that only describe a schema; dropped from the output.
DESCRIPTIVE_KEYWORDS = {"description", "title", "examples", "example"}

# Keywords whose value maps names (property names, definition names) to schemas.
SCHEMA_MAPS = {"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"}

# Keywords whose value is a schema.
SCHEMA_VALUED = {
    "items", "additionalProperties", "additionalItems", "contains", "propertyNames",
    "not", "if", "then", "else", "unevaluatedProperties", "unevaluatedItems",
}

# Keywords whose value is a list of schemas.
SCHEMA_LISTS = {"allOf", "anyOf", "oneOf", "prefixItems"}


def resolve_pointer(document, ref):
    """Returns the part of `document` that a local ref such as #/components/schemas/x names."""
    if not ref.startswith("#/"):
        raise SystemExit(f"unsupported $ref (only local refs are handled): {ref}")
    node = document
    for token in ref[2:].split("/"):
        token = token.replace("~1", "/").replace("~0", "~")
        node = node[int(token)] if isinstance(node, list) else node[token]
    return node


def expand(schema, document, expanding):
    """Returns `schema` with refs expanded and descriptive keywords dropped.

    Walks only the schema keywords, so that data (enum, const, default values) and the
    names in a properties map (a property may well be called "description" or "title")
    are copied untouched. `expanding` holds the refs on the current path, for cycles.
    """
    if isinstance(schema, bool) or not isinstance(schema, dict):
        return schema
    if "$ref" in schema:
        ref = schema["$ref"]
        if ref in expanding:
            target = {}
        else:
            target = expand(resolve_pointer(document, ref), document, expanding | {ref})
        siblings = {key: value for key, value in schema.items() if key != "$ref"}
        rest = expand(siblings, document, expanding)
        if not rest:
            return target
        # Keywords beside a $ref apply as well as the ref's schema (OpenAPI 3.1).
        return {"allOf": [target], **rest}
    result = {}
    for key, value in schema.items():
        if key in DESCRIPTIVE_KEYWORDS:
            continue
        if key in SCHEMA_MAPS and isinstance(value, dict):
            result[key] = {name: expand(sub, document, expanding) for name, sub in value.items()}
        elif key in SCHEMA_VALUED:
            result[key] = expand(value, document, expanding)
        elif key in SCHEMA_LISTS and isinstance(value, list):
            result[key] = [expand(sub, document, expanding) for sub in value]
        elif key == "dependencies" and isinstance(value, dict):
            # Each entry is a schema or a list of property names.
            result[key] = {name: expand(sub, document, expanding) for name, sub in value.items()}
        else:
            result[key] = value
    return result


def main():
    repo_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    source = sys.argv[1] if len(sys.argv) > 1 else os.path.join(repo_root, DEFAULT_INPUT)
    with open(source, encoding="utf-8") as handle:
        document = json.load(handle)

    schemas = {}
    for method, path in OPERATIONS:
        operation = document.get("paths", {}).get(path, {}).get(method.lower())
        if operation is None:
            print(f"note: {method} {path} is not in {source}; skipped", file=sys.stderr)
            continue
        responses = operation.get("responses", {})
        if not any(status.startswith("2") for status in responses):
            print(f"note: {method} {path} documents no success status, only {', '.join(responses)}", file=sys.stderr)
        for status, response in responses.items():
            if "$ref" in response:
                response = resolve_pointer(document, response["$ref"])
            schema = response.get("content", {}).get("application/json", {}).get("schema")
            if schema is None:
                print(f"note: {method} {path} {status} has no application/json schema; skipped", file=sys.stderr)
                continue
            schemas[f"{method} {path} {status}"] = expand(schema, document, frozenset())

    output = os.path.join(repo_root, OUTPUT)
    os.makedirs(os.path.dirname(output), exist_ok=True)
    with open(output, "w", encoding="utf-8") as handle:
        json.dump(schemas, handle, indent=2, sort_keys=True, ensure_ascii=False)
        handle.write("\n")
    print(f"wrote {len(schemas)} response schemas to {OUTPUT}")


if __name__ == "__main__":
    main()
