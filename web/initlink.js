// initlink's JavaScript API: the linker compiled to WebAssembly, for the browser (page or worker)
// and Node. One call links; it never throws on bad input and a panic in the linker never kills the
// caller: both come back as diagnostics. See README.md, "JS API".
//
//   import { link } from './initlink.js';
//   const r = await link([{ name: 'a.o', bytes }], { entry: 'main', buildId: true });
//   r.elf          // Uint8Array | null
//   r.report       // the --report JSON, parsed (null when the link failed before a report existed)
//   r.reportJson   // the same text --report=FILE writes
//   r.map          // the text -Map=FILE writes
//   r.diagnostics  // [{severity, message, file, section, offset, symbol, notes, text}]
//   r.commandLine  // the GNU ld arguments the options stood for
//   r.timings      // with {time: true}: [{phase, ms}] per link phase, as the CLI's --time

import { wasmLoader } from './wasm_loader.js';

const memories = new WeakMap(); // bindings module → its wasm memory (the inputs are staged in it)
const loader = wasmLoader(new URL('../pkg/', import.meta.url), 'initlink_bg.wasm', 'initlink.js',
  (b, exports) => memories.set(b, exports.memory));
const bindings = () => loader.bindings();

/** Use an already compiled module (a page can compile it while its other files load). */
export function useModule(module) {
  loader.useModule(module);
}

/** Load and instantiate the WebAssembly module ahead of the first link (optional). */
export async function ready() {
  await bindings();
}

function diagnostic(message, extra = {}) {
  return { severity: 'error', message, file: null, section: null, offset: null, symbol: null, notes: [], text: `initlink: error: ${message}`, ...extra };
}

function normalize(d) {
  return {
    severity: d.severity, message: d.message,
    file: d.file ?? null, section: d.section ?? null, offset: d.offset ?? null, symbol: d.symbol ?? null,
    notes: d.notes ?? [], text: d.text ?? `initlink: ${d.severity}: ${d.message}`,
  };
}

function failed(diags, commandLine = []) {
  return { ok: false, elf: null, report: null, reportJson: '', map: '', diagnostics: diags, commandLine, timings: [] };
}

function toBytes(b) {
  if (b instanceof Uint8Array) return b;
  if (b instanceof ArrayBuffer) return new Uint8Array(b);
  if (ArrayBuffer.isView(b)) return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  return null;
}

/**
 * Link `inputs` ([{name, bytes: Uint8Array}] and {group: 'start'|'end'} markers, in command-line
 * order) with `options` ({output, kind, entry, buildId, ehFrameHdr, gcSections, time, execstack,
 * undefined, stripAll, stripDebug, report, args, outputBuffer}). Resolves to {ok, elf, report, reportJson, map,
 * diagnostics, commandLine, timings}; never rejects.
 */
export async function link(inputs, options = {}) {
  // 1. Check and pack the request: a JSON manifest plus every file's bytes in one buffer.
  const manifest = [];
  const parts = [];
  let total = 0;
  if (!Array.isArray(inputs)) return failed([diagnostic('link(inputs, options): inputs must be an array of {name, bytes} objects')]);
  if (options === null || typeof options !== 'object' || Array.isArray(options)) return failed([diagnostic('link(inputs, options): options must be an object')]);
  for (const [i, item] of inputs.entries()) {
    if (item && typeof item === 'object' && 'group' in item) {
      manifest.push({ group: String(item.group) });
      continue;
    }
    const bytes = item && toBytes(item.bytes);
    if (!item || typeof item.name !== 'string' || !bytes) {
      return failed([diagnostic(`input ${i}: expected {name: string, bytes: Uint8Array} or {group: "start"|"end"}`)]);
    }
    manifest.push({ name: item.name, size: bytes.length });
    parts.push(bytes);
    total += bytes.length;
  }
  const { outputBuffer, ...linkOptions } = options;
  if (outputBuffer != null && !(outputBuffer instanceof Uint8Array)) {
    return failed([diagnostic("option 'outputBuffer' must be a Uint8Array (the elf of an earlier link)")]);
  }
  let request;
  try {
    request = JSON.stringify({ inputs: manifest, options: linkOptions });
  } catch (e) {
    return failed([diagnostic(`options cannot be serialized: ${e.message}`)]);
  }
  // 2. Link in wasm. A trap (a panic, or running out of memory) is reported, and the next call
  //    gets a fresh instance.
  let b;
  try {
    b = await bindings();
  } catch (e) {
    return failed([diagnostic(`cannot load the linker's WebAssembly module: ${e.message}`)]);
  }
  let result;
  try {
    // Mangled names are demangled by a module of their own, loaded only when a link lists names
    // it needs (meta.demangle_wanted); that link is run again with the answers, so the output is
    // the same whether or not the demangler was loaded before.
    const demangled = {};
    let meta;
    let demangleNote = null;
    for (let attempt = 0; ; attempt++) {
      // The files go straight into the module's memory, one after another.
      const ptr = b.stage_inputs(total);
      const mem = new Uint8Array(memories.get(b).buffer, ptr, total);
      let at = 0;
      for (const p of parts) { mem.set(p, at); at += p.length; }
      result = b.link_staged(attempt === 0 ? request : JSON.stringify({ inputs: manifest, options: linkOptions, demangled }));
      meta = JSON.parse(result.meta_json());
      if (!meta.demangle_wanted.length || attempt === 2) break;
      demangleNote = await demangleInto(meta.demangle_wanted, demangled);
      result.free();
      result = null;
    }
    const { elf, note } = copyOut(memories.get(b), result, outputBuffer);
    if (elf && meta.build_id_at != null) await fillBuildId(b, elf, meta.build_id_at);
    const reportJson = result.report_json();
    const map = result.map();
    const diagnostics = meta.diagnostics.map(normalize);
    if (note) diagnostics.push(normalize({ severity: 'warning', message: note }));
    if (demangleNote) diagnostics.push(normalize({ severity: 'warning', message: demangleNote }));
    return {
      ok: !!elf && !diagnostics.some((d) => d.severity === 'error'),
      elf, report: reportJson ? JSON.parse(reportJson) : null, reportJson, map, diagnostics,
      commandLine: meta.command_line, timings: meta.timings,
    };
  } catch (e) {
    loader.reset();
    let msg = null;
    try { msg = b.take_panic(); } catch { /* the instance is gone; the message with it */ }
    const kind = e instanceof WebAssembly.RuntimeError ? 'WebAssembly trap' : 'error';
    return failed([diagnostic(msg ?? `initlink stopped with a ${kind}: ${e && e.message}`, { notes: msg ? [`${kind}: ${e && e.message}`] : [] })]);
  } finally {
    try { result?.free(); } catch { /* already freed or instance gone */ }
  }
}

// The demangler (demangle/ built to pkg/demangle/): a sixth of the linker's size, so not loaded
// until a link needs a name demangled.
const demangler = wasmLoader(new URL('../pkg/demangle/', import.meta.url), 'initlink_demangle_bg.wasm', 'initlink_demangle.js');

/** Demangle `names` into `answers` (null: not validly mangled). A note when the demangler could
 *  not be loaded: the names then stay mangled in messages and `extern "C++"` patterns. */
async function demangleInto(names, answers) {
  let d;
  try {
    d = await demangler.bindings();
  } catch (e) {
    for (const n of names) answers[n] = null;
    return `names are shown mangled: cannot load the demangler (${e.message})`;
  }
  for (const n of names) {
    try {
      answers[n] = d.demangle(n) ?? null;
    } catch {
      // A trap leaves the instance unusable: this name stays mangled, the next gets a fresh one.
      answers[n] = null;
      demangler.reset();
      d = await demangler.bindings();
    }
  }
  return null;
}

/** The ELF copied out of the module's memory ({elf: null} when the link failed): into `reuse`'s
 *  memory when it has room (no fresh pages to fault in: a 40 MB copy took 25 ms into a new
 *  buffer, 5 into one used before), else into a new buffer, with a note saying why (`reuse` too
 *  small, or detached: transferred to another thread or its memory released). Never writes
 *  outside `reuse`'s buffer and never throws on a detached one. */
function copyOut(memory, result, reuse) {
  const n = result.elf_len();
  if (n === undefined) return { elf: null, note: null };
  const src = new Uint8Array(memory.buffer, result.elf_ptr(), n);
  let note = null;
  let elf = null;
  if (reuse) {
    // A detached buffer reports byteLength 0 (and a view on it byteOffset 0).
    const room = reuse.buffer.byteLength - reuse.byteOffset;
    if (reuse.buffer.byteLength === 0 && reuse.byteLength === 0 && n > 0) {
      note = 'outputBuffer is detached or empty: the ELF was written into a new buffer';
    } else if (room < n) {
      note = `outputBuffer has room for ${room} bytes, the ELF is ${n}: it was written into a new buffer`;
    } else {
      elf = new Uint8Array(reuse.buffer, reuse.byteOffset, n);
    }
  }
  elf ??= new Uint8Array(n);
  elf.set(src);
  return { elf, note };
}

/** The SHA-1 build ID the linker left zero at `at`, as the native linker computes it: of the
 *  whole file up to 1 MiB, else of its 1 MiB chunks' SHA-1s. Web Crypto hashes natively (and
 *  the chunks concurrently) where software SHA-1 in wasm was a sixth of a link. */
const BUILD_ID_CHUNK = 1 << 20;
async function fillBuildId(b, elf, at) {
  const subtle = globalThis.crypto?.subtle;
  let id;
  if (!subtle) {
    id = b.build_id_sha1(elf);
  } else if (elf.length <= BUILD_ID_CHUNK) {
    id = new Uint8Array(await subtle.digest('SHA-1', elf));
  } else {
    const parts = [];
    for (let o = 0; o < elf.length; o += BUILD_ID_CHUNK) {
      parts.push(subtle.digest('SHA-1', elf.subarray(o, Math.min(o + BUILD_ID_CHUNK, elf.length))));
    }
    const digests = await Promise.all(parts);
    const joined = new Uint8Array(20 * digests.length);
    digests.forEach((d, i) => joined.set(new Uint8Array(d), 20 * i));
    id = new Uint8Array(await subtle.digest('SHA-1', joined));
  }
  elf.set(id.subarray(0, 20), at);
}

/** For tests: make the linker panic, and report it as link() would. */
export async function panicForTest() {
  const b = await bindings();
  try {
    b.test_panic();
    return failed([]);
  } catch (e) {
    loader.reset();
    let msg = null;
    try { msg = b.take_panic(); } catch { /* ignore */ }
    return failed([diagnostic(msg ?? `WebAssembly trap: ${e.message}`, { notes: [`${e instanceof WebAssembly.RuntimeError ? 'WebAssembly.RuntimeError' : e.name}: ${e.message}`] })]);
  }
}

/** The linker's version (from the wasm module). */
export async function version() {
  return (await bindings()).version();
}

// The C compiler and assembler (TinyCC in WebAssembly), loaded on the first compile(): see compile.js.
export { compile, compilerReady, tccRuntime, DEFAULT_COMPILE_FLAGS } from './compile.js';
// The x86-64 emulator, loaded on the first run(): see run.js.
export { run, stepThrough, emulatorReady, predictedStartup, observedStartup, libraryStartup, loadBias, DEFAULT_MAX_INSTRUCTIONS } from './run.js';
