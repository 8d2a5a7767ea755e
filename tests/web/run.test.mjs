// run() (web/run.js: the emulator's wasm module, pkg/emu/) under Node: the gallery's freestanding
// examples, linked by link() as the page links them, give the same output and exit status as the
// same ELF run natively, and the emulator sees the initializers in the order the report predicts.
// Bad input and endless loops come back as diagnostics, never a rejection or a hang.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync, readFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { link, run, emulatorReady, predictedStartup, observedStartup } from '../../web/initlink.js';
import { ROOT, tempDir, compile, read, FREESTANDING } from './helpers.mjs';

const { examples } = JSON.parse(readFileSync(join(ROOT, 'web', 'examples', 'index.json'), 'utf8'));

/** Link a gallery example as the page does (web/app.js). */
async function linkExample(ex) {
  const files = ex.inputs.map((i) => ({ name: i.name, url: ex.kind === 'pie' && i.pieUrl ? i.pieUrl : i.url }));
  if (ex.kind === 'pie' || ex.kind === 'exec') files.push({ name: 'libc.so.6.dso', url: 'examples/libc.so.6.dso' });
  const inputs = files.map((f) => ({ name: f.name, bytes: read(join(ROOT, 'web', f.url)) }));
  const w = await link(inputs, { output: ex.output, ...(ex.kind ? { kind: ex.kind } : {}), ...(ex.args.length ? { args: ex.args } : {}) });
  assert.ok(w.ok, `${ex.name}: ${w.diagnostics.map((d) => d.text).join('\n')}`);
  return w;
}

const freestanding = examples.filter((e) => !e.kind);

test('the gallery has freestanding examples to run', () => {
  assert.ok(freestanding.length >= 4, freestanding.map((e) => e.name).join(', '));
});

for (const ex of freestanding) {
  test(`${ex.name}: the emulator's output and exit status equal the native run's; initializers in the report's order`, async () => {
    const w = await linkExample(ex);
    const t = tempDir(`run-${ex.name}`);
    try {
      const exe = join(t.dir, 'prog');
      writeFileSync(exe, w.elf);
      chmodSync(exe, 0o755);
      const n = spawnSync(exe, [], { encoding: 'utf8', timeout: 10000, argv0: 'prog' });
      const r = await run(w.elf, { args: ['prog'], report: w.report });
      assert.deepEqual(r.diagnostics, []);
      assert.equal(r.ok, true);
      assert.equal(r.stdout, n.stdout);
      assert.equal(r.stderr, n.stderr);
      assert.equal(r.exitCode, n.status);
      assert.ok(r.instructions > 0);
      const predicted = predictedStartup(w.report).map((p) => `${p.kind} ${p.address}`);
      const observed = observedStartup(r.trace).map((o) => `${o.kind} ${o.address}`);
      assert.ok(predicted.length > 0);
      assert.deepEqual(observed, predicted);
      // _start, as the entry, is the first thing the trace records.
      assert.equal(r.trace[0].kind, 'entry');
      assert.ok(r.syscalls.some((s) => s.name === 'exit' || s.name === 'exit_group'), JSON.stringify(r.syscalls));
    } finally {
      t.cleanup();
    }
  });
}

test('the warm-up the page runs before the first Run: its built-in program exits 0 and traces its initializer', async () => {
  const r = await emulatorReady({ warm: true });
  assert.equal(r.ok, true, r.diagnostics.map((d) => d.text).join('\n'));
  assert.equal(r.exitCode, 0);
  assert.equal(r.stdout, 'ok\n');
  assert.deepEqual(r.trace.map((t) => [t.kind, t.symbol]), [['entry', '_start'], ['init', 'init']]);
  assert.equal(r.instructions, 173);
});

test('a shared object: a diagnostic that says so, no rejection (dynamic programs: dynamic.test.mjs)', async () => {
  const ex = examples.find((e) => e.name === 'module-registration');
  assert.ok(ex);
  const w = await linkExample(ex);
  const r = await run(w.elf, { report: w.report });
  assert.equal(r.ok, false);
  assert.equal(r.diagnostics.length, 1);
  assert.match(r.diagnostics[0].message, /shared object/);
});

test('garbage and bad arguments give diagnostics, never a rejection', async () => {
  for (const elf of [new Uint8Array(0), new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]), new TextEncoder().encode('not an ELF at all'),
    (() => { const b = new Uint8Array(4096); b.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]); for (let i = 16; i < b.length; i++) b[i] = (i * 7919) & 0xff; return b; })()]) {
    const r = await run(elf);
    assert.equal(r.ok, false);
    assert.ok(r.diagnostics.length > 0 && typeof r.diagnostics[0].message === 'string', JSON.stringify(r.diagnostics));
  }
  for (const [elf, opts] of [[null, {}], ['text', {}], [new Uint8Array(4), 'x'], [new Uint8Array(4), []]]) {
    const r = await run(elf, opts);
    assert.equal(r.ok, false);
    assert.equal(r.diagnostics.length, 1);
  }
});

test('maxInstructions stops an endless loop with a diagnostic', async () => {
  const t = tempDir('run-loop');
  try {
    const src = join(t.dir, 'loop.c');
    writeFileSync(src, 'int main(void) { volatile unsigned n = 0; for (;;) n++; }\n');
    const [obj] = compile(t.dir, [src], FREESTANDING);
    const w = await link([{ name: 'loop.o', bytes: read(obj) }]);
    assert.ok(w.ok, w.diagnostics.map((d) => d.text).join('\n'));
    const t0 = performance.now();
    const r = await run(w.elf, { report: w.report, maxInstructions: 200000 });
    assert.ok(performance.now() - t0 < 5000);
    assert.equal(r.ok, false);
    assert.equal(r.exitCode, null);
    assert.ok(r.instructions >= 200000 && r.instructions < 210000, String(r.instructions));
    assert.match(r.diagnostics[0].message, /instruction/i);
    // main was reached before the budget ran out.
    assert.ok(r.trace.some((e) => e.kind === 'main'));
    // The emulator still runs the next program.
    const ok = await run(w.elf, { maxInstructions: 10 });
    assert.equal(ok.ok, false);
  } finally {
    t.cleanup();
  }
});

test('args, env and stdin reach the program', async () => {
  const t = tempDir('run-io');
  try {
    const src = join(t.dir, 'echo.c');
    writeFileSync(src, `static long sys(long n, long a, long b, long c) { long r; __asm__ volatile ("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory"); return r; }
static unsigned len(const char *s) { unsigned n = 0; while (s[n]) n++; return n; }
int main(int argc, char **argv, char **envp) {
  for (int i = 0; i < argc; i++) { sys(1, 1, (long)argv[i], len(argv[i])); sys(1, 1, (long)"\\n", 1); }
  for (char **e = envp; *e; e++) { sys(1, 1, (long)*e, len(*e)); sys(1, 1, (long)"\\n", 1); }
  char buf[64]; long n = sys(0, 0, (long)buf, sizeof buf);
  if (n > 0) sys(1, 2, (long)buf, n);
  return argc;
}
`);
    const [obj] = compile(t.dir, [src], FREESTANDING);
    const w = await link([{ name: 'echo.o', bytes: read(obj) }]);
    assert.ok(w.ok, w.diagnostics.map((d) => d.text).join('\n'));
    const r = await run(w.elf, { args: ['prog', 'one', 'two'], env: ['A=1'], stdin: 'typed\n' });
    assert.deepEqual(r.diagnostics, []);
    assert.equal(r.stdout, 'prog\none\ntwo\nA=1\n');
    assert.equal(r.stderr, 'typed\n');
    assert.equal(r.exitCode, 3);
  } finally {
    t.cleanup();
  }
});
