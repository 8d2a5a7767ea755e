#!/usr/bin/env python3
"""Repair wasm-opt's output for Debian bookworm's binaryen (version 108): when a module has two
tables (the funcref table for indirect calls and wasm-bindgen's externref table), binaryen 108
writes the export `__wbindgen_externrefs` with table index 0, the funcref table, and the bindings
then fail at start-up (`WebAssembly.Table.set(): Argument 1 is invalid for table`). This script
points the export back at the externref table. It changes nothing in a module that is already right.

usage: fix_table_export.py MODULE.wasm
"""
import sys

EXPORT_NAME = b"__wbindgen_externrefs"


def leb(data, i):
    """Read an unsigned LEB128 at i; return (value, next index)."""
    value = shift = 0
    while True:
        b = data[i]
        i += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return value, i


def sections(data):
    i = 8
    while i < len(data):
        sid = data[i]
        size, body = leb(data, i + 1)
        yield sid, body, body + size
        i = body + size


def skip_limits(data, i):
    flags = data[i]
    _, i = leb(data, i + 1)
    if flags & 1:
        _, i = leb(data, i)
    return i


def main(path):
    data = bytearray(open(path, "rb").read())
    if data[:4] != b"\0asm":
        sys.exit(f"{path}: not a wasm module")
    table_types = []  # reftype of every table, imports first
    export_at = None
    for sid, i, end in sections(data):
        if sid == 2:  # imports
            n, i = leb(data, i)
            for _ in range(n):
                for _ in range(2):  # module, name
                    ln, i = leb(data, i)
                    i += ln
                kind = data[i]
                i += 1
                if kind == 0:  # func: type index
                    _, i = leb(data, i)
                elif kind == 1:  # table
                    table_types.append(data[i])
                    i = skip_limits(data, i + 1)
                elif kind == 2:  # memory
                    i = skip_limits(data, i)
                elif kind == 3:  # global
                    i += 2
                else:
                    sys.exit(f"{path}: unknown import kind {kind}")
        elif sid == 4:  # tables
            n, i = leb(data, i)
            for _ in range(n):
                table_types.append(data[i])
                i = skip_limits(data, i + 1)
        elif sid == 7:  # exports
            n, i = leb(data, i)
            for _ in range(n):
                ln, i = leb(data, i)
                name = bytes(data[i:i + ln])
                i += ln
                kind = data[i]
                idx, nxt = leb(data, i + 1)
                if name == EXPORT_NAME and kind == 1:
                    export_at = (i + 1, idx, nxt)
                i = nxt
    if export_at is None:
        print(f"fix_table_export: {path}: no {EXPORT_NAME.decode()} table export, nothing to do")
        return
    externref = [k for k, t in enumerate(table_types) if t == 0x6F]
    if len(externref) != 1:
        sys.exit(f"{path}: expected one externref table, found {len(externref)}")
    at, idx, nxt = export_at
    want = externref[0]
    if idx == want:
        return
    if nxt - at != 1 or want > 0x7F:
        sys.exit(f"{path}: cannot patch a multi-byte table index")
    data[at] = want
    open(path, "wb").write(data)
    print(f"fix_table_export: {path}: {EXPORT_NAME.decode()} now exports table {want} (was {idx})")


if __name__ == "__main__":
    main(sys.argv[1])
