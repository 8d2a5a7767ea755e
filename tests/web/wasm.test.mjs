// The wasm build (pkg/, through web/initlink.js) against the native CLI: same inputs and arguments
// must give byte-identical executables, the same report and map, and the same diagnostics. Inputs
// are compiled with gcc here, from the repository's fixtures; glibc's libc.a and crt files are read
// from disk and passed as bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync, readFileSync, existsSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { link, panicForTest, version } from '../../web/initlink.js';
import { ROOT, initlinkBin, tempDir, compile, read, FREESTANDING } from './helpers.mjs';

const FIX = join(ROOT, 'tests', 'fixtures');

/** Run the native CLI; returns {status, stderr, elf, report, map}. */
function native(dir, args) {
  const out = join(dir, 'native.out');
  const r = spawnSync(initlinkBin(), ['-o', out, ...args, `--report=${out}.json`, `-Map=${out}.map`], { cwd: dir, encoding: 'utf8' });
  return {
    status: r.status,
    stderr: r.stderr,
    elf: existsSync(out) ? read(out) : null,
    report: existsSync(`${out}.json`) ? readFileSync(`${out}.json`, 'utf8') : null,
    map: existsSync(`${out}.map`) ? readFileSync(`${out}.map`, 'utf8') : null,
  };
}

/** Link the same objects in wasm, named as the CLI names them. */
async function wasm(dir, objects, options = {}) {
  const inputs = objects.map((p) => (typeof p === 'string' ? { name: p, bytes: read(join(dir, p)) } : p));
  return link(inputs, { output: join(dir, 'native.out'), ...options });
}

function assertSameLink(n, w) {
  assert.equal(n.status, 0, `native link failed: ${n.stderr}`);
  assert.deepEqual(w.diagnostics.filter((d) => d.severity === 'error'), []);
  assert.ok(w.ok && w.elf, 'wasm link failed');
  assert.equal(w.elf.length, n.elf.length, 'ELF sizes differ');
  assert.ok(Buffer.from(w.elf).equals(Buffer.from(n.elf)), 'ELF bytes differ');
  assert.equal(w.reportJson, n.report, 'reports differ');
  assert.equal(w.map, n.map, 'maps differ');
}

function run(path, args = []) {
  chmodSync(path, 0o755);
  return spawnSync(path, args, { encoding: 'utf8', timeout: 10000 });
}

test('the wasm module loads and reports its version', async () => {
  assert.match(await version(), /^\d+\.\d+\.\d+/);
});

test('freestanding objects: byte-identical to the native CLI, and the program runs', async () => {
  const t = tempDir('order');
  try {
    const srcs = ['a.c', 'b.c', 'c.c', 'main.c'].map((f) => join(FIX, 'freestanding', 'order', f));
    const objs = compile(t.dir, srcs, FREESTANDING, [join(FIX, 'freestanding')]).map((p) => p.split('/').pop());
    const n = native(t.dir, objs);
    const w = await wasm(t.dir, objs);
    assertSameLink(n, w);
    // The report says what the program will do: 101 before 150 before the unprioritized entries.
    const init = w.report.init_arrays.init.map((e) => `${e.symbol}@${e.priority}`);
    assert.deepEqual(init.slice(0, 3), ['a_ctor_101@101', 'b_ctor_101@101', 'b_ctor_150@150']);
    const exe = join(t.dir, 'wasm.out');
    writeFileSync(exe, w.elf);
    const r = run(exe);
    assert.equal(r.status, 61);
    assert.match(r.stdout, /^preinit a\npreinit b 1\npreinit b 2\ninit a 101\ninit b 101\ninit b 150\n/);
  } finally {
    t.cleanup();
  }
});

test('report: false links the same ELF without building the report and map', async () => {
  const t = tempDir('noreport');
  try {
    const srcs = ['a.c', 'b.c', 'c.c', 'main.c'].map((f) => join(FIX, 'freestanding', 'order', f));
    const objs = compile(t.dir, srcs, FREESTANDING, [join(FIX, 'freestanding')]).map((p) => p.split('/').pop());
    const full = await wasm(t.dir, objs);
    const plain = await wasm(t.dir, objs, { report: false });
    assert.ok(full.ok && plain.ok);
    assert.ok(Buffer.from(plain.elf).equals(Buffer.from(full.elf)), 'ELF bytes differ');
    assert.ok(full.report && full.map);
    assert.equal(plain.report, null);
    assert.equal(plain.reportJson, '');
    assert.equal(plain.map, '');
    const bad = await wasm(t.dir, objs, { report: 'no' });
    assert.ok(!bad.ok);
    assert.match(bad.diagnostics[0].text, /option 'report' must be true or false/);
  } finally {
    t.cleanup();
  }
});

test('time: true gives each phase\'s wall time, as the CLI\'s --time, and the same ELF', async () => {
  const t = tempDir('time');
  try {
    const srcs = ['a.c', 'b.c', 'c.c', 'main.c'].map((f) => join(FIX, 'freestanding', 'order', f));
    const objs = compile(t.dir, srcs, FREESTANDING, [join(FIX, 'freestanding')]).map((p) => p.split('/').pop());
    const plain = await wasm(t.dir, objs, { report: false });
    const timed = await wasm(t.dir, objs, { report: false, time: true });
    assert.ok(plain.ok && timed.ok);
    assert.deepEqual(plain.timings, []);
    assert.deepEqual(timed.timings.map((x) => x.phase), ['resolve', 'plan', 'synthesize', 'assign', 'write']);
    for (const { ms } of timed.timings) assert.ok(Number.isFinite(ms) && ms >= 0, `bad time ${ms}`);
    assert.ok(Buffer.from(plain.elf).equals(Buffer.from(timed.elf)), 'ELF bytes differ');
    const bad = await wasm(t.dir, objs, { time: 1 });
    assert.match(bad.diagnostics[0].text, /option 'time' must be true or false/);
  } finally {
    t.cleanup();
  }
});

test('outputBuffer: the ELF is copied into an earlier one\'s memory when it fits, else into a new buffer', async () => {
  const t = tempDir('outbuf');
  try {
    const srcs = ['a.c', 'b.c', 'c.c', 'main.c'].map((f) => join(FIX, 'freestanding', 'order', f));
    const objs = compile(t.dir, srcs, FREESTANDING, [join(FIX, 'freestanding')]).map((p) => p.split('/').pop());
    writeFileSync(join(t.dir, 'big.c'), 'char big_table[1 << 20] = {1};\n');
    const [big] = compile(t.dir, [join(t.dir, 'big.c')], FREESTANDING).map((p) => p.split('/').pop());
    const small = await wasm(t.dir, objs, { report: false });
    const large = await wasm(t.dir, [...objs, big], { report: false });
    assert.ok(small.ok && large.ok && large.elf.length > small.elf.length);
    // Fits: written into the large ELF's memory, and the same bytes as a fresh link.
    const keep = Buffer.from(large.elf);
    const into = await wasm(t.dir, objs, { report: false, outputBuffer: large.elf });
    assert.ok(into.ok);
    assert.equal(into.elf.buffer, large.elf.buffer, 'the buffer was not reused');
    assert.equal(into.elf.length, small.elf.length);
    assert.ok(Buffer.from(into.elf).equals(Buffer.from(small.elf)), 'ELF bytes differ');
    assert.ok(!Buffer.from(large.elf).equals(keep), 'the earlier ELF was not overwritten');
    // Too small: a new buffer, the small one untouched.
    const before = Buffer.from(small.elf);
    const fresh = await wasm(t.dir, [...objs, big], { report: false, outputBuffer: small.elf });
    assert.ok(fresh.ok);
    assert.notEqual(fresh.elf.buffer, small.elf.buffer);
    assert.ok(Buffer.from(fresh.elf).equals(keep), 'ELF bytes differ');
    assert.ok(Buffer.from(small.elf).equals(before), 'a buffer too small was written to');
    assert.ok(fresh.diagnostics.some((d) => d.severity === 'warning' && /outputBuffer has room for \d+ bytes, the ELF is \d+/.test(d.message)),
      JSON.stringify(fresh.diagnostics));
    // Detached (transferred away): a diagnostic and a new buffer, never a trap.
    const gone = new Uint8Array(4096);
    structuredClone(gone.buffer, { transfer: [gone.buffer] });
    const detached = await wasm(t.dir, objs, { report: false, outputBuffer: gone });
    assert.ok(detached.ok, JSON.stringify(detached.diagnostics));
    assert.ok(Buffer.from(detached.elf).equals(Buffer.from(small.elf)), 'ELF bytes differ');
    assert.ok(detached.diagnostics.some((d) => d.severity === 'warning' && /detached/.test(d.message)));
    // A view into a bigger buffer with no room after its offset: not written past the buffer.
    const tail = new Uint8Array(new ArrayBuffer(small.elf.length + 8), small.elf.length);
    const short = await wasm(t.dir, objs, { report: false, outputBuffer: tail });
    assert.ok(short.ok && Buffer.from(short.elf).equals(Buffer.from(small.elf)));
    assert.notEqual(short.elf.buffer, tail.buffer);
    const bad = await wasm(t.dir, objs, { outputBuffer: [1, 2] });
    assert.ok(!bad.ok);
    assert.match(bad.diagnostics[0].text, /option 'outputBuffer' must be a Uint8Array/);
  } finally {
    t.cleanup();
  }
});

test('report: false leaves a SHA-1 build ID to Web Crypto: the same bytes as the CLI, under and over 1 MiB', async () => {
  const t = tempDir('buildid');
  try {
    const srcs = ['a.c', 'b.c', 'c.c', 'main.c'].map((f) => join(FIX, 'freestanding', 'order', f));
    const objs = compile(t.dir, srcs, FREESTANDING, [join(FIX, 'freestanding')]).map((p) => p.split('/').pop());
    // 3 MiB of initialized data: the ID is then the SHA-1 of the file's 1 MiB chunks' digests,
    // SHA-1s with =sha1 (Web Crypto), XXH3-128s with plain --build-id (hashed in wasm).
    writeFileSync(join(t.dir, 'big.c'), 'char big_table[3 << 20] = {1};\n');
    const [big] = compile(t.dir, [join(t.dir, 'big.c')], FREESTANDING).map((p) => p.split('/').pop());
    const styles = [[true, '--build-id'], ['sha1', '--build-id=sha1']];
    for (const [[buildId, flag], set] of styles.flatMap((st) => [[st, objs], [st, [...objs, big]]])) {
      const n = native(t.dir, [flag, ...set]);
      const w = await wasm(t.dir, set, { buildId, report: false });
      assert.equal(n.status, 0, n.stderr);
      assert.ok(w.ok && w.elf, JSON.stringify(w.diagnostics));
      assert.equal(w.elf.length > (1 << 20), set.length > objs.length, 'output size');
      assert.ok(Buffer.from(w.elf).equals(Buffer.from(n.elf)), `ELF bytes differ (${flag}, ${set.length} objects)`);
      // Not the zeros the linker left: readelf shows a real ID.
      const notes = execFileSync('readelf', ['-n', join(t.dir, 'native.out')], { encoding: 'utf8' });
      assert.doesNotMatch(notes, /Build ID: 0{40}/);
    }
  } finally {
    t.cleanup();
  }
});

const hex = (n) => `0x${n.toString(16)}`;

/** The bytes objdump -d shows at [addr, addr+len) of an executable. */
function objdumpBytes(exe, addr, len) {
  const out = execFileSync('objdump', ['-d', `--start-address=0x${addr.toString(16)}`, `--stop-address=0x${(addr + len).toString(16)}`, exe], { encoding: 'utf8' });
  const bytes = [];
  for (const line of out.split('\n')) {
    const m = /^\s*[0-9a-f]+:\t((?:[0-9a-f]{2} )+)/.exec(line);
    if (m) bytes.push(...m[1].trim().split(' '));
  }
  return bytes.join(' ');
}

test('relocations view data: a call site reads e8 00 00 00 00 in the .o and what objdump shows in the output', async () => {
  const t = tempDir('relocs');
  try {
    const srcs = ['a.c', 'b.c', 'c.c', 'main.c'].map((f) => join(FIX, 'freestanding', 'order', f));
    const objs = compile(t.dir, srcs, FREESTANDING, [join(FIX, 'freestanding')]).map((p) => p.split('/').pop());
    const n = native(t.dir, objs);
    const w = await wasm(t.dir, objs);
    assertSameLink(n, w);
    const rel = w.report.relocations;
    assert.equal(rel.truncated, false);
    assert.equal(rel.count, rel.sections.reduce((k, s) => k + s.relocs.length, 0));
    const text = rel.sections.find((s) => s.input === 'main.o' && s.section === '.text');
    assert.ok(text, JSON.stringify(rel.sections.map((s) => `${s.input}:${s.section}`)));
    const calls = text.relocs.filter((r) => r.type === 'R_X86_64_PLT32' && r.before === 'e8 00 00 00 00');
    assert.ok(calls.length >= 3, 'main.o calls a_value, b_value, c_value');
    const exe = join(t.dir, 'native.out');
    for (const r of calls) {
      assert.equal(r.field_offset, 1);
      assert.equal(r.field_size, 4);
      assert.equal(r.formula, 'L + A - P');
      // The window starts at the call instruction: P - 1 in the output.
      assert.equal(r.after, objdumpBytes(exe, r.P - 1, 5), `call at ${r.P - 1}`);
      assert.notEqual(r.after, r.before);
      // The field holds S + A - P, and S is the callee.
      assert.equal(r.value, Number(BigInt.asIntN(32, BigInt(r.S + r.A - r.P))));
      const callee = w.report.symbols.find((s) => s.name === r.symbol);
      assert.equal(callee.value, r.S);
      assert.equal(r.asm_before, `call ${hex(r.P + 4)}`);
      assert.equal(r.asm_after, `call ${hex(r.S)}`);
      assert.equal(r.relaxation, undefined);
    }
    // Data: an .init_array slot is 8 zero bytes in the .o and the function's address in the output.
    const slot = rel.sections.find((s) => s.input === 'a.o' && s.section.startsWith('.init_array')).relocs[0];
    assert.equal(slot.before, '00 00 00 00 00 00 00 00');
    assert.equal(slot.type, 'R_X86_64_64');
    assert.equal(slot.value, slot.S + slot.A);
    // The synthesized _start and the array bounds it reads are in the report's symbols.
    const linker = Object.fromEntries(w.report.symbols.filter((s) => s.defined_in === 'linker').map((s) => [s.name, s]));
    const init = w.report.sections.find((s) => s.name === '.init_array');
    assert.equal(linker.__init_array_start.value, init.address);
    assert.equal(linker.__init_array_end.value, init.address + init.size);
    for (const name of ['__preinit_array_start', '__preinit_array_end', '__fini_array_start', '__fini_array_end']) assert.ok(linker[name], name);
    assert.equal(linker._start.value, w.report.output.entry);
  } finally {
    t.cleanup();
  }
});

test('options and raw arguments: build-id, eh-frame-hdr, entry, archives in a group', async () => {
  const t = tempDir('archive');
  try {
    const dir = join(FIX, 'freestanding', 'archive');
    const [main, ...members] = compile(t.dir, ['main.c', 'dep.c', 'unused.c', 'maybe.c', 'used.c'].map((f) => join(dir, f)),
      [...FREESTANDING.filter((f) => f !== '-fno-asynchronous-unwind-tables')], [join(FIX, 'freestanding')]);
    execFileSync('ar', ['rcs', join(t.dir, 'libfs.a'), ...members]);
    const n = native(t.dir, ['--build-id', '--eh-frame-hdr', '-z', 'noexecstack', 'main.o', '--start-group', 'libfs.a', '--end-group']);
    // Named options and group markers...
    const w1 = await wasm(t.dir, ['main.o', { group: 'start' }, 'libfs.a', { group: 'end' }],
      { buildId: true, ehFrameHdr: true, execstack: false });
    assertSameLink(n, w1);
    assert.deepEqual(w1.report.inputs.map((i) => i.member ?? i.name), ['main.o', 'used.o', 'dep.o']);
    // ...or the CLI's own arguments, naming the files given.
    const w2 = await link([{ name: 'main.o', bytes: read(main) }, { name: 'libfs.a', bytes: read(join(t.dir, 'libfs.a')) }],
      { args: ['-o', join(t.dir, 'native.out'), '--build-id', '--eh-frame-hdr', '-z', 'noexecstack', 'main.o', '--start-group', '-lfs', '--end-group'] });
    assertSameLink(n, w2);
    assert.ok(w2.commandLine.includes('-lfs'));
  } finally {
    t.cleanup();
  }
});

test('args take GNU ld\'s grammar and its options (--whole-archive, --defsym): the same link as the CLI', async () => {
  const t = tempDir('grammar');
  try {
    const dir = join(FIX, 'freestanding', 'archive');
    const [main, ...members] = compile(t.dir, ['main.c', 'dep.c', 'unused.c', 'maybe.c', 'used.c'].map((f) => join(dir, f)),
      [...FREESTANDING.filter((f) => f !== '-fno-asynchronous-unwind-tables')], [join(FIX, 'freestanding')]);
    execFileSync('ar', ['rcs', join(t.dir, 'libfs.a'), ...members]);
    // Single-dash long options with glued values, as gcc and build systems pass them.
    const args = ['main.o', '-whole-archive', 'libfs.a', '-no-whole-archive', '-defsym=answer_value=0x2a', '-build-id=sha1'];
    const n = native(t.dir, args);
    const w = await link([{ name: 'main.o', bytes: read(main) }, { name: 'libfs.a', bytes: read(join(t.dir, 'libfs.a')) }],
      { args: ['-o', join(t.dir, 'native.out'), ...args, `--report=${join(t.dir, 'native.out')}.json`, `-Map=${join(t.dir, 'native.out')}.map`] });
    assertSameLink(n, w);
    // Every member is linked, and the report says why.
    assert.deepEqual(w.report.inputs.map((i) => i.member ?? i.name), ['main.o', 'dep.o', 'unused.o', 'maybe.o', 'used.o']);
    assert.match(w.report.inputs[1].why, /--whole-archive/);
    // An ambiguous abbreviation is an error naming it, as in GNU ld.
    const bad = await link([{ name: 'main.o', bytes: read(main) }], { args: ['main.o', '-hash=gnu'] });
    assert.equal(bad.ok, false);
    assert.match(bad.diagnostics[0].text, /option '-hash=gnu' is ambiguous/);
  } finally {
    t.cleanup();
  }
});

test('a static glibc program: gcc -static\'s exact ld command line, libc.a passed as bytes', async () => {
  const t = tempDir('glibc');
  try {
    // A stand-in ld records the arguments gcc's collect2 passes, then runs the native CLI.
    const bin = join(t.dir, 'bin');
    execFileSync('mkdir', ['-p', bin]);
    writeFileSync(join(bin, 'ld'), `#!/bin/sh\nprintf '%s\\0' "$@" > ${t.dir}/ld.args\nexec ${initlinkBin()} "$@" --report=${t.dir}/native.json -Map=${t.dir}/native.map\n`);
    chmodSync(join(bin, 'ld'), 0o755);
    writeFileSync(join(t.dir, 'hello.c'), '#include <stdio.h>\n__attribute__((constructor(200))) static void early(void) { puts("constructor 200"); }\nint main(int argc, char **argv) { printf("hello from %s with %d args\\n", argv[0], argc); return 3; }\n');
    execFileSync('gcc', ['-O1', '-c', 'hello.c'], { cwd: t.dir });
    execFileSync('gcc', ['-static', '-B', `${bin}/`, 'hello.o', '-o', 'hello'], { cwd: t.dir, stdio: 'pipe' });
    const args = readFileSync(join(t.dir, 'ld.args'), 'utf8').split('\0').filter(Boolean);
    // Read every file the line names; -lNAME is found in the -L directories as the CLI finds it.
    const dirs = [];
    const inputs = [];
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      if (a === '-L') dirs.push(args[++i]);
      else if (a.startsWith('-L')) dirs.push(a.slice(2));
      else if (a.startsWith('-l')) {
        const path = dirs.map((d) => (d.endsWith('/') ? d : `${d}/`) + `lib${a.slice(2)}.a`).find((p) => existsSync(p));
        if (path) inputs.push({ name: path, bytes: read(path) });
      } else if (['-o', '-plugin', '-m', '-dynamic-linker', '-z', '-e', '-u'].includes(a)) i++;
      else if (!a.startsWith('-')) {
        const path = a.startsWith('/') ? a : join(t.dir, a);
        if (existsSync(path)) inputs.push({ name: a, bytes: read(path) });
      }
    }
    assert.ok(inputs.some((f) => f.name.endsWith('/libc.a')), `libc.a not on the line: ${args.join(' ')}`);
    const w = await link(inputs, { args });
    assertSameLink({ status: 0, elf: read(join(t.dir, 'hello')), report: readFileSync(join(t.dir, 'native.json'), 'utf8'), map: readFileSync(join(t.dir, 'native.map'), 'utf8') }, w);
    assert.ok(w.report.init_arrays.init.some((e) => e.symbol === 'early' && e.priority === 200));
    assert.ok(w.report.inputs.some((i) => i.archive?.endsWith('libc.a') && i.member), 'libc.a members loaded');
    const exe = join(t.dir, 'wasm.out');
    writeFileSync(exe, w.elf);
    const r = run(exe, ['x']);
    assert.equal(r.status, 3);
    assert.equal(r.stdout, `constructor 200\nhello from ${exe} with 2 args\n`);
  } finally {
    t.cleanup();
  }
});

test('PIE against the glibc description (web/examples/libc.so.6.dso): byte-identical to the CLI, and it runs', async () => {
  const dso = join(ROOT, 'web', 'examples', 'libc.so.6.dso');
  assert.ok(existsSync(dso), `${dso} is missing: ./dev build-web writes it`);
  const t = tempDir('pie');
  try {
    writeFileSync(join(t.dir, 'libc.so.6.dso'), readFileSync(dso));
    const srcs = ['a.c', 'b.c', 'c.c', 'main.c'].map((f) => join(FIX, 'freestanding', 'order', f));
    const pie = FREESTANDING.map((f) => (f === '-fno-pie' ? '-fPIE' : f));
    const objs = compile(t.dir, srcs, pie, [join(FIX, 'freestanding')]).map((p) => p.split('/').pop());
    const n = native(t.dir, ['-pie', ...objs, 'libc.so.6.dso']);
    const w = await wasm(t.dir, [...objs, 'libc.so.6.dso'], { kind: 'pie' });
    assertSameLink(n, w);
    assert.equal(w.report.output.kind, 'pie');
    assert.deepEqual(w.report.dynamic.needed, ['libc.so.6']);
    assert.ok(w.report.dynamic.imports.some((i) => i.symbol === '__libc_start_main' && /^GLIBC_2\.\d+$/.test(i.version)));
    assert.ok(w.report.init_arrays.init.every((e) => e.filled_by.startsWith('R_X86_64_RELATIVE')));
    // The real ld.so loads the real libc.so.6: same output as the static link of these objects.
    const exe = join(t.dir, 'pie.out');
    writeFileSync(exe, w.elf);
    const r = run(exe);
    assert.equal(r.status, 61);
    assert.match(r.stdout, /^preinit a\npreinit b 1\npreinit b 2\ninit a 101\ninit b 101\ninit b 150\n/);
  } finally {
    t.cleanup();
  }
});

// The gallery as the page links it (web/app.js): each example's objects from index.json (their
// -fPIE builds for a PIE), the glibc description last for PIE and non-PIE, and the example's kind,
// output name and arguments. The CLI gets the same command line.
test('every gallery example links as the page links it, byte-identical to the CLI; the PIE and the plugin run', async () => {
  const { examples } = JSON.parse(readFileSync(join(ROOT, 'web', 'examples', 'index.json'), 'utf8'));
  const byName = Object.fromEntries(examples.map((e) => [e.name, e]));
  assert.equal(byName['pie-glibc']?.kind, 'pie');
  assert.equal(byName['module-registration']?.kind, 'shared');
  for (const ex of examples) {
    const t = tempDir(`gallery-${ex.name}`);
    try {
      const files = ex.inputs.map((i) => ({ name: i.name, url: ex.kind === 'pie' && i.pieUrl ? i.pieUrl : i.url }));
      if (ex.kind === 'pie' || ex.kind === 'exec') files.push({ name: 'libc.so.6.dso', url: 'examples/libc.so.6.dso' });
      const inputs = files.map((f) => ({ name: f.name, bytes: read(join(ROOT, 'web', f.url)) }));
      for (const f of inputs) writeFileSync(join(t.dir, f.name), f.bytes);
      const w = await link(inputs, { output: ex.output, ...(ex.kind ? { kind: ex.kind } : {}), ...(ex.args.length ? { args: ex.args } : {}) });
      assert.ok(w.ok, `${ex.name}: ${w.diagnostics.map((d) => d.text).join('\n')}`);
      const r = spawnSync(initlinkBin(), [...w.commandLine, ...inputs.map((f) => f.name), `--report=${ex.output}.json`, `-Map=${ex.output}.map`], { cwd: t.dir, encoding: 'utf8' });
      const out = join(t.dir, ex.output);
      assertSameLink({ status: r.status, stderr: r.stderr, elf: read(out), report: readFileSync(`${out}.json`, 'utf8'), map: readFileSync(`${out}.map`, 'utf8') }, w);
      if (ex.name === 'pie-glibc') checkPieExample(w, out);
      if (ex.name === 'module-registration') checkPluginExample(w, t.dir, out);
    } finally {
      t.cleanup();
    }
  }
});

/** A PIE against libc.so.6 that runs with the real glibc, its data addresses fixed up by the loader. */
function checkPieExample(w, exe) {
  assert.equal(w.report.output.kind, 'pie');
  assert.match(execFileSync('readelf', ['-h', exe], { encoding: 'utf8' }), /Type:\s+DYN \(Position-Independent Executable file\)/);
  assert.deepEqual(w.report.dynamic.needed, ['libc.so.6']);
  assert.deepEqual(w.report.dynamic.imports.map((i) => i.symbol).sort(), ['__libc_start_main', 'printf', 'puts']);
  // The three greetings[] slots, plus one .init_array and one .fini_array slot.
  assert.deepEqual(w.report.dynamic.relocation_counts.find(([type]) => type === 'R_X86_64_RELATIVE'), ['R_X86_64_RELATIVE', 5]);
  assert.ok(w.report.stubs.some((s) => s.name === '__libc_start_main@plt'), 'the synthesized Scrt1 _start');
  const r = run(exe, ['one']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, `constructor: stdio already works (glibc initialized itself first)\nhello from ${exe}: 2 argument(s)\n`
    + 'greeting 0: bonjour\ngreeting 1: hallo\ngreeting 2: hola\ndestructor (.fini_array)\n');
}

/** The plugin: the linker-made registration stub first in .init_array; a host that defines
 * register_module dlopens it and is called before the plugin's own constructor. */
function checkPluginExample(w, dir, so) {
  const [slot0, slot1] = w.report.init_arrays.init;
  const stub = w.report.stubs.find((s) => s.name === 'initlink.register_module');
  assert.ok(stub, JSON.stringify(w.report.stubs.map((s) => s.name)));
  assert.deepEqual([slot0.symbol, slot0.priority, slot0.linker_made, slot0.target_address], ['initlink.register_module', 0, true, stub.address]);
  assert.equal(slot1.symbol, 'plugin_init');
  assert.deepEqual(stub.lines.map((l) => [l.asm.split(' ')[0], l.reloc?.type, l.reloc?.symbol]),
    [['lea', 'R_X86_64_PC32', 'initlink.module_data'], ['call', 'R_X86_64_PLT32', 'register_module'], ['ret', undefined, undefined]]);
  writeFileSync(join(dir, 'host.c'), `#include <dlfcn.h>
#include <stdio.h>
#include "initlink_module.h"
static struct initlink_module *mod;
/* The plugin's constructor sets a .bss flag: zero .bss here means it has not run yet. */
static int set_bss_bytes(void) {
  int n = 0;
  for (const char *p = (const char *)mod->bss_start; p < (const char *)mod->bss_end; p++) n += *p != 0;
  return n;
}
void register_module(struct initlink_module *m) {
  mod = m;
  printf("registered %s: version %u, %lu init_array entries, %d .bss bytes set\\n", m->name, m->version, (unsigned long)m->init_array_count, set_bss_bytes());
}
int main(int argc, char **argv) {
  void *h = dlopen(argv[1], RTLD_NOW);
  if (!h) { printf("%s\\n", dlerror()); return 1; }
  printf("after dlopen: %d .bss bytes set\\n", set_bss_bytes());
  int (*value)(void) = (int (*)(void))dlsym(h, "plugin_value");
  printf("plugin_value() = %d\\n", value());
  return 0;
}
`);
  execFileSync('gcc', ['-rdynamic', '-I', join(ROOT, 'examples', 'module-registration'), 'host.c', '-o', 'host', '-ldl'], { cwd: dir, stdio: 'pipe' });
  const r = run(join(dir, 'host'), [so]);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  // Registered first (plugin_init's flag still 0), then the constructor ran (flag set, value 14).
  assert.equal(r.stdout, 'registered libplugin.so: version 1, 2 init_array entries, 0 .bss bytes set\nafter dlopen: 1 .bss bytes set\nplugin_value() = 14\n');
}

test('bad input: diagnostics worded as the CLI words them, never a throw', async () => {
  const t = tempDir('bad');
  try {
    writeFileSync(join(t.dir, 'bad.o'), 'this is not an object file\0\x01\x02');
    writeFileSync(join(t.dir, 'trunc.o'), Buffer.from('7f454c46020101000000000000000000', 'hex'));
    for (const f of ['bad.o', 'trunc.o']) {
      const n = native(t.dir, [f]);
      assert.equal(n.status, 1);
      const w = await wasm(t.dir, [f]);
      assert.equal(w.ok, false);
      assert.equal(w.elf, null);
      assert.ok(w.diagnostics.length > 0);
      assert.equal(w.diagnostics.map((d) => d.text).join('\n'), n.stderr.trimEnd(), `diagnostics for ${f}`);
      assert.ok(w.diagnostics.every((d) => d.severity === 'error' && d.file === f));
    }
    // An undefined symbol names the symbol and the referencing site.
    const [obj] = compile(t.dir, [join(ROOT, 'web', 'examples', 'archive', 'main.c')], FREESTANDING, [join(ROOT, 'web', 'examples', 'common')]);
    const n = native(t.dir, ['main.o']);
    const w = await wasm(t.dir, ['main.o']);
    assert.equal(w.diagnostics.map((d) => d.text).join('\n'), n.stderr.trimEnd());
    assert.ok(w.diagnostics.some((d) => d.symbol === 'square'), JSON.stringify(w.diagnostics));
    // A failed link still reports what was loaded and why: the CLI exits 1, writes no output, and
    // writes the same partial report the wasm build returns.
    assert.equal(n.status, 1);
    assert.equal(n.elf, null);
    assert.equal(w.elf, null);
    assert.equal(w.reportJson, n.report);
    assert.equal(w.report.partial, true);
    assert.deepEqual(w.report.inputs.map((i) => [i.name, i.why]), [['main.o', 'named on the command line']]);
    assert.ok(w.report.diagnostics.some((d) => d.severity === 'error' && d.message === 'undefined symbol: square'));
    assert.deepEqual(w.report.sections, []);
    assert.match(w.map, /initlink link map/);
    assert.ok(obj);
    // Malformed calls and options are diagnostics too.
    for (const [inputs, options, want] of [
      [null, {}, /inputs must be an array/],
      [[{ name: 'x.o' }], {}, /expected \{name: string, bytes: Uint8Array\}/],
      [[], {}, /no input files/],
      [[{ group: 'sideways' }], {}, /group marker/],
      [[], { frobnicate: true }, /unknown option 'frobnicate'/],
      [[], { args: ['--frobnicate'] }, /^initlink: error: unknown option: --frobnicate$/],
      [[], { kind: 7 }, /option 'kind' must be a string/],
      [[], 'not an object', /options must be an object/],
    ]) {
      const r = await link(inputs, options);
      assert.equal(r.ok, false);
      assert.match(r.diagnostics[0].text, want);
    }
  } finally {
    t.cleanup();
  }
});

test('C++ names: the demangler module loads on the first mangled name; messages and extern "C++" version scripts as the CLI', async () => {
  const t = tempDir('demangle');
  try {
    writeFileSync(join(t.dir, 'lib.cc'), 'int helper(int);\nnamespace ns { int f(int x) { return helper(x) + 1; } int g(int x) { return x * 2; } }\n');
    execFileSync('g++', ['-c', '-fPIC', '-O1', 'lib.cc', '-o', 'lib.o'], { cwd: t.dir });
    writeFileSync(join(t.dir, 'v.map'), 'V1 { global: extern "C++" { "ns::f(int)"; }; local: *; };\n');
    // An executable: helper(int) is undefined, named demangled as the CLI (and GNU ld) names it.
    const n = native(t.dir, ['lib.o']);
    assert.equal(n.status, 1);
    assert.match(n.stderr, /undefined symbol: helper\(int\)/);
    const w = await wasm(t.dir, ['lib.o']);
    assert.equal(w.ok, false);
    assert.equal(w.diagnostics.map((d) => d.text).join('\n'), n.stderr.trimEnd());
    // A shared object whose version script picks ns::f(int) by its demangled name: the same bytes.
    const args = ['-shared', 'lib.o', '--version-script=v.map'];
    const ns = native(t.dir, args);
    const ws = await link([{ name: 'lib.o', bytes: read(join(t.dir, 'lib.o')) }, { name: 'v.map', bytes: read(join(t.dir, 'v.map')) }],
      { args: ['-o', join(t.dir, 'native.out'), ...args, `--report=${join(t.dir, 'native.out')}.json`, `-Map=${join(t.dir, 'native.out')}.map`] });
    assertSameLink(ns, ws);
    const dyn = execFileSync('readelf', ['--dyn-syms', '-W', join(t.dir, 'native.out')], { encoding: 'utf8' });
    assert.match(dyn, / _ZN2ns1fEi@@V1/);
    assert.doesNotMatch(dyn, /_ZN2ns1gEi/);
  } finally {
    t.cleanup();
  }
});

test('a panic becomes a diagnostic and the next link works', async () => {
  const p = await panicForTest();
  assert.equal(p.ok, false);
  assert.match(p.diagnostics[0].message, /panicked.*test_panic called/s);
  assert.match(p.diagnostics[0].notes[0], /RuntimeError/);
  const t = tempDir('after-panic');
  try {
    const objs = compile(t.dir, [join(ROOT, 'web', 'examples', 'freestanding', 'hello.c')], FREESTANDING, [join(ROOT, 'web', 'examples', 'common')]);
    const w = await link(objs.map((o) => ({ name: 'hello.o', bytes: read(o) })), { output: 'hello' });
    assert.ok(w.ok, JSON.stringify(w.diagnostics));
  } finally {
    t.cleanup();
  }
});
