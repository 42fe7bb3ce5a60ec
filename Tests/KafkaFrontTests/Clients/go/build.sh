#!/usr/bin/env bash
# Builds sarama_client and kafkago_client into OUTPUT_DIR, in GOPATH mode, from the Go
# sources Debian packages install under /usr/share/gocode/src (no module downloads).
# Needs: apt-get install -y golang-go golang-github-shopify-sarama-dev \
#          golang-github-segmentio-kafka-go-dev golang-github-xdg-go-scram-dev
# Usage: build.sh OUTPUT_DIR
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: build.sh OUTPUT_DIR}
gopath=/usr/share/gocode
packages="golang-go golang-github-shopify-sarama-dev golang-github-segmentio-kafka-go-dev golang-github-xdg-go-scram-dev"
install_hint="apt-get install -y $packages"

command -v go >/dev/null || { echo "build.sh: no go on PATH; install Debian's Go: $install_hint" >&2; exit 1; }
# sarama imports github.com/DataDog/zstd, which is cgo: a C compiler is needed too.
command -v gcc >/dev/null || { echo "build.sh: no gcc (sarama's zstd dependency uses cgo): apt-get install -y gcc" >&2; exit 1; }

version() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || true; }
missing=()
for pkg in $packages; do
	[ -n "$(version "$pkg")" ] || missing+=("$pkg")
done
for src in github.com/Shopify/sarama github.com/segmentio/kafka-go github.com/xdg-go/scram; do
	[ -d "$gopath/src/$src" ] || missing+=("(source $gopath/src/$src)")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "build.sh: missing: ${missing[*]}; install them: $install_hint" >&2
	exit 1
fi

mkdir -p "$out"
out=$(cd "$out" && pwd)
export GO111MODULE=off GOPATH=$gopath GOFLAGS=
# go needs a cache folder: $HOME's unless the environment has none (some CI runners).
if [ -z "${GOCACHE:-}${XDG_CACHE_HOME:-}${HOME:-}" ]; then
	export GOCACHE=${TMPDIR:-/tmp}/goclients-gocache
fi
# DataDog/zstd calls a function libzstd marks deprecated: keep its warning out of the log.
export CGO_CFLAGS="-O2 -g -Wno-deprecated-declarations"
cd "$here"
go build -o "$out/sarama_client" \
	-ldflags "-X 'main.library=sarama $(version golang-github-shopify-sarama-dev) (Debian golang-github-shopify-sarama-dev)'" \
	./sarama_client
go build -o "$out/kafkago_client" \
	-ldflags "-X 'main.library=kafka-go $(version golang-github-segmentio-kafka-go-dev) (Debian golang-github-segmentio-kafka-go-dev)'" \
	./kafkago_client
echo "built with $(go version): $out/sarama_client $out/kafkago_client"
