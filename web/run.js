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
//   r.trace         // [{kind, symbol, address, caller, args, instruction}]: every call into an
//                   // address the report lists (kind: preinit, init, fini, dt_init, dt_fini,
//                   // main, entry, stub), in the order the machine made them
//   r.syscalls      // [{number, name, args, result, instruction}]
//   r.instructions  // how many instructions ran
//   r.diagnostics   // [{severity, message, text}]: why it stopped, if not by exiting
//
// Static and freestanding programs run; a dynamic one (PT_INTERP: PIE or non-PIE against
// libc.so.6) needs ld.so and libc in a virtual file system the page does not provide yet, so
// run() says so in a diagnostic.

import { wasmLoader } from './wasm_loader.js';

const loader = wasmLoader(new URL('../pkg/emu/', import.meta.url), 'initlink_emu_wasm_bg.wasm', 'initlink_emu_wasm.js');
const bindings = () => loader.bindings();

/** The emulator's default instruction budget. */
export const DEFAULT_MAX_INSTRUCTIONS = 100_000_000;

/** Load the emulator ahead of the first run (optional). */
export async function emulatorReady() {
  await bindings();
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

/** Whether `elf` is an x86-64 ELF with a PT_INTERP program header (a dynamic program). */
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

/**
 * Run `elf` (a Uint8Array) with `options` ({args, env, stdin, maxInstructions, trace, report}):
 * `args` from argv[0] (default ['prog']), `env` as ['NAME=value'], `stdin` a string, `report` the
 * `report` of link() (its initializers, main and _start become trace points), `trace` more
 * points [{address, kind, symbol}]. Resolves to {ok, exitCode, signal, stdout, stderr, trace,
 * syscalls, instructions, diagnostics}; never rejects.
 */
export async function run(elf, options = {}) {
  const bytes = toBytes(elf);
  if (!bytes) return failed('run(elf, options): elf must be a Uint8Array (the elf of link())');
  if (options === null || typeof options !== 'object' || Array.isArray(options)) return failed('run(elf, options): options must be an object');
  const { args, env, stdin, maxInstructions, trace, report } = options;
  if (report?.output?.kind === 'shared') {
    return failed('a shared object has no entry point to run: a program that needs or dlopens it runs its initializers');
  }
  const interp = interpreterOf(bytes);
  if (interp) {
    return failed(`this is a dynamic program (PT_INTERP ${interp}): it needs the dynamic loader and libc.so.6, which the page does not provide yet; only static and freestanding programs run in the page for now`);
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
    });
  } catch (e) {
    return failed(`options cannot be serialized: ${e.message}`);
  }
  let b;
  try {
    b = await bindings();
  } catch (e) {
    return failed(`cannot load the emulator's WebAssembly module: ${e.message}`);
  }
  try {
    const r = JSON.parse(b.run(bytes, request));
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
  } catch (e) {
    loader.reset();
    const kind = e instanceof WebAssembly.RuntimeError ? 'WebAssembly trap' : 'error';
    return failed(`the emulator stopped with a ${kind}: ${e && e.message}`);
  }
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

/** The trace's calls of the kinds predictedStartup() lists, in the order the machine made them. */
export function observedStartup(trace) {
  return (trace ?? []).filter((t) => ['preinit', 'init', 'main', 'fini', 'dt_init', 'dt_fini'].includes(t.kind));
}
