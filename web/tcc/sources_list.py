#!/usr/bin/env python3
"""Print a one-line apt sources list with a `deb-src` entry for every `deb` entry this machine's
apt is configured with (/etc/apt/sources.list and /etc/apt/sources.list.d/*.list|*.sources), so
the tcc build can `apt-get source` from the same archive through a private list, without touching
the system's."""
import glob
import os

lines = []


def emit(uris, suites, comps, signed_by):
    opt = f"[signed-by={signed_by}] " if signed_by else ""
    for uri in uris:
        for suite in suites:
            line = f"deb-src {opt}{uri} {suite} {' '.join(comps)}".rstrip()
            if line not in lines:
                lines.append(line)


for path in ["/etc/apt/sources.list", *sorted(glob.glob("/etc/apt/sources.list.d/*.list"))]:
    if not os.path.isfile(path):
        continue
    for raw in open(path):
        words = raw.split("#", 1)[0].split()
        if not words or words[0] != "deb":
            continue
        words = words[1:]
        signed_by = ""
        if words and words[0].startswith("["):
            opts = []
            while words:
                w = words.pop(0)
                opts.append(w)
                if w.endswith("]"):
                    break
            for o in " ".join(opts).strip("[]").split():
                if o.startswith("signed-by="):
                    signed_by = o.split("=", 1)[1]
        if len(words) >= 2:
            emit([words[0]], [words[1]], words[2:], signed_by)

for path in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
    stanza = {}
    for raw in list(open(path)) + [""]:
        line = raw.rstrip("\n")
        if line.startswith("#"):
            continue
        if not line.strip():
            if "deb" in stanza.get("types", "").split() and stanza.get("enabled", "yes") != "no":
                emit(stanza.get("uris", "").split(), stanza.get("suites", "").split(),
                     stanza.get("components", "").split(), stanza.get("signed-by", "").strip())
            stanza = {}
            continue
        if line[0] in " \t":
            continue  # continuation (an inline key block); not needed for a source entry
        key, _, value = line.partition(":")
        stanza[key.strip().lower()] = value.strip()

print("\n".join(lines))
