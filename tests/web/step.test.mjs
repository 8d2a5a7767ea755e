// The step mode and the system call list in Debian's chromium (playwright-core): link the gallery's
// freestanding example, press Step, walk its linker-made _start an instruction at a time (the line
// marked in the Linker-made code view, registers, flags and stack shown), run to the next
// initializer (the Start-up view marks it reached), continue to the end (the same output and exit
// status as Run), and read the system calls with their arguments and results.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ARTIFACTS, serve, browser } from './helpers.mjs';

let server;
let chrome;
let page;
const problems = [];

before(async () => {
  server = await serve();
  chrome = await browser();
  page = await chrome.context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  await page.goto(`${server.url}#example=freestanding`);
  await page.waitForSelector('.verdict', { timeout: 30000 });
});

after(async () => {
  await chrome?.close();
  server?.close();
});

/** Click a step-mode button and wait for the answer. */
async function stepButton(testid) {
  const n = Number(await page.getAttribute('body', 'data-stepped')) || 0;
  await page.getByTestId(testid).click();
  await page.waitForFunction((k) => Number(document.body.dataset.stepped) > k, n, { timeout: 30000 });
}

const text = (testid) => page.textContent(`[data-testid=${testid}]`);

test('Step walks the linker-made _start an instruction at a time, to the next initializer and to the end', async () => {
  // Run first: the output and status stepping must end with.
  await page.getByTestId('run').click();
  await page.waitForSelector('[data-testid=run-status]', { timeout: 30000 });
  const ranStatus = await text('run-status');
  const ranOut = await text('run-stdout');

  await stepButton('step');
  assert.equal(await page.isHidden('[data-testid=console]'), true, 'the console goes while stepping');
  assert.match(await text('step-status'), /entry point, before its first instruction/);
  assert.match(await text('step-instruction'), /0x401000\s*<_start>\s*31 ed\s*xor ebp, ebp/);
  // The entry is linker-made: the Linker-made code view is shown, its first line marked.
  assert.equal(await page.getAttribute('#tab-stubs', 'aria-selected'), 'true');
  assert.equal(await page.getAttribute('#view-stubs tr.current', 'data-address'), String(0x401000));
  // argc (1) is on top of the stack, argv[0] under it.
  assert.match(await page.textContent('[data-testid=step-stack] tr:first-child'), /rsp →\s*0x7fff[0-9a-f]+\s*0+1$/);
  await page.screenshot({ path: join(ARTIFACTS, 'step-entry.png') });

  const rows = await page.$$eval('#view-stubs tr[data-testid=stub-line]', (trs) => trs.map((tr) => Number(tr.dataset.address)));
  for (let k = 1; k <= 3; k++) {
    await stepButton('step-one');
    assert.match(await text('step-count'), new RegExp(`\\b${k} instructions`));
    assert.equal(Number(await page.getAttribute('#view-stubs tr.current', 'data-address')), rows[k], `line ${k} of _start is marked`);
  }
  // After `xor ebp, ebp; mov r12, [rsp]; lea r13, [rsp+8]`: r12 is argc, r13 argv, marked as changed.
  assert.equal(await page.textContent('[data-reg=r12]'), '0000000000000001');
  assert.equal(await page.getAttribute('[data-reg=r13]', 'class'), 'changed');
  assert.match(await text('step-flags'), /rflags 0x[0-9a-f]+\s*CF\s*PF\s*AF\s*ZF\s*SF\s*DF\s*OF/);
  assert.equal(await page.textContent('[data-testid=step-flags] .flag.on >> nth=1'), 'ZF', 'xor ebp, ebp set ZF (and PF)');

  // To the first initializer: the Start-up view marks it reached, main not yet.
  await stepButton('step-next-init');
  assert.match(await text('step-status'), /arrived at hello_ctor \(initializer\)/);
  assert.match(await text('step-instruction'), /<hello_ctor>/);
  assert.equal(await page.$('#view-stubs tr.current'), null, 'hello_ctor is not linker-made');
  const marks = await page.$$eval('#view-startup [data-testid=observed]', (els) => els.map((e) => e.textContent));
  assert.ok(marks.includes('✓ observed 1st, as predicted'), marks.join('\n'));
  assert.ok(marks.includes('? not reached'), marks.join('\n'));
  await page.screenshot({ path: join(ARTIFACTS, 'step-initializer.png') });

  // Continue: the same end as Run.
  await stepButton('step-continue');
  assert.match(await text('step-status'), /exited with status \d+/);
  assert.equal(await text('run-status'), ranStatus);
  assert.equal(await text('run-stdout'), ranOut);
  assert.equal(await page.isDisabled('[data-testid=step-one]'), true);
  assert.match(await text('run-startup'), /all \d+ entries observed in the predicted order/);

  // The system calls: each with its arguments by name and its result.
  await page.click('[data-testid=console] [data-testid=syscalls] summary');
  const calls = await page.$$eval('[data-testid=console] [data-testid=syscall]', (trs) => trs.map((tr) => tr.textContent));
  assert.ok(calls.some((c) => /write\(fd=1, buf=0x[0-9a-f]+, count=\d+\)\d+/.test(c)), calls.join('\n'));
  assert.match(calls.at(-1), /exit(_group)?\(status=\d+\)/);
  await page.getByTestId('step-close').click();
  assert.equal(await page.isHidden('[data-testid=stepper]'), true);
  assert.deepEqual(problems, []);
});

test('the system call list after Run: a failed call shows its errno', async () => {
  // The glibc example: its loader's calls, some failing on purpose (access of ld.so.preload).
  const linked = Number(await page.getAttribute('body', 'data-linked'));
  await page.click('[data-example="pie-glibc"]');
  await page.waitForFunction((n) => Number(document.body.dataset.linked) > n, linked, { timeout: 30000 });
  await page.getByTestId('run').click();
  await page.waitForFunction(() => /exit status/.test(document.querySelector('[data-testid=run-status]')?.textContent ?? ''), null, { timeout: 60000 });
  await page.click('[data-testid=console] [data-testid=syscalls] summary');
  const calls = await page.$$eval('[data-testid=console] [data-testid=syscall]', (trs) => trs.map((tr) => tr.textContent));
  assert.ok(calls.some((c) => /^\d+openat\(dirfd=-100, path="\/[^"]*libc\.so\.6", flags=0x80000, mode=0\)\d+/.test(c)), calls.join('\n'));
  assert.ok(calls.some((c) => /access\(path="\/etc\/ld\.so\.preload", mode=4\)-1 ENOENT/.test(c)), calls.join('\n'));
  assert.ok(calls.some((c) => /mmap\(addr=0, length=\d+/.test(c)), calls.join('\n'));
  await page.locator('[data-testid=console]').screenshot({ path: join(ARTIFACTS, 'syscalls.png') });
  assert.deepEqual(problems, []);
});

test('a dynamic program steps from the loader: libc\'s initializers, then the linker-made _start marked in Linker-made code', async () => {
  // pie-glibc is linked (the previous test picked it).
  await stepButton('step');
  assert.doesNotMatch(await text('step-instruction'), /linker-made/, 'the loader\'s first instruction');
  const seen = [];
  for (let k = 0; k < 10 && !/_start \(the entry point\)/.test(seen.at(-1) ?? ''); k++) {
    await stepButton('step-next-init');
    seen.push(await text('step-status'));
  }
  assert.match(seen[0], /arrived at libc\.so\.6: .* \(initializer\)/, seen.join('\n'));
  assert.match(seen.at(-1), /arrived at _start \(the entry point\)/, seen.join('\n'));
  assert.match(await text('step-instruction'), /<_start>.*linker-made/);
  const entry = JSON.parse(await page.evaluate(() => document.querySelector('#view-stubs tr.current')?.dataset.address ?? 'null'));
  assert.ok(entry != null, 'the PIE\'s _start is marked at its link-time address');
  await stepButton('step-continue');
  assert.match(await text('step-status'), /exited with status 0/);
  assert.deepEqual(problems, []);
});
