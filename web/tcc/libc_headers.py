#!/usr/bin/env python3
"""The libc headers the page's tcc offers, taken from this machine's libc6-dev (and the kernel's
headers they include, linux-libc-dev): every file the headers below include, as the native tcc
twin finds them (-MD) with and without _GNU_SOURCE. /usr/include/x86_64-linux-gnu/X and
/usr/include/X both become X (the multiarch directory is searched first; no name is in both).

Writes them under TCCDIR/libc/include/ for the native tcc (its config.h searches {B}/libc/include
after {B}/include, tcc's own headers) and as one JSON object {relative path: text} for the page,
which puts them at /tcc/libc/include.

usage: libc_headers.py NATIVE_TCC TCCDIR OUT_JSON
"""
import json
import os
import subprocess
import sys
import tempfile

HEADERS = ["assert.h", "ctype.h", "dlfcn.h", "errno.h", "fcntl.h", "inttypes.h", "limits.h",
           "locale.h", "math.h", "setjmp.h", "signal.h", "stdint.h", "stdio.h", "stdlib.h",
           "string.h", "strings.h", "sys/mman.h", "sys/stat.h", "sys/types.h", "time.h", "unistd.h"]
ROOTS = ["/usr/include/x86_64-linux-gnu", "/usr/include"]


def main():
    tcc, tccdir, out = sys.argv[1:4]
    found = {}  # relative path -> absolute path
    with tempfile.TemporaryDirectory() as tmp:
        for header in HEADERS:
            for defs in ([], ["-D_GNU_SOURCE"]):
                src = os.path.join(tmp, "h.c")
                with open(src, "w") as f:
                    f.write(f"#include <{header}>\n")
                deps = os.path.join(tmp, "h.d")
                subprocess.run([tcc, "-B", tccdir, *defs, *(a for r in ROOTS for a in ("-I", r)),
                                "-c", src, "-o", os.path.join(tmp, "h.o"), "-MD", "-MF", deps],
                               check=True, capture_output=True)
                for word in open(deps).read().replace("\\\n", " ").split()[1:]:
                    root = next((r for r in ROOTS if word.startswith(r + "/")), None)
                    if root is None:
                        continue  # the source itself, tcc's own headers
                    rel = word[len(root) + 1:]
                    if found.setdefault(rel, word) != word:
                        sys.exit(f"libc_headers: {rel} is both {found[rel]} and {word}")
    if "stdio.h" not in found:
        sys.exit("libc_headers: no stdio.h among the dependencies: is libc6-dev installed?")
    texts = {}
    for rel, path in sorted(found.items()):
        text = open(path, encoding="utf-8").read()
        dest = os.path.join(tccdir, "libc", "include", rel)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        with open(dest, "w", encoding="utf-8") as f:
            f.write(text)
        texts[rel] = text
    with open(out, "w") as f:
        json.dump(texts, f, sort_keys=True)
    print(f"tcc: {len(texts)} libc headers for the page", file=sys.stderr)


if __name__ == "__main__":
    main()
