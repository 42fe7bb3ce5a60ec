#!/usr/bin/env python3
"""Extract Port's two entity-search operations from Port's OpenAPI document.

Why this exists: Tests/CatalogHTTP runs schemathesis against the emulator's
`POST /v1/entities/search` and `POST /v1/blueprints/{blueprint_identifier}/entities/search`
with Port's own description of them, so that the emulator's searches cannot drift from what
Port documents. The full document (~780 KB) lives outside the repository, so this script
copies just what the fuzzer needs into Tests/CatalogHTTP/port-openapi-search.json, which is
committed: the two path items as Port writes them, the components they reference
(transitively), and the security scheme their `security` names. Nothing is rewritten.

Re-run it when Port's OpenAPI document changes, from the repository root:

    python3 scripts/extract-search-openapi.py [path/to/port-openapi.json]

Standard library only.
"""

import json
import os
import sys

DEFAULT_INPUT = "../shared/reference/port-openapi.json"
OUTPUT = "Tests/CatalogHTTP/port-openapi-search.json"

# The path items copied whole (every method Port documents on them).
PATHS = [
    "/v1/entities/search",
    "/v1/blueprints/{blueprint_identifier}/entities/search",
]


def references(node):
    """Every local "$ref" in `node`, in document order."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from references(value)
    elif isinstance(node, list):
        for item in node:
            yield from references(item)


def component(document, ref):
    """(section, name, value) of a ref such as #/components/schemas/def-7."""
    parts = ref.split("/")
    if len(parts) != 4 or parts[:2] != ["#", "components"]:
        raise SystemExit(f"unsupported $ref (only #/components/<section>/<name> is handled): {ref}")
    section, name = parts[2], parts[3].replace("~1", "/").replace("~0", "~")
    try:
        return section, name, document["components"][section][name]
    except KeyError:
        raise SystemExit(f"{ref} is referenced but not defined in the document") from None


def main():
    repo_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    source = sys.argv[1] if len(sys.argv) > 1 else os.path.join(repo_root, DEFAULT_INPUT)
    with open(source, encoding="utf-8") as handle:
        document = json.load(handle)

    paths = {}
    for path in PATHS:
        item = document.get("paths", {}).get(path)
        if item is None:
            raise SystemExit(f"{path} is not in {source}")
        paths[path] = item

    # The components the path items reach, following refs inside components too.
    components = {}
    pending = list(references(paths))
    seen = set()
    while pending:
        ref = pending.pop()
        if ref in seen:
            continue
        seen.add(ref)
        section, name, value = component(document, ref)
        components.setdefault(section, {})[name] = value
        pending.extend(references(value))

    # The security schemes the operations (or the document) require.
    schemes = document.get("components", {}).get("securitySchemes", {})
    requirements = list(document.get("security", []))
    for item in paths.values():
        for operation in item.values():
            if isinstance(operation, dict):
                requirements += operation.get("security", [])
    for requirement in requirements:
        for name in requirement:
            if name not in schemes:
                raise SystemExit(f"security scheme {name!r} is required but not defined")
            components.setdefault("securitySchemes", {})[name] = schemes[name]

    extract = {
        "openapi": document["openapi"],
        "info": {
            **document.get("info", {}),
            "description": f"Port's search operations only, copied from {os.path.basename(source)} "
            "by scripts/extract-search-openapi.py (do not edit by hand).",
        },
        "servers": document.get("servers", []),
        "components": {section: dict(sorted(values.items())) for section, values in sorted(components.items())},
        "paths": paths,
    }
    if "security" in document:
        extract["security"] = document["security"]

    output = os.path.join(repo_root, OUTPUT)
    os.makedirs(os.path.dirname(output), exist_ok=True)
    with open(output, "w", encoding="utf-8") as handle:
        json.dump(extract, handle, indent=2, ensure_ascii=False)
        handle.write("\n")
    names = ", ".join(f"{section}/{name}" for section, values in sorted(components.items()) for name in sorted(values))
    print(f"wrote {len(paths)} path items and {names} to {OUTPUT}")


if __name__ == "__main__":
    main()
