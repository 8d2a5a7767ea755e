#!/usr/bin/env bash
# Build the seed corpus for the fuzz targets from real gcc objects (tests/hostile/*.c), into
# fuzz/seeds/<target>/ (not committed; regenerate any time). Needs gcc, ld and ar.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$here/../tests/hostile
out=$here/seeds
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cf="-O1 -ffreestanding -fno-stack-protector"
gcc -c $cf -fno-pie -fcommon -o "$tmp/main.o" "$src/main.c"
gcc -c $cf -fPIC -g -o "$tmp/lib_add.o" "$src/lib_add.c"
gcc -c $cf -fPIC -ftls-model=initial-exec -fno-asynchronous-unwind-tables -o "$tmp/lib_name.o" "$src/lib_name.c"
gcc -c $cf -o "$tmp/unused.o" "$src/unused.c"
gcc -c -O0 -g -o "$tmp/main_O0.o" "$src/main.c"
gcc -shared -nostdlib -fPIC -O1 -Wl,--version-script="$src/libh.map" -o "$tmp/libh.so" "$src/lib_name.c"
ld -r -o "$tmp/all.o" "$tmp/main.o" "$tmp/lib_add.o" "$tmp/lib_name.o"
ar rcs "$tmp/libh.a" "$tmp/lib_add.o" "$tmp/lib_name.o" "$tmp/unused.o"
ar rcS "$tmp/libnoindex.a" "$tmp/lib_add.o" "$tmp/lib_name.o"
rm -rf "$out"
mkdir -p "$out"/{link_object,link_many,link_archive,script_args,linker_script,version_script}
for f in main lib_add lib_name unused main_O0 all; do cp "$tmp/$f.o" "$out/link_object/$f.o"; done
sep=$'\n--8<--\n'
cat_files() { # FLAGS FILE... : option byte then the files joined by the separator
  local flags=$1; shift
  printf "\\x$flags"
  local first=1
  for f in "$@"; do
    [ $first = 1 ] || printf '%s' "$sep"
    first=0
    cat "$f"
  done
}
cat_files 00 "$tmp/main.o" "$tmp/lib_add.o" "$tmp/lib_name.o" > "$out/link_many/three_objects"
cat_files 01 "$tmp/main.o" "$tmp/libh.a" > "$out/link_many/object_archive_report"
cat_files 07 "$tmp/main.o" "$tmp/libnoindex.a" > "$out/link_many/noindex_ehhdr_buildid"
cat_files 80 "$tmp/main.o" "$tmp/libh.a" "$tmp/libnoindex.a" > "$out/link_many/group"
cat_files 00 "$tmp/all.o" > "$out/link_many/ld_r"
cat_files 28 "$tmp/main.o" "$tmp/lib_add.o" "$tmp/libh.so" > "$out/link_many/shared_object"
cp "$tmp/libh.so" "$out/link_object/libh.so"
cat_files 58 "$tmp/main_O0.o" "$tmp/lib_add.o" "$tmp/lib_name.o" > "$out/link_many/strip_u"
cat_files 00 "$tmp/main.o" "$tmp/lib_add.o" "$tmp/lib_name.o" "$tmp/unused.o" > "$out/link_archive/indexed"
cat_files 81 "$tmp/main.o" "$tmp/lib_add.o" "$tmp/lib_name.o" > "$out/link_archive/no_index_report"
printf 'GROUP ( libc.so.6 /usr/lib/libc_nonshared.a AS_NEEDED ( /lib64/ld-linux-x86-64.so.2 ) )\n' > "$out/script_args/group"
printf '/* GNU ld script */\nOUTPUT_FORMAT(elf64-x86-64)\nINPUT(-lm "a b.o")\nSEARCH_DIR(/x)\n' > "$out/script_args/input"
printf -- '-static -o h -L/usr/lib main.o --start-group -lgcc -lc --end-group -z noexecstack --build-id=0xabcd -Map=m --report r.json\n' > "$out/script_args/cmdline"
printf 'foo_x\n/* v */ VER1 { global: foo_x; "q n"; extern "C++" { ns::*; "f(int)"; }; local: *; };\nVER2 { foo*[abc]x; ?oo; } VER1;\n# c\n' > "$out/version_script/nodes"
printf '_ZN3foo3barE\n{ global: extern "C++" { foo::bar; *libalpha::*; }; local: *libbeta*; };\n' > "$out/version_script/anonymous_cxx"
printf 'xyz\n{ xyz; foo*bar*[!abc]x; extern "C" { a\\*b; }; };\n' > "$out/version_script/dynamic_list"
# SECTIONS scripts: GNU ld's own defaults (what `ld --verbose` prints between its ==== lines)
# and an embedded-style layout.
for kind in "" -pie -shared; do
  ld $kind --verbose | sed -n '/^=====/,/^=====/p' | sed '1d;$d' > "$out/linker_script/default$kind"
done
printf 'ENTRY(_start)\nSECTIONS {\n  . = 0x400000;\n  .text : { KEEP(*(.text.boot)) *(.text .text.*) }\n  . = ALIGN(0x1000);\n  .data : { __data_start = .; *(.data*) __data_end = .; }\n  .bss (NOLOAD) : { __bss_start = .; *(.bss*) *(COMMON) ; __bss_end = .; }\n  PROVIDE_HIDDEN(stack_top = . + 0x1000);\n  /DISCARD/ : { *(.comment) *(.note.*) }\n  ASSERT(. < 0x800000, "too big")\n}\n' > "$out/linker_script/embedded"
# The text is put inside `SECTIONS { ... }`: a leading `}` closes it, so MEMORY stands at the top.
printf '}\nMEMORY\n{\n  FLASH (rx) : ORIGIN = 0x400000, LENGTH = 64K\n  RAM (rwx) : org = 0x600000, len = 20K\n}\nSECTIONS\n{\n  .text : { *(.text*) } > FLASH\n  _sidata = LOADADDR(.data);\n  .data : { *(.data*) } > RAM AT > FLASH\n  .bss : { *(.bss*) } > RAM\n  .rom 0x500000 : AT(0x401000) { *(.rom) }\n  _estack = ORIGIN(RAM) + LENGTH(RAM);\n' > "$out/linker_script/memory"
echo "seeds in $out:"; for d in "$out"/*; do echo "  $(basename "$d"): $(ls "$d" | wc -l) files"; done
