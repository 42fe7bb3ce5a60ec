#!/usr/bin/env bash
# The GitHub Action's install step (action.yml): downloads the release's SHA256SUMS and the wheel
# or the .deb it lists, checks the checksum, installs it. Runs outside GitHub too, with the
# INPUT_* variables set (the dist tests do): RELEASE_URL may be file://.
# Inputs: INPUT_VERSION, INPUT_INSTALL (wheel|deb), INPUT_RELEASE_URL. Writes to $GITHUB_OUTPUT:
# fixtures (the installed fixtures directory).
set -euo pipefail
fail() { echo "::error title=port-kafka-harness install::$*" >&2; exit 1; }

version=${INPUT_VERSION:?version is required, e.g. 0.16.0}
version=${version#v}
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "version must look like 0.16.0 (got '$INPUT_VERSION')"
base=${INPUT_RELEASE_URL:?release-url is empty}/v$version
# Used as a local action (uses: ./) or from inside another composite action, GitHub leaves
# github.action_repository empty: there is no repository to download from.
[[ "$base" == *//releases/* ]] && fail "cannot tell which repository this action came from: set the release-url input"
output=${GITHUB_OUTPUT:-/dev/null}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
SUDO=$([ "$(id -u)" = 0 ] || echo sudo)

fetch() {
    curl --fail --silent --show-error --location --retry 3 --output "$work/$1" "$base/$1" \
        || fail "cannot download $base/$1: is $version a release of this action?"
}

fetch SHA256SUMS
case ${INPUT_INSTALL:-wheel} in
    wheel) pattern="port_kafka_harness-.*_$(uname -m)\.whl$" ;;
    deb) pattern="port-kafka-harness_.*_$(dpkg --print-architecture)\.deb$" ;;
    *) fail "install must be wheel or deb (got '$INPUT_INSTALL')" ;;
esac
file=$(awk '{print $2}' "$work/SHA256SUMS" | grep -E "$pattern" | head -1) \
    || fail "release $version has no ${INPUT_INSTALL:-wheel} for this machine (SHA256SUMS lists: $(awk '{printf "%s ", $2}' "$work/SHA256SUMS"))"
fetch "$file"
(cd "$work" && grep -F " $file" SHA256SUMS | sha256sum --check --status) || fail "$file does not match its SHA-256 in SHA256SUMS"
echo "installing $file"

if [ "${INPUT_INSTALL:-wheel}" = wheel ]; then
    python3 -m pip install --quiet --disable-pip-version-check "$work/$file" \
        || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages "$work/$file"
    fixtures=$(python3 -c 'import pathlib, port_kafka_harness; print(pathlib.Path(port_kafka_harness.__file__).parent / "fixtures")')
    # The console scripts are in python3's scripts directory: put it on PATH for the next steps.
    scripts=$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))')
    [ -n "${GITHUB_PATH:-}" ] && echo "$scripts" >>"$GITHUB_PATH"
    export PATH="$scripts:$PATH"
else
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$work/$file"
    fixtures=/usr/share/port-kafka-harness/fixtures
fi
installed=$(port-emulator --version) || fail "port-emulator does not run after the install"
[ "$installed" = "$version" ] || fail "installed port-emulator $installed, expected $version"
echo "fixtures=$fixtures" >>"$output"
echo "port-emulator $installed installed; fixtures in $fixtures"
