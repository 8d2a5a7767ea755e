// The link runs here, off the page's thread: the page stays responsive however long a link takes.
// The page runs programs in a second instance of this worker, which it terminates to stop a run.
// Messages in: {id, inputs: [{name, bytes} | {group}], options}, {id, compile: {files, flags}},
// {id, run: {elf, reportJson, args, env, stdin, maxInstructions}}, {id, step: {op, ...}} for the
// step mode, or {emulatorWarmup: true} (load the emulator, unanswered). Out: {id, type: 'progress', stage} while working, then {id, type: 'result', result, ms}
// (the ELF buffer transferred, not copied).
import { link, ready, useModule, compile, tccRuntime, run, stepThrough, emulatorReady } from './initlink.js';

let loaded = false;
// The step mode's program (run.js's stepThrough), held between messages.
let stepper = null;

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
  if (ev.data.run) {
    // {id, run: {elf, reportJson, ...options}} → {id, type: 'ran', result, ms}: the emulator
    // (loaded on the first run) executes the linked ELF and traces its start-up.
    const { elf, reportJson, ...opts } = ev.data.run;
    self.postMessage({ id, type: 'progress', stage: 'run', detail: 'Running in the x86-64 emulator (WebAssembly)…' });
    const t0 = performance.now();
    let report = null;
    try { report = reportJson ? JSON.parse(reportJson) : null; } catch { /* run without trace points */ }
    // A dynamic program's loader and libraries are fetched on its first run: say so meanwhile.
    const onProgress = (detail) => self.postMessage({ id, type: 'progress', stage: 'run', detail });
    const result = await run(elf, { ...opts, report, onProgress });
    self.postMessage({ id, type: 'ran', result, ms: performance.now() - t0 });
    return;
  }
  if (ev.data.emulatorWarmup) {
    // Load the emulator ahead of the first run (the page's pointer is on Run); no answer.
    emulatorReady().catch(() => {});
    return;
  }
  if (ev.data.step) {
    // {id, step: {op: 'start', elf, reportJson, ...options}} loads a program stopped at its entry;
    // then {op: 'step', n}, {op: 'runTo', target}, {op: 'finish'} run it on and {op: 'close'}
    // frees it (unanswered). → {id, type: 'stepped', state, ms}: the machine's state (run.js, stepThrough).
    const { op, elf, reportJson, n, target, ...opts } = ev.data.step;
    const t0 = performance.now();
    let state = null;
    if (op === 'start') {
      stepper?.close();
      let report = null;
      try { report = reportJson ? JSON.parse(reportJson) : null; } catch { /* no trace points */ }
      const onProgress = (detail) => self.postMessage({ id, type: 'progress', stage: 'run', detail });
      stepper = await stepThrough(elf, { ...opts, report, onProgress });
      state = stepper.state;
    } else if (op === 'close') {
      // No answer: the page has left the step mode and waits for nothing.
      stepper?.close();
      stepper = null;
      return;
    } else if (stepper) {
      state = op === 'step' ? stepper.step(n) : op === 'runTo' ? stepper.runTo(target) : stepper.finish();
    }
    self.postMessage({ id, type: 'stepped', state, ms: performance.now() - t0 });
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
