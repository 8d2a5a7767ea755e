// The page's run worker: programs run here, off the page's thread and apart from the link worker
// (worker.js), so that Stop can terminate this one without touching the linker. It imports only
// the emulator's side of the API (run.js), not the linker or the compiler.
// Messages in: {id, run: {elf, reportJson, args, env, stdin, maxInstructions}}, {id, step: {op,
// ...}} for the step mode, or {emulatorWarmup: true, module} (load the emulator, from `module`
// when the page has one compiled, and warm it up). Out: {id, type: 'progress',
// stage, detail} while working, then {id, type: 'ran', result, ms} or {id, type: 'stepped',
// state, ms}; a warm-up answers {type: 'emulator', module} (the compiled module, for the next
// worker after a Stop) or nothing if the emulator cannot load.
import { run, stepThrough, emulatorReady, warmUp, emulatorModule, useEmulatorModule } from './run.js';

// The step mode's program (run.js's stepThrough), held between messages.
let stepper = null;
// Whether a run or step came: it warms the engine itself, so the warm-up stops.
let used = false;

self.onmessage = async (ev) => {
  const { id } = ev.data;
  if (ev.data.emulatorWarmup) {
    if (ev.data.module) useEmulatorModule(ev.data.module);
    try {
      await emulatorReady();
      self.postMessage({ type: 'emulator', module: await emulatorModule() });
      // emulatorReady({warm: true})'s three runs, each in a task of its own, so that a Run
      // clicked meanwhile waits for one at most.
      for (let i = 0; i < 3 && !used; i++) {
        await new Promise((resolve) => setTimeout(resolve, 0));
        if (!used) await warmUp();
      }
    } catch {
      // The first run reports the failure as a diagnostic.
    }
    return;
  }
  used ||= !!(ev.data.run || ev.data.step);
  if (ev.data.run) {
    // {id, run: {elf, reportJson, ...options}} → {id, type: 'ran', result, ms}: the emulator
    // executes the linked ELF and traces its start-up.
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
  }
};
