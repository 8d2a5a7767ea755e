// The page's C compiler (tcc.wasm through web/initlink.js's compile()) against the same patched
// tcc built natively with gcc (target/tcc/tcc, from web/tcc/build.sh): byte-identical objects on
// every gallery source (or the same error where tcc rejects one), identical links of those objects
// in wasm and with the native CLI, and the freestanding and glibc programs printing what the
// gcc-built ones print (the glibc one, with the libc headers ./dev build-web copies for tcc, also
// in the wasm emulator). Then diagnostics (file, line, column) and inputs that must never make compile() reject.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync, chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { compile, link, run, tccRuntime, DEFAULT_COMPILE_FLAGS } from '../../web/initlink.js';
import { ROOT, initlinkBin, tempDir, read, serve, browser } from './helpers.mjs';

const EXAMPLES = join(ROOT, 'web', 'examples');
const COMMON = join(EXAMPLES, 'common');
const TCC = join(ROOT, 'target', 'tcc', 'tcc');
const TCCDIR = join(ROOT, 'target', 'tcc', 'tccdir');
// web/build_examples.py's flags for the freestanding examples (the gcc reference programs).
const GCC_FREESTANDING = ['-O1', '-ffreestanding', '-fno-pie', '-fno-stack-protector',
  '-fno-asynchronous-unwind-tables', '-fcf-protection=none'];

function nativeTcc() {
  if (!existsSync(TCC)) throw new Error(`${TCC} is missing: run web/tcc/build.sh (./dev build-web does)`);
  return TCC;
}

/** An example's example.conf, as web/build_examples.py reads it. */
function exampleConf(name) {
  const conf = { link: '', args: '', kind: '', output: 'prog', archives: {} };
  for (let line of readFileSync(join(EXAMPLES, name, 'example.conf'), 'utf8').split('\n')) {
    line = line.split('#')[0].trim();
    if (!line) continue;
    const at = line.indexOf('=');
    const key = line.slice(0, at).trim();
    const value = line.slice(at + 1).trim();
    if (key.startsWith('archive ')) conf.archives[key.split(/\s+/)[1]] = value.split(/\s+/);
    else conf[key] = value;
  }
  return conf;
}

/** Every example: its sources and the headers they may include (its own and common/say.h). */
function examples() {
  return readdirSync(EXAMPLES, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(EXAMPLES, e.name, 'example.conf')))
    .map((e) => {
      const dir = join(EXAMPLES, e.name);
      const names = readdirSync(dir).sort();
      return {
        name: e.name,
        dir,
        conf: exampleConf(e.name),
        sources: names.filter((f) => /\.(c|s|S)$/.test(f)),
        headers: [...names.filter((f) => f.endsWith('.h')).map((f) => join(dir, f)), join(COMMON, 'say.h')],
      };
    });
}

/** Native tcc on one source in `dir` (which holds the same files compile() is given). */
function tccNative(dir, src, flags = DEFAULT_COMPILE_FLAGS) {
  const obj = src.replace(/\.(c|s|S)$/, '.o');
  const r = spawnSync(nativeTcc(), ['-B', TCCDIR, ...flags, '-c', src, '-o', obj], { cwd: dir, encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr, object: r.status === 0 ? read(join(dir, obj)) : null };
}

/** Link `inputs` ([name] in `dir`) natively and in wasm with the same arguments. */
async function linkBoth(dir, inputs, args, output) {
  const out = join(dir, output);
  const n = spawnSync(initlinkBin(), ['-o', out, ...args, ...inputs], { cwd: dir, encoding: 'utf8' });
  assert.equal(n.status, 0, `native link failed: ${n.stderr}`);
  const w = await link(inputs.map((name) => ({ name, bytes: read(join(dir, name)) })), { output: out, args, report: false });
  assert.deepEqual(w.diagnostics.filter((d) => d.severity === 'error'), []);
  assert.ok(w.ok && w.elf, 'wasm link failed');
  const elf = read(out);
  assert.ok(Buffer.from(w.elf).equals(Buffer.from(elf)), `${output}: the wasm and native links differ`);
  return out;
}

function runProgram(path) {
  chmodSync(path, 0o755);
  const r = spawnSync(path, [], { encoding: 'utf8', timeout: 10000, argv0: './prog' });
  return { status: r.status, signal: r.signal, stdout: r.stdout };
}

/** The link order and archives of an example, with objects for sources. */
function linkPlan(ex, dir) {
  const obj = (s) => s.replace(/\.(c|s|S)$/, '.o');
  for (const [lib, members] of Object.entries(ex.conf.archives)) {
    execFileSync('ar', ['rcs', lib, ...members.map(obj)], { cwd: dir });
  }
  const order = ex.conf.link ? ex.conf.link.split(/\s+/) : ex.sources;
  const kind = { shared: ['-shared'], pie: ['-pie'], static: ['-static'], exec: ['-no-pie'] }[ex.conf.kind] ?? [];
  const args = [...kind, ...(ex.conf.args ? ex.conf.args.split(/\s+/) : [])];
  const inputs = order.map((f) => (/\.(c|s|S)$/.test(f) ? obj(f) : f));
  // A glibc program links against the description of libc.so.6, as the page links it.
  if (ex.conf.kind === 'pie' || ex.conf.kind === 'exec') {
    copyFileSync(join(EXAMPLES, 'libc.so.6.dso'), join(dir, 'libc.so.6.dso'));
    inputs.push('libc.so.6.dso');
  }
  return { inputs, args, output: ex.conf.output };
}

/** A glibc example: tcc's program (`tccProg`) runs natively and in the wasm emulator as the
 *  gcc-built objects linked the same way do. */
async function sameAsGcc(ex, files, tccProg) {
  const g = tempDir(`gcc-${ex.name}`);
  try {
    for (const f of files) copyFileSync(f, join(g.dir, f.split('/').pop()));
    // web/build_examples.py's flags, -fPIE for a PIE.
    const flags = ex.conf.cflags.split(/\s+/).map((f) => (f === '-fno-pie' && ex.conf.kind === 'pie' ? '-fPIE' : f));
    for (const src of ex.sources) execFileSync('gcc', ['-c', ...flags, src, '-o', src.replace(/\.(c|s|S)$/, '.o')], { cwd: g.dir });
    const gplan = linkPlan(ex, g.dir);
    const gccProg = join(g.dir, gplan.output);
    execFileSync(initlinkBin(), ['-o', gccProg, ...gplan.args, ...gplan.inputs], { cwd: g.dir });
    const want = runProgram(gccProg);
    assert.equal(want.signal, null, `the gcc-built program died: ${want.signal}`);
    assert.deepEqual(runProgram(tccProg), want, `${ex.name}: the tcc-built program's output differs from the gcc-built one's`);
    const r = await run(read(tccProg), { args: ['./prog'] });
    assert.deepEqual(r.diagnostics, []);
    assert.deepEqual({ status: r.exitCode, signal: r.signal, stdout: r.stdout }, want, `${ex.name}: the tcc-built program in the emulator`);
  } finally {
    g.cleanup();
  }
}

for (const ex of examples()) {
  test(`gallery example ${ex.name}: tcc.wasm's objects are byte-identical to native tcc's, and link and run the same`, async () => {
    const t = tempDir(`tcc-${ex.name}`);
    try {
      const files = [...ex.sources.map((s) => join(ex.dir, s)), ...ex.headers];
      for (const f of files) copyFileSync(f, join(t.dir, f.split('/').pop()));
      const given = files.map((f) => ({ name: f.split('/').pop(), text: readFileSync(f, 'utf8') }));
      const r = await compile(given);
      let allCompiled = true;
      for (const src of ex.sources) {
        const n = tccNative(t.dir, src);
        const obj = src.replace(/\.(c|s|S)$/, '.o');
        const w = r.objects.find((o) => o.name === obj);
        if (n.status === 0) {
          assert.ok(w, `${src}: native tcc compiled it, tcc.wasm did not: ${JSON.stringify(r.diagnostics)}`);
          assert.ok(Buffer.from(w.bytes).equals(Buffer.from(n.object)), `${src}: tcc.wasm's object differs from native tcc's`);
        } else {
          allCompiled = false;
          assert.equal(w, undefined, `${src}: native tcc failed (${n.stderr}), tcc.wasm gave an object`);
          const text = r.diagnostics.filter((d) => d.file === src || d.text.startsWith(`${src}:`)).map((d) => d.text).join('\n');
          assert.equal(text, n.stderr.trim().split('\n').filter((l) => !l.startsWith('In file included from')).join('\n'),
            `${src}: tcc.wasm's diagnostics differ from native tcc's`);
        }
      }
      assert.equal(r.ok, allCompiled);
      // tcc rejects gcc_ctors.c's constructor priorities; everything else compiles, the glibc
      // example with the libc headers.
      assert.ok(allCompiled || ex.name === 'ctor-priorities', `${ex.name}: ${r.diagnostics.map((d) => d.text).join('\n')}`);
      if (!allCompiled) return;

      // The tcc objects link identically in wasm and natively...
      const plan = linkPlan(ex, t.dir);
      const tccProg = await linkBoth(t.dir, plan.inputs, plan.args, plan.output);
      // ...and a glibc program prints what the gcc-built one prints, natively and emulated...
      if (ex.conf.kind === 'pie' || ex.conf.kind === 'exec') {
        await sameAsGcc(ex, files, tccProg);
        return;
      }
      // ...and so does a freestanding program.
      if (ex.conf.cflags || ex.conf.kind) return;
      const g = tempDir(`gcc-${ex.name}`);
      try {
        for (const f of files) copyFileSync(f, join(g.dir, f.split('/').pop()));
        for (const src of ex.sources) execFileSync('gcc', ['-c', ...GCC_FREESTANDING, src, '-o', src.replace(/\.(c|s|S)$/, '.o')], { cwd: g.dir });
        const gplan = linkPlan(ex, g.dir);
        const gccProg = join(g.dir, gplan.output);
        execFileSync(initlinkBin(), ['-o', gccProg, ...gplan.args, ...gplan.inputs], { cwd: g.dir });
        const want = runProgram(gccProg);
        const got = runProgram(tccProg);
        assert.equal(want.signal, null, `the gcc-built program died: ${want.signal}`);
        assert.deepEqual(got, want, `${ex.name}: the tcc-built program's output differs from the gcc-built one's`);
      } finally {
        g.cleanup();
      }
    } finally {
      t.cleanup();
    }
  });
}

test('fidelity: long double and NaN constants, __linux__, and assembly are byte-identical to native tcc, with and without flags', async () => {
  const t = tempDir('tcc-fidelity');
  try {
    const dir = join(ROOT, 'tests', 'web', 'tcc-fidelity');
    const names = readdirSync(dir).sort();
    const files = names.map((n) => ({ name: n, text: readFileSync(join(dir, n), 'utf8') }));
    for (const n of names) copyFileSync(join(dir, n), join(t.dir, n));
    // (-g is left out: its stabs name the directories, / and /tcc/include in the page.)
    for (const flags of [[], ['-Wall', '-O2', '-DUNUSED=1']]) {
      const r = await compile(files, { flags });
      assert.equal(r.ok, true, JSON.stringify(r.diagnostics));
      assert.equal(r.objects.length, names.length);
      for (const src of names) {
        const n = tccNative(t.dir, src, flags);
        assert.equal(n.status, 0, n.stderr);
        const w = r.objects.find((o) => o.name === src.replace(/\.(c|S)$/, '.o'));
        assert.ok(Buffer.from(w.bytes).equals(Buffer.from(n.object)), `${src} ${flags.join(' ')}: tcc.wasm's object differs from native tcc's`);
      }
    }
    // The values themselves, as gcc on x86-64 has them: 1.1L and 0/0 (the negative default NaN).
    writeFileSync(join(t.dir, 'fidelity.o'), (await compile(files)).objects.find((o) => o.name === 'fidelity.o').bytes);
    const data = execFileSync('objdump', ['-s', '-j', '.data', 'fidelity.o'], { cwd: t.dir, encoding: 'utf8' });
    assert.match(data, / 0000 cdcccccc cccccc8c ff3f0000 00000000 /, data);
    const syms = execFileSync('nm', ['fidelity.o'], { cwd: t.dir, encoding: 'utf8' });
    assert.match(syms, / D linux_$/m, 'tcc.wasm does not predefine __linux__');
  } finally {
    t.cleanup();
  }
});

test("va_arg and 64-bit conversions link with tcc's libtcc1.a (tccRuntime()), in wasm as natively, and run", async () => {
  const t = tempDir('tcc-runtime');
  try {
    const src = `#include <stdarg.h>
#include "say.h"
/* What tcc's code and libtcc1.a call besides: memmove (va_start copies the register save area),
   abort (__va_arg on a bad type). */
void *memmove(void *d, const void *s, unsigned long n) { char *p = d; const char *q = s; if (p < q) while (n--) *p++ = *q++; else while (n--) p[n] = q[n]; return d; }
void abort(void) { for (;;) __asm__ volatile("syscall" : : "a"(60L), "D"(127L)); }
static int sum(int n, ...) { va_list ap; int s = 0; va_start(ap, n); while (n--) s += va_arg(ap, int); va_end(ap); return s; }
static unsigned long long big(double d) { return (unsigned long long)d; }
int main(void) {
	char digits[3] = { '0' + sum(4, 1, 2, 3, 3) / 10, '0' + sum(4, 1, 2, 3, 3) % 10, '\\n' };
	sys_write(1, digits, 3);
	return big(1e19) == 10000000000000000000ULL ? 0 : 1;
}
`;
    const r = await compile([{ name: 'v.c', text: src }, { name: 'say.h', text: readFileSync(join(COMMON, 'say.h'), 'utf8') }]);
    assert.equal(r.ok, true, JSON.stringify(r.diagnostics));
    const rt = await tccRuntime();
    assert.equal(rt.name, 'libtcc1.a');
    assert.deepEqual([...rt.bytes.subarray(0, 8)].map((c) => String.fromCharCode(c)).join(''), '!<arch>\n');
    writeFileSync(join(t.dir, 'v.o'), r.objects[0].bytes);
    writeFileSync(join(t.dir, 'libtcc1.a'), rt.bytes);
    // Without it the link fails on tcc's helpers...
    const w = await link([{ name: 'v.o', bytes: r.objects[0].bytes }]);
    assert.equal(w.ok, false);
    assert.ok(w.diagnostics.some((d) => /__va_arg|__fixunsdfdi/.test(d.message)), JSON.stringify(w.diagnostics));
    // ...with it, wasm and native agree and the program runs.
    const prog = await linkBoth(t.dir, ['v.o', 'libtcc1.a'], [], 'prog');
    assert.deepEqual(runProgram(prog), { status: 0, signal: null, stdout: '09\n' });
  } finally {
    t.cleanup();
  }
});

test('a compile error is a diagnostic at its file, line and column', async () => {
  // The column is where the token tcc stopped at starts (1-based, a tab counts as one).
  const r = await compile([{ name: 'bad.c', text: 'int f(void)\n{\n\tint x = 1;\n\treturn x ) ;\n}\n' }]);
  assert.equal(r.ok, false);
  assert.deepEqual(r.objects, []);
  assert.deepEqual(r.diagnostics, [{ file: 'bad.c', line: 4, column: 11, severity: 'error', message: `';' expected (got ")")`, text: `bad.c:4:11: error: ';' expected (got ")")` }]);
  // gcc's constructor priority: tcc 0.9.27 stops at the '(' after `constructor`.
  const p = await compile([{ name: 'p.c', text: '__attribute__((constructor(101))) static void f(void) {}\n' }]);
  assert.deepEqual(p.diagnostics.map((d) => [d.file, d.line, d.column, d.message]), [['p.c', 1, 27, `')' expected (got "(")`]]);
  // In a header: the header's name and line. tcc reads one token past an undeclared identifier,
  // so the column is that of the `;` after it.
  const h = await compile([{ name: 'm.c', text: '#include "h.h"\nint main(void) { return 0; }\n' }, { name: 'h.h', text: '/* h.h */\nint g(void) { return undeclared; }\n' }]);
  const e = h.diagnostics.find((d) => d.severity === 'error');
  assert.deepEqual([e.file, e.line, e.column, e.message], ['h.h', 2, 32, "'undeclared' undeclared"], JSON.stringify(h.diagnostics));
  assert.deepEqual(e.includedFrom, [{ file: 'm.c', line: 1 }]);
  // In assembly.
  const s = await compile([{ name: 'a.s', text: '\t.text\nf:\tmovl $1, %eax\n\tbogus %eax\n' }]);
  const se = s.diagnostics.find((d) => d.severity === 'error');
  assert.deepEqual([se.file, se.line], ['a.s', 3], JSON.stringify(s.diagnostics));
  // A warning does not stop the object.
  const w = await compile([{ name: 'w.c', text: 'int f(void) { return 1; }\nint f(void);\nint *p = 1;\n' }]);
  assert.equal(w.ok, true, JSON.stringify(w.diagnostics));
  assert.equal(w.objects.length, 1);
  assert.ok(w.diagnostics.some((d) => d.severity === 'warning' && d.file === 'w.c' && d.line === 3), JSON.stringify(w.diagnostics));
});

test('files: .c compiled and .s/.S assembled by name, others only included; flags replace the defaults', async () => {
  const r = await compile([
    { name: 'k.h', text: '#define K 42\n' },
    { name: 'a.c', text: '#include "k.h"\nint k(void) { return K + N; }\n' },
    { name: 'b.S', text: '#define ONE 1\n\t.text\n\t.globl one\none:\tmovl $ONE, %eax\n\tret\n' },
    { name: 'sub/c.s', bytes: new TextEncoder().encode('\t.data\n\t.globl c\nc:\t.quad 7\n') },
    { name: 'notes.txt', text: 'not a source' },
  ], { flags: ['-DN=1'] });
  assert.equal(r.ok, true, JSON.stringify(r.diagnostics));
  assert.deepEqual(r.objects.map((o) => o.name), ['a.o', 'b.o', 'sub/c.o']);
  for (const o of r.objects) assert.deepEqual([...o.bytes.subarray(0, 4)], [0x7f, 0x45, 0x4c, 0x46]);
  // Without -DN the same source fails: the flags are tcc's.
  const e = await compile([{ name: 'k.h', text: '#define K 42\n' }, { name: 'a.c', text: '#include "k.h"\nint k(void) { return K + N; }\n' }]);
  assert.equal(e.ok, false);
  assert.match(e.diagnostics[0].message, /'N' undeclared/);
});

test('malformed input never rejects', async () => {
  const cases = [
    [undefined], [null], ['a.c'], [[{}]], [[{ name: 'a.c' }]], [[{ name: '../a.c', text: '' }]],
    [[{ name: '/a.c', text: '' }]], [[{ name: 'tcc/include/stddef.h', text: '' }]], [[{ name: 'a.c', text: '' }, { name: 'a.c', text: '' }]],
    [[{ name: 'a.c', text: 'int x;' }], null], [[{ name: 'a.c', text: 'int x;' }], { flags: '-O2' }],
    [[{ name: 'a.c', text: 'int x;' }], { flags: ['--no-such-option'] }],
    [[{ name: 'a.c', bytes: new Uint8Array([0, 1, 2, 0xff, 0xfe, 0x7f, 0x45, 0x4c, 0x46]) }]],
    [[{ name: 'a.s', bytes: new Uint8Array(4096).map((_, i) => (i * 7919) & 0xff) }]],
    [[{ name: 'a.c', text: '#include "a.c"\n' }]],
    [[{ name: 'a.c', text: '#define X X X\nX\n#if\n#endif\n"unterminated' }]],
    [[{ name: 'deep.c', text: `int x = ${'('.repeat(200000)}1${')'.repeat(200000)};\n` }]],
  ];
  for (const args of cases) {
    const r = await compile(...args);
    assert.equal(typeof r.ok, 'boolean');
    assert.ok(Array.isArray(r.objects) && Array.isArray(r.diagnostics));
    for (const d of r.diagnostics) assert.equal(typeof d.message, 'string');
    if (!r.ok) assert.ok(r.diagnostics.some((d) => d.severity === 'error'), `${JSON.stringify(args).slice(0, 80)}: failed without an error`);
  }
  // The compiler still works after all that (a trap is contained in its own instance).
  const ok = await compile([{ name: 'a.c', text: 'int main(void) { return 0; }\n' }]);
  assert.equal(ok.ok, true, JSON.stringify(ok.diagnostics));
});

test("tcc's start-up arrays: section(\".init_array.N\") is PROGBITS without SHF_WRITE, and initlink still runs it by priority", async () => {
  const t = tempDir('tcc-init');
  try {
    const src = `#include "say.h"
static void a(void) { say("init_array.00200\\n"); }
static void b(void) { say("init_array.00100\\n"); }
static void z(void) { say("fini_array\\n"); }
__attribute__((constructor)) static void c(void) { say("constructor\\n"); }
__attribute__((section(".init_array.00200"), used)) static void (*pa)(void) = a;
__attribute__((section(".init_array.00100"), used)) static void (*pb)(void) = b;
__attribute__((section(".fini_array"), used)) static void (*pz)(void) = z;
int main(void) { say("main\\n"); return 0; }
`;
    const r = await compile([{ name: 'm.c', text: src }, { name: 'say.h', text: readFileSync(join(COMMON, 'say.h'), 'utf8') }]);
    assert.equal(r.ok, true, JSON.stringify(r.diagnostics));
    writeFileSync(join(t.dir, 'm.o'), r.objects[0].bytes);
    // What tcc writes: constructor → INIT_ARRAY "WA"; a section attribute → PROGBITS "A".
    const sections = execFileSync('readelf', ['-SW', 'm.o'], { cwd: t.dir, encoding: 'utf8' });
    assert.match(sections, /\.init_array\s+INIT_ARRAY\s+\S+ \S+ \S+ \S+\s+WA /);
    assert.match(sections, /\.init_array\.00200\s+PROGBITS\s+\S+ \S+ \S+ \S+\s+A /);
    assert.match(sections, /\.fini_array\s+PROGBITS\s+\S+ \S+ \S+ \S+\s+A /);
    const prog = await linkBoth(t.dir, ['m.o'], [], 'prog');
    assert.deepEqual(runProgram(prog), { status: 0, signal: null, stdout: 'init_array.00100\ninit_array.00200\nconstructor\nmain\nfini_array\n' });
    const w = await link([{ name: 'm.o', bytes: r.objects[0].bytes }]);
    assert.deepEqual(w.report.init_arrays.init.map((e) => [e.section, e.priority]),
      [['.init_array.00100', 100], ['.init_array.00200', 200], ['.init_array', 65535]]);
  } finally {
    t.cleanup();
  }
});

test('in Chromium: the page compiles with compile() (tcc.wasm fetched on first use), and offers its source', async () => {
  const server = await serve();
  const chrome = await browser();
  try {
    const page = await chrome.context.newPage();
    const fetched = [];
    page.on('request', (req) => fetched.push(new URL(req.url()).pathname));
    await page.goto(server.url);
    await page.waitForFunction(() => document.querySelector('#examples li:not(.muted)'), null, { timeout: 30000 });
    assert.ok(!fetched.some((p) => p.startsWith('/pkg/tcc/')), `the compiler was fetched with the page: ${fetched.filter((p) => p.startsWith('/pkg/tcc/'))}`);
    const r = await page.evaluate(async () => {
      const { compile, link } = await import('/initlink.js');
      const c = await compile([{ name: 'hello.c', text: 'int main(void) { return 0; }\n' }, { name: 'bad.c', text: 'int f(void) { return 1 ) ; }\n' }]);
      const l = c.objects.length ? await link([{ name: c.objects[0].name, bytes: c.objects[0].bytes }]) : null;
      return { ok: c.ok, objects: c.objects.map((o) => [o.name, o.bytes.length]), diagnostics: c.diagnostics, linked: !!(l && l.ok) };
    });
    assert.equal(r.ok, false);
    assert.equal(r.objects.length, 1);
    assert.equal(r.objects[0][0], 'hello.o');
    assert.deepEqual(r.diagnostics.map((d) => [d.file, d.line, d.column]), [['bad.c', 1, 24]]);
    assert.ok(r.linked, 'the compiled object did not link in the page');
    assert.ok(fetched.includes('/pkg/tcc/tcc.wasm'));
    // Every source link in the footer resolves.
    const links = await page.$$eval('#credits a', (as) => as.map((a) => a.href));
    assert.ok(links.length >= 5);
    for (const href of links) {
      const status = await page.evaluate(async (u) => (await fetch(u)).status, href);
      assert.equal(status, 200, href);
    }
  } finally {
    await chrome.close();
    server.close();
  }
});
