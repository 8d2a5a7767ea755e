#!/usr/bin/env python3
"""Link benchmark: initlink against GNU ld, gold, lld, mold and wild on the same command lines.

Each workload is compiled here with gcc. Its link command line is the one gcc's collect2 passes
(captured with -v, plugin options dropped), run unchanged with every linker. Runs are interleaved,
several per linker, after one untimed round. It prints the median wall time, the peak RSS, and
initlink's ratio to each.
With --wasm it also runs the same links through the wasm build under Node (bench/wasm_link.mjs),
with their ratio to native and whether the ELF is byte-identical to the native one.

Each timed link starts on a settled machine: initlink, mold and wild return once the output is
in place and leave a child (mold, wild: forked at the start; initlink: a helper made at the
exit) freeing memory and unmapping inputs; the script is their
subreaper and waits for such children before the next link (--no-settle: it does not, and the
next linker in the round runs alongside the previous one's teardown). It prints how long they ran.

usage: bench/bench.py [--runs N] [--only NAME,...] [--wasm] [--no-settle]
"""
import argparse, ctypes, hashlib, json, os, re, shlex, shutil, statistics, subprocess, sys, tempfile, time, resource

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = os.path.join(ROOT, "target", "bench")

def sh(cmd, **kw):
    return subprocess.run(cmd, shell=isinstance(cmd, str), check=True, **kw)

def linkers():
    found = {}
    ini = os.path.join(ROOT, "target", "release", "initlink")
    found["initlink"] = ini
    for name, cands in [("ld.bfd", ["ld.bfd"]), ("gold", ["ld.gold"]), ("lld", ["ld.lld", "ld.lld-19"]),
                        ("mold", ["mold"]), ("wild", ["wild"])]:
        for c in cands:
            p = shutil.which(c) or (os.path.expanduser(f"~/.cargo/bin/{c}") if os.path.exists(os.path.expanduser(f"~/.cargo/bin/{c}")) else None)
            if p:
                found[name] = p
                break
    return found

def collect2_args(compile_cmd, cwd):
    """The ld arguments gcc would pass, from `gcc -v` (collect2 line), plugin options dropped."""
    r = subprocess.run(compile_cmd + ["-v"], cwd=cwd, capture_output=True, text=True)
    for line in r.stderr.splitlines():
        if "collect2" in line:
            args = shlex.split(line)[1:]
            out, skip = [], False
            for a in args:
                if skip:
                    skip = False
                    continue
                if a == "-plugin":
                    skip = True
                    continue
                if a.startswith("-plugin-opt"):
                    continue
                out.append(a)
            return out
    raise SystemExit(f"no collect2 line for {compile_cmd}:\n{r.stderr}")

def objects_for(compile_cmd, cwd):
    """Compile the sources to objects once; return the command line with objects."""
    return compile_cmd

def prepare():
    os.makedirs(WORK, exist_ok=True)
    w = {}
    # small C program + sqlite, PIE
    d = os.path.join(WORK, "sqlite"); os.makedirs(d, exist_ok=True)
    open(os.path.join(d, "main.c"), "w").write(
        '#include <sqlite3.h>\n#include <stdio.h>\nint main(void){sqlite3*db;char*e=0;sqlite3_open(":memory:",&db);'
        'sqlite3_exec(db,"create table t(x); insert into t values(1);",0,0,&e);printf("%s\\n",sqlite3_libversion());'
        'sqlite3_close(db);return 0;}\n')
    sh(["gcc", "-O1", "-c", "main.c"], cwd=d)
    w["sqlite PIE"] = (d, ["gcc", "-o", "out", "main.o", "/usr/lib/x86_64-linux-gnu/libsqlite3.a", "-lm", "-lpthread", "-ldl"])
    d = os.path.join(WORK, "crypto"); os.makedirs(d, exist_ok=True)
    open(os.path.join(d, "main.c"), "w").write(
        '#include <openssl/evp.h>\n#include <stdio.h>\nint main(void){unsigned char h[32];unsigned n;EVP_Digest("abc",3,h,&n,EVP_sha256(),0);'
        'for(unsigned i=0;i<n;i++)printf("%02x",h[i]);puts("");return 0;}\n')
    sh(["gcc", "-O1", "-c", "main.c"], cwd=d)
    w["crypto PIE"] = (d, ["gcc", "-o", "out", "main.o", "/usr/lib/x86_64-linux-gnu/libcrypto.a", "-lpthread", "-ldl"])
    d = os.path.join(WORK, "many")
    if not os.path.exists(os.path.join(d, "m1999.o")):
        sh([sys.executable, os.path.join(ROOT, "bench", "gen_many.py"), d, "2000", "4"])
        sh("ls m*.c main.c | xargs -P2 -n50 gcc -O1 -c", cwd=d)
    w["2,001 objects PIE"] = (d, ["gcc", "-o", "out", "main.o"] + [f"m{i}.o" for i in range(2000)])
    d = os.path.join(WORK, "cxx"); os.makedirs(d, exist_ok=True)
    open(os.path.join(d, "main.cc"), "w").write(
        '#include <iostream>\n#include <map>\n#include <string>\nint main(){std::map<std::string,int> m{{"a",1}};'
        'for(auto&p:m)std::cout<<p.first<<p.second<<"\\n";return 0;}\n')
    sh(["g++", "-O1", "-c", "main.cc"], cwd=d)
    w["C++ iostream PIE"] = (d, ["g++", "-o", "out", "main.o"])
    d = os.path.join(WORK, "static"); os.makedirs(d, exist_ok=True)
    open(os.path.join(d, "main.c"), "w").write('#include <stdio.h>\n#include <stdlib.h>\nint main(void){printf("%g\\n",atof("1.5"));return 0;}\n')
    sh(["gcc", "-O1", "-c", "main.c"], cwd=d)
    w["static libc.a"] = (d, ["gcc", "-static", "-o", "out", "main.o"])
    d = os.path.join(WORK, "large")
    if not os.path.exists(os.path.join(d, "m599.o")):
        sh([sys.executable, os.path.join(ROOT, "bench", "gen_many.py"), d, "600", "300"])
        sh("ls m*.c main.c | xargs -P2 -n20 gcc -O0 -c", cwd=d)
    w["large generated PIE"] = (d, ["gcc", "-o", "out", "main.o"] + [f"m{i}.o" for i in range(600)])
    # --gc-sections, every linker with it: a real library, the generated objects with a section
    # per function and per variable (most are unreachable: only the constructors and the chain
    # from main stay), and the large link, where nearly everything is reachable (the walk's cost).
    gc = ["-Wl,--gc-sections"]
    w["crypto PIE --gc-sections"] = (w["crypto PIE"][0], w["crypto PIE"][1] + gc)
    d = os.path.join(WORK, "many-gc")
    if not os.path.exists(os.path.join(d, "m1999.o")):
        sh([sys.executable, os.path.join(ROOT, "bench", "gen_many.py"), d, "2000", "4"])
        sh("ls m*.c main.c | xargs -P2 -n50 gcc -O1 -ffunction-sections -fdata-sections -c", cwd=d)
    w["2,001 objects --gc-sections"] = (d, ["gcc", "-o", "out", "main.o"] + [f"m{i}.o" for i in range(2000)] + gc)
    w["large --gc-sections"] = (w["large generated PIE"][0], w["large generated PIE"][1] + gc)
    return w

# Options whose value is the next argument (so it is not an input file).
VALUE_OPTS = {"-o", "-m", "-z", "-e", "-u", "-dynamic-linker", "-I", "-rpath", "-R", "-soname", "-h",
              "-rpath-link", "-Map", "-hash-style", "-plugin", "-report", "-init-stub", "-entry",
              "-undefined", "-output"}

def find_library(name, static_only, dirs):
    """crate/src/bin/initlink.rs find_library: per directory, libNAME.so then libNAME.a."""
    if name.startswith(":"):
        cands = [name[1:]]
    else:
        cands = [f"lib{name}.a"] if static_only else [f"lib{name}.so", f"lib{name}.a"]
    for d in dirs:
        for c in cands:
            if os.path.isfile(os.path.join(d, c)):
                return os.path.join(d, c)
    return None

def script_items(path):
    """The inputs a linker script names: ("path", p) and ("lib", name), plus its SEARCH_DIRs."""
    text = re.sub(r"/\*.*?\*/", " ", open(path, errors="replace").read(), flags=re.S)
    items, dirs, stack = [], [], []
    for t in re.findall(r'"[^"]*"|[(),]|[^\s(),]+', text):
        t = t.strip('"')
        if t == "(" or t == ",":
            continue
        if t == ")":
            stack.pop()
        elif t in ("INPUT", "GROUP", "AS_NEEDED", "OUTPUT_FORMAT", "OUTPUT_ARCH", "TARGET", "SEARCH_DIR"):
            stack.append(t)
        elif stack and stack[-1] == "SEARCH_DIR":
            dirs.append(t)
        elif stack and stack[-1] in ("INPUT", "GROUP", "AS_NEEDED"):
            items.append(("lib", t[2:]) if t.startswith("-l") else ("path", t))
    return items, dirs

def is_script(path):
    with open(path, "rb") as f:
        head = f.read(256)
    return bool(head) and all(32 < b < 127 or b in b" \t\n\r\x0c" for b in head)

def link_files(args, cwd):
    """The files a link with these arguments reads, emulating the CLI's search (-L/-l, -Bstatic,
    --push-state/--pop-state, linker scripts expanded in place). Each is named as the wasm side will
    look it up: a plain argument as written, anything found by a search as the path found."""
    dirs, queue, static, stack = [], [], False, []
    i = 0
    while i < len(args):
        a = args[i]
        opt = a[1:] if a.startswith("--") else a
        if not a.startswith("-"):
            queue.append(("path", a, static))
        elif opt in ("-static", "-Bstatic", "-dn", "-non_shared"):
            static = True
        elif opt in ("-Bdynamic", "-dy", "-call_shared"):
            static = False
        elif opt == "-push-state":
            stack.append(static)
        elif opt == "-pop-state":
            static = stack.pop()
        elif opt in ("-L", "-l", "-library-path", "-library"):
            i += 1
            if opt in ("-L", "-library-path"):
                dirs.append(args[i])
            else:
                queue.append(("lib", args[i], static))
        elif a.startswith("-L"):
            dirs.append(a[2:])
        elif a.startswith("-l"):
            queue.append(("lib", a[2:], static))
        elif opt in VALUE_OPTS:
            i += 1
        i += 1
    files = []
    while queue:
        kind, name, static = queue.pop(0)
        if kind == "lib":
            found = find_library(name, static, dirs)
        elif os.path.isabs(name) or os.path.exists(os.path.join(cwd, name)):
            found = name
        else:  # a bare name in a script is searched for in the -L directories
            found = next((os.path.join(d, name) for d in dirs if os.path.isfile(os.path.join(d, name))), name)
        path = os.path.join(cwd, found)
        if not os.path.isfile(path):
            continue  # the wasm link will report it missing
        if found not in files:
            files.append(found)
        if is_script(path):
            items, more = script_items(path)
            dirs += more
            # A -l inside a script inherits -Bstatic only from the -l that named the script.
            queue[:0] = [(k, n, static and kind == "lib") for k, n in items]
    return files

def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()

def wasm_link(args, cwd, runs):
    """Link through the wasm build under Node: {ok, median_ms, elf_sha256 | diagnostics}."""
    spec = {"cwd": cwd, "args": args, "files": link_files(args, cwd), "runs": runs}
    r = subprocess.run(["node", os.path.join(ROOT, "bench", "wasm_link.mjs")], input=json.dumps(spec),
                       capture_output=True, text=True)
    try:
        return json.loads(r.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):  # Node itself died (out of memory, a crash): say how
        return {"ok": False, "diagnostics": [f"node exited {r.returncode}: " + (r.stderr.strip()[-500:] or "no output")]}

SETTLE = False

def become_subreaper():
    """Adopt orphaned descendants (a forking linker's child), so that settle() can wait for them."""
    try:
        PR_SET_CHILD_SUBREAPER = 36
        return ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False

def settle():
    """Wait for adopted descendants still running; how long that took (s)."""
    t0 = time.perf_counter()
    while True:
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return time.perf_counter() - t0
        except InterruptedError:
            continue

def run_once(exe, args, cwd):
    """Wall time of one link (until the command returns), exit code, stderr, and how long its
    child or helper ran on after that (0 without --settle)."""
    t0 = time.perf_counter()
    p = subprocess.Popen([exe] + args, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, err = p.communicate()
    t = time.perf_counter() - t0
    tail = settle() if SETTLE else 0.0
    return t, p.returncode, err.decode(errors="replace"), tail

# Linkers that fork (the parent exits once the output is ready, a child frees the memory): their
# memory is measured with the fork off, so that /usr/bin/time sees the process that did the work.
# (initlink does the work in the process it exits from, handing the teardown to a helper; its
# --no-fork only keeps the teardown in that process, and is passed for symmetry.)
NO_FORK = {"initlink": ["--no-fork"], "mold": ["--no-fork"], "wild": ["--no-fork"]}

def peak_rss(name, exe, args, cwd):
    r = subprocess.run(["/usr/bin/time", "-f", "%M", exe] + NO_FORK.get(name, []) + args, cwd=cwd,
                       capture_output=True, text=True)
    try:
        return int(r.stderr.strip().splitlines()[-1]) / 1024.0
    except Exception:
        return float("nan")

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--only", default="")
    ap.add_argument("--wasm", action="store_true", help="also link through the wasm build under Node")
    ap.add_argument("--no-settle", action="store_true",
                    help="start each link while the previous linker's child or helper may still run")
    a = ap.parse_args()
    global SETTLE
    SETTLE = not a.no_settle and become_subreaper()
    sh(["cargo", "build", "--release", "-q", "-p", "initlink"], cwd=ROOT)
    if a.wasm:
        sh([os.path.join(ROOT, "dev"), "build-web"], cwd=ROOT)  # pkg/: the wasm build, up to date
    ls = linkers()
    print("linkers: " + ", ".join(f"{k} ({v})" for k, v in ls.items()))
    missing = [n for n in ["ld.bfd", "gold", "lld", "mold", "wild"] if n not in ls]
    if missing:
        print("missing (install: apt-get install binutils mold lld-19; cargo install wild-linker --version 0.10.0): " + ", ".join(missing))
    work = prepare()
    only = [s.strip() for s in a.only.split(",") if s.strip()]
    rows = []
    tail_rows = []
    for name, (cwd, cmd) in work.items():
        if only and not any(o.lower() in name.lower() for o in only):
            continue
        args = collect2_args(cmd, cwd)
        times = {k: [] for k in ls}
        tails = {k: [] for k in ls}
        failed = {}
        # Round 0 is not timed: the first linker of a round (initlink) would otherwise read the
        # system archives and libraries into the page cache for all the others (its first links
        # of sqlite and crypto took 2x its median).
        for r in range(a.runs + 1):
            for k, exe in ls.items():  # interleaved
                if k in failed:
                    continue
                t, rc, err, tail = run_once(exe, args, cwd)
                if rc != 0:
                    failed[k] = err.strip().splitlines()[-1] if err.strip() else f"exit {rc}"
                    continue
                if r > 0:
                    times[k].append(t)
                    tails[k].append(tail)
        mem = {k: peak_rss(k, exe, args, cwd) for k, exe in ls.items() if k not in failed}
        wasm = None
        if a.wasm:
            # Every linker wrote `out`: link with initlink once more to have its ELF to compare.
            _, rc, _, _ = run_once(ls["initlink"], args, cwd)
            wasm = wasm_link(args, cwd, a.runs)
            wasm["native_sha256"] = sha256(os.path.join(cwd, "out")) if rc == 0 else None
        rows.append((name, {k: statistics.median(v) for k, v in times.items() if v}, mem, failed, wasm))
        tail_rows.append((name, {k: statistics.median(v) for k, v in tails.items() if v}))
    print()
    names = [k for k in ls]
    hdr = f"{'workload':<28}" + "".join(f"{n:>12}" for n in names)
    print("median wall time (ms), peak RSS (MiB) below")
    print(hdr)
    for name, med, mem, failed, _ in rows:
        print(f"{name:<28}" + "".join(f"{med[n]*1000:>12.1f}" if n in med else f"{'fail':>12}" for n in names))
        print(f"{'':<28}" + "".join(f"{mem[n]:>11.0f}M" if n in mem else f"{'':>12}" for n in names))
    print()
    print("initlink time ratio (initlink / other; < 1 means initlink is faster)")
    print(f"{'workload':<28}" + "".join(f"{n:>12}" for n in names if n != "initlink"))
    for name, med, mem, failed, _ in rows:
        line = f"{name:<28}"
        for n in names:
            if n == "initlink":
                continue
            line += f"{med['initlink']/med[n]:>12.2f}" if "initlink" in med and n in med else f"{'-':>12}"
        print(line)
    for name, med, mem, failed, _ in rows:
        for k, e in failed.items():
            print(f"note: {k} failed on {name}: {e}")
    forking = [n for n in names if n in NO_FORK]
    if SETTLE:
        print()
        print("child or helper still running after the command returned (median ms; waited out before the next link)")
        print(f"{'workload':<28}" + "".join(f"{n:>12}" for n in forking))
        for name, tail in tail_rows:
            print(f"{name:<28}" + "".join(f"{tail[n]*1000:>12.1f}" if n in tail else f"{'-':>12}" for n in forking))
    else:
        print()
        print("(--no-settle: each link started while the previous linker's child or helper could still run)")
    if a.wasm:
        print()
        print("wasm under Node (web/initlink.js link() with the files in memory, no report; warmed up: 4+ links, 1.5+ s; each ELF copied into the last one's buffer) vs native initlink process (ms)")
        print(f"{'workload':<28}{'native':>12}{'wasm':>12}{'wasm/native':>13}  ELF")
        for name, med, mem, failed, w in rows:
            nat = med.get("initlink")
            line = f"{name:<28}" + (f"{nat*1000:>12.1f}" if nat else f"{'fail':>12}")
            if not w["ok"]:
                print(line + f"{'fail':>12}")
                continue
            same = "identical" if w["elf_sha256"] == w["native_sha256"] else "DIFFERENT from native"
            ratio = f"{w['median_ms'] / (nat*1000):>13.2f}" if nat else f"{'-':>13}"
            print(line + f"{w['median_ms']:>12.1f}" + ratio + "  " + same)
        for name, med, mem, failed, w in rows:
            if not w["ok"]:
                print(f"note: wasm failed on {name}: " + " | ".join(w["diagnostics"][:5]))

if __name__ == "__main__":
    main()
