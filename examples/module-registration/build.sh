#!/bin/sh
# Build the module-registration demo with initlink (used by tests/modules.rs and the docs).
# usage: build.sh OUTDIR INITLINK
set -eu
src=$(cd "$(dirname "$0")" && pwd)
out=$1; initlink=$2
mkdir -p "$out/ld"; ln -sf "$initlink" "$out/ld/ld"
cd "$out"
for p in a b c; do
  gcc -c -O1 -fPIC -o plugin_$p.o "$src/plugin_$p.c"
  gcc -shared -B ld/ -o libplugin_$p.so plugin_$p.o -Wl,--init-stub=register_module -Wl,--report=plugin_$p.json
done
gcc -c -O1 -o runtime.o -I"$src" "$src/runtime.c"
gcc -B ld/ -rdynamic -o runtime runtime.o -L. -lplugin_a -lplugin_b -Wl,-rpath,'$ORIGIN' -Wl,--init-stub=register_module -Wl,--report=runtime.json
