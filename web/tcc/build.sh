#!/usr/bin/env bash
# Build TinyCC for the playground, into pkg/tcc/: tcc.wasm (tcc compiled to WebAssembly with clang-19,
# Debian's wasi-libc and wasm-ld), include.json (tcc's own headers, for the page's in-memory file
# system), libc-include.json (the libc headers glibc programs need, from this machine's libc6-dev:
# libc_headers.py), source/ (the Debian source package and the patch: tcc is LGPL, the page offers them), the
# WASI shim from npm (browser_wasi_shim/), and target/tcc/tcc, the same patched source built natively with gcc, which the tests
# compare tcc.wasm's objects with (same config.h, same {B}/include layout under target/tcc/tccdir).
#
# The source is Debian's `tcc` package, fetched with `apt-get source` through a private sources list
# and lists directory under target/tcc/apt (the system's apt lists are left alone), then patched
# with web/tcc/initlink-tcc.patch (see the patch's hunks: __linux__, long double constants, an
# out-of-bounds read, columns in diagnostics, an empty .note.GNU-stack in every object as gcc and
# GNU as write it). Skipped when the outputs are newer than its inputs.
#
#   web/tcc/build.sh            build if out of date
#   web/tcc/build.sh --force    rebuild
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
HERE=$ROOT/web/tcc
OUT=$ROOT/target/tcc
PKG=$ROOT/pkg/tcc
SHIM=$ROOT/tests/web/node_modules/@bjorn3/browser_wasi_shim
VERSION=0.9.27+git20200814.62c30a4a-1
UPSTREAM=${VERSION%-*}
SRCDIR=$OUT/src/tcc-$UPSTREAM
BUILD=$OUT/build

inputs=("$HERE/build.sh" "$HERE/initlink-tcc.patch" "$HERE/config.h" "$HERE/sources_list.py" "$HERE"/wasi/*
  "$HERE/libc_headers.py" "$SHIM/package.json" /usr/include/stdio.h)
outputs=("$PKG/tcc.wasm" "$PKG/include.json" "$PKG/libc-include.json" "$PKG/libtcc1.a" "$PKG/browser_wasi_shim/index.js"
  "$PKG/source/initlink-tcc.patch" "$OUT/tcc" "$OUT/tccdir/include/stddef.h" "$OUT/tccdir/libc/include/stdio.h")
up_to_date() {
  local o i
  for o in "${outputs[@]}"; do
    [ -f "$o" ] || return 1
    for i in "${inputs[@]}"; do [ "$o" -nt "$i" ] || return 1; done
  done
}
if [ "${1:-}" != --force ] && up_to_date; then
  exit 0
fi

# 1. The source package, through a private list (deb-src twins of this machine's deb entries).
if [ ! -f "$OUT/src/tcc_$VERSION.dsc" ] || [ ! -d "$SRCDIR" ]; then
  echo "tcc: fetching Debian's tcc $VERSION source package" >&2
  rm -rf "$OUT/src" "$OUT/apt"
  mkdir -p "$OUT/apt/lists/partial" "$OUT/src"
  python3 "$HERE/sources_list.py" > "$OUT/apt/sources.list"
  apt_opts=(-o "Dir::State::Lists=$OUT/apt/lists" -o "Dir::Etc::SourceList=$OUT/apt/sources.list"
    -o Dir::Etc::SourceParts=/dev/null)
  apt-get "${apt_opts[@]}" update -qq
  (cd "$OUT/src" && apt-get "${apt_opts[@]}" source -qq "tcc=$VERSION" 2>&1 \
    | grep -v "^W: Download is performed unsandboxed" >&2 || true)
  [ -d "$SRCDIR" ] || { echo "tcc: apt-get source tcc=$VERSION did not unpack $SRCDIR" >&2; exit 1; }
fi

# 2. A patched copy (Debian's own patches are already applied by dpkg-source).
echo "tcc: building tcc.wasm and the native tcc" >&2
rm -rf "$BUILD"
mkdir -p "$BUILD"
cp -a "$SRCDIR" "$BUILD/tcc"
rm -rf "$BUILD/tcc/.pc"
patch -s -d "$BUILD/tcc" -p1 < "$HERE/initlink-tcc.patch"
cp "$HERE/config.h" "$BUILD/tcc/config.h"
DEFS=(-DONE_SOURCE=1 -DTCC_TARGET_X86_64)

# 3. tcc.wasm. setjmp/longjmp (tcc's error recovery) become WebAssembly exceptions; support.c is
#    built with the same flags. -Oz: a third smaller than -O2 with the same output.
WASI=$HERE/wasi
WFLAGS=(--target=wasm32-wasi -Oz -mexception-handling -mllvm -wasm-enable-sjlj -I "$WASI" -include "$WASI/compat.h")
(cd "$BUILD/tcc" && nice clang-19 "${WFLAGS[@]}" "${DEFS[@]}" -w -c tcc.c -o "$BUILD/tcc-wasm.o")
nice clang-19 "${WFLAGS[@]}" -Wall -c "$WASI/support.c" -o "$BUILD/support-wasm.o"
clang-19 --target=wasm32-wasi -fuse-ld=lld -Wl,--strip-all -Wl,-z,stack-size=1048576 \
  "$BUILD/tcc-wasm.o" "$BUILD/support-wasm.o" -lc-printscan-long-double -o "$BUILD/tcc.wasm"

# 4. The native twin, for the tests.
(cd "$BUILD/tcc" && nice gcc -O2 "${DEFS[@]}" -w tcc.c -o "$BUILD/tcc-native" -lm -ldl -lpthread)

# 5. tcc's headers: for the native tcc under target/tcc/tccdir/include ({B} = -B target/tcc/tccdir),
#    for the page as one JSON object {name: text} (they live at /tcc/include in its file system).
rm -rf "$OUT/tccdir"
mkdir -p "$OUT/tccdir/include"
cp "$BUILD/tcc/include/"*.h "$OUT/tccdir/include/"
python3 - "$BUILD/tcc/include" "$BUILD/include.json" <<'PY'
import json, os, sys
d = sys.argv[1]
json.dump({f: open(os.path.join(d, f)).read() for f in sorted(os.listdir(d)) if f.endswith(".h")},
          open(sys.argv[2], "w"), sort_keys=True)
PY
mv "$BUILD/tcc-native" "$OUT/tcc"

# 5a. The libc headers: for the native tcc under target/tcc/tccdir/libc/include, for the page as
#     one JSON object (at /tcc/libc/include in its file system; config.h searches both places).
python3 "$HERE/libc_headers.py" "$OUT/tcc" "$OUT/tccdir" "$BUILD/libc-include.json"

# 5b. libtcc1.a, tcc's runtime (__va_arg for va_arg, conversions between long long and floating
#     types, alloca), built by the native twin (whose objects are tcc.wasm's, byte for byte) from the
#     same files as tcc's lib/Makefile for x86-64, without the bounds checker and backtrace parts.
mkdir -p "$BUILD/lib"
for f in libtcc1.c va_list.c alloca86_64.S; do
  (cd "$BUILD/tcc/lib" && "$OUT/tcc" -B "$OUT/tccdir" -c "$f" -o "$BUILD/lib/${f%.*}.o")
done
(cd "$BUILD/lib" && "$OUT/tcc" -ar rcs libtcc1.a libtcc1.o va_list.o alloca86_64.o)
# 6. The WASI shim (npm's @bjorn3/browser_wasi_shim, plain ES modules) and the source offer.
[ -f "$SHIM/dist/index.js" ] || { echo "tcc: $SHIM is missing (npm ci in tests/web)" >&2; exit 1; }
rm -rf "$PKG"
mkdir -p "$PKG/browser_wasi_shim" "$PKG/source"
cp "$SHIM"/dist/*.js "$SHIM"/LICENSE-* "$PKG/browser_wasi_shim/"
cp "$OUT/src/tcc_$VERSION.dsc" "$OUT/src/tcc_$UPSTREAM.orig.tar."* "$OUT/src/tcc_$VERSION.debian.tar."* \
  "$HERE/initlink-tcc.patch" "$HERE/config.h" "$HERE/wasi/"* "$PKG/source/"
mv "$BUILD/include.json" "$PKG/include.json"
mv "$BUILD/libc-include.json" "$PKG/libc-include.json"
cp "$BUILD/lib/libtcc1.a" "$PKG/libtcc1.a"
mv "$BUILD/tcc.wasm" "$PKG/tcc.wasm"
echo "tcc: pkg/tcc/tcc.wasm $(stat -c %s "$PKG/tcc.wasm") bytes, $(gzip -9c "$PKG/tcc.wasm" | wc -c) gzipped" >&2
