#!/usr/bin/env python3
"""Copy this machine's dynamic loader and C and C++ runtime libraries into pkg/emu/lib/, for the
emulator in the page: run() (web/run.js) fetches the ones a dynamic program needs the first time
one runs, and hands them to the emulator as its virtual file system, at the paths they have here
(where the loader looks for them).

Each file is stored gzipped (NAME.gz, no timestamp: the same input gives the same bytes), beside
index.json:
    {"files": [{"path": "/lib/x86_64-linux-gnu/libc.so.6", "url": "libc.so.6.gz",
                "soname": "libc.so.6", "needed": ["ld-linux-x86-64.so.2"],
                "size": N, "gzipSize": N, "interp": false}, ...]}
`needed` (DT_NEEDED) lets run() fetch only what a program needs: libstdc++.so.6 and its
libm.so.6 and libgcc_s.so.1 for C++, never for C.

usage: build_libs.py OUT_DIR       (skipped when OUT_DIR/index.json is newer than every input)
"""
import gzip
import json
import os
import subprocess
import sys

# The loader at the path programs name in PT_INTERP, then the libraries where it finds them.
LOADER = "/lib64/ld-linux-x86-64.so.2"
LIBDIR = "/lib/x86_64-linux-gnu"
LIBRARIES = ["libc.so.6", "libm.so.6", "libstdc++.so.6", "libgcc_s.so.1"]


def dynamic(path):
    """(soname, [needed]) from readelf -d."""
    out = subprocess.run(["readelf", "-dW", path], capture_output=True, text=True, check=True).stdout
    soname, needed = None, []
    for line in out.splitlines():
        if "(SONAME)" in line or "(NEEDED)" in line:
            name = line.split("[", 1)[1].rsplit("]", 1)[0]
            if "(SONAME)" in line:
                soname = name
            else:
                needed.append(name)
    return soname, needed


def main():
    out = sys.argv[1]
    paths = [LOADER] + [os.path.join(LIBDIR, n) for n in LIBRARIES]
    missing = [p for p in paths if not os.path.exists(p)]
    if missing:
        sys.exit(f"build_libs: missing on this machine: {', '.join(missing)} (install libc6, libstdc++6)")
    index = os.path.join(out, "index.json")
    inputs = [os.path.realpath(p) for p in paths] + [os.path.abspath(__file__)]
    if os.path.exists(index) and all(os.path.getmtime(index) > os.path.getmtime(i) for i in inputs):
        return
    os.makedirs(out, exist_ok=True)
    files = []
    for p in paths:
        data = open(p, "rb").read()
        name = os.path.basename(p)
        packed = gzip.compress(data, compresslevel=9, mtime=0)
        with open(os.path.join(out, name + ".gz"), "wb") as f:
            f.write(packed)
        soname, needed = dynamic(p)
        files.append({"path": p, "url": name + ".gz", "soname": soname or name, "needed": needed,
                      "size": len(data), "gzipSize": len(packed), "interp": p == LOADER})
    with open(index, "w") as f:
        json.dump({"files": files}, f, indent=1)
    total = sum(f["gzipSize"] for f in files)
    print(f"build_libs: {len(files)} files into {os.path.relpath(out)}/ ({total // 1024} KB gzipped)")


if __name__ == "__main__":
    main()
