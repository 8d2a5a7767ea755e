#!/usr/bin/env python3
"""Generate N small C files (functions, string literals, init-array entries) for the link benchmark."""
import os, sys

def main():
    out, n = sys.argv[1], int(sys.argv[2])
    funcs = int(sys.argv[3]) if len(sys.argv) > 3 else 8
    os.makedirs(out, exist_ok=True)
    for i in range(n):
        lines = ["#include <stddef.h>", f"extern int sink_{(i + 1) % n}(int);"]
        for f in range(funcs):
            lines.append(f'static const char *s_{i}_{f} = "string {i} {f} %d";')
            lines.append(f"int f_{i}_{f}(int x) {{ return x * {f + 1} + (int)(size_t)s_{i}_{f}[0]; }}")
        lines.append(f"int sink_{i}(int x) {{ return x ? sink_{(i + 1) % n}(x - 1) + f_{i}_0(x) : 0; }}")
        lines.append(f"int (*table_{i}[])(int) = {{ " + ", ".join(f"f_{i}_{f}" for f in range(funcs)) + " };")
        lines.append(f"__attribute__((constructor({101 + i % 500}))) static void init_{i}(void) {{ }}")
        with open(os.path.join(out, f"m{i}.c"), "w") as fh:
            fh.write("\n".join(lines) + "\n")
    with open(os.path.join(out, "main.c"), "w") as fh:
        fh.write("int sink_0(int);\nint main(void) { return sink_0(3) & 1; }\n")

if __name__ == "__main__":
    main()
