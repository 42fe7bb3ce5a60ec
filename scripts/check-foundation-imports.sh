#!/usr/bin/env bash
# make lint: the targets linked into port-emulator and port-consumer use FoundationEssentials
# only, so that the release binaries carry no ICU (full Foundation is 44 MB more per binary).
# An `import Foundation` there is allowed only as the `#else` branch of
#   #if canImport(FoundationEssentials)
#   import FoundationEssentials
#   #else
#   import Foundation
#   #endif
# (macOS, which has no FoundationEssentials module). Benchmarks, port-bench and the tests may
# import Foundation.
set -euo pipefail
cd "$(dirname "$0")/.."
targets=(ChildProcesses PortContract PortCatalog HTTPServer PortKafka KafkaFront KafkaProtocol KafkaRecords
    KafkaBroker JQ Emulator EmulatorCLI Conformance Consumer port-emulator port-consumer)
found=$(for target in "${targets[@]}"; do
    find "Sources/$target" -name '*.swift' -print0 | xargs -0 awk '
        FNR == 1 { previous = "" }
        /^[[:space:]]*((public|package|internal|@_exported) +)?import +(Foundation|FoundationNetworking|FoundationInternationalization)([[:space:]]|$)/ \
            && previous !~ /^[[:space:]]*#else[[:space:]]*$/ { print FILENAME ":" FNR ": " $0 }
        { previous = $0 }'
done)
if [ -n "$found" ]; then
    echo "full Foundation imported outside '#if canImport(FoundationEssentials) ... #else' (links ICU):" >&2
    echo "$found" >&2
    exit 1
fi
