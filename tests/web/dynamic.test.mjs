// Dynamic programs in the wasm emulator under Node (run() in web/run.js, with the loader and
// libraries ./dev build-web copies into pkg/emu/lib/): every C and C++ fixture of tests/fixtures
// (static/ and cxx/, the groups tests/e2e.rs also links as PIE and non-PIE against glibc), linked
// by initlink through gcc -pie and -no-pie, every shared/ fixture (a program with its own
// libraries), and the gallery's glibc example linked by link() as the page links it, give the
// same standard output, standard error and exit status as the same ELF run natively. The trace shows libc.so.6's initializers, called by the loader before the
// program's entry, and the program's own in the report's order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, existsSync, statSync, mkdirSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { link, run, predictedStartup, observedStartup, libraryStartup, loadBias } from '../../web/initlink.js';
import { ROOT, initlinkBin, tempDir, read } from './helpers.mjs';

const FIX = join(ROOT, 'tests', 'fixtures');
const SOURCE = /\.(c|cc|cpp|s|S)$/;
const E2E_VAR = 'e2e-value';

/** A fixture case of tests/fixtures/GROUP, read as tests/e2e.rs reads it (case.conf, or
 *  `// e2e:` lines in a one-file case). */
function readCase(group, name) {
  const path = join(FIX, group, name);
  const dir = statSync(path).isDirectory();
  const sources = dir ? readdirSync(path).filter((f) => SOURCE.test(f)).sort() : [name];
  const conf = dir
    ? (existsSync(join(path, 'case.conf')) ? readFileSync(join(path, 'case.conf'), 'utf8').split('\n') : [])
    : readFileSync(path, 'utf8').split('\n').map((l) => l.trim()).filter((l) => /^(\/\/|#) e2e:/.test(l)).map((l) => l.replace(/^(\/\/|#) e2e:/, ''));
  const c = {
    id: `${group}/${name.replace(SOURCE, '')}`, srcDir: dir ? path : join(FIX, group), sources,
    cxx: group === 'cxx', cflags: [], fileCflags: {}, archives: [], link: null, ldflags: [], args: ['alpha', 'beta'], env: {},
  };
  const words = (s) => s.trim().split(/\s+/).filter(Boolean);
  for (let line of conf) {
    line = line.trim();
    if (!line || line.startsWith('#') || !line.includes('=')) continue;
    const [lhs, value] = [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)];
    const k = words(lhs);
    if (k[0] === 'mode') c.cxx = value.trim() === 'c++';
    else if (k[0] === 'cflags' && k.length === 1) c.cflags.push(...words(value));
    else if (k[0] === 'cflags') (c.fileCflags[k[1]] ??= []).push(...words(value));
    else if (k[0] === 'archive') c.archives.push([k[1], words(value)]);
    else if (k[0] === 'link') c.link = words(value);
    else if (k[0] === 'ldflags') c.ldflags.push(...words(value));
    else if (k[0] === 'args') c.args = words(value);
    else if (k[0] === 'env') for (const w of words(value)) c.env[w.slice(0, w.indexOf('='))] = w.slice(w.indexOf('=') + 1);
  }
  if (sources.some((s) => /\.(cc|cpp)$/.test(s))) c.cxx = true;
  return c;
}

const cases = ['static', 'cxx'].flatMap((group) => readdirSync(join(FIX, group)).sort()
  .filter((n) => !n.startsWith('.') && (statSync(join(FIX, group, n)).isDirectory() || SOURCE.test(n)))
  .map((n) => readCase(group, n)));

/** Compile the case with gcc/g++ -O1, link it with initlink through the compiler driver
 *  (`-B` a directory whose `ld` is initlink, as tests/e2e.rs does) in `mode` (-pie, -no-pie);
 *  returns the program's path, or null when GNU ld cannot link it that way either. */
function build(c, dir, mode) {
  const sh = (cmd, args) => execFileSync(cmd, args, { cwd: dir, stdio: 'pipe' });
  mkdirSync(join(dir, 'ldbin'), { recursive: true });
  if (!existsSync(join(dir, 'ldbin', 'ld'))) symlinkSync(initlinkBin(), join(dir, 'ldbin', 'ld'));
  const obj = (s) => `${s}.o`;
  for (const s of c.sources) {
    sh(/\.(cc|cpp)$/.test(s) ? 'g++' : 'gcc', ['-c', '-O1', ...c.cflags, ...(c.fileCflags[s] ?? []), join(c.srcDir, s), '-o', obj(s)]);
  }
  for (const [lib, members] of c.archives) sh('ar', ['rcs', lib, ...members.map(obj)]);
  const inArchive = new Set(c.archives.flatMap((a) => a[1]));
  const items = c.link
    ? c.link.map((l) => (c.sources.includes(l) ? obj(l) : l))
    : [...c.sources.filter((s) => !inArchive.has(s)).map(obj), ...c.archives.map((a) => a[0])];
  const driver = c.cxx ? 'g++' : 'gcc';
  const r = spawnSync(driver, [mode, '-B', 'ldbin/', '-o', 'prog', ...items, ...c.ldflags], { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) {
    // Some fixtures cannot be linked as a PIE (objects built with -fno-pie): GNU ld refuses
    // them too (tests/e2e.rs holds initlink to a diagnostic there).
    const ref = spawnSync(driver, [mode, '-o', 'ref', ...items, ...c.ldflags], { cwd: dir, encoding: 'utf8' });
    assert.notEqual(ref.status, 0, `${c.id} ${mode}: initlink failed where GNU ld links:\n${r.stderr}`);
    return null;
  }
  return join(dir, 'prog');
}

/** The program run natively and in the wasm emulator, with the same argv, environment and
 *  working directory. */
async function both(exe, args, env, options = {}) {
  const n = spawnSync(exe, args, { encoding: 'utf8', timeout: 20000, env, cwd: join(exe, '..') });
  const t0 = performance.now();
  const r = await run(read(exe), {
    args: [exe, ...args], env: Object.entries(env).map(([k, v]) => `${k}=${v}`), cwd: join(exe, '..'), ...options,
  });
  return { n, r, ms: performance.now() - t0 };
}

function assertSameRun(id, { n, r }) {
  assert.deepEqual(r.diagnostics, [], `${id}: ${r.diagnostics.map((d) => d.text).join('\n')}`);
  assert.equal(r.ok, true, id);
  assert.equal(n.signal, null, `${id}: the native run was killed by ${n.signal}`);
  assert.equal(r.stdout, n.stdout, `${id}: stdout`);
  assert.equal(r.stderr, n.stderr, `${id}: stderr`);
  assert.equal(r.exitCode, n.status, `${id}: exit status`);
}

/** libc.so.6's initializers come first, called by the loader before the program's entry. */
function assertLibcFirst(id, trace) {
  const entry = trace.findIndex((t) => t.kind === 'entry');
  assert.ok(entry > 0, `${id}: the loader's jump to the entry is traced after the libraries' initializers: ${JSON.stringify(trace.slice(0, 5))}`);
  const libs = libraryStartup(trace.slice(0, entry));
  assert.equal(libs.length, entry, `${id}: only libraries' initializers run before the entry`);
  assert.ok(libs.some((t) => t.library === 'libc.so.6' && t.kind === 'init'), `${id}: ${JSON.stringify(libs)}`);
}

test('there are C and C++ fixtures to run', () => {
  assert.ok(cases.filter((c) => !c.cxx).length >= 10 && cases.filter((c) => c.cxx).length >= 5, cases.map((c) => c.id).join(' '));
});

for (const mode of ['-pie', '-no-pie']) {
  for (const c of cases) {
    test(`${c.id} ${mode}: the emulator's output and exit status equal the native run's`, async (ctx) => {
      const t = tempDir(`dyn-${c.id.replace('/', '-')}`);
      try {
        const exe = build(c, t.dir, mode);
        if (!exe) {
          ctx.skip('GNU ld cannot link it this way either');
          return;
        }
        const ran = await both(exe, c.args, { E2E_VAR, ...c.env });
        assertSameRun(`${c.id} ${mode}`, ran);
        assertLibcFirst(`${c.id} ${mode}`, ran.r.trace);
        if (c.cxx) assert.ok(libraryStartup(ran.r.trace).some((e) => e.library === 'libstdc++.so.6'), c.id);
      } finally {
        t.cleanup();
      }
    });
  }
}

// ---------------------------------------------------------------------------------------------
// tests/fixtures/shared: a program and its own shared libraries (found through $ORIGIN, or
// dlopen'ed), all linked by initlink (tests/e2e.rs's `ii` combination, base variant); the
// libraries go to run() as `files`, at their paths here.

/** A shared case's case.conf, as tests/e2e.rs reads it. */
function readSharedCase(name) {
  const c = { id: `shared/${name}`, dir: join(FIX, 'shared', name), cxx: false, cflags: [], libs: [], libflags: {}, symlinks: [], program: [], ldflags: [], args: ['alpha', 'beta'], env: {} };
  const words = (v) => v.trim().split(/\s+/).filter(Boolean);
  for (let line of readFileSync(join(c.dir, 'case.conf'), 'utf8').split('\n')) {
    line = line.trim();
    if (!line || line.startsWith('#') || !line.includes('=')) continue;
    const k = words(line.slice(0, line.indexOf('=')));
    const v = line.slice(line.indexOf('=') + 1).trim();
    if (k[0] === 'mode') c.cxx = v === 'c++';
    else if (k[0] === 'cflags') c.cflags = words(v);
    else if (k[0] === 'lib') c.libs.push([k[1], words(v)]);
    else if (k[0] === 'libflags') c.libflags[k[1]] = words(v);
    else if (k[0] === 'symlink') c.symlinks.push([k[1], v]);
    else if (k[0] === 'program') c.program = words(v);
    else if (k[0] === 'ldflags') c.ldflags = words(v);
    else if (k[0] === 'args') c.args = words(v);
    else if (k[0] === 'env') for (const w of words(v)) c.env[w.slice(0, w.indexOf('='))] = w.slice(w.indexOf('=') + 1);
  }
  return c;
}

function buildShared(c, dir) {
  const sh = (cmd, args) => execFileSync(cmd, args, { cwd: dir, stdio: 'pipe' });
  mkdirSync(join(dir, 'ldbin'), { recursive: true });
  symlinkSync(initlinkBin(), join(dir, 'ldbin', 'ld'));
  const driver = (f) => (c.cxx || /\.(cc|cpp)$/.test(f) ? 'g++' : 'gcc');
  const compileOne = (f, pic) => {
    const o = `${f}${pic ? '.pic' : ''}.o`;
    sh(driver(f), ['-c', '-O1', ...c.cflags, ...(pic ? ['-fPIC'] : []), join(c.dir, f), '-o', o]);
    return o;
  };
  for (const [lib, srcs] of c.libs) {
    const objs = srcs.map((f) => compileOne(f, true));
    sh(c.cxx ? 'g++' : 'gcc', ['-B', 'ldbin/', '-shared', ...c.cflags, ...objs, ...(c.libflags[lib] ?? []), '-o', lib]);
    for (const [name, target] of c.symlinks) if (target === lib) symlinkSync(target, join(dir, name));
  }
  const objs = c.program.map((f) => compileOne(f, false));
  sh(c.cxx ? 'g++' : 'gcc', ['-B', 'ldbin/', ...c.cflags, ...objs, ...c.ldflags, '-o', 'prog']);
  return join(dir, 'prog');
}

// Known gaps of the emulator: the run must stop with this diagnostic (update when they run).
const SHARED_GAPS = {};

for (const name of readdirSync(join(FIX, 'shared')).sort()) {
  if (!existsSync(join(FIX, 'shared', name, 'case.conf'))) continue;
  test(`shared/${name}: the program and its own libraries (passed as files) run as natively`, async () => {
    const c = readSharedCase(name);
    const t = tempDir(`dyn-shared-${name}`);
    try {
      const exe = buildShared(c, t.dir);
      // Every file of the directory, symbolic links as the files they name.
      const files = readdirSync(t.dir).filter((f) => statSync(join(t.dir, f)).isFile() && /\.so/.test(f))
        .map((f) => ({ path: join(t.dir, f), bytes: read(join(t.dir, f)) }));
      const ran = await both(exe, c.args, { E2E_VAR, ...c.env }, { files });
      if (SHARED_GAPS[name]) {
        assert.equal(ran.r.ok, false);
        assert.match(ran.r.diagnostics.map((d) => d.message).join('\n'), SHARED_GAPS[name]);
        return;
      }
      assertSameRun(c.id, ran);
      assertLibcFirst(c.id, ran.r.trace);
      // Its own libraries' initializers are in the trace too, named after them (gcc's shared
      // objects all have some: frame_dummy at least).
      const own = new Set(libraryStartup(ran.r.trace).map((e) => e.library));
      const names = new Set([...c.libs.map((l) => l[0]), ...c.symlinks.map((l) => l[0])]);
      assert.ok([...own].some((l) => names.has(l)), `${c.id}: ${[...own].join(' ')}`);
    } finally {
      t.cleanup();
    }
  });
}

// ---------------------------------------------------------------------------------------------
// The gallery's dynamic examples, linked by link() as the page links them.

const { examples } = JSON.parse(readFileSync(join(ROOT, 'web', 'examples', 'index.json'), 'utf8'));

async function linkExample(ex, kind) {
  const files = ex.inputs.map((i) => ({ name: i.name, url: kind === 'pie' && i.pieUrl ? i.pieUrl : i.url }));
  files.push({ name: 'libc.so.6.dso', url: 'examples/libc.so.6.dso' });
  const inputs = files.map((f) => ({ name: f.name, bytes: read(join(ROOT, 'web', f.url)) }));
  return link(inputs, { output: ex.output, kind, ...(ex.args.length ? { args: ex.args } : {}) });
}

const dynamic = examples.filter((e) => e.kind === 'pie' || e.kind === 'exec');

test('the gallery has a dynamic example', () => {
  assert.ok(dynamic.some((e) => e.name === 'pie-glibc'), dynamic.map((e) => e.name).join(' '));
});

for (const ex of dynamic) {
  for (const kind of ['pie', 'exec']) {
    test(`gallery ${ex.name} as ${kind}: runs as natively, the program's initializers in the report's order after libc's`, async () => {
      const w = await linkExample(ex, kind);
      assert.ok(w.ok, w.diagnostics.map((d) => d.text).join('\n'));
      const t = tempDir(`dyn-${ex.name}`);
      try {
        const exe = join(t.dir, 'prog');
        writeFileSync(exe, w.elf);
        chmodSync(exe, 0o755);
        for (const args of [[], ['one', 'two words']]) {
          const ran = await both(exe, args, { LANG: 'C' }, { report: w.report });
          assertSameRun(`${ex.name} ${kind} ${args.length}`, ran);
          assertLibcFirst(ex.name, ran.r.trace);
          const predicted = predictedStartup(w.report).map((p) => `${p.kind} ${p.symbol} ${p.address}`);
          assert.ok(predicted.length >= 3, predicted.join(', '));
          // A PIE runs at a base the report cannot know: the trace's addresses are run-time ones.
          const bias = loadBias(w.report, ran.r.trace);
          assert.equal(bias, kind === 'pie' ? 0x555555554000 : 0);
          assert.deepEqual(observedStartup(ran.r.trace).map((o) => `${o.kind} ${o.symbol} ${o.address - bias}`), predicted);
          if (ex.name === 'pie-glibc' && kind === 'pie' && !args.length) console.log(`dynamic ${ex.name}: ${ran.ms.toFixed(0)} ms in run() (${ran.r.instructions} instructions)`);
        }
      } finally {
        t.cleanup();
      }
    });
  }
}

test('a library of your own through files; a missing one is the loader\'s own error, as natively', async () => {
  const t = tempDir('dyn-own');
  try {
    // The library needs libm.so.6, which the program does not: run() fetches it too.
    writeFileSync(join(t.dir, 'lib.c'), '#include <stdio.h>\n#include <math.h>\n__attribute__((constructor)) static void hi(void) { puts("lib ctor"); }\n'
      + 'int twice(int x) { volatile double d = x; return (int)cbrt(d * d * d) * 2; }\n');
    writeFileSync(join(t.dir, 'main.c'), '#include <stdio.h>\nint twice(int);\nint main(void) { printf("%d\\n", twice(21)); return 5; }\n');
    execFileSync('gcc', ['-shared', '-fPIC', '-O1', '-fno-builtin', 'lib.c', '-o', 'libtwice.so', '-lm'], { cwd: t.dir });
    execFileSync('gcc', ['-O1', 'main.c', '-L.', '-ltwice', '-Wl,-rpath,$ORIGIN', '-o', 'prog'], { cwd: t.dir });
    const exe = join(t.dir, 'prog');
    const ran = await both(exe, [], {}, { files: [{ path: join(t.dir, 'libtwice.so'), bytes: read(join(t.dir, 'libtwice.so')) }] });
    assertSameRun('own library', ran);
    assert.equal(ran.r.stdout, 'lib ctor\n42\n');
    assert.ok(libraryStartup(ran.r.trace).some((e) => e.library === 'libtwice.so' && e.kind === 'init'), JSON.stringify(libraryStartup(ran.r.trace)));
    assert.ok(libraryStartup(ran.r.trace).some((e) => e.library === 'libm.so.6'));
    // Without it: the loader's message and status 127, as when the file is missing natively.
    const r = await run(read(exe), { args: [exe] });
    assert.equal(r.exitCode, 127);
    assert.match(r.stderr, /error while loading shared libraries: libtwice\.so: cannot open shared object file/);
  } finally {
    t.cleanup();
  }
});

test('bad files give a diagnostic, never a rejection', async () => {
  for (const files of ['x', [{ path: 'a' }], [{ bytes: new Uint8Array(1) }], [null]]) {
    const r = await run(new Uint8Array(4), { files });
    assert.equal(r.ok, false);
    assert.match(r.diagnostics[0].message, /files/);
  }
});
