// The playground's C compiler and assembler: TinyCC 0.9.27 (Debian's tcc source package with
// web/tcc/initlink-tcc.patch) compiled to WebAssembly (pkg/tcc/tcc.wasm, built by web/tcc/build.sh),
// run through a WASI shim (@bjorn3/browser_wasi_shim, copied to pkg/tcc/browser_wasi_shim/ at build
// time) over an in-memory file system. For the browser (page or worker) and Node; initlink.js
// re-exports compile(). Nothing is loaded until the first compile().
//
//   import { compile } from './initlink.js';
//   const r = await compile([{ name: 'hello.c', text }, { name: 'say.h', text }]);
//   r.ok           // every source compiled without an error
//   r.objects      // [{name: 'hello.o', bytes: Uint8Array}], one per .c/.s/.S source, in order
//   r.diagnostics  // [{file, line, column, severity, message, text}] as tcc printed them
//
// Each source is compiled by a fresh instance (`tcc FLAGS -c NAME -o OBJ`), so one source's
// failure, or a trap, never affects the next. Every other file (headers, say) sits beside the
// sources, so `#include "say.h"` finds it; tcc's own headers (stddef.h, stdarg.h, ...) are at
// /tcc/include; the libc headers (stdio.h, stdlib.h, string.h, ... from the build machine's
// libc6-dev, pkg/tcc/libc-include.json) at /tcc/libc/include, fetched the first time a file
// includes a system header that is not tcc's own.

const PKG = new URL('../pkg/tcc/', import.meta.url);
const isNode = typeof process !== 'undefined' && !!(process.versions && process.versions.node);

/** The flags compile() uses when none are given: tcc's own defaults suit the freestanding
 *  examples (no system include directories, no stack protector, no unwind tables, non-PIC code
 *  that links into static and PIE executables alike), so there are none. */
export const DEFAULT_COMPILE_FLAGS = Object.freeze([]);

const SOURCE = /\.(c|s|S)$/;

let loaded = null; // Promise<{module, shim, headers}>

async function fetchBytes(url) {
  if (isNode) {
    const { readFile } = await import('node:fs/promises');
    return new Uint8Array(await readFile(url));
  }
  const resp = await fetch(url);
  if (!resp.ok) throw new Error(`cannot load ${url}: HTTP ${resp.status}`);
  return new Uint8Array(await resp.arrayBuffer());
}

function load() {
  if (!loaded) {
    loaded = (async () => {
      const [module, shim, headers] = await Promise.all([
        fetchBytes(new URL('tcc.wasm', PKG)).then((b) => WebAssembly.compile(b)),
        import(new URL('browser_wasi_shim/index.js', PKG).href),
        fetchBytes(new URL('include.json', PKG)).then((b) => JSON.parse(new TextDecoder().decode(b))),
      ]);
      return { module, shim, headers };
    })();
    loaded.catch(() => { loaded = null; });
  }
  return loaded;
}

let libcHeaders = null; // Promise<{relative path: text}>

/** The libc headers (pkg/tcc/libc-include.json, written by web/tcc/libc_headers.py). */
function loadLibcHeaders() {
  if (!libcHeaders) {
    libcHeaders = fetchBytes(new URL('libc-include.json', PKG)).then((b) => JSON.parse(new TextDecoder().decode(b)));
    libcHeaders.catch(() => { libcHeaders = null; });
  }
  return libcHeaders;
}

/** Whether any of `inputs` includes a system header other than tcc's own (`headers`): then the
 *  libc headers go into the file system too. */
function wantsLibc(inputs, headers) {
  const dec = new TextDecoder();
  return inputs.some((f) => [...dec.decode(f.bytes).matchAll(/^\s*#\s*include\s*<([^>]+)>/gm)].some((m) => !(m[1] in headers)));
}

let runtime = null; // Promise<Uint8Array>

/** tcc's runtime library, `libtcc1.a` (pkg/tcc/libtcc1.a): `__va_arg` for `va_arg`, conversions
 *  between 64-bit integers and floating types, `alloca`. Objects that call them need it in the
 *  link, after themselves, as tcc's own driver adds it. Resolves to {name: 'libtcc1.a', bytes},
 *  or null when it cannot be loaded. */
export async function tccRuntime() {
  if (!runtime) {
    runtime = fetchBytes(new URL('libtcc1.a', PKG));
    runtime.catch(() => { runtime = null; });
  }
  try {
    return { name: 'libtcc1.a', bytes: (await runtime).slice() };
  } catch {
    return null;
  }
}

/** Load the compiler ahead of the first compile() (optional). */
export async function compilerReady() {
  await load();
}

function diag(severity, message, extra = {}) {
  return { file: null, line: null, column: null, severity, message, text: `tcc: ${severity}: ${message}`, ...extra };
}

function failed(diagnostics) {
  return { ok: false, objects: [], diagnostics };
}

/** A relative path with no empty, `.` or `..` component, else null. */
function cleanName(name) {
  if (typeof name !== 'string' || name === '' || name.startsWith('/') || name.includes('\0')) return null;
  const parts = name.split('/');
  if (parts.some((p) => p === '' || p === '.' || p === '..')) return null;
  return parts;
}

/** tcc's stderr as diagnostics. Its lines: `FILE:LINE:COL: error: MSG` (the column is this
 *  build's addition, where tcc knows the token), `FILE:LINE: warning: MSG`, `FILE: error: MSG`,
 *  `tcc: error: MSG`, and `In file included from FILE:LINE:` before a diagnostic in a header. */
export function parseDiagnostics(stderr) {
  const out = [];
  let included = [];
  for (const line of stderr.split('\n')) {
    if (line.trim() === '') continue;
    let m = /^In file included from (.*):(\d+):$/.exec(line);
    if (m) { included.push({ file: m[1], line: Number(m[2]) }); continue; }
    m = /^(.*?):(\d+):(?:(\d+):)? (error|warning|note): (.*)$/.exec(line);
    if (m) {
      out.push({ file: m[1], line: Number(m[2]), column: m[3] ? Number(m[3]) : null, severity: m[4], message: m[5], text: line, ...(included.length ? { includedFrom: included } : {}) });
      included = [];
      continue;
    }
    m = /^(.*?): (error|warning|note): (.*)$/.exec(line);
    if (m) {
      out.push({ file: m[1] === 'tcc' ? null : m[1], line: null, column: null, severity: m[2], message: m[3], text: line });
      included = [];
      continue;
    }
    // Anything else tcc printed belongs to the diagnostic before it (or stands alone).
    if (out.length) out[out.length - 1].message += `\n${line}`;
    else out.push(diag('error', line, { text: line }));
  }
  return out;
}

function toBytes(file) {
  if (typeof file.text === 'string') return new TextEncoder().encode(file.text);
  const b = file.bytes;
  if (b instanceof Uint8Array) return b;
  if (b instanceof ArrayBuffer) return new Uint8Array(b);
  if (ArrayBuffer.isView(b)) return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  return null;
}

/**
 * Compile the `.c` and assemble the `.s`/`.S` files among `files` ([{name, text}] or
 * [{name, bytes}]) with tcc.wasm, each to an ELF x86-64 relocatable object named like its source
 * with `.o`. `options.flags`: tcc's command-line flags instead of DEFAULT_COMPILE_FLAGS (`-I`, `-D`,
 * `-g`, `-Wall`, ...). Resolves to {ok, objects: [{name, bytes}], diagnostics: [{file, line,
 * column, severity, message, text}]}; never rejects.
 */
export async function compile(files, options = {}) {
  try {
    return await compileInner(files, options);
  } catch (e) {
    return failed([diag('error', `compile() failed: ${e && e.message}`)]);
  }
}

async function compileInner(files, options) {
  if (!Array.isArray(files)) return failed([diag('error', 'compile(files, options): files must be an array of {name, text} or {name, bytes} objects')]);
  if (options === null || typeof options !== 'object' || Array.isArray(options)) return failed([diag('error', 'compile(files, options): options must be an object')]);
  const flags = options.flags ?? DEFAULT_COMPILE_FLAGS;
  if (!Array.isArray(flags) || flags.some((f) => typeof f !== 'string' || f.includes('\0'))) {
    return failed([diag('error', "option 'flags' must be an array of strings (tcc's command-line flags)")]);
  }
  const inputs = [];
  const seen = new Set();
  for (const [i, file] of files.entries()) {
    const parts = file && typeof file === 'object' ? cleanName(file.name) : null;
    const bytes = parts && toBytes(file);
    if (!parts || !bytes) {
      return failed([diag('error', `file ${i}: expected {name, text: string} or {name, bytes: Uint8Array} with a relative name (no '..', no leading '/')`)]);
    }
    if (parts[0] === 'tcc') return failed([diag('error', `file ${i}: '${file.name}': tcc/ holds the compiler's own headers`)]);
    if (seen.has(file.name)) return failed([diag('error', `file ${i}: '${file.name}' is given twice`)]);
    seen.add(file.name);
    const obj = SOURCE.test(file.name) ? file.name.replace(SOURCE, '.o') : null;
    if (obj && seen.has(`\0${obj}`)) return failed([diag('error', `file ${i}: '${file.name}' would make ${obj} too, as an earlier source does`)]);
    if (obj) seen.add(`\0${obj}`);
    inputs.push({ name: file.name, parts, bytes });
  }

  let tcc;
  try {
    tcc = await load();
  } catch (e) {
    return failed([diag('error', `cannot load the compiler (pkg/tcc/tcc.wasm): ${e && e.message}`)]);
  }

  if (wantsLibc(inputs, tcc.headers)) {
    try {
      tcc = { ...tcc, libc: await loadLibcHeaders() };
    } catch (e) {
      return failed([diag('error', `cannot load the libc headers (pkg/tcc/libc-include.json): ${e && e.message}`)]);
    }
  }
  const objects = [];
  const diagnostics = [];
  for (const src of inputs) {
    if (!SOURCE.test(src.name)) continue;
    const objName = src.name.replace(SOURCE, '.o');
    const r = await runTcc(tcc, inputs, [...flags, '-c', src.name, '-o', objName], objName);
    diagnostics.push(...r.diagnostics);
    if (r.object) objects.push({ name: objName, bytes: r.object });
  }
  const ok = objects.length === inputs.filter((f) => SOURCE.test(f.name)).length
    && !diagnostics.some((d) => d.severity === 'error');
  return { ok, objects, diagnostics };
}

/** One run of tcc.wasm over a fresh file system holding `inputs` at /, tcc's headers at
 *  /tcc/include and, if loaded, the libc headers at /tcc/libc/include. Resolves to
 *  {object: Uint8Array|null, diagnostics}. */
async function runTcc({ module, shim, headers, libc }, inputs, args, objName) {
  const { WASI, File, Directory, OpenFile, ConsoleStdout, PreopenDirectory } = shim;
  const root = new Map();
  const put = (parts, bytes) => {
    let dir = root;
    for (const p of parts.slice(0, -1)) {
      let d = dir.get(p);
      if (!(d instanceof Directory)) { d = new Directory(new Map()); dir.set(p, d); }
      dir = d.contents;
    }
    dir.set(parts[parts.length - 1], new File(bytes, { readonly: true }));
  };
  for (const f of inputs) put(f.parts, f.bytes);
  const enc = new TextEncoder();
  for (const [n, t] of Object.entries(headers)) put(['tcc', 'include', n], enc.encode(t));
  for (const [n, t] of Object.entries(libc ?? {})) put(['tcc', 'libc', 'include', ...n.split('/')], enc.encode(t));
  let stderr = '';
  const dec = new TextDecoder();
  const out = new ConsoleStdout((b) => { stderr += dec.decode(b, { stream: true }); });
  const wasi = new WASI(['tcc', ...args], [], [new OpenFile(new File([])), out, out, new PreopenDirectory('/', root)], { debug: false });
  let status;
  try {
    const instance = await WebAssembly.instantiate(module, { wasi_snapshot_preview1: wasi.wasiImport });
    status = wasi.start(instance);
  } catch (e) {
    const kind = e instanceof WebAssembly.RuntimeError ? 'a WebAssembly trap' : e instanceof RangeError ? 'a stack overflow' : 'an error';
    return { object: null, diagnostics: [...parseDiagnostics(stderr), diag('error', `tcc stopped with ${kind} compiling ${args[args.length - 3]}: ${e && e.message}`)] };
  }
  const diagnostics = parseDiagnostics(stderr);
  const node = objName.split('/').reduce((d, p) => (d instanceof Map ? d.get(p) : d?.contents?.get(p)), root);
  const object = status === 0 && node instanceof File ? new Uint8Array(node.data) : null;
  if (!object && !diagnostics.some((d) => d.severity === 'error')) {
    diagnostics.push(diag('error', `tcc exited with status ${status} and wrote no ${objName}`));
  }
  return { object, diagnostics };
}
