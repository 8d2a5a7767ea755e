// The playground page in Debian's chromium (playwright-core, no downloaded browser): pick an
// example, link it, read the views; upload objects built here from a fixture, download the ELF and
// run it; upload a bad file, see the diagnostic, and link again. Screenshots go to
// target/web-artifacts/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, writeFileSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { ROOT, ARTIFACTS, serve, browser, tempDir, compile, FREESTANDING } from './helpers.mjs';

let server;
let chrome;
let page;
const problems = [];
const requests = []; // every URL the page and its worker fetched (not the service worker's
                      // install, which caches the lazily loaded modules for offline use)
const requested = []; // the same requests (playwright's Request: their start times)
const firstLoad = []; // the requests until the first example was linked and drawn

before(async () => {
  server = await serve();
  chrome = await browser();
  page = await chrome.context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  chrome.context.on('request', (r) => {
    if (!r.serviceWorker()) { requests.push(r.url()); requested.push(r); }
  });
  await page.goto(server.url);
  // The first example links on its own once the page is up. The first load ends when that link
  // is drawn (the page's first-link-rendered mark): right after it, the page starts loading the
  // emulator for Run, which may come before this process sees the verdict, so what was requested
  // by then is sorted by when each request started.
  await page.waitForSelector('.verdict', { timeout: 20000 });
  const drawn = await page.evaluate(() => performance.timeOrigin + performance.getEntriesByName('first-link-rendered')[0].startTime);
  const seen = [...requested];
  const started = await Promise.all(seen.map(async (r) => { await r.response().catch(() => null); return r.timing().startTime; }));
  firstLoad.push(...seen.filter((_, i) => !(started[i] > drawn)).map((r) => r.url()));
});

after(async () => {
  await chrome?.close();
  server?.close();
});

const shot = (name) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });

async function linkAndWait() {
  const before = Number(await page.getAttribute('body', 'data-linked')) || 0;
  await page.getByTestId('link').click();
  await page.waitForFunction((n) => Number(document.body.dataset.linked) > n, before, { timeout: 20000 });
}

async function view(name) {
  await page.click(`#tab-${name}`);
  await page.waitForSelector(`#view-${name}:not([hidden])`);
}

test('an example links in the browser: start-up entries in priority order, annotated stub lines', async () => {
  const linked = Number(await page.getAttribute('body', 'data-linked'));
  await page.click('[data-example="ctor-priorities"]');
  await page.waitForFunction((n) => Number(document.body.dataset.linked) > n, linked, { timeout: 20000 });
  assert.match(await page.textContent('.verdict'), /Linked prog/);
  // The source is shown beside the views.
  assert.match(await page.textContent('#source-code'), /\.init_array\.200/);

  await view('startup');
  const entries = page.getByTestId('init-entry');
  const syms = await entries.locator('.sym').allTextContents();
  // Initializers by priority across the three files (gcc and clang spellings), then finalizers.
  assert.deepEqual(syms, ['gcc_101', 'clang_200', 'main_300', 'gcc_500', 'gcc_999', 'clang_1000', 'gcc_default', 'gcc_d500', 'clang_d200', 'gcc_d101']);
  const first = await entries.first().textContent();
  assert.match(first, /priority 101/);
  assert.match(first, /gcc_ctors\.o/);
  assert.match(first, /\.init_array\.00101/);
  assert.match(await entries.nth(1).textContent(), /clang spelling/);
  await shot('example-startup');

  await view('stubs');
  const lines = page.getByTestId('stub-line');
  assert.ok(await lines.count() > 10, 'the synthesized _start has many lines');
  assert.equal(await lines.first().locator('.asm').textContent(), 'xor ebp, ebp');
  // A relocated line highlights exactly the field the relocation wrote.
  const reloc = page.locator('[data-testid=stub-line].has-reloc').first();
  assert.equal(await reloc.locator('.rel').count(), 4);
  const explained = await page.locator('.reloc-row').first().textContent();
  assert.match(explained, /R_X86_64_PC32/);
  assert.match(explained, /S \+ A - P = 0x[0-9a-f]+ − 4 - 0x[0-9a-f]+ = 0x[0-9a-f]+/);
  await shot('example-stubs');

  await view('memory');
  const rows = page.getByTestId('section-row');
  assert.ok((await rows.allTextContents()).some((t) => t.includes('.init_array')));
  await rows.filter({ hasText: '.text' }).first().click();
  const detail = await page.textContent('#section-detail');
  assert.match(detail, /gcc_ctors\.o/);
  assert.match(detail, /clang_style\.o/);
  await shot('example-memory');

  await view('symbols');
  await page.fill('#view-symbols input[type=search]', 'mai');
  await page.waitForFunction(() => document.querySelectorAll('#view-symbols tbody tr').length === 1);
  assert.match(await page.textContent('#view-symbols tbody'), /^main0x[0-9a-f]+\d+FUNCGLOBAL\.textmain\.o$/);
  await page.fill('#view-symbols input[type=search]', 'no such symbol');
  await page.waitForFunction(() => document.querySelectorAll('#view-symbols tbody tr').length === 0);
});

test('relocations view: each call site of main.o, zeros before, the callee\'s offset after', async () => {
  const linked = Number(await page.getAttribute('body', 'data-linked'));
  await page.click('[data-example="archive"]');
  await page.waitForFunction((n) => Number(document.body.dataset.linked) > n, linked, { timeout: 20000 });
  await view('relocs');
  await page.selectOption('[data-testid=reloc-input]', 'main.o');
  await page.selectOption('[data-testid=reloc-section]', '.text');
  const rows = page.getByTestId('reloc-row');
  assert.ok(await rows.count() >= 1);
  const call = rows.filter({ hasText: 'R_X86_64_PLT32' }).first();
  assert.match(await call.textContent(), /square/);
  assert.equal((await call.locator('td.before').innerText()).split('\n')[0], 'e8 00 00 00 00');
  // The after bytes: the opcode unchanged, the field changed (highlighted), the formula filled in.
  const after = call.locator('td.after > span');
  assert.equal(await after.first().textContent(), 'e8');
  assert.equal(await after.first().getAttribute('class'), null);
  assert.ok(await call.locator('td.after span.chg').count() >= 1);
  assert.match(await call.locator('.formula').textContent(), /^L \+ A - P = 0x[0-9a-f]+ − 0x4 - 0x[0-9a-f]+ = 0x[0-9a-f]+$/);
  // Data relocations into merged strings name the string.
  assert.match(await rows.filter({ hasText: 'R_X86_64_32' }).first().textContent(), /\.rodata\.str1\.1\+0x[0-9a-f]+ "/);
  await shot('relocations');
  // The view remembers the pick across links.
  await linkAndWait();
  assert.equal(await page.inputValue('[data-testid=reloc-input]'), 'main.o');
});

/** Download the linked ELF into dir and run it natively. */
async function downloadAndRun(dir, name) {
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-elf').click()]);
  const exe = join(dir, name);
  await download.saveAs(exe);
  chmodSync(exe, 0o755);
  return spawnSync(exe, [], { encoding: 'utf8', timeout: 10000 });
}

test('output kind: PIE and non-PIE link against the glibc description and run; shared needs -fPIC', async () => {
  const t = tempDir('kinds');
  try {
    const kind = page.getByTestId('output-kind');
    // The archive example's static link: the output PIE must reproduce.
    await kind.selectOption('static');
    await linkAndWait();
    assert.match(await page.textContent('.verdict'), /Linked prog · static executable/);
    assert.equal(await page.isHidden('#tab-dynamic'), true);
    assert.equal(await page.getByTestId('glibc-input').count(), 0);
    await view('relocs');
    assert.ok(await page.getByTestId('reloc-row').count() >= 1);
    const want = await downloadAndRun(t.dir, 'static');
    assert.match(want.stdout, /main: square\(7\) = 49/);

    await kind.selectOption('pie');
    assert.match(await page.textContent('#kind-help'), /ET_DYN/);
    await page.getByTestId('glibc-input').waitFor();
    assert.equal(await page.textContent('[data-testid=glibc-input]'), "glibc (description generated from this machine's libc.so.6)");
    assert.equal(await page.textContent('#inputs li:last-child .fname'), 'libc.so.6.dso');
    await linkAndWait();
    assert.match(await page.textContent('.verdict'), /Linked prog · position-independent executable/);
    assert.equal(await page.getByTestId('diagnostic').count(), 0);
    assert.match(await page.textContent('#inputs'), /main\.oobject \(-fPIE\)/);
    assert.ok(await page.textContent('.cmd').then((t) => t.includes('-pie') && t.includes('libc.so.6.dso')));
    await view('dynamic');
    const dyn = await page.textContent('#view-dynamic');
    assert.match(dyn, /Needed libraries\s*libc\.so\.6/);
    assert.match(await page.textContent('[data-testid=imports]'), /__libc_start_mainGLIBC_2\.\d+libc\.so\.6plt/);
    assert.match(dyn, /R_X86_64_RELATIVE × \d+/);
    assert.match(dyn, /__libc_start_main@plt/);
    await shot('kind-pie');
    await view('startup');
    // Each .init_array slot is filled at load time by an R_X86_64_RELATIVE relocation.
    assert.ok(await page.getByTestId('init-entry').count() >= 1);
    assert.match(await page.textContent('#view-startup .phase.init_array'), /slot filled: R_X86_64_RELATIVE/i);
    assert.match(await page.textContent('#view-startup'), /__libc_start_main@plt/);
    await view('stubs');
    assert.ok((await page.getByTestId('stub-line').allTextContents()).some((l) => /call.*__libc_start_main@plt/.test(l)),
      'the synthesized _start calls __libc_start_main@plt');
    await shot('kind-pie-stubs');
    const pie = await downloadAndRun(t.dir, 'pie');
    assert.equal(pie.status, want.status);
    assert.equal(pie.stdout, want.stdout);

    await kind.selectOption('exec');
    await linkAndWait();
    assert.match(await page.textContent('.verdict'), /Linked prog · executable \(not PIE\)/);
    assert.match(await page.textContent('#inputs'), /main\.oobject ·/);
    assert.equal(await page.isVisible('#tab-dynamic'), true);
    const exec = await downloadAndRun(t.dir, 'exec');
    assert.equal(exec.status, want.status);
    assert.equal(exec.stdout, want.stdout);

    // The examples are built with -fno-pie: a shared object refuses their absolute relocations.
    await kind.selectOption('shared');
    assert.match(await page.textContent('#kind-help'), /-fPIC/);
    assert.equal(await page.getByTestId('glibc-input').count(), 0);
    await linkAndWait();
    assert.match(await page.textContent('[data-testid=diagnostic]'), /recompile with -fPIC/);
    await kind.selectOption('');
  } finally {
    t.cleanup();
  }
});

async function pick(name) {
  const linked = Number(await page.getAttribute('body', 'data-linked'));
  await page.click(`[data-example="${name}"]`);
  await page.waitForFunction((n) => Number(document.body.dataset.linked) > n, linked, { timeout: 20000 });
}

test('gallery: the glibc example links as a PIE by default, and the download runs', async () => {
  const t = tempDir('gallery-pie');
  try {
    await pick('pie-glibc');
    assert.equal(await page.inputValue('[data-testid=output-kind]'), 'pie');
    assert.match(await page.textContent('.verdict'), /Linked prog · position-independent executable/);
    assert.equal(await page.getByTestId('diagnostic').count(), 0);
    assert.match(await page.textContent('#source-code'), /greetings\[\]/);
    assert.match(await page.textContent('#inputs'), /greet\.oobject \(-fPIE\)/);
    assert.equal(await page.getByTestId('glibc-input').count(), 1);
    await view('dynamic');
    // greetings[0..2] plus the .init_array and .fini_array slots.
    assert.match(await page.textContent('#view-dynamic'), /R_X86_64_RELATIVE × 5/);
    assert.match(await page.textContent('[data-testid=imports]'), /printfGLIBC_2\.\d+\.?\d*libc\.so\.6plt/);
    await shot('gallery-pie');
    const r = await downloadAndRun(t.dir, 'prog');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `constructor: stdio already works (glibc initialized itself first)\nhello from ${join(t.dir, 'prog')}: 1 argument(s)\n`
      + 'greeting 0: bonjour\ngreeting 1: hallo\ngreeting 2: hola\ndestructor (.fini_array)\n');
  } finally {
    t.cleanup();
  }
});

test('gallery: module registration, the linker-made stub and its .init_array slot', async () => {
  await pick('module-registration');
  assert.equal(await page.inputValue('[data-testid=output-kind]'), 'shared');
  assert.match(await page.textContent('.verdict'), /Linked libplugin\.so · shared object/);
  assert.equal(await page.getByTestId('diagnostic').count(), 0);
  assert.deepEqual(await page.locator('#source-tabs [role=tab]').allTextContents(), ['plugin.c', 'initlink_module.h']);

  await view('stubs');
  const stub = page.locator('section.stub').filter({ has: page.locator('h3 code', { hasText: /^initlink\.register_module$/ }) });
  const at = /at (0x[0-9a-f]+)/.exec(await stub.locator('h3').textContent())[1];
  const lines = stub.getByTestId('stub-line');
  const asm = await lines.locator('.asm').allTextContents();
  assert.equal(asm.length, 3);
  assert.match(asm[0], /^lea rdi, \[0x[0-9a-f]+\]$/);
  assert.match(asm[1], /^call 0x[0-9a-f]+ <register_module@plt>$/);
  assert.equal(asm[2], 'ret');
  assert.match(await lines.first().locator('.bytes').textContent(), /^48 8d 3d( [0-9a-f]{2}){4}$/);
  // Each of the two fields is highlighted and explained.
  assert.equal(await lines.nth(0).locator('.rel').count(), 4);
  assert.equal(await lines.nth(1).locator('.rel').count(), 4);
  const why = await stub.locator('.reloc-row').allTextContents();
  assert.match(why[0], /R_X86_64_PC32.*initlink\.module_data/);
  assert.match(why[1], /R_X86_64_PLT32.*register_module/);
  await shot('gallery-module-stubs');

  await view('startup');
  const entries = page.getByTestId('init-entry');
  assert.deepEqual(await entries.locator('.sym').allTextContents(), ['initlink.register_module', 'plugin_init']);
  const first = entries.first();
  assert.match(await first.locator('.title').textContent(), /priority 0.*linker-made/);
  assert.match(await first.locator('.meta').first().textContent(), new RegExp(`section \\(linker-made, --init-stub\\) · slot 0 at 0x[0-9a-f]+ holds ${at}$`));
  // A shared object: the loader runs the arrays, there is no _start or main.
  const timeline = await page.textContent('#view-startup');
  assert.match(timeline, /Dynamic loader/);
  assert.doesNotMatch(timeline, /called by __libc_start_main/);
  await shot('gallery-module-startup');

  // The next example brings back its own kind and output name.
  await pick('freestanding');
  assert.equal(await page.inputValue('[data-testid=output-kind]'), '');
  assert.equal(await page.inputValue('#options input[name=output]'), 'prog');
  assert.match(await page.textContent('.verdict'), /Linked prog · executable \(not PIE\)/);
  assert.equal(await page.getByTestId('glibc-input').count(), 0);
  // Leaving an example for uploads drops the options it set: back to module registration, then clear.
  await pick('module-registration');
  await page.click('#clear');
  assert.deepEqual(await page.evaluate(() => { const f = document.getElementById('options').elements; return [f.kind.value, f.output.value, f.args.value]; }), ['', 'prog', '']);
});

test('uploaded objects link, the downloaded ELF runs natively', async () => {
  const t = tempDir('upload');
  try {
    const dir = join(ROOT, 'tests', 'fixtures', 'asm', 'fs_arrays');
    const objs = compile(t.dir, [join(dir, 'arrays.s'), join(dir, 'more.c')], FREESTANDING, [join(ROOT, 'tests', 'fixtures', 'freestanding')]);
    await page.getByTestId('upload').setInputFiles(objs);
    await page.waitForFunction(() => [...document.querySelectorAll('#inputs .fname')].map((e) => e.textContent).join(' ') === 'arrays.o more.o');
    await page.fill('#options input[name=output]', 'arrays');
    await linkAndWait();
    assert.match(await page.textContent('.verdict'), /Linked arrays/);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-elf').click()]);
    assert.equal(download.suggestedFilename(), 'arrays');
    const exe = join(t.dir, 'arrays');
    await download.saveAs(exe);
    chmodSync(exe, 0o755);
    const r = spawnSync(exe, [], { encoding: 'utf8', timeout: 10000 });
    assert.equal(r.status, 97);
    assert.match(r.stdout, /^preinit_array \[0\]\npreinit_array \[1\]\n/);
    assert.match(r.stdout, /init_array\.150 \(clang style\)\nC constructor\(200\)\ninit_array\.00300\n/);
    await shot('upload-linked');
  } finally {
    t.cleanup();
  }
});

test('a bad file gives a diagnostic and the page keeps working', async () => {
  const t = tempDir('bad');
  try {
    const bad = join(t.dir, 'notes.o');
    writeFileSync(bad, 'not an ELF file at all\n\0\0\0');
    await page.click('#clear');
    await page.getByTestId('upload').setInputFiles([bad]);
    await page.waitForSelector('#inputs li.odd');
    await linkAndWait();
    const diag = page.getByTestId('diagnostic');
    assert.equal(await diag.count(), 1);
    assert.equal((await diag.locator('pre').textContent()).trim(), 'initlink: error: notes.o: unknown file type: not an ELF object or ar archive');
    assert.match(await page.textContent('.verdict'), /failed/);
    assert.equal(await page.getByTestId('download-elf').count(), 0);
    await shot('bad-file');
    // Replace it with a good object: the link succeeds and the diagnostic is gone.
    const [good] = compile(t.dir, [join(ROOT, 'web', 'examples', 'freestanding', 'hello.c')], FREESTANDING, [join(ROOT, 'web', 'examples', 'common')]);
    await page.click('#clear');
    await page.getByTestId('upload').setInputFiles([good]);
    await page.waitForFunction(() => document.querySelector('#inputs .fname')?.textContent === 'hello.o');
    await linkAndWait();
    assert.match(await page.textContent('.verdict'), /Linked/);
    assert.equal(await page.getByTestId('diagnostic').count(), 0);
  } finally {
    t.cleanup();
  }
});

test('keyboard: tabs move with the arrow keys, sections open with Enter', async () => {
  await page.focus('#tab-memory');
  await page.keyboard.press('ArrowRight');
  assert.equal(await page.getAttribute('#tab-startup', 'aria-selected'), 'true');
  assert.equal(await page.isVisible('#view-startup'), true);
  await page.keyboard.press('ArrowLeft');
  const row = page.getByTestId('section-row').first();
  await row.focus();
  await page.keyboard.press('Enter');
  const name = await row.locator('code').first().textContent();
  assert.match(await page.textContent('#section-detail h3'), new RegExp(name.replace('.', '\\.')));
});

test('Run: the linked example runs in the emulator (loaded once a link can run), its output shown, every start-up entry observed', async () => {
  // The first load never fetched the emulator (see the first-load test); once a link made Run
  // live, the page loaded it, once.
  assert.deepEqual(firstLoad.filter((u) => u.includes('/pkg/emu/')), []);
  assert.equal(requests.filter((u) => u.endsWith('/pkg/emu/initlink_emu_wasm_bg.wasm')).length, 1);
  assert.equal(await page.isDisabled('[data-testid=run]'), false);
  const linked = Number(await page.getAttribute('body', 'data-linked'));
  await page.click('[data-example="raw-arrays"]');
  await page.waitForFunction((n) => Number(document.body.dataset.linked) > n, linked, { timeout: 20000 });
  await view('startup');
  const runOnce = async () => {
    const ran = Number(await page.getAttribute('body', 'data-ran')) || 0;
    await page.getByTestId('run').click();
    await page.waitForFunction((n) => Number(document.body.dataset.ran) > n, ran, { timeout: 20000 });
    return Number(await page.getAttribute('body', 'data-run-ms'));
  };
  const firstMs = await runOnce();
  assert.equal(requests.filter((u) => u.endsWith('/pkg/emu/initlink_emu_wasm_bg.wasm')).length, 1);
  const out = await page.textContent('[data-testid=run-stdout]');
  assert.match(out, /^  \.preinit_array \[0\]: runs before every other initializer\n  \.preinit_array \[1\]\n/);
  assert.match(out, /\nmain\n  \.dtors\n  \.fini_array\n$/);
  assert.match(await page.textContent('[data-testid=run-status]'), /exit status 0/);
  assert.match(await page.textContent('[data-testid=run-instructions]'), /[\d,]+ instructions/);
  assert.match(await page.textContent('[data-testid=run-startup]'), /all \d+ entries observed in the predicted order/);
  // Every entry of the Start-up view (initializers, main, finalizers) is marked, none differs.
  const entries = await page.locator('#view-startup [data-seq]').count();
  const marks = await page.locator('#view-startup [data-testid=observed]').allTextContents();
  assert.ok(entries >= 10, String(entries));
  assert.equal(marks.length, entries);
  assert.ok(marks.every((m) => /^✓ observed \d+(st|nd|rd|th), as predicted$/.test(m)), marks.join('\n'));
  assert.equal(await page.locator('#view-startup .differs').count(), 0);
  const againMs = await runOnce();
  await shot('run');
  await page.locator('#view-startup').screenshot({ path: join(ARTIFACTS, 'run-startup.png') });
  assert.equal(await page.textContent('#console').then((t) => t.includes('null')), false);
  console.log(`run in the page: ${firstMs} ms the first time, ${againMs} ms after`);
  // Arguments reach the program: the freestanding example greets them and exits with argc.
  const k = Number(await page.getAttribute('body', 'data-linked'));
  await page.click('[data-example="freestanding"]');
  await page.waitForFunction((x) => Number(document.body.dataset.linked) > x, k, { timeout: 20000 });
  await page.click('#run-opts summary');
  await page.fill('[data-testid=run-args]', 'one "two words"');
  await runOnce();
  assert.match(await page.textContent('[data-testid=run-stdout]'), /^constructor: called with arguments\n/);
  assert.match(await page.textContent('[data-testid=run-stdout]'), /\nhello from prog\n  argument: one\n  argument: two words\n$/);
  assert.match(await page.textContent('[data-testid=run-status]'), /exit status 42/);
  await page.fill('[data-testid=run-args]', '');
  // A dynamic program: its first run fetches the loader and libc (not libstdc++, which it does
  // not need); the Start-up view shows libc.so.6's initializers, called by the loader, before
  // the program's own.
  const n = Number(await page.getAttribute('body', 'data-linked'));
  await page.click('[data-example="pie-glibc"]');
  await page.waitForFunction((k) => Number(document.body.dataset.linked) > k, n, { timeout: 20000 });
  assert.deepEqual(requests.filter((u) => u.includes('/pkg/emu/lib/')), []);
  const dynMs = await runOnce();
  assert.deepEqual(requests.filter((u) => u.includes('/pkg/emu/lib/')).map((u) => u.split('/').pop()).sort(),
    ['index.json', 'ld-linux-x86-64.so.2.gz', 'libc.so.6.gz']);
  assert.equal(await page.textContent('[data-testid=run-stdout]'), 'constructor: stdio already works (glibc initialized itself first)\n'
    + 'hello from prog: 1 argument(s)\ngreeting 0: bonjour\ngreeting 1: hallo\ngreeting 2: hola\ndestructor (.fini_array)\n');
  assert.match(await page.textContent('[data-testid=run-status]'), /exit status 0/);
  assert.match(await page.textContent('[data-testid=run-startup]'), /all \d+ entries observed in the predicted order/);
  const libCalls = await page.locator('[data-testid=library-init] [data-testid=library-call]').allTextContents();
  assert.ok(libCalls.length >= 1 && libCalls.every((c) => c.startsWith('libc.so.6 ')), libCalls.join('\n'));
  const againDynMs = await runOnce();
  await page.locator('#view-startup').screenshot({ path: join(ARTIFACTS, 'run-dynamic-startup.png') });
  console.log(`dynamic run in the page: ${dynMs} ms the first time (fetching ld.so and libc), ${againDynMs} ms after`);
});

test('Run: the instruction budget stops a run with a diagnostic; Stop ends an endless one', async () => {
  const t = tempDir('stop');
  try {
    writeFileSync(join(t.dir, 'spin.c'), 'int main(void) { volatile unsigned long n = 0; for (;;) n++; }\n');
    const objs = compile(t.dir, [join(t.dir, 'spin.c')], FREESTANDING);
    await page.click('#clear');
    await page.getByTestId('upload').setInputFiles(objs);
    await page.waitForFunction(() => document.querySelector('#inputs .fname')?.textContent === 'spin.o');
    await linkAndWait();
    if (!(await page.isVisible('[data-testid=run-max]'))) await page.click('#run-opts summary');
    await page.fill('[data-testid=run-max]', '5000');
    const ran = Number(await page.getAttribute('body', 'data-ran')) || 0;
    await page.getByTestId('run').click();
    await page.waitForFunction((k) => Number(document.body.dataset.ran) > k, ran, { timeout: 20000 });
    assert.match(await page.textContent('[data-testid=run-diagnostics]'), /stopped after 5000 instructions \(the budget\)/);
    assert.match(await page.textContent('[data-testid=run-status]'), /did not exit/);
    // A budget the page would spend minutes on: Stop ends it, and Run works again at once.
    await page.fill('[data-testid=run-max]', '100000000000');
    const before = Number(await page.getAttribute('body', 'data-ran')) || 0;
    await page.getByTestId('run').click();
    await page.getByTestId('stop').waitFor({ state: 'visible' });
    assert.equal(await page.isVisible('[data-testid=run]'), false);
    await page.waitForTimeout(300);
    await page.getByTestId('stop').click();
    await page.waitForFunction((k) => Number(document.body.dataset.ran) > k, before, { timeout: 5000 });
    assert.match(await page.textContent('[data-testid=run-diagnostics]'), /stopped by the Stop button after \d+ ms/);
    assert.equal(await page.isVisible('[data-testid=stop]'), false);
    assert.equal(await page.isDisabled('[data-testid=run]'), false);
    await shot('run-stopped');
    await page.fill('[data-testid=run-max]', '1000');
    await page.getByTestId('run').click();
    await page.waitForFunction((k) => Number(document.body.dataset.ran) > k + 1, before, { timeout: 20000 });
    assert.match(await page.textContent('[data-testid=run-diagnostics]'), /stopped after 1000 instructions/);
    // The worker started after the Stop got the compiled emulator from the page: not fetched again.
    assert.equal(requests.filter((u) => u.endsWith('/pkg/emu/initlink_emu_wasm_bg.wasm')).length, 1);
    await page.fill('[data-testid=run-max]', '100000000');
  } finally {
    t.cleanup();
  }
});

test('first load: under 500 KB gzipped, without the emulator, the libraries, the compiler or the editor', () => {
  const local = firstLoad.filter((u) => u.startsWith(server.url)).map((u) => new URL(u).pathname);
  assert.ok(local.some((p) => p.endsWith('initlink_bg.wasm')), local.join(' '));
  assert.deepEqual(local.filter((p) => /^\/pkg\/(emu|tcc)\/|editor\.js$|stepper\.js$/.test(p)), []);
  let gz = 0;
  for (const p of new Set(local)) {
    const path = p.startsWith('/pkg/') ? join(ROOT, p.slice(1)) : join(ROOT, 'web', p === '/' ? 'index.html' : p.slice(1));
    gz += gzipSync(readFileSync(path), { level: 9 }).length;
  }
  console.log(`first load: ${new Set(local).size} files, ${(gz / 1024).toFixed(1)} KB gzipped`);
  assert.ok(gz < 500 * 1024, `${gz} bytes gzipped`);
});

test('works offline once loaded: the service worker serves the page and the linker', async () => {
  await page.evaluate(() => navigator.serviceWorker.ready);
  await page.reload();
  await page.waitForSelector('.verdict', { timeout: 20000 });
  await chrome.context.setOffline(true);
  try {
    await page.reload();
    await page.waitForSelector('.verdict', { timeout: 20000 });
    assert.match(await page.textContent('.verdict'), /Linked/);
  } finally {
    await chrome.context.setOffline(false);
  }
});

test('no console errors', () => {
  assert.deepEqual(problems, []);
});
