// Run a linked program in the page: initlink's x86-64 user-mode emulator (emu/, the wasm module
// pkg/emu/initlink_emu_wasm_bg.wasm built by ./dev build-web) executes the ELF and records its
// start-up. For the browser (page or worker) and Node; initlink.js re-exports run(). Nothing is
// loaded until the first run().
//
//   import { link, run } from './initlink.js';
//   const l = await link(inputs);
//   const r = await run(l.elf, { report: l.report, args: ['prog'], stdin: '' });
//   r.ok            // the program ran to exit (no trap, no unimplemented instruction, in budget)
//   r.exitCode      // its exit status (null when it did not exit)
//   r.stdout        // what it wrote, as strings
//   r.stderr
//   r.trace         // [{kind, symbol, address, caller, args, instruction, library}]: every call
//                   // into an address the report lists (kind: preinit, init, fini, dt_init,
//                   // dt_fini, main, entry, stub), and in a dynamic program into a library's
//                   // initializers and finalizers, in the order the machine made them
//   r.syscalls      // [{number, name, args, result, instruction, tid, path}]: args as signed
//                   // numbers, result a negative errno on failure, tid the thread, path the
//                   // string a path argument named
//   r.instructions  // how many instructions ran
//   r.diagnostics   // [{severity, message, text}]: why it stopped, if not by exiting
//
// stepThrough(elf, options) loads the same program to walk it an instruction at a time (the
// page's step mode): step(n), runTo({breakpoints, trace, kinds}), finish(), each returning the
// registers, flags, top of the stack and next instruction (see its comment).
//
// A dynamic program (PT_INTERP: PIE or non-PIE against libc.so.6) runs with the real dynamic
// loader and libraries of the machine that built the page (pkg/emu/lib/, copied there by ./dev
// build-web): the first such run fetches the loader and the libraries the program needs
// (DT_NEEDED, and theirs), the emulator maps them from its virtual file system, and the trace
// lists each library's initializers and finalizers too, with `library` set (`libc.so.6`).
// `files` adds files of your own (a library the program needs or dlopens).

import { wasmLoader } from './wasm_loader.js';

const loader = wasmLoader(new URL('../pkg/emu/', import.meta.url), 'initlink_emu_wasm_bg.wasm', 'initlink_emu_wasm.js');
const bindings = () => loader.bindings();
const LIBS = new URL('../pkg/emu/lib/', import.meta.url);
const isNode = typeof process !== 'undefined' && !!(process.versions && process.versions.node);

/** The emulator's default instruction budget. */
export const DEFAULT_MAX_INSTRUCTIONS = 100_000_000;

/**
 * Load the emulator ahead of the first run (optional). With `{warm: true}` it then runs a small
 * built-in program three times and resolves to the last run's result: the engine compiles each
 * function of the module on its first call and optimizes it after some more, which made a first
 * run far slower than the next (docs/benchmarks.md).
 */
export async function emulatorReady({ warm = false } = {}) {
  await bindings();
  if (!warm) return undefined;
  await warmUp();
  await warmUp();
  return warmUp();
}

/** One run of emulatorReady()'s built-in program (loading the emulator if need be). */
export function warmUp() {
  return run(tinyElf(WARM_CODE), { args: ['warm'], trace: [{ address: 0x401043, kind: 'init', symbol: 'init' }] });
}

/** The compiled emulator module (a WebAssembly.Module, which a page can hand to another worker's
 *  useEmulatorModule()). */
export function emulatorModule() {
  return loader.module();
}

/** Use an already compiled emulator module (from emulatorModule() in another worker). */
export function useEmulatorModule(module) {
  loader.useModule(module);
}

// The warm-up program, at 0x401000 (as, then objcopy -O binary):
//   _start: call init; xor ecx, ecx
//   1: add rcx, 1; lea rax, [rcx + rcx*2 + 7]; mov [rsp - 8], rax; movzx edx, byte ptr [rsp - 8]
//      push rcx; pop rcx; cmp rcx, 20; jne 1b
//      write(1, msg, 3); exit(0)
//   init: inc r12; test r12, r12; ret
//   msg: .ascii "ok\n"
const WARM_CODE = [
  0xe8, 0x3e, 0x00, 0x00, 0x00, 0x31, 0xc9, 0x48, 0x83, 0xc1, 0x01, 0x48, 0x8d, 0x44, 0x49, 0x07,
  0x48, 0x89, 0x44, 0x24, 0xf8, 0x0f, 0xb6, 0x54, 0x24, 0xf8, 0x51, 0x59, 0x48, 0x83, 0xf9, 0x14,
  0x75, 0xe5, 0xb8, 0x01, 0x00, 0x00, 0x00, 0xbf, 0x01, 0x00, 0x00, 0x00, 0x48, 0x8d, 0x35, 0x17,
  0x00, 0x00, 0x00, 0xba, 0x03, 0x00, 0x00, 0x00, 0x0f, 0x05, 0xb8, 0x3c, 0x00, 0x00, 0x00, 0x31,
  0xff, 0x0f, 0x05, 0x49, 0xff, 0xc4, 0x4d, 0x85, 0xe4, 0xc3, 0x6f, 0x6b, 0x0a,
];

/** A static x86-64 executable of `code`: one PT_LOAD (r-x) at 0x401000, its entry. */
function tinyElf(code) {
  const f = new Uint8Array(0x1000 + code.length);
  const dv = new DataView(f.buffer);
  f.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  dv.setUint16(16, 2, true); // ET_EXEC
  dv.setUint16(18, 62, true); // EM_X86_64
  dv.setUint32(20, 1, true);
  dv.setBigUint64(24, 0x401000n, true); // e_entry
  dv.setBigUint64(32, 64n, true); // e_phoff
  dv.setUint16(52, 64, true);
  dv.setUint16(54, 56, true);
  dv.setUint16(56, 1, true);
  dv.setUint32(64, 1, true); // PT_LOAD
  dv.setUint32(68, 5, true); // PF_R | PF_X
  dv.setBigUint64(72, 0x1000n, true);
  dv.setBigUint64(80, 0x401000n, true);
  dv.setBigUint64(88, 0x401000n, true);
  dv.setBigUint64(96, BigInt(code.length), true);
  dv.setBigUint64(104, BigInt(code.length), true);
  dv.setBigUint64(112, 0x1000n, true);
  f.set(code, 0x1000);
  return f;
}

function diag(message) {
  return { severity: 'error', message, text: `run: error: ${message}` };
}

function failed(message, extra = {}) {
  return { ok: false, exitCode: null, signal: null, stdout: '', stderr: '', trace: [], syscalls: [], instructions: 0, diagnostics: [diag(message)], ...extra };
}

function toBytes(b) {
  if (b instanceof Uint8Array) return b;
  if (b instanceof ArrayBuffer) return new Uint8Array(b);
  if (ArrayBuffer.isView(b)) return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  return null;
}

/** The PT_INTERP path of an x86-64 ELF (a dynamic program), or null. */
export function interpreterOf(elf) {
  if (elf.length < 64 || elf[0] !== 0x7f || elf[1] !== 0x45 || elf[2] !== 0x4c || elf[3] !== 0x46 || elf[4] !== 2) return null;
  const dv = new DataView(elf.buffer, elf.byteOffset, elf.byteLength);
  const phoff = Number(dv.getBigUint64(32, true));
  const phentsize = dv.getUint16(54, true);
  const phnum = dv.getUint16(56, true);
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    if (phentsize < 56 || at + 56 > elf.length) return null;
    if (dv.getUint32(at, true) === 3) {
      const off = Number(dv.getBigUint64(at + 8, true));
      const size = Number(dv.getBigUint64(at + 32, true));
      if (off + size > elf.length) return '?';
      return new TextDecoder().decode(elf.subarray(off, off + size)).replace(/\0.*$/s, '') || '?';
    }
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// The loader and the libraries (pkg/emu/lib/index.json, written by web/build_libs.py): each
// fetched once, gzipped, the first time a program needs it.

let libIndex = null; // Promise<[{path, url, soname, needed, size, gzipSize, interp}]>
const libBytes = new Map(); // url → Promise<Uint8Array>

async function fetchBytes(url) {
  if (isNode) {
    const { readFile } = await import('node:fs/promises');
    return new Uint8Array(await readFile(url));
  }
  const resp = await fetch(url);
  if (!resp.ok) throw new Error(`cannot load ${url}: HTTP ${resp.status}`);
  return new Uint8Array(await resp.arrayBuffer());
}

/** The bytes of a gzip file (as they are when a server already decoded it: no gzip magic). */
async function gunzip(bytes) {
  if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) return bytes;
  if (isNode) {
    const { gunzipSync } = await import('node:zlib');
    return new Uint8Array(gunzipSync(bytes));
  }
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

function systemLibraries() {
  if (!libIndex) {
    libIndex = fetchBytes(new URL('index.json', LIBS)).then((b) => JSON.parse(new TextDecoder().decode(b)).files);
    libIndex.catch(() => { libIndex = null; });
  }
  return libIndex;
}

function systemFile(entry) {
  let p = libBytes.get(entry.url);
  if (!p) {
    p = fetchBytes(new URL(entry.url, LIBS)).then(gunzip);
    p.catch(() => libBytes.delete(entry.url));
    libBytes.set(entry.url, p);
  }
  return p;
}

/** The page's files a program needs: its loader and, transitively, the libraries it names that
 *  the page has and `own` does not replace (the loader reports any other as not found). */
async function neededFiles(needs, own, onProgress) {
  const index = await systemLibraries();
  const chosen = new Map(); // path → entry
  const want = [needs.interp, ...needs.needed];
  while (want.length) {
    const name = want.shift();
    const e = index.find((f) => f.path === name || (!name.includes('/') && (f.soname === name || f.path.endsWith(`/${name}`))));
    if (!e || chosen.has(e.path) || own.has(e.path)) continue;
    chosen.set(e.path, e);
    want.push(...e.needed);
  }
  const entries = [...chosen.values()];
  const pending = entries.filter((e) => !libBytes.has(e.url));
  if (pending.length && onProgress) {
    const kb = Math.round(pending.reduce((n, e) => n + e.gzipSize, 0) / 1024);
    onProgress(`Loading ${pending.map((e) => e.soname).join(', ')} (${kb} KB, once)…`);
  }
  return Promise.all(entries.map(async (e) => ({ path: e.path, bytes: await systemFile(e) })));
}

/** `options.files` as [{path, bytes}] with absolute paths (relative ones from `cwd`), or the
 *  text of what is wrong with it. */
function ownFiles(files, cwd) {
  if (files == null) return [];
  if (!Array.isArray(files)) return 'run(elf, options): files must be an array of {path, bytes}';
  const out = [];
  for (const [i, f] of files.entries()) {
    const bytes = f && typeof f === 'object' ? toBytes(f.bytes) : null;
    if (!bytes || typeof f.path !== 'string' || f.path === '' || f.path.includes('\0')) {
      return `run(elf, options): files[${i}] must be {path: string, bytes: Uint8Array}`;
    }
    out.push({ path: f.path.startsWith('/') ? f.path : `${cwd.replace(/\/$/, '')}/${f.path.replace(/^\.\//, '')}`, bytes });
  }
  return out;
}

/** Everything a run or a step-through session needs: the bindings, the ELF, the request JSON and
 *  the files' bytes one after another; or {error} with the text of what is wrong. */
async function prepare(elf, options) {
  const bytes = toBytes(elf);
  if (!bytes) return { error: 'run(elf, options): elf must be a Uint8Array (the elf of link())' };
  if (options === null || typeof options !== 'object' || Array.isArray(options)) return { error: 'run(elf, options): options must be an object' };
  const { args, env, stdin, maxInstructions, trace, report, onProgress } = options;
  if (report?.output?.kind === 'shared') {
    return { error: 'a shared object has no entry point to run: a program that needs or dlopens it runs its initializers' };
  }
  const cwd = typeof options.cwd === 'string' && options.cwd.startsWith('/') ? options.cwd : '/';
  const own = ownFiles(options.files, cwd);
  if (typeof own === 'string') return { error: own };
  let b;
  try {
    b = await bindings();
  } catch (e) {
    return { error: `cannot load the emulator's WebAssembly module: ${e.message}` };
  }
  let files = own;
  const interp = interpreterOf(bytes);
  if (interp) {
    try {
      // The program's DT_NEEDED and those of the libraries given in `files`.
      const needed = [bytes, ...own.map((f) => f.bytes)].flatMap((e) => JSON.parse(b.needs(e)).needed ?? []);
      const system = await neededFiles({ interp, needed }, new Set(own.map((f) => f.path)),
        typeof onProgress === 'function' ? onProgress : null);
      files = [...system, ...own];
    } catch (e) {
      if (e instanceof WebAssembly.RuntimeError) loader.reset();
      return { error: `cannot load the dynamic loader and libraries (pkg/emu/lib/, which ./dev build-web fills): ${e && e.message}` };
    }
    if (!files.some((f) => f.path === interp)) {
      return { error: `this dynamic program's loader ${interp} is neither among the page's (pkg/emu/lib/) nor in the files given` };
    }
  }
  let request;
  try {
    request = JSON.stringify({
      args: Array.isArray(args) ? args.map(String) : ['prog'],
      env: Array.isArray(env) ? env.map(String) : [],
      stdin: stdin == null ? '' : String(stdin),
      ...(maxInstructions != null ? { maxInstructions: Math.max(0, Math.floor(Number(maxInstructions))) || 0 } : {}),
      ...(report && typeof report === 'object' ? { report } : {}),
      ...(Array.isArray(trace) ? { trace } : {}),
      files: files.map((f) => ({ path: f.path, size: f.bytes.length })),
      cwd,
    });
  } catch (e) {
    return { error: `options cannot be serialized: ${e.message}` };
  }
  // The files one after another, as the emulator takes them.
  const blob = new Uint8Array(files.reduce((n, f) => n + f.bytes.length, 0));
  files.reduce((at, f) => { blob.set(f.bytes, at); return at + f.bytes.length; }, 0);
  return { b, bytes, request, blob };
}

/** The emulator's result JSON as run() gives it. */
function resultOf(r) {
  return {
    ok: !!r.ok,
    exitCode: r.exitCode ?? null,
    signal: r.signal ?? null,
    stdout: r.stdout ?? '',
    stderr: r.stderr ?? '',
    trace: r.trace ?? [],
    syscalls: r.syscalls ?? [],
    instructions: r.instructions ?? 0,
    diagnostics: (r.diagnostics ?? []).map(diag),
  };
}

function trapped(e) {
  loader.reset();
  const kind = e instanceof WebAssembly.RuntimeError ? 'WebAssembly trap' : 'error';
  return `the emulator stopped with a ${kind}: ${e && e.message}`;
}

/**
 * Run `elf` (a Uint8Array) with `options` ({args, env, stdin, maxInstructions, trace, report,
 * files, cwd, onProgress}): `args` from argv[0] (default ['prog']), `env` as ['NAME=value'],
 * `stdin` a string, `report` the `report` of link() (its initializers, main and _start become
 * trace points), `trace` more points [{address, kind, symbol}], `files` [{path, bytes}] the
 * program may open besides the page's loader and libraries, `cwd` the directory relative paths
 * start from (default '/'), `onProgress(text)` told when libraries are being fetched. Resolves to
 * {ok, exitCode, signal, stdout, stderr, trace, syscalls, instructions, diagnostics}; never
 * rejects.
 */
export async function run(elf, options = {}) {
  const p = await prepare(elf, options);
  if (p.error) return failed(p.error);
  try {
    return resultOf(JSON.parse(p.b.run(p.bytes, p.request, p.blob)));
  } catch (e) {
    return failed(trapped(e));
  }
}

/**
 * Load `elf` to walk it instruction by instruction (the page's step mode): the same `options` as
 * run(). Resolves (never rejects) to a stepper whose `state` is the machine before its first
 * instruction, and whose methods run it on and return the new state:
 *   step(n = 1)        execute n instructions
 *   runTo({breakpoints: [address], trace: true, kinds: ['init', 'main'], max: n})
 *                      run until an address (before executing it; not the one it stands on), the
 *                      next call into a traced address of those kinds (all kinds by default), n
 *                      more instructions, or the end
 *   finish()           run to the end; `state.result` is then what run() gives
 *   close()            free the machine
 * A state is {stopped ('loaded', 'step', 'breakpoint', 'traced', 'end'), done, ok, exitCode,
 * signal, diagnostics, rip, instructions, tid, threads, regs: {rax: '0x…', …} (hex strings: a
 * JSON number cannot hold 64 bits), rflags, flags (['ZF', 'PF', …]: CF PF AF ZF SF DF OF that are
 * set), fsBase, stack ([{address, value}]: 8 words from %rsp), instruction ({address, bytes,
 * text, symbol}: the next to run), stdout, stderr, trace and syscalls (everything so far)}.
 */
export async function stepThrough(elf, options = {}) {
  const p = await prepare(elf, options);
  const trace = [];
  const syscalls = [];
  let machine = null;
  let last = null;
  const fail = (message) => {
    last = { stopped: 'end', done: true, ok: false, exitCode: null, signal: null, diagnostics: [diag(message)], rip: null, instructions: last?.instructions ?? 0,
      regs: null, flags: [], stack: [], instruction: null, stdout: last?.stdout ?? '', stderr: last?.stderr ?? '', trace, syscalls, result: failed(message) };
    try { machine?.free(); } catch { /* the instance is gone */ }
    machine = null;
    return last;
  };
  const take = (json) => {
    const s = JSON.parse(json);
    trace.push(...(s.trace ?? []));
    syscalls.push(...(s.syscalls ?? []));
    last = { ...s, diagnostics: (s.diagnostics ?? []).map(diag), trace: [...trace], syscalls: [...syscalls], ...(s.result ? { result: resultOf(s.result) } : {}) };
    return last;
  };
  const call = (f) => {
    if (!machine) return last;
    try {
      return take(f(machine));
    } catch (e) {
      return fail(trapped(e));
    }
  };
  if (p.error) {
    fail(p.error);
  } else {
    try {
      machine = new p.b.Stepper(p.bytes, p.request, p.blob);
      take(machine.state());
    } catch (e) {
      fail(trapped(e));
    }
  }
  return {
    get state() { return last; },
    step: (n = 1) => call((m) => m.step(Math.max(1, Math.floor(Number(n)) || 1))),
    runTo: (target = {}) => call((m) => m.run_to(JSON.stringify(target ?? {}))),
    finish: () => call((m) => m.finish()),
    close: () => { try { machine?.free(); } catch { /* gone */ } machine = null; },
  };
}

const STEP_KIND = { '.preinit_array': 'preinit', '.init_array': 'init', main: 'main', '.fini_array': 'fini' };

/** What the report predicts runs, in order: [{kind, symbol, address, seq}] from its start-up sequence
 *  (initializers, _init, main, finalizers, _fini), the entries a run's trace can be held to. */
export function predictedStartup(report) {
  const seq = report?.init_arrays?.sequence ?? [];
  return seq.map((s, seqIndex) => ({ s, seqIndex })).filter(({ s }) => s.address != null).map(({ s, seqIndex }) => ({
    kind: STEP_KIND[s.step] ?? (s.step.startsWith('_init') ? 'dt_init' : s.step.startsWith('_fini') ? 'dt_fini' : s.step),
    symbol: s.symbol ?? s.step,
    address: s.address,
    seq: seqIndex, // its index in report.init_arrays.sequence
  }));
}

/** The trace's calls of the kinds predictedStartup() lists, in the order the machine made them:
 *  the program's own (the libraries' initializers, which the report does not predict, are in
 *  libraryStartup()). */
export function observedStartup(trace) {
  return (trace ?? []).filter((t) => !t.library && ['preinit', 'init', 'main', 'fini', 'dt_init', 'dt_fini'].includes(t.kind));
}

/** Where the program ran relative to its link-time addresses (the report's): a PIE is loaded at
 *  some base (the emulator's is 0x555555554000), an executable where it was linked (0). From the
 *  trace's entry event, which is the jump to the report's entry point. */
export function loadBias(report, trace) {
  const entry = (trace ?? []).find((t) => t.kind === 'entry' && !t.library);
  const at = report?.output?.entry;
  return entry && typeof at === 'number' ? entry.address - at : 0;
}

/** The initializers and finalizers of the libraries a dynamic program loaded, in the order the
 *  loader called them; each has `library` (e.g. `libc.so.6`). */
export function libraryStartup(trace) {
  return (trace ?? []).filter((t) => t.library);
}
