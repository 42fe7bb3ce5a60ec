#!/usr/bin/env bash
# `make docs`: DocC for the eight libraries, into .build/docs/<Target> (static HTML that any
# web server can serve: python3 -m http.server -d .build/docs/Consumer, then open
# /documentation/consumer). DocC's warnings (a broken symbol link, a missing article) fail it.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .build/docs
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for target in Consumer Emulator Conformance PortContract PortCatalog PortKafka HTTPServer JQ; do
    rm -rf ".build/docs/$target"
    if ! swift package --disable-sandbox generate-documentation --target "$target" --warnings-as-errors \
        --transform-for-static-hosting --output-path ".build/docs/$target" >"$log" 2>&1; then
        grep -v '^\[' "$log" | grep -v 'swift-distributed-tracing\|CMakeLists.txt' >&2
        echo "docs: DocC failed for $target" >&2
        exit 1
    fi
    echo "docs: $target -> .build/docs/$target"
done
