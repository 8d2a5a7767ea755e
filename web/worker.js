// The link runs here, off the page's thread: the page stays responsive however long a link takes.
// Programs run in another worker (run_worker.js), which the page terminates to stop a run.
// Messages in: {id, inputs: [{name, bytes} | {group}], options} or {id, compile: {files, flags}}.
// Out: {id, type: 'progress', stage} while working, then {id, type: 'result', result, ms} (the ELF
// buffer transferred, not copied).
import { link, ready, useModule, compile, tccRuntime } from './initlink.js';

let loaded = false;

self.onmessage = async (ev) => {
  const { id, inputs, options, warmup, module } = ev.data;
  if (module) useModule(module);
  if (ev.data.compile) {
    // {id, compile: {files, flags}} → {id, type: 'compiled', result, runtime, ms}: tcc.wasm (loaded on
    // the first call) compiles every source; tcc's runtime library comes along for the link.
    self.postMessage({ id, type: 'progress', stage: 'compile', detail: 'Compiling with tcc (WebAssembly)…' });
    const t0 = performance.now();
    const result = await compile(ev.data.compile.files, { flags: ev.data.compile.flags });
    const runtime = result.ok ? await tccRuntime() : null;
    self.postMessage({ id, type: 'compiled', result, runtime, ms: performance.now() - t0 });
    return;
  }
  const progress = (stage, detail = '') => self.postMessage({ id, type: 'progress', stage, detail });
  if (!loaded) {
    progress('load', 'Loading the linker (WebAssembly)…');
    try {
      await ready();
      loaded = true;
    } catch {
      // link() below reports the failure as a diagnostic.
    }
  }
  if (warmup) {
    self.postMessage({ id, type: 'ready' });
    return;
  }
  const files = inputs.filter((i) => i.bytes);
  const kb = Math.round(files.reduce((n, f) => n + f.bytes.length, 0) / 1024);
  progress('link', `Linking ${files.length} file${files.length === 1 ? '' : 's'} (${kb} KB)…`);
  const t0 = performance.now();
  const result = await link(inputs, options);
  const ms = performance.now() - t0;
  progress('report', 'Reading the report…');
  // The page parses reportJson itself: one string crosses threads faster than a deep object.
  const { report, ...rest } = result;
  const transfer = rest.elf ? [rest.elf.buffer] : [];
  self.postMessage({ id, type: 'result', result: rest, ms }, transfer);
};
