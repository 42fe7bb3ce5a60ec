#!/usr/bin/env bash
# The reliability bench's handler: notes each time it runs, so runs handled twice show up.
set -euo pipefail
echo "${PORT_RUN_ID}" >> "${HANDLER_RECORD:?HANDLER_RECORD names the file that counts handler runs}"
echo "::port::summary recorded"
