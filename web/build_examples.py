#!/usr/bin/env python3
"""Compile the playground's examples (web/examples/<name>/) into objects and archives beside their
sources, and write web/examples/index.json, the gallery the page reads.

Each example has a one-line README.md (its description), its C/assembly sources, and an
example.conf:
    title = Shown in the gallery
    order = 0                       gallery position
    archive libX.a = a.c b.c        build an archive from these sources' objects
    link = a.c libX.a               link order (a source stands for its object; default: sources, sorted)
    args = -e main                  extra linker arguments
    kind = pie                      output kind picked with the example: static, exec, pie, shared
                                    (default: none, the linker's default)
    output = libx.so                output file name (default: prog)
    cflags = -O1 -fno-pie           gcc flags instead of the freestanding ones below
    tcc = ...                       what the page's compiler (tcc) does differently with this
                                    example, shown beside its source (docs/compiler.md)
Objects are built like a freestanding program by default: they link with the synthesized _start.
Each source is also compiled with -fno-pie turned into -fPIE, into <name>/pie/ (same file names):
the page links those when the output kind is PIE, against web/examples/libc.so.6.dso (written by
./dev build-web). Flags without -fno-pie (say -fPIC) need no second build.
Header files in the example's folder (and common/say.h, if included) are shown beside the sources.
"""
import json
import os
import shlex
import subprocess
import sys

CFLAGS = ["-O1", "-ffreestanding", "-fno-pie", "-fno-stack-protector",
          "-fno-asynchronous-unwind-tables", "-fcf-protection=none"]
SOURCE_EXTS = (".c", ".s", ".S")
HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLES = os.path.join(HERE, "examples")
COMMON = os.path.join(EXAMPLES, "common")


def obj_name(src):
    return os.path.splitext(src)[0] + ".o"


def run(cmd, cwd):
    r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"build_examples: {' '.join(cmd)} failed in {cwd}:\n{r.stdout}{r.stderr}")


def pie_flags(flags):
    """The flags of the -fPIE build, or None when the objects already suit a PIE."""
    return [("-fPIE" if f == "-fno-pie" else f) for f in flags] if "-fno-pie" in flags else None


def build(name):
    d = os.path.join(EXAMPLES, name)
    conf = {"title": name, "order": "99", "link": "", "args": "", "kind": "", "output": "prog"}
    archives = {}
    for line in open(os.path.join(d, "example.conf")):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        key, _, value = (x.strip() for x in line.partition("="))
        if key.startswith("archive "):
            archives[key.split()[1]] = value.split()
        else:
            conf[key] = value
    description = open(os.path.join(d, "README.md")).read().strip()
    sources = sorted(f for f in os.listdir(d) if f.endswith(SOURCE_EXTS))
    headers = sorted(f for f in os.listdir(d) if f.endswith(".h"))
    flags = shlex.split(conf["cflags"]) if "cflags" in conf else CFLAGS
    pie = pie_flags(flags)
    if pie:
        os.makedirs(os.path.join(d, "pie"), exist_ok=True)
    for src in sources:
        run(["gcc", "-c", *flags, "-I", COMMON, src, "-o", obj_name(src)], d)
        if pie:
            run(["gcc", "-c", *pie, "-I", COMMON, src, "-o", os.path.join("pie", obj_name(src))], d)
    for lib, members in archives.items():
        for sub in ("", "pie") if pie else ("",):
            if os.path.exists(os.path.join(d, sub, lib)):
                os.remove(os.path.join(d, sub, lib))
            run(["ar", "rcs", lib, *map(obj_name, members)], os.path.join(d, sub))
    in_archive = {m for ms in archives.values() for m in ms}
    link = conf["link"].split() or [s for s in sources if s not in in_archive] + sorted(archives)
    inputs = []
    for item in link:
        f = obj_name(item) if item.endswith(SOURCE_EXTS) else item
        inputs.append({"name": f, "url": f"examples/{name}/{f}", **({"pieUrl": f"examples/{name}/pie/{f}"} if pie else {})})
    shown = [{"file": s, "url": f"examples/{name}/{s}"} for s in sources + headers]
    if any('"say.h"' in open(os.path.join(d, s)).read() for s in sources):
        shown.append({"file": "say.h", "url": "examples/common/say.h"})
    return {
        "name": name,
        "title": conf["title"],
        "order": int(conf["order"]),
        "description": description,
        "sources": shown,
        "inputs": inputs,
        "archives": {lib: list(map(obj_name, m)) for lib, m in archives.items()},
        "args": shlex.split(conf["args"]),
        "kind": conf["kind"],
        "output": conf["output"],
        # The link in terms of sources and archives, for the page's own builds with tcc.
        "link": link,
        "tcc": conf.get("tcc", ""),
        "build": "gcc -c " + " ".join(flags) + " -I examples/common",
        "pieBuild": "gcc -c " + " ".join(pie) + " -I examples/common" if pie else None,
    }


def main():
    names = sorted(n for n in os.listdir(EXAMPLES)
                   if os.path.isfile(os.path.join(EXAMPLES, n, "example.conf")))
    gallery = sorted((build(n) for n in names), key=lambda e: (e["order"], e["name"]))
    with open(os.path.join(EXAMPLES, "index.json"), "w") as f:
        json.dump({"examples": gallery}, f, indent=1)
    print(f"build_examples: {len(gallery)} examples compiled into {os.path.relpath(EXAMPLES)}/")


if __name__ == "__main__":
    main()
