// The playground page: inputs (examples, uploads), options, the link in a Web Worker, and the views.
import { h, hex, size, renderDiagnostics, renderMemory, renderStartup, renderStubs, renderSymbols, renderInputs, renderRelocs, renderDynamic } from './views.js';

const $ = (id) => document.getElementById(id);
const state = {
  inputs: [],        // [{name, bytes, from: 'example'|'upload'|'glibc'}]; an example's also {url, pieUrl}
  example: null,     // the example the inputs came from
  examples: [],
  result: null,
  selectedSection: null,
  relocs: {},        // the Relocations view's picked object and section
  busy: false,
  urls: [],
};

// ---------------------------------------------------------------------------------------------
// The worker. Restarted if it dies; a link in flight then reports the failure as a diagnostic.

let worker = null;
let nextId = 1;
const pending = new Map();

function startWorker() {
  const boot = window.initlinkBoot;
  if (boot?.worker) {
    // index.html started the worker and the module's compilation before this script loaded.
    worker = boot.worker;
    boot.worker = null;
  } else {
    worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  }
  worker.onmessage = (ev) => {
    const m = ev.data;
    const p = pending.get(m.id);
    if (!p) return;
    if (m.type === 'progress') p.progress(m.stage, m.detail);
    else { pending.delete(m.id); p.resolve(m); }
  };
  worker.onerror = (ev) => {
    ev.preventDefault();
    const msg = ev.message || 'the link worker stopped';
    for (const [id, p] of pending) { pending.delete(id); p.resolve({ type: 'crash', message: msg }); }
    worker.terminate();
    startWorker();
  };
}

function call(msg, progress = () => {}) {
  const id = nextId++;
  return new Promise((resolve) => {
    pending.set(id, { resolve, progress });
    worker.postMessage({ id, ...msg });
  });
}

// ---------------------------------------------------------------------------------------------
// Inputs.

function kindOf(bytes) {
  const s = String.fromCharCode(...bytes.subarray(0, 14));
  if (s.startsWith('!<arch>\n')) return 'archive';
  if (s === '#initlink-dso ') return 'shared object (description)';
  if (s.startsWith('\x7fELF')) return bytes[16] === 3 ? 'shared object' : bytes[16] === 1 ? 'object' : 'ELF';
  return 'unknown';
}

function renderInputList() {
  const list = $('inputs');
  list.replaceChildren();
  state.inputs.forEach((f, i) => {
    const move = (d) => {
      const j = i + d;
      if (j < 0 || j >= state.inputs.length) return;
      [state.inputs[i], state.inputs[j]] = [state.inputs[j], state.inputs[i]];
      renderInputList();
      list.children[j]?.querySelector(d < 0 ? '.up' : '.down')?.focus();
    };
    const kind = kindOf(f.bytes);
    list.append(h('li', { class: kind === 'unknown' ? 'odd' : null }, h('div', { class: 'file' },
      h('span', { class: 'fwhat' },
        h('span', { class: 'fname', title: f.name }, f.name),
        h('span', { class: 'fmeta' }, `${kind}${f.pie ? ' (-fPIE)' : ''} · ${size(f.bytes.length)}`),
        f.from === 'glibc' ? h('span', { class: 'fmeta glibc', 'data-testid': 'glibc-input' }, GLIBC_NOTE) : null),
      h('span', { class: 'fbtns' },
        h('button', { type: 'button', class: 'icon up', 'aria-label': `Move ${f.name} earlier`, disabled: i === 0, onclick: () => move(-1) }, '↑'),
        h('button', { type: 'button', class: 'icon down', 'aria-label': `Move ${f.name} later`, disabled: i === state.inputs.length - 1, onclick: () => move(1) }, '↓'),
        h('button', { type: 'button', class: 'icon', 'aria-label': `Remove ${f.name}`, onclick: () => { if (f.from === 'glibc') state.glibcRemoved = true; state.inputs.splice(i, 1); renderInputList(); } }, '×')))));
  });
  $('input-count').textContent = state.inputs.length ? `(${state.inputs.length}, in link order)` : '';
  $('link').disabled = state.busy || state.inputs.length === 0;
}

// PIE and non-PIE links need glibc: unless the learner uploaded a libc .so, the page links against
// examples/libc.so.6.dso, a description of the build machine's libc.so.6 (./dev build-web writes
// it). The linker synthesizes glibc's Scrt1.o _start, which calls __libc_start_main in libc.so.6.
// For PIE, an example's objects are swapped for their -fPIE builds (examples/<name>/pie/).
const GLIBC = { name: 'libc.so.6.dso', url: 'examples/libc.so.6.dso' };
const GLIBC_NOTE = "glibc (description generated from this machine's libc.so.6)";
const fetched = new Map(); // url → Promise<Uint8Array>

function fetchCached(url) {
  if (!fetched.has(url)) {
    const p = fetchBytes(url);
    p.catch(() => fetched.delete(url));
    fetched.set(url, p);
  }
  return fetched.get(url);
}

const ownLibc = () => state.inputs.some((f) => f.from === 'upload' && (kindOf(f.bytes).startsWith('shared object') || /^libc\.so/.test(f.name)));

/** Make the inputs fit the output kind: the -fPIE objects for PIE, glibc's description for PIE and non-PIE. */
async function syncKindInputs() {
  const kind = $('options').elements.kind.value;
  const pie = kind === 'pie';
  const wantLibc = (kind === 'pie' || kind === 'exec') && !state.glibcRemoved && state.inputs.some((f) => f.from !== 'glibc') && !ownLibc();
  const notes = [];
  for (const f of state.inputs) {
    if (f.from !== 'example' || !f.pieUrl || f.pie === pie) continue;
    try {
      f.bytes = await fetchCached(pie ? f.pieUrl : f.url);
      f.pie = pie;
    } catch (e) {
      notes.push(`cannot load ${pie ? f.pieUrl : f.url}: ${e.message}`);
    }
  }
  const has = state.inputs.findIndex((f) => f.from === 'glibc');
  if (wantLibc && has < 0) {
    try {
      const bytes = await fetchCached(GLIBC.url);
      if (!state.inputs.some((f) => f.from === 'glibc')) state.inputs.push({ name: GLIBC.name, bytes, from: 'glibc' });
    } catch (e) {
      notes.push(`cannot load ${GLIBC.url} (run ./dev build-web): ${e.message}`);
    }
  } else if (!wantLibc && has >= 0) {
    state.inputs.splice(has, 1);
  }
  if (!state.busy) renderInputList();
  return notes;
}

async function addFiles(fileList) {
  const files = [...fileList];
  if (!files.length) return;
  if (state.example) leaveExample();
  const at = state.inputs.findIndex((f) => f.from === 'glibc');
  const added = await Promise.all(files.map(async (f) => ({ name: f.name, bytes: new Uint8Array(await f.arrayBuffer()), from: 'upload' })));
  // Uploads go before glibc's description, as a library comes after the objects that use it.
  state.inputs.splice(at < 0 ? state.inputs.length : at, 0, ...added);
  await syncKindInputs();
  renderInputList();
}

// ---------------------------------------------------------------------------------------------
// Examples and their sources.

function markExample(name) {
  document.querySelectorAll('#examples button').forEach((b) => b.setAttribute('aria-pressed', String(b.dataset.example === name)));
}

async function fetchBytes(url) {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

async function pickExample(ex) {
  markExample(ex.name);
  try {
    const files = await Promise.all(ex.inputs.map(async (i) => ({ name: i.name, bytes: await fetchCached(i.url), from: 'example', url: i.url, pieUrl: i.pieUrl, pie: false })));
    state.inputs = files;
    state.example = ex;
    // An example is a whole link: its output kind and name come with it (a PIE against glibc, a
    // shared object), and picking another example puts back its own.
    const f = $('options').elements;
    f.args.value = ex.args.join(' ');
    f.output.value = ex.output ?? 'prog';
    if (f.kind.value !== (ex.kind ?? '')) {
      f.kind.value = ex.kind ?? '';
      state.glibcRemoved = false;
      showKindHelp();
    }
    renderInputList();
    showSource(ex);
    await runLink();
  } catch (e) {
    showOutcome({ ok: false, elf: null, report: null, map: '', reportJson: '', commandLine: [], diagnostics: [{ severity: 'error', text: `initlink: error: cannot load example ${ex.name}: ${e.message}`, notes: [] }] }, 0);
  }
}

/** Drop the example's inputs, and the options it set that the learner left alone (an uploaded
 * object should not get --init-stub, or be linked as a shared object, without asking). */
function leaveExample() {
  const ex = state.example;
  const f = $('options').elements;
  if (ex) {
    if (f.args.value === ex.args.join(' ')) f.args.value = '';
    if (ex.output && f.output.value === ex.output) f.output.value = 'prog';
    if (ex.kind && f.kind.value === ex.kind) { f.kind.value = ''; showKindHelp(); }
  }
  state.inputs = [];
  state.example = null;
  markExample(null);
  showSource(null);
}

const sourceCache = new Map();
async function showSource(ex) {
  const panel = $('source');
  document.body.classList.toggle('with-source', !!ex);
  panel.hidden = !ex;
  if (!ex) return;
  $('source-title').textContent = ex.title;
  $('source-desc').replaceChildren(...inlineCode(ex.description));
  $('source-build').replaceChildren('Compiled with ', h('code', {}, ex.build), ...(Object.keys(ex.archives).length
    ? ['; ', ...Object.entries(ex.archives).map(([a, m]) => h('code', {}, `ar rcs ${a} ${m.join(' ')}`))] : []), '.',
    ...(ex.pieBuild ? [' For PIE output, with ', h('code', {}, ex.pieBuild), ' (the same files, built again).'] : []));
  const tabs = $('source-tabs');
  tabs.replaceChildren();
  const show = async (src, btn) => {
    tabs.querySelectorAll('[role=tab]').forEach((b) => { b.setAttribute('aria-selected', String(b === btn)); b.tabIndex = b === btn ? 0 : -1; });
    let text = sourceCache.get(src.url);
    if (text === undefined) {
      try { text = await (await fetch(src.url)).text(); } catch (e) { text = `(cannot load ${src.url}: ${e.message})`; }
      sourceCache.set(src.url, text);
    }
    $('source-code').firstElementChild.textContent = text;
  };
  ex.sources.forEach((src, i) => {
    const b = h('button', { role: 'tab', type: 'button', 'aria-selected': 'false', tabindex: '-1', 'aria-controls': 'source-code', onclick: () => show(src, b) }, src.file);
    tabs.append(b);
    if (i === 0) show(src, b);
  });
  tabKeys(tabs, (b) => b.click());
}

/** Render `text` with `code` spans as <code>. */
function inlineCode(text) {
  return text.split(/(`[^`]+`)/).map((part) => (part.startsWith('`') ? h('code', {}, part.slice(1, -1)) : part));
}

async function loadExamples() {
  const list = $('examples');
  try {
    const r = await fetch('examples/index.json');
    if (!r.ok) throw new Error(`HTTP ${r.status}`);
    state.examples = (await r.json()).examples;
  } catch (e) {
    list.replaceChildren(h('li', { class: 'muted' }, `No examples (${e.message}): run ./dev build-web.`));
    return;
  }
  list.replaceChildren(...state.examples.map((ex) => h('li', {},
    h('button', { type: 'button', class: 'example', dataset: { example: ex.name }, 'aria-pressed': 'false', onclick: () => pickExample(ex) },
      h('strong', {}, ex.title), h('span', {}, `${ex.sources.filter((f) => f.file !== 'say.h').map((f) => f.file).join(', ')}`)))));
}

// ---------------------------------------------------------------------------------------------
// Options → the JS API's options object.

function splitArgs(s) {
  const out = [];
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g;
  let m;
  while ((m = re.exec(s))) out.push(m[1] ?? m[2] ?? m[3]);
  return out;
}

function readOptions() {
  const f = $('options').elements;
  const o = { output: f.output.value.trim() || 'a.out' };
  if (f.kind.value) o.kind = f.kind.value;
  if (f.entry.value.trim()) o.entry = f.entry.value.trim();
  if (f.buildId.value) o.buildId = f.buildId.value;
  if (f.execstack.value) o.execstack = f.execstack.value === 'execstack';
  if (f.ehFrameHdr.checked) o.ehFrameHdr = true;
  if (f.stripAll.checked) o.stripAll = true;
  if (f.gcSections.checked) o.gcSections = true;
  const args = splitArgs(f.args.value);
  if (args.length) o.args = args;
  return o;
}

// ---------------------------------------------------------------------------------------------
// Linking and showing the outcome.

function setProgress(pct, text) {
  const p = $('progress');
  p.hidden = false;
  const bar = p.querySelector('.bar');
  bar.setAttribute('aria-valuenow', String(pct));
  bar.firstElementChild.style.width = `${pct}%`;
  $('progress-text').textContent = text;
}

async function runLink() {
  if (state.busy || !state.inputs.length) return;
  const notes = await syncKindInputs();
  if (state.busy) return;
  state.busy = true;
  $('link').disabled = true;
  document.body.classList.add('busy');
  setProgress(10, 'Starting…');
  const t0 = performance.now();
  const stages = { load: 25, link: 55, report: 85 };
  const msg = await call(
    { inputs: state.inputs.map((f) => ({ name: f.name, bytes: f.bytes.slice() })), options: readOptions() },
    (stage, detail) => setProgress(stages[stage] ?? 50, detail));
  let result;
  if (msg.type === 'crash') {
    result = { ok: false, elf: null, reportJson: '', map: '', commandLine: [], diagnostics: [{ severity: 'error', message: msg.message, text: `initlink: error: the link worker stopped: ${msg.message}`, notes: [] }] };
  } else {
    result = msg.result;
  }
  for (const n of notes) result.diagnostics.push({ severity: 'warning', message: n, text: `playground: warning: ${n}`, notes: [] });
  setProgress(92, 'Drawing the views…');
  await new Promise((r) => requestAnimationFrame(() => r()));
  try {
    result.report = result.reportJson ? JSON.parse(result.reportJson) : null;
    showOutcome(result, msg.ms ?? performance.now() - t0);
  } catch (e) {
    showOutcome({ ...result, report: null, diagnostics: [...result.diagnostics, { severity: 'error', text: `initlink: error: the page could not draw the report: ${e.message}`, notes: [] }] }, msg.ms);
    console.warn(e);
  }
  const total = performance.now() - t0;
  setProgress(100, `${result.ok ? 'Linked' : 'Link failed'} in ${Math.round(msg.ms ?? total)} ms (${Math.round(total)} ms with drawing).`);
  state.busy = false;
  document.body.classList.remove('busy');
  renderInputList();
  document.body.dataset.linked = String((Number(document.body.dataset.linked) || 0) + 1);
  if (!performance.getEntriesByName('first-link-rendered').length) performance.mark('first-link-rendered');
}

// What each output kind means, for the options panel.
const KIND_HELP = {
  '': 'No flag: an executable at the fixed address 0x400000 (ET_EXEC), linked statically unless a shared object is among the inputs.',
  static: 'Everything in one file at fixed addresses (ET_EXEC at 0x400000): no loader, no dynamic relocations; -l finds archives only.',
  pie: 'Position-independent executable (ET_DYN at 0): the kernel picks a random base and the dynamic loader (PT_INTERP) relocates it first: every absolute address becomes an R_X86_64_RELATIVE relocation. The page links the examples\' -fPIE builds against libc.so.6.dso, a description of glibc\'s libc.so.6 (unless you upload a libc .so); initlink writes glibc\'s Scrt1.o _start, which calls __libc_start_main through the PLT.',
  exec: 'A classic executable at the fixed address 0x400000 (ET_EXEC): no relocation at load time. The page adds libc.so.6.dso (a description of glibc\'s libc.so.6, unless you upload a libc .so), so it is dynamically linked: _start calls __libc_start_main through the PLT.',
  shared: 'A shared object (.so): no entry point, loaded at any address, so the code must be position-independent (gcc -fPIC). Most examples are built with -fno-pie: their absolute R_X86_64_32 relocations are refused, with a diagnostic for each (the module-registration example is built with -fPIC).',
};

function showKindHelp() {
  $('kind-help').textContent = KIND_HELP[$('options').elements.kind.value] ?? '';
}

const KINDS = { static: 'static executable', exec: 'executable (not PIE)', pie: 'position-independent executable', shared: 'shared object' };

function download(name, data, type) {
  const url = URL.createObjectURL(new Blob([data], { type }));
  state.urls.push(url);
  return { href: url, download: name };
}

function showOutcome(result, ms) {
  state.result = result;
  for (const u of state.urls) URL.revokeObjectURL(u);
  state.urls = [];
  $('empty').hidden = true;
  $('outcome').hidden = false;
  const r = result.report;
  const out = (readOptions().output || 'a.out').split('/').pop();
  const cmd = ['initlink', ...result.commandLine, ...state.inputs.map((f) => f.name), `--report=${out}.json`, `-Map=${out}.map`].join(' ');
  const summary = $('summary');
  const shared = r?.output.kind === 'shared'; // no entry point; a program loads it
  summary.replaceChildren(
    h('div', { class: `verdict ${result.ok ? 'ok' : 'bad'}` },
      result.ok ? h('strong', {}, `✓ Linked ${out}`) : h('strong', {}, '✗ The link failed'),
      r && !r.partial ? h('span', {}, ` · ${KINDS[r.output.kind] ?? r.output.kind}, ${size(r.output.size)}${shared ? '' : ` · entry ${hex(r.output.entry)} (${r.output.entry_symbol})`}`) : null,
      r?.partial ? h('span', {}, ` · ${KINDS[r.output.kind] ?? r.output.kind}`) : null,
      ms ? h('span', { class: 'muted' }, ` · ${Math.round(ms)} ms in your browser`) : null),
    h('div', { class: 'cmd' }, h('span', { class: 'muted' }, 'Same as: '), h('code', {}, cmd)),
    h('div', { class: 'downloads' },
      result.elf ? h('a', { class: 'button primary', 'data-testid': 'download-elf', ...download(out, result.elf, 'application/x-executable') }, `Download ${out}`) : null,
      result.map ? h('a', { class: 'button', 'data-testid': 'download-map', ...download(`${out}.map`, result.map, 'text/plain') }, 'Map file') : null,
      result.reportJson ? h('a', { class: 'button', 'data-testid': 'download-report', ...download(`${out}.json`, result.reportJson, 'application/json') }, 'JSON report') : null,
      result.elf ? h('span', { class: 'muted hint' }, shared ? `Load it from a program on x86-64 Linux: dlopen("./${out}", RTLD_NOW)` : `Run it on x86-64 Linux: chmod +x ${out} && ./${out}`) : null));
  renderDiagnostics($('diagnostics'), result.diagnostics);
  const views = ['memory', 'startup', 'relocs', 'stubs', 'dynamic', 'symbols', 'inputs', 'map'];
  $('view-tabs').hidden = !r;
  // A failed link's partial report has the inputs (what was loaded, and why) and the map.
  const shown = !r ? [] : r.partial ? ['inputs', 'map'] : views.filter((v) => v !== 'dynamic' || r.dynamic || r.stubs.some((s) => s.section === '.plt'));
  for (const v of views) {
    $(`tab-${v}`).hidden = !shown.includes(v);
    if (!shown.includes(v)) $(`view-${v}`).hidden = true;
  }
  if (!r) return;
  $('view-map').replaceChildren(h('pre', { class: 'code map' }, result.map));
  renderInputs($('view-inputs'), r);
  if (r.partial) {
    const kind = readOptions().kind;
    $('summary').append(h('p', { class: 'partial-note', 'data-testid': 'partial-note' },
      `The link failed after loading ${r.inputs.length} input${r.inputs.length === 1 ? '' : 's'}: the diagnostics below say why, and Inputs shows what was loaded and why.`,
      kind === 'pie' || kind === 'shared' ? h('span', { class: 'kind-why' }, ` ${KIND_HELP[kind]}`) : null));
    selectTab($('tab-inputs'), false);
    return;
  }
  renderMemory($('view-memory'), r, { selected: state.selectedSection, onSelect: (n) => { state.selectedSection = n; } });
  renderStartup($('view-startup'), r);
  renderRelocs($('view-relocs'), r, state.relocs);
  renderStubs($('view-stubs'), r);
  renderDynamic($('view-dynamic'), r);
  renderSymbols($('view-symbols'), r);
  const sel = document.querySelector('#view-tabs [aria-selected=true]:not([hidden])');
  selectTab(sel ?? $('tab-memory'), false);
}

// ---------------------------------------------------------------------------------------------
// Tabs: arrow keys move between tabs (WAI-ARIA tabs pattern).

function selectTab(tab, focus = true) {
  const list = tab.parentElement;
  list.querySelectorAll('[role=tab]').forEach((t) => {
    const on = t === tab;
    t.setAttribute('aria-selected', String(on));
    t.tabIndex = on ? 0 : -1;
    const panel = $(t.getAttribute('aria-controls'));
    if (panel && list.id === 'view-tabs') panel.hidden = !on;
  });
  if (focus) tab.focus();
}

function tabKeys(list, activate) {
  list.addEventListener('keydown', (e) => {
    const tabs = [...list.querySelectorAll('[role=tab]:not([hidden])')];
    const i = tabs.indexOf(document.activeElement);
    if (i < 0) return;
    let j = null;
    if (e.key === 'ArrowRight') j = (i + 1) % tabs.length;
    else if (e.key === 'ArrowLeft') j = (i - 1 + tabs.length) % tabs.length;
    else if (e.key === 'Home') j = 0;
    else if (e.key === 'End') j = tabs.length - 1;
    if (j === null) return;
    e.preventDefault();
    tabs[j].focus();
    activate(tabs[j]);
  });
}

// ---------------------------------------------------------------------------------------------
// Start.

function init() {
  startWorker();
  const engine = $('engine');
  const compiled = window.initlinkBoot?.module;
  const warm = compiled ? compiled.then((module) => call({ warmup: true, module }), () => call({ warmup: true })) : call({ warmup: true });
  warm.then((m) => {
    performance.mark('linker-ready');
    engine.textContent = m.type === 'ready' ? 'Linker ready · runs locally as WebAssembly' : 'The linker could not start';
    engine.classList.toggle('ok', m.type === 'ready');
  });
  $('link').addEventListener('click', runLink);
  $('options').elements.kind.addEventListener('change', () => { state.glibcRemoved = false; showKindHelp(); syncKindInputs(); });
  showKindHelp();
  $('upload').addEventListener('change', async (e) => { await addFiles(e.target.files); e.target.value = ''; });
  $('source-toggle').addEventListener('click', (e) => {
    const closed = document.body.classList.toggle('source-closed');
    e.currentTarget.setAttribute('aria-expanded', String(!closed));
    e.currentTarget.textContent = closed ? 'Show source' : 'Hide';
    e.currentTarget.title = closed ? 'Show the source' : 'Hide the source';
  });
  $('clear').addEventListener('click', () => { leaveExample(); renderInputList(); });
  $('options').addEventListener('submit', (e) => { e.preventDefault(); runLink(); });
  const drop = $('drop');
  const over = (on) => (e) => { e.preventDefault(); drop.classList.toggle('over', on); };
  for (const t of [drop, document.body]) {
    t.addEventListener('dragover', over(true));
    t.addEventListener('dragleave', over(false));
    t.addEventListener('drop', async (e) => { over(false)(e); await addFiles(e.dataTransfer.files); });
  }
  const tabs = $('view-tabs');
  tabs.addEventListener('click', (e) => { const t = e.target.closest('[role=tab]'); if (t) selectTab(t); });
  tabKeys(tabs, (t) => selectTab(t));
  renderInputList();
  loadExamples().then(() => {
    performance.mark('examples-listed');
    const wanted = new URLSearchParams(location.hash.slice(1)).get('example');
    const ex = state.examples.find((e) => e.name === wanted) ?? state.examples[0];
    if (ex && !state.inputs.length) pickExample(ex);
  });
  // Offline support, registered once the first link is drawn so it does not compete with it.
  if ('serviceWorker' in navigator && location.protocol.startsWith('http')) {
    const register = () => navigator.serviceWorker.register('sw.js').catch(() => {});
    const wait = setInterval(() => { if (document.body.dataset.linked || !state.examples.length) { clearInterval(wait); register(); } }, 200);
  }
}

init();
