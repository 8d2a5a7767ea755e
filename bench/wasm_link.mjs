// One bench/bench.py workload linked through the wasm build (web/initlink.js) under Node.
// Reads a JSON spec on stdin: {cwd, args, files: [path], runs}. Each path is named as the link
// looks it up (the wasm side finds a file by full name, else by basename): plain arguments as
// written, relative to cwd; libraries and script inputs as the absolute path the CLI search found.
// Prints JSON: {median_ms, ok, diagnostics (when it failed), elf_sha256}.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createHash } from 'node:crypto';
import { link } from '../web/initlink.js';

const spec = JSON.parse(readFileSync(0, 'utf8'));

// The files are read once, before timing: in the playground they are already in memory, and
// Node's readFileSync of ~10 MB per run mostly measured its garbage collector (3-28 ms). The timed
// part is link(): packing the files into one buffer, copying it into the wasm memory, linking,
// copying the ELF out. The native side maps its inputs, which costs little.
const inputs = spec.files.map((name) => ({ name, bytes: readFileSync(resolve(spec.cwd, name)) }));
// Each link copies its ELF into the previous one's buffer (outputBuffer), as each native link
// writes over the previous output file (and initlink, mold and wild rewrite its pages in place).
let last = null;
async function once() {
  // No report: the native side is a plain link too.
  const r = await link(inputs, { args: spec.args, report: false, outputBuffer: last });
  last = r.elf;
  return r;
}

// Warm-up: compile and instantiate the module, and let V8 tier the hot functions up from its
// baseline compiler. V8 optimizes a function in the background once it has run enough, and a
// call runs the optimized code only from the next call on: on this 2-core machine a C++ link
// took 10-20 ms for its first ~15 runs (~250 ms), then 3 ms. So the warm-up is at least 4
// links and at least 1.5 s of linking (at most 200 links).
let r = await once();
const warmUntil = performance.now() + 1500;
for (let i = 1; r.ok && i < 200 && (i < 4 || performance.now() < warmUntil); i++) r = await once();
const times = [];
for (let i = 0; r.ok && i < spec.runs; i++) {
  const t0 = performance.now();
  r = await once();
  times.push(performance.now() - t0);
}
times.sort((a, b) => a - b);
const mid = times.length >> 1;
const median = times.length % 2 ? times[mid] : (times[mid - 1] + times[mid]) / 2;
const out = { ok: r.ok, median_ms: r.ok ? median : null };
if (r.ok) out.elf_sha256 = createHash('sha256').update(r.elf).digest('hex');
else out.diagnostics = r.diagnostics.map((d) => d.text);
console.log(JSON.stringify(out));
