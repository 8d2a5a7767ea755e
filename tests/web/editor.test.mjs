// The page as a new user meets it (1440x1000 and 1280x800 windows): the Link action in view, an
// example pick that links, views inside their panes; then the editor: edit a priority, Ctrl+Enter
// (tcc in the worker, then the link), the Start-up view reorders; compiler errors at their line
// and column in the editor; add, rename and delete files, upload a source, tcc flags; the share
// link restores the same state in a new page, offline too. Screenshots go to target/web-artifacts/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ARTIFACTS, serve, browser, tempDir } from './helpers.mjs';

let server;
let chrome;
let page;
const problems = [];

const watch = (p) => {
  p.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  p.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
};

before(async () => {
  server = await serve();
  chrome = await browser();
  page = await chrome.context.newPage();
  watch(page);
  await page.setViewportSize({ width: 1440, height: 1000 });
  await page.goto(server.url);
  await page.waitForSelector('.verdict', { timeout: 20000 });
});

after(async () => {
  await chrome?.close();
  server?.close();
});

const shot = (name, p = page) => p.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
const linked = (p = page) => p.getAttribute('body', 'data-linked').then(Number);
const waitLinked = (n, p = page) => p.waitForFunction((k) => Number(document.body.dataset.linked) > k, n, { timeout: 30000 });

async function pick(name, p = page) {
  const n = await linked(p);
  await p.click(`[data-example="${name}"]`);
  await waitLinked(n, p);
}

async function view(name, p = page) {
  await p.click(`#tab-${name}`);
  await p.waitForSelector(`#view-${name}:not([hidden])`);
}

const startupOrder = (p = page) => p.getByTestId('init-entry').locator('.sym').allTextContents();

/** Open the editor on `file` (loaded on the first click) and replace its text, as typing does. */
async function edit(file, change, p = page) {
  await p.click(`#source-tabs [data-file="${file}"]`);
  await p.click('#source-code');
  await p.waitForSelector('#source-code .cm-content');
  await p.waitForFunction((f) => document.querySelector('#source-tabs [aria-selected=true]')?.dataset.file === f, file);
  const text = await p.evaluate(() => (({ initlinkEditor: e }) => e.text(e.current()))(document.getElementById('source-code')));
  const next = change(text);
  assert.notEqual(next, text, 'the edit changes the source');
  await p.click('#source-code .cm-content');
  await p.keyboard.press('Control+A');
  await p.keyboard.insertText(next);
}

async function compileAndLink(p = page) {
  const n = await linked(p);
  await p.keyboard.press('Control+Enter');
  await waitLinked(n, p);
}

/** Every element of the visible view inside the results pane, and the view not wider than it. */
async function overflow(p = page) {
  return p.evaluate(() => {
    const view = document.querySelector('.view:not([hidden])');
    const pane = document.getElementById('results').getBoundingClientRect();
    const bad = [];
    if (view.scrollWidth > view.clientWidth + 1) bad.push(`${view.id} scrolls sideways: ${view.scrollWidth} > ${view.clientWidth}`);
    for (const sc of view.querySelectorAll('.scroll')) if (sc.scrollWidth > sc.clientWidth + 1) bad.push(`${view.id} table wider than its box: ${sc.scrollWidth} > ${sc.clientWidth}`);
    for (const e of view.querySelectorAll('td, th, .entry, .blk, h3, p')) {
      const b = e.getBoundingClientRect();
      if (b.width && b.right > pane.right + 1 && !e.closest('pre')) { bad.push(`${view.id}: ${e.tagName} "${e.textContent.slice(0, 40)}" ends at ${Math.round(b.right)}, the pane at ${Math.round(pane.right)}`); break; }
    }
    return bad;
  });
}

test('layout: the Link action in view, every view of every example inside its pane, at 1440x1000 and 1280x800', async () => {
  for (const [width, height] of [[1440, 1000], [1280, 800]]) {
    await page.setViewportSize({ width, height });
    const bad = [];
    for (const ex of ['freestanding', 'ctor-priorities', 'raw-arrays', 'archive', 'pie-glibc', 'module-registration']) {
      await pick(ex);
      // The action is on screen, whole, without scrolling.
      const go = await page.getByTestId('link').boundingBox();
      assert.ok(go && go.y >= 0 && go.x >= 0 && go.y + go.height <= height && go.x + go.width <= width, `Link button at ${JSON.stringify(go)} in a ${width}x${height} window`);
      const panes = await page.evaluate(() => ['.sidebar', '#source', '#results'].map((s) => document.querySelector(s).getBoundingClientRect().toJSON()));
      for (const b of panes) assert.ok(b.right <= width && b.bottom <= height + 1, `pane ${JSON.stringify(b)} inside the ${width}x${height} window`);
      for (const v of ['memory', 'startup', 'relocs', 'stubs', 'dynamic', 'symbols', 'inputs', 'map']) {
        if (await page.isHidden(`#tab-${v}`)) continue;
        await view(v);
        bad.push(...(await overflow()).map((m) => `${width}px ${ex}: ${m}`));
      }
      if (ex === 'module-registration' || ex === 'archive') {
        await view('relocs');
        await shot(`layout-${width}-${ex}-relocs`);
      }
    }
    assert.deepEqual(bad, []);
    // Scrolled to the bottom of the results, the action is still there.
    await page.evaluate(() => { const r = document.getElementById('results'); r.scrollTop = r.scrollHeight; window.scrollTo(0, document.body.scrollHeight); });
    const go = await page.getByTestId('link').boundingBox();
    assert.ok(go.y >= 0 && go.y + go.height <= height, `Link button at ${JSON.stringify(go)} after scrolling`);
  }
  await page.setViewportSize({ width: 1440, height: 1000 });
});

test('picking an example links it at once, even while another link is in flight', async () => {
  const n = await linked();
  // Two picks in a row: the second waits for the first and is linked and drawn too.
  await page.click('[data-example="archive"]');
  await page.click('[data-example="raw-arrays"]');
  await page.waitForFunction(() => /init_array\.00150/.test(document.getElementById('view-startup').textContent)
    && document.querySelector('[data-example="raw-arrays"]').getAttribute('aria-pressed') === 'true', null, { timeout: 30000 });
  assert.ok(await linked() >= n + 2);
  assert.match(await page.textContent('.verdict'), /Linked prog/);
  assert.match(await page.textContent('.cmd'), /arrays\.o legacy\.o main\.o/);
});

test('edit a priority, Ctrl+Enter: tcc compiles in the page, the Start-up view reorders, Inputs names the compiler', async () => {
  await pick('raw-arrays');
  await view('startup');
  const was = await startupOrder();
  assert.deepEqual(was.slice(0, 5), ['pre_first', 'pre_second', 'ctor_65434', 'init_150', 'init_plain']);
  assert.match(await page.getByTestId('tcc-note').textContent(), /PROGBITS/);
  // The source shows as text before the editor is loaded; the first click loads it.
  assert.equal(await page.locator('#source-code .cm-editor').count(), 0);
  await edit('arrays.c', (t) => t.replace('".init_array.00150"', '".init_array.00100"'));
  assert.equal(await page.getAttribute('body', 'data-editor'), 'ready');
  assert.equal(await page.textContent('#link'), 'Compile & link');
  await compileAndLink();
  assert.match(await page.textContent('.verdict'), /Linked prog/);
  assert.equal(await page.getByTestId('diagnostic').count(), 0);
  // Priority 100 now runs before .ctors.65434 (priority 101).
  const now = await startupOrder();
  assert.deepEqual(now.slice(0, 5), ['pre_first', 'pre_second', 'init_150', 'ctor_65434', 'init_plain']);
  assert.deepEqual([...now].sort(), [...was].sort());
  assert.match(await page.getByTestId('init-entry').nth(2).textContent(), /priority 100/);
  assert.match(await page.getByTestId('init-entry').nth(2).textContent(), /\.init_array\.00100/);
  await shot('editor-priority-reordered');
  await view('inputs');
  // Only the edited file was compiled in the page; the others keep the objects gcc made.
  const made = await page.getByTestId('made-by').allTextContents();
  assert.equal(made[0], 'tcc 0.9.27 -c arrays.c (in the page)');
  assert.match(made[1], /^gcc -c -O1 -ffreestanding .* \(at build time\)$/);
  assert.match(made[2], /^gcc -c -O1 -ffreestanding .* \(at build time\)$/);
  assert.match(await page.textContent('#source-build'), /^arrays\.c compiled in the page with tcc 0\.9\.27 -c FILE/);
  assert.deepEqual(await page.locator('#source-tabs .changed').allTextContents(), ['arrays.c']);
  // The editor highlights C: a keyword and a string have their own token styles.
  assert.ok(await page.locator('#source-code .cm-line span').count() > 10);
  await view('startup');
});

test('the priorities example: edit main.c\'s priority, Ctrl+Enter, the Start-up view reorders', async () => {
  await pick('ctor-priorities');
  await view('startup');
  assert.deepEqual(await startupOrder(), ['gcc_101', 'clang_200', 'main_300', 'gcc_500', 'gcc_999', 'clang_1000', 'gcc_default', 'gcc_d500', 'clang_d200', 'gcc_d101']);
  assert.match(await page.getByTestId('tcc-note').textContent(), /constructor\(101\)` is a syntax error|constructor\(101\) is a syntax error/);
  await edit('main.c', (t) => t.replace('".init_array.00300"', '".init_array.00600"'));
  await compileAndLink();
  assert.match(await page.textContent('.verdict'), /Linked prog/);
  assert.deepEqual(await startupOrder(), ['gcc_101', 'clang_200', 'gcc_500', 'main_300', 'gcc_999', 'clang_1000', 'gcc_default', 'gcc_d500', 'clang_d200', 'gcc_d101']);
  assert.match(await page.getByTestId('init-entry').nth(3).textContent(), /priority 600.*main\.o · section \.init_array\.00600/s);
  await shot('editor-ctor-priorities-reordered');
  // gcc_ctors.c, edited, meets tcc's refusal of priorities: marked in the editor, the note beside it.
  await edit('gcc_ctors.c', (t) => t.replace('constructor(999)', 'constructor(998)'));
  await compileAndLink();
  assert.match(await page.textContent('.verdict'), /Compilation failed/);
  assert.match(await page.getByTestId('diagnostic').first().textContent(), /gcc_ctors\.c:\d+:\d+: error: '\)' expected \(got "\("\)/);
  assert.ok(await page.locator('#source-code .cm-lintRange-error').count() >= 1);
  assert.equal(await page.getByTestId('tcc-note').isVisible(), true);
});

test('a compiler error shows in the editor at its line and column, and in the diagnostics', async () => {
  await pick('raw-arrays');
  await edit('main.c', (t) => t.replace('return 0;', 'return y;'));
  await compileAndLink();
  assert.match(await page.textContent('.verdict'), /Compilation failed/);
  const diag = await page.getByTestId('diagnostic').first().textContent();
  const m = /main\.c:(\d+):(\d+): error: 'y' undeclared/.exec(diag);
  assert.ok(m, diag);
  const source = await page.evaluate(() => (({ initlinkEditor: e }) => e.text(e.current()))(document.getElementById('source-code')));
  const lineText = source.split('\n')[Number(m[1]) - 1];
  assert.match(lineText, /return y;/);
  // The mark covers the token tcc stopped at (docs/compiler.md: for this error, the `;`).
  const mark = page.locator('#source-code .cm-lintRange-error');
  await mark.first().waitFor();
  assert.equal(await mark.count(), 1);
  assert.equal(await mark.textContent(), lineText.slice(Number(m[2]) - 1, Number(m[2])));
  // ... on that line, with a marker in the gutter, and the tab shows the error count.
  assert.match(await page.locator('#source-code .cm-line', { has: page.locator('.cm-lintRange-error') }).textContent(), /return y;/);
  assert.equal(await page.locator('#source-code .cm-lint-marker-error').count(), 1);
  assert.equal(await page.textContent('#source-tabs [data-file="main.c"] .badge'), '1');
  await shot('editor-error');
  // The diagnostic's button puts the cursor on that line, from another file's tab too.
  await page.click('#source-tabs [data-file="arrays.c"]');
  await page.getByTestId('diag-goto').first().click();
  await page.waitForFunction(() => document.querySelector('#source-tabs [aria-selected=true]')?.dataset.file === 'main.c');
  assert.match(await page.textContent('#source-code .cm-activeLine'), /return y;/);
  // Fixed, it links again and the marks are gone.
  await edit('main.c', (t) => t.replace('return y;', 'return 0;'));
  await compileAndLink();
  assert.match(await page.textContent('.verdict'), /Linked prog/);
  assert.equal(await page.locator('#source-code .cm-lintRange-error').count(), 0);
});

test('the share link restores example, sources, options and view in a new page, online and offline', async () => {
  // State to carry: the edited priority (from the test above), an option, and the Start-up view.
  await pick('raw-arrays');
  await edit('arrays.c', (t) => t.replace('".init_array.00150"', '".init_array.00100"'));
  await page.selectOption('select[name=buildId]', 'sha1');
  await compileAndLink();
  await view('startup');
  const order = await startupOrder();
  await page.getByTestId('share').click();
  const url = await page.inputValue('[data-testid=share-url]');
  assert.match(url, /#s=[\w-]+$/);
  assert.ok(url.length < 4000, `share link of ${url.length} characters`);
  const check = async (p) => {
    await p.waitForFunction(() => /init_array\.00100/.test(document.getElementById('view-startup').textContent), null, { timeout: 30000 });
    assert.equal(await p.getAttribute('#tab-startup', 'aria-selected'), 'true');
    assert.equal(await p.isVisible('#view-startup'), true);
    assert.deepEqual(await startupOrder(p), order);
    assert.equal(await p.getAttribute('[data-example="raw-arrays"]', 'aria-pressed'), 'true');
    assert.equal(await p.inputValue('select[name=buildId]'), 'sha1');
    assert.match(await p.textContent('.cmd'), /--build-id=sha1/);
    assert.match(await p.textContent('#source-code'), /\.init_array\.00100/);
  };
  const fresh = await chrome.context.newPage();
  watch(fresh);
  await fresh.setViewportSize({ width: 1440, height: 1000 });
  await fresh.goto(url);
  await check(fresh);
  await shot('share-restored', fresh);
  // Offline: the service worker has the page, the linker, the compiler and the share codec.
  await fresh.evaluate(() => navigator.serviceWorker.ready);
  await fresh.reload();
  await check(fresh);
  await chrome.context.setOffline(true);
  try {
    const off = await chrome.context.newPage();
    watch(off);
    await off.goto(url);
    await check(off);
    await off.close();
  } finally {
    await chrome.context.setOffline(false);
  }
  // Pasted into a tab that shows something else, the link restores there too.
  await fresh.evaluate(() => { location.hash = ''; });
  await pick('freestanding', fresh);
  await fresh.evaluate((u) => { location.href = u; }, url);
  await check(fresh);
  await fresh.close();
  await page.selectOption('select[name=buildId]', '');
});

test('add and rename files; an uploaded .c opens in the editor and is compiled', async () => {
  await pick('freestanding');
  await page.getByTestId('add-file').click();
  await page.getByTestId('file-name').fill('extra.c');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#source-code .cm-content');
  await page.waitForFunction(() => document.querySelector('#source-tabs [aria-selected=true]')?.dataset.file === 'extra.c');
  await page.click('#source-code .cm-content');
  await page.keyboard.press('Control+End');
  await page.keyboard.insertText('__attribute__((constructor)) void extra_ctor(void) { say("extra\\n"); }\n');
  await compileAndLink();
  assert.match(await page.textContent('.verdict'), /Linked prog/);
  assert.match(await page.textContent('.cmd'), /hello\.o extra\.o libtcc1\.a/);
  await view('startup');
  assert.ok((await startupOrder()).includes('extra_ctor'));
  // Rename by double-clicking its tab: the object follows the new name.
  await page.dblclick('#source-tabs [data-file="extra.c"]');
  await page.getByTestId('file-name').fill('more.c');
  await page.keyboard.press('Enter');
  assert.deepEqual(await page.locator('#source-tabs [role=tab]').allTextContents(), ['hello.c', 'say.h', 'more.c']);
  await compileAndLink();
  assert.match(await page.textContent('.cmd'), /hello\.o more\.o libtcc1\.a/);
  await view('symbols');
  await page.fill('#view-symbols input[type=search]', 'extra_ctor');
  await page.waitForFunction(() => document.querySelectorAll('#view-symbols tbody tr').length === 1);
  assert.match(await page.textContent('#view-symbols tbody'), /more\.o/);

  const t = tempDir('upload-c');
  try {
    const src = join(t.dir, 'up.c');
    writeFileSync(src, 'static void up(void) {}\n__attribute__((section(".init_array.00777"), used)) static void (*up_p)(void) = up;\n');
    const n = await linked();
    await page.getByTestId('upload').setInputFiles([src]);
    await waitLinked(n);
    assert.deepEqual(await page.locator('#source-tabs [role=tab]').allTextContents(), ['hello.c', 'say.h', 'more.c', 'up.c']);
    assert.match(await page.textContent('.cmd'), /hello\.o more\.o up\.o libtcc1\.a/);
    await view('startup');
    assert.match(await page.textContent('#view-startup'), /priority 777/);
  } finally {
    t.cleanup();
  }
});

test('every gallery example compiles in the page (the glibc one with libc headers, and it runs), or the page says beside it what tcc does differently', async () => {
  const results = {};
  await page.getByTestId('tcc-all').check();
  for (const ex of ['freestanding', 'ctor-priorities', 'raw-arrays', 'archive', 'pie-glibc', 'module-registration']) {
    await pick(ex);
    await page.click('#source-code');
    await compileAndLink();
    const verdict = await page.textContent('.verdict');
    const note = await page.getByTestId('tcc-note').isVisible();
    results[ex] = /Linked/.test(verdict) ? 'linked' : /Compilation failed/.test(verdict) ? `fails${note ? ', note shown' : ''}` : verdict;
  }
  assert.deepEqual(results, {
    freestanding: 'linked',
    'ctor-priorities': 'fails, note shown',
    'raw-arrays': 'linked',
    archive: 'linked',
    'pie-glibc': 'linked',
    'module-registration': 'linked',
  });
  // The glibc example, compiled in the page against the libc headers and linked against libc's
  // description, runs in the page's emulator with the real loader and libc: as the gcc build.
  await pick('pie-glibc');
  await page.click('#source-code');
  await compileAndLink();
  await view('inputs');
  assert.match(await page.textContent('#view-inputs'), /greet\.o.*tcc 0\.9\.27 -c greet\.c \(in the page\)/);
  const ran = Number(await page.getAttribute('body', 'data-ran')) || 0;
  await page.getByTestId('run').click();
  await page.waitForFunction((k) => Number(document.body.dataset.ran) > k, ran, { timeout: 20000 });
  assert.equal(await page.textContent('[data-testid=run-stdout]'), 'constructor: stdio already works (glibc initialized itself first)\n'
    + 'hello from prog: 1 argument(s)\ngreeting 0: bonjour\ngreeting 1: hallo\ngreeting 2: hola\ndestructor (.fini_array)\n');
  assert.match(await page.textContent('[data-testid=run-startup]'), /all \d+ entries observed in the predicted order/);
  // The archive is made in the page from tcc's objects, and only the needed members join.
  await pick('archive');
  await page.click('#source-code');
  await compileAndLink();
  await view('inputs');
  const rows = await page.getByTestId('input-row').allTextContents();
  assert.ok(rows.some((r) => /libshapes\.a\(square\.o\).*tcc 0\.9\.27 -c, then ar rcs libshapes\.a square\.o circle\.o unused\.o \(in the page\)/.test(r)), rows.join('\n'));
  assert.ok(!rows.some((r) => /unused\.o\)/.test(r)));
  await page.getByTestId('tcc-all').uncheck();
});

test('tcc flags: given in the page, every source is compiled with them, and Inputs names them', async () => {
  await pick('freestanding');
  await page.fill('[data-testid=tcc-flags]', '-Dhello_ctor=renamed_ctor -Wall');
  await page.press('[data-testid=tcc-flags]', 'Tab');
  assert.equal(await page.textContent('#link'), 'Compile & link');
  await page.click('#source-code');
  await page.waitForSelector('#source-code .cm-content');
  await compileAndLink();
  assert.match(await page.textContent('.verdict'), /Linked prog/);
  await view('startup');
  assert.ok((await startupOrder()).includes('renamed_ctor'), (await startupOrder()).join(' '));
  await view('inputs');
  const made = await page.getByTestId('made-by').allTextContents();
  assert.ok(made.includes('tcc 0.9.27 -c -Dhello_ctor=renamed_ctor -Wall hello.c (in the page)'), made.join('\n'));
  // The flags go into the share link too.
  assert.match(await page.evaluate(() => location.hash), /^#s=/);
  await page.fill('[data-testid=tcc-flags]', '');
  await page.press('[data-testid=tcc-flags]', 'Tab');
  assert.equal(await page.textContent('#link'), 'Link');
});

test('delete a file: an archive member leaves the archive the page rebuilds; the last file stays', async () => {
  await pick('archive');
  assert.deepEqual(await page.locator('#source-tabs [role=tab]').allTextContents(), ['circle.c', 'main.c', 'square.c', 'unused.c', 'say.h']);
  await page.click('#source-tabs [data-file="unused.c"]');
  await page.getByTestId('delete-file').click();
  assert.deepEqual(await page.locator('#source-tabs [role=tab]').allTextContents(), ['circle.c', 'main.c', 'square.c', 'say.h']);
  await compileAndLink();
  assert.match(await page.textContent('.verdict'), /Linked prog/);
  await view('inputs');
  const made = await page.getByTestId('made-by').allTextContents();
  assert.ok(made.some((m) => /ar rcs libshapes\.a (square\.o circle\.o|circle\.o square\.o) \(in the page\)/.test(m)), made.join('\n'));
  assert.ok(!made.some((m) => /unused/.test(m)), made.join('\n'));
  // Deleting down to one file: the button is disabled for the last.
  await pick('freestanding');
  await page.click('#source-tabs [data-file="say.h"]');
  await page.getByTestId('delete-file').click();
  assert.deepEqual(await page.locator('#source-tabs [role=tab]').allTextContents(), ['hello.c']);
  assert.equal(await page.isDisabled('[data-testid=delete-file]'), true);
  await compileAndLink();
  assert.match(await page.textContent('#diagnostics'), /say\.h/, 'hello.c includes the deleted header');
});

test('no console errors', () => {
  assert.deepEqual(problems, []);
});
