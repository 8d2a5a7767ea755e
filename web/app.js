// The playground page: inputs (examples, uploads), options, the link in a Web Worker, and the views.
import { h, hex, size, count, renderDiagnostics, renderMemory, renderStartup, renderStubs, renderSymbols, renderInputs, renderRelocs, renderDynamic } from './views.js';
import { predictedStartup, observedStartup, libraryStartup, loadBias } from './run.js';

const $ = (id) => document.getElementById(id);
const state = {
  inputs: [],        // [{name, bytes, from: 'example'|'upload'|'glibc'}]; an example's also {url, pieUrl}
  example: null,     // the example the inputs came from
  examples: [],
  result: null,
  selectedSection: null,
  relocs: {},        // the Relocations view's picked object and section
  busy: false,
  again: null,       // a run asked for while one was in flight: {compile}
  urls: [],
  // The sources in the editor: {files: [{name, text}], link: [source or archive names, in link
  // order], archives: {lib: [member objects]}, flags: [tcc flags], active: file name, edited,
  // compiled: whether the inputs come from compiling them in the page}.
  project: null,
};

const SOURCE = /\.(c|s|S)$/;
const objOf = (name) => name.replace(SOURCE, '.o');
const TCC = 'tcc 0.9.27';

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

// Programs run in a worker of their own (run_worker.js), so that Stop can terminate it without
// touching the linker's. The page starts it once the linker is ready; once a link has made
// something Run can run, it has it load the emulator and warm it up on a built-in program (the
// engine compiles the module's functions on first use): Run is then live, so the emulator is
// needed. The first load (until the first link is drawn) never fetches it.
let runner = null; // {worker, warm, resolve, progress}; resolve while a run is in flight
let emulatorModule = null; // the compiled emulator, which a worker started after a Stop reuses

function callRun(msg, progress) {
  startRunner();
  return new Promise((resolve) => {
    Object.assign(runner, { resolve, progress });
    runner.worker.postMessage({ id: nextId++, ...msg });
  });
}

/** Start the run worker if it is not running; with `warm`, have it load the emulator and warm it
 *  up (once per worker, unanswered but for the compiled module). */
function startRunner(warm = false) {
  if (!runner) {
    const w = new Worker(new URL('./run_worker.js', import.meta.url), { type: 'module' });
    runner = { worker: w, warm: false };
    w.onmessage = (ev) => {
      const m = ev.data;
      if (m.type === 'emulator') {
        if (m.module instanceof WebAssembly.Module) emulatorModule = m.module;
        return;
      }
      if (runner?.worker !== w || !runner.resolve) return;
      if (m.type === 'progress') runner.progress(m.stage, m.detail);
      else { const { resolve } = runner; runner.resolve = null; resolve(m); }
    };
    w.onerror = (ev) => {
      ev.preventDefault();
      stopRunner({ type: 'crash', message: ev.message || 'the run worker stopped' });
    };
  }
  if (warm && !runner.warm) {
    runner.warm = true;
    runner.worker.postMessage({ emulatorWarmup: true, module: emulatorModule });
  }
}

/** If the last link can run (called once it is drawn): the run worker, the emulator warmed up in
 *  it, and the run's details (stepper.js). Not while a run is in flight: that run loads the
 *  emulator itself, and the warm-up would only compete with it. */
function prepareRun() {
  if (runnable() && !state.running) { startRunner(true); runDetails(); }
}

/** End the run worker; a run in flight resolves with `message`. Another starts, with the compiled
 *  emulator when there is one. */
function stopRunner(message) {
  if (!runner) return;
  const { worker: w, resolve } = runner;
  runner = null;
  w.terminate();
  resolve?.(message);
  setTimeout(prepareRun, 0); // once the stopped run has ended
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
  $('link').disabled = state.busy || (state.inputs.length === 0 && !state.project?.files.some((f) => SOURCE.test(f.name)));
  updateRunButton();
  if (!state.project) $('link').textContent = 'Link';
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
  let files = [...fileList];
  if (!files.length) return;
  // C and assembly sources (and headers) open in the editor; they are compiled and linked at once.
  const sources = files.filter((f) => /\.(c|s|S|h)$/.test(f.name));
  files = files.filter((f) => !sources.includes(f));
  if (sources.length) {
    if (!state.project) openProject(null, []);
    const p = state.project;
    for (const f of sources) {
      const text = await f.text();
      const old = p.files.find((x) => x.name === f.name);
      if (old) old.text = text; else p.files.push({ name: f.name, text });
      if (editor?.has(f.name)) editor.open(f.name, text);
      p.active = f.name;
    }
    p.edited = true;
    renderFileTabs();
    await runLink({ compile: true });
  }
  if (!files.length) return;
  // Objects leave an example (its objects and the options it set), but not the learner's own sources.
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

async function pickExample(ex, { link = true } = {}) {
  markExample(ex.name);
  try {
    const [files, sources] = await Promise.all([
      Promise.all(ex.inputs.map(async (i) => ({ name: i.name, bytes: await fetchCached(i.url), from: 'example', url: i.url, pieUrl: i.pieUrl, pie: false }))),
      Promise.all(ex.sources.map(async (src) => ({ name: src.file, text: await fetchText(src.url) }))),
    ]);
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
    openProject(ex, sources);
    renderInputList();
    if (link) await runLink();
  } catch (e) {
    showOutcome({ ok: false, elf: null, report: null, map: '', reportJson: '', commandLine: [], diagnostics: [{ severity: 'error', text: `initlink: error: cannot load example ${ex.name}: ${e.message}`, notes: [] }] }, 0);
  }
}

const textCache = new Map();
async function fetchText(url) {
  if (!textCache.has(url)) {
    const p = fetch(url).then((r) => { if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`); return r.text(); });
    p.catch(() => textCache.delete(url));
    textCache.set(url, p);
  }
  return textCache.get(url);
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
  openProject(null, null);
}

// ---------------------------------------------------------------------------------------------
// The sources and the editor. The source shows as plain text first; the editor (CodeMirror,
// pkg/editor.js, 117 KB gzipped) is loaded on the first click or key in it, so the first load
// stays small.

let editor = null;
let editorLoading = null;

function ensureEditor() {
  if (!editorLoading) {
    editorLoading = import('./pkg/editor.js').then(({ createEditor }) => {
      const box = $('source-code');
      box.replaceChildren();
      editor = createEditor(box, {
        onRun: () => runLink({ compile: true }),
        onChange: (name, text) => {
          const f = state.project?.files.find((x) => x.name === name);
          if (f && f.text !== text) {
            f.text = text;
            const p = state.project;
            const tab = $('source-tabs').querySelector(`[data-file="${CSS.escape(name)}"]`);
            tab?.classList.toggle('changed', !!state.example && p.original.get(name) !== text);
            if (!p.edited) p.edited = true;
            $('link').textContent = sourcesToCompile(p).length ? 'Compile & link' : 'Link';
          }
        },
      });
      box.initlinkEditor = editor; // for the tests (and the console): the text behind the view
      document.body.dataset.editor = 'ready';
      const p = state.project;
      if (p?.active) editor.open(p.active, p.files.find((x) => x.name === p.active)?.text ?? '');
      applyEditorDiagnostics();
      return editor;
    });
    editorLoading.catch((e) => { editorLoading = null; console.warn('editor', e); });
  }
  return editorLoading;
}

/** Show `files` ([{name, text}]) in the editor: an example's sources, or (ex null) the learner's own. */
function openProject(ex, files) {
  const panel = $('source');
  editor?.clear();
  if (files === null) {
    state.project = null;
    document.body.classList.remove('with-source');
    panel.hidden = true;
    return;
  }
  state.exampleInputs = ex ? [...state.inputs] : [];
  state.project = {
    files: files.map((f) => ({ ...f })),
    link: ex ? [...ex.link] : [],
    archives: ex ? Object.fromEntries(Object.entries(ex.archives).map(([k, v]) => [k, [...v]])) : {},
    flags: [],
    // Files of the example the learner deleted: their gcc objects leave the link too.
    deleted: new Set(),
    active: files.find((f) => SOURCE.test(f.name))?.name ?? files[0]?.name ?? null,
    edited: false,
    compiled: false,
    diagnostics: [],
    // An example's files as gcc compiled them at build time: only files that differ are compiled
    // in the page; the others keep their gcc objects (unless `all`).
    original: new Map(ex ? files.map((f) => [f.name, f.text]) : []),
    all: $('tcc-all').checked,
  };
  document.body.classList.add('with-source');
  panel.hidden = false;
  $('source-title').textContent = ex ? ex.title : 'Your sources';
  $('source-desc').replaceChildren(...inlineCode(ex ? ex.description : 'Compiled in the page by TinyCC and linked with the other inputs.'));
  $('source-tcc').hidden = !ex?.tcc;
  $('source-tcc').replaceChildren(...(ex?.tcc ? [h('strong', {}, 'In the page: '), ...inlineCode(ex.tcc)] : []));
  renderFileTabs();
}

function sourceNote() {
  const ex = state.example;
  const p = state.project;
  const gccNote = ex ? ['The gallery\'s objects were compiled with ', h('code', {}, ex.build), ...(Object.keys(ex.archives).length
    ? ['; ', ...Object.entries(ex.archives).map(([a, m]) => h('code', {}, `ar rcs ${a} ${m.join(' ')}`))] : []), ' when the page was built.',
  ...(ex.pieBuild ? [' For PIE output, with ', h('code', {}, ex.pieBuild), ' (the same files, built again).'] : [])] : [];
  if (p?.compiled) {
    return [...(p.compiledNames ?? []).flatMap((n, i) => [i ? ', ' : '', h('code', {}, n)]), ' compiled in the page with ', h('code', {}, `${TCC} -c${p.flags.length ? ` ${p.flags.join(' ')}` : ''} FILE`),
      ' (TinyCC in WebAssembly). ', ...gccNote];
  }
  if (!ex) return ['Press Link (Ctrl+Enter) to compile these in the page with TinyCC.'];
  return [...gccNote, ' Edit a file and press Ctrl+Enter: it is compiled in the page with TinyCC and linked with the other objects.'];
}

function renderFileTabs() {
  const p = state.project;
  if (!p) return;
  const tabs = $('source-tabs');
  tabs.replaceChildren(...p.files.map((f) => {
    const errs = p.diagnostics.filter((d) => d.file === f.name && d.severity === 'error').length;
    const b = h('button', { role: 'tab', type: 'button', class: state.example && p.original.get(f.name) !== f.text ? 'changed' : null, 'aria-selected': String(f.name === p.active), tabindex: f.name === p.active ? '0' : '-1', 'aria-controls': 'source-code', dataset: { file: f.name }, title: 'Double-click to rename', onclick: () => showFile(f.name), ondblclick: () => askName(f.name) },
      f.name, errs ? h('span', { class: 'badge err' }, String(errs)) : null);
    return b;
  }));
  $('source-build').replaceChildren(...sourceNote());
  $('source-made').textContent = p.compiled ? `${(p.compiledNames ?? []).join(', ')} compiled in the page by ${TCC}` : state.example ? 'Built with gcc when the page was built' : 'To be compiled in the page by tcc';
  $('link').textContent = sourcesToCompile(p).length ? 'Compile & link' : 'Link';
  $('delete-file').disabled = p.files.length < 2;
  $('tcc-flags').value = p.flags.join(' ');
  showFile(p.active);
}

function showFile(name) {
  const p = state.project;
  if (!p || name == null) return;
  p.active = name;
  $('source-tabs').querySelectorAll('[role=tab]').forEach((b) => { const on = b.dataset.file === name; b.setAttribute('aria-selected', String(on)); b.tabIndex = on ? 0 : -1; });
  const f = p.files.find((x) => x.name === name);
  if (editor) {
    if (editor.current() !== name) editor.open(name, editor.has(name) ? undefined : f?.text ?? '');
  } else {
    const pre = $('source-code').querySelector('pre');
    if (pre) pre.firstElementChild.textContent = f?.text ?? '';
  }
}

/** Add a file (name null) or rename one, through the small form above the editor. */
function askName(from) {
  const form = $('name-form');
  const input = $('name-input');
  form.hidden = false;
  input.value = from ?? '';
  input.placeholder = from ? '' : 'new.c, helper.s, util.h…';
  form.dataset.from = from ?? '';
  input.focus();
  input.select();
}

function nameSubmitted(e) {
  e.preventDefault();
  const form = $('name-form');
  const p = state.project ?? (openProject(null, []), state.project);
  const from = form.dataset.from || null;
  const to = $('name-input').value.trim();
  const bad = !/^[\w.+-]+$/.test(to) ? 'a file name: letters, digits, . _ + -' : p.files.some((f) => f.name === to) && to !== from ? `${to} exists` : null;
  if (bad) { $('name-input').setCustomValidity(bad); $('name-input').reportValidity(); return; }
  $('name-input').setCustomValidity('');
  form.hidden = true;
  if (from === to) return;
  if (from) {
    p.files.find((f) => f.name === from).name = to;
    p.link = p.link.map((x) => (x === from ? to : x));
    for (const m of Object.values(p.archives)) m.forEach((o, i) => { if (o === objOf(from)) m[i] = objOf(to); });
    editor?.rename(from, to);
  } else {
    p.files.push({ name: to, text: SOURCE.test(to) && to.endsWith('.c') ? '#include "say.h"\n\n' : '' });
  }
  p.edited = true;
  p.active = to;
  renderFileTabs();
  if (editor) editor.focus(); else ensureEditor().then((ed) => ed.focus());
}

/** Delete a file of the sources (and its object from the link). The last file stays. */
function deleteFile(name) {
  const p = state.project;
  const i = p?.files.findIndex((f) => f.name === name) ?? -1;
  if (i < 0 || p.files.length < 2) return;
  p.files.splice(i, 1);
  p.link = p.link.filter((x) => x !== name);
  if (p.original.has(name)) p.deleted.add(name);
  p.diagnostics = p.diagnostics.filter((d) => d.file !== name);
  editor?.remove(name);
  p.edited = true;
  p.active = p.files[Math.min(i, p.files.length - 1)].name;
  renderFileTabs();
  applyEditorDiagnostics();
  updateHash();
}

async function gotoSource(d) {
  showFile(d.file);
  const ed = await ensureEditor();
  showFile(d.file);
  ed.goto(d.line, d.column);
}

/** The compiler's diagnostics, in the editor at their line and column. */
function applyEditorDiagnostics() {
  if (!editor || !state.project) return;
  const byFile = {};
  for (const d of state.project.diagnostics) if (d.file) (byFile[d.file] ??= []).push(d);
  editor.setDiagnostics(byFile);
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

/** The sources the next run compiles with tcc: for an example, the files that differ from what gcc
 *  compiled (every source if a header changed or was deleted, every member of an archive one of
 *  whose members changed or was deleted), or all of them with `all` or with tcc flags; for the
 *  learner's own sources, all of them. */
function sourcesToCompile(p) {
  const srcs = p.files.filter((f) => SOURCE.test(f.name));
  if (!state.example || p.all || p.flags.length) return srcs;
  const changed = (f) => p.original.get(f.name) !== f.text;
  if (p.files.some((f) => !SOURCE.test(f.name) && changed(f)) || [...p.deleted].some((n) => !SOURCE.test(n))) return srcs;
  const set = new Set(srcs.filter(changed).map((f) => f.name));
  // A deleted member changes its archive as an edited one would.
  for (const n of p.deleted) set.add(n);
  for (const members of Object.values(p.archives)) {
    if (!members.some((m) => [...set].some((x) => objOf(x) === m))) continue;
    for (const f of srcs) if (members.includes(objOf(f.name))) set.add(f.name);
  }
  return srcs.filter((f) => set.has(f.name));
}

/** A `!<arch>` archive of `members` ([{name, bytes}]), without a symbol index (initlink, like
 *  GNU ld, reads members' symbols itself then): what `ar rcs` makes, less the index. */
function makeArchive(members) {
  const enc = new TextEncoder();
  const field = (v, n) => String(v).padEnd(n, ' ').slice(0, n);
  const parts = [enc.encode('!<arch>\n')];
  for (const m of members) {
    parts.push(enc.encode(`${field(`${m.name}/`, 16)}${field(0, 12)}${field(0, 6)}${field(0, 6)}${field(644, 8)}${field(m.bytes.length, 10)}\x60\n`));
    parts.push(m.bytes);
    if (m.bytes.length % 2) parts.push(enc.encode('\n'));
  }
  const out = new Uint8Array(parts.reduce((n, b) => n + b.length, 0));
  let at = 0;
  for (const b of parts) { out.set(b, at); at += b.length; }
  return out;
}

/** The link's inputs from the page's compiled objects: the project's link order (sources stand for
 *  their objects, archives are made from their members), new sources before the first archive,
 *  then the learner's uploads, then tcc's runtime library (members pulled only by need). */
function compiledInputs(objects, runtime) {
  const p = state.project;
  const bytes = new Map(objects.map((o) => [o.name, o.bytes]));
  const gcc = new Map((state.exampleInputs ?? []).map((f) => [f.name, f]));
  const members = new Set(Object.values(p.archives).flat());
  const order = p.link.filter((x) => p.archives[x] || p.files.some((f) => f.name === x));
  for (const f of p.files) {
    if (!SOURCE.test(f.name) || order.includes(f.name) || members.has(objOf(f.name))) continue;
    const firstLib = order.findIndex((x) => p.archives[x]);
    order.splice(firstLib < 0 ? order.length : firstLib, 0, f.name);
  }
  const flags = p.flags.length ? ` ${p.flags.join(' ')}` : '';
  const inputs = [];
  for (const x of order) {
    if (p.archives[x]) {
      const ms = p.archives[x].filter((m) => bytes.has(m)).map((m) => ({ name: m, bytes: bytes.get(m) }));
      if (ms.length) inputs.push({ name: x, bytes: makeArchive(ms), from: 'compiled', made: `${TCC} -c${flags}, then ar rcs ${x} ${ms.map((m) => m.name).join(' ')} (in the page)` });
      else if (gcc.has(x)) inputs.push(gcc.get(x));
    } else if (bytes.has(objOf(x))) {
      inputs.push({ name: objOf(x), bytes: bytes.get(objOf(x)), from: 'compiled', made: `${TCC} -c${flags} ${x} (in the page)` });
    } else if (gcc.has(objOf(x))) {
      inputs.push(gcc.get(objOf(x)));
    }
  }
  inputs.push(...state.inputs.filter((f) => f.from === 'upload'));
  if (runtime && objects.length) inputs.push({ ...runtime, from: 'tcc-runtime', made: `${TCC}'s runtime library (lib/libtcc1.c, va_list.c, alloca86_64.S), built with the page` });
  return inputs;
}

async function runLink({ compile = false } = {}) {
  if (state.busy) {
    // One more run once this one is drawn: picking an example or pressing Ctrl+Enter mid-link is
    // never lost.
    state.again = { compile: compile || !!state.again?.compile };
    return;
  }
  const p = state.project;
  const compiling = !!p && sourcesToCompile(p).length > 0;
  if (!compiling && !state.inputs.length) return;
  state.busy = true;
  $('link').disabled = true;
  updateRunButton();
  document.body.classList.add('busy');
  const t0 = performance.now();
  try {
    await cycle(compiling, t0);
  } finally {
    state.busy = false;
    document.body.classList.remove('busy');
    renderInputList();
    document.body.dataset.cycleMs = String(Math.round(performance.now() - t0));
    document.body.dataset.linked = String((Number(document.body.dataset.linked) || 0) + 1);
    if (!performance.getEntriesByName('first-link-rendered').length) performance.mark('first-link-rendered');
    updateHash();
    prepareRun();
  }
  if (state.again) {
    const again = state.again;
    state.again = null;
    await runLink(again);
  }
}

async function cycle(compiling, t0) {
  const p = state.project;
  if (compiling) {
    setProgress(5, `Compiling ${sourcesToCompile(p).length} source(s) with tcc…`);
    const srcs = sourcesToCompile(p);
    const files = p.files.filter((f) => !SOURCE.test(f.name) || srcs.includes(f));
    p.compiledNames = srcs.map((f) => f.name);
    const c = await call({ compile: { files: files.map((f) => ({ name: f.name, text: f.text })), flags: p.flags } }, (stage, detail) => setProgress(8, detail));
    const r = c.type === 'compiled' ? c.result : { ok: false, objects: [], diagnostics: [{ file: null, line: null, column: null, severity: 'error', message: c.message, text: `tcc: error: ${c.message}` }] };
    p.compiled = true;
    p.diagnostics = r.diagnostics;
    renderFileTabs();
    applyEditorDiagnostics();
    if (!r.ok) {
      setProgress(100, `Compilation failed in ${Math.round(performance.now() - t0)} ms.`);
      showOutcome({ ok: false, compileFailed: true, elf: null, report: null, map: '', reportJson: '', commandLine: [], diagnostics: r.diagnostics.map((d) => ({ ...d, notes: [] })) }, 0);
      return;
    }
    state.inputs = compiledInputs(r.objects, c.runtime);
    state.compileDiagnostics = r.diagnostics;
  } else {
    state.compileDiagnostics = [];
    if (p) {
      p.diagnostics = [];
      applyEditorDiagnostics();
      if (p.deleted.size) {
        // The example's gcc objects but for the deleted files' (p.link no longer names them).
        state.inputs = compiledInputs([], null);
        if (p.compiled) { p.compiled = false; renderFileTabs(); }
      } else if (p.compiled) { p.compiled = false; state.inputs = [...state.exampleInputs, ...state.inputs.filter((f) => f.from === 'upload')]; renderFileTabs(); }
    }
  }
  const notes = await syncKindInputs();
  setProgress(compiling ? 30 : 10, 'Starting…');
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
  result.diagnostics.unshift(...state.compileDiagnostics.map((d) => ({ ...d, notes: [] })));
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
  setProgress(100, `${compiling ? 'Compiled and ' : ''}${result.ok ? (compiling ? 'linked' : 'Linked') : 'link failed'} in ${Math.round(total)} ms (link ${Math.round(msg.ms ?? total)} ms).`);
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

/** What made each input, for the Inputs view: the compiler and flags, or an upload. */
function madeBy() {
  const ex = state.example;
  const m = {};
  for (const f of state.inputs) {
    if (f.made) m[f.name] = f.made;
    else if (f.from === 'example' && ex) {
      const build = f.pie ? ex.pieBuild : ex.build;
      m[f.name] = ex.archives[f.name] ? `${build}, then ar rcs ${f.name} ${ex.archives[f.name].join(' ')} (at build time)` : `${build} (at build time)`;
    } else if (f.from === 'upload') m[f.name] = 'uploaded';
    else if (f.from === 'glibc') m[f.name] = GLIBC_NOTE;
  }
  return m;
}

const KINDS = { static: 'static executable', exec: 'executable (not PIE)', pie: 'position-independent executable', shared: 'shared object' };

function download(name, data, type) {
  const url = URL.createObjectURL(new Blob([data], { type }));
  state.urls.push(url);
  return { href: url, download: name };
}

function showOutcome(result, ms) {
  closeStepping();
  state.result = result;
  state.ran = null;
  $('console').hidden = true;
  $('console').replaceChildren();
  updateRunButton();
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
      result.ok ? h('strong', {}, `✓ Linked ${out}`) : h('strong', {}, result.compileFailed ? '✗ Compilation failed (see the marks in the editor)' : '✗ The link failed'),
      r && !r.partial ? h('span', {}, ` · ${KINDS[r.output.kind] ?? r.output.kind}, ${size(r.output.size)}${shared ? '' : ` · entry ${hex(r.output.entry)} (${r.output.entry_symbol})`}`) : null,
      r?.partial ? h('span', {}, ` · ${KINDS[r.output.kind] ?? r.output.kind}`) : null,
      ms ? h('span', { class: 'muted' }, ` · ${Math.round(ms)} ms in your browser`) : null),
    result.compileFailed ? null : h('div', { class: 'cmd' }, h('span', { class: 'muted' }, 'Same as: '), h('code', {}, cmd)),
    h('div', { class: 'downloads' },
      result.elf ? h('a', { class: 'button primary', 'data-testid': 'download-elf', ...download(out, result.elf, 'application/x-executable') }, `Download ${out}`) : null,
      result.map ? h('a', { class: 'button', 'data-testid': 'download-map', ...download(`${out}.map`, result.map, 'text/plain') }, 'Map file') : null,
      result.reportJson ? h('a', { class: 'button', 'data-testid': 'download-report', ...download(`${out}.json`, result.reportJson, 'application/json') }, 'JSON report') : null,
      result.elf ? h('span', { class: 'muted hint' }, shared ? `Load it from a program on x86-64 Linux: dlopen("./${out}", RTLD_NOW)` : `Run it on x86-64 Linux: chmod +x ${out} && ./${out}`) : null));
  renderDiagnostics($('diagnostics'), result.diagnostics);
  // A compiler diagnostic opens its file in the editor at its line and column.
  [...$('diagnostics').children].forEach((li, i) => {
    const d = result.diagnostics[i];
    if (d?.file && d.line && state.project?.files.some((f) => f.name === d.file)) {
      li.append(h('button', { type: 'button', class: 'goto', 'data-testid': 'diag-goto', onclick: () => gotoSource(d) }, `Show ${d.file}:${d.line}`));
    }
  });
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
  renderInputs($('view-inputs'), r, madeBy());
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
// Run: the linked ELF in the emulator (in the run worker; its wasm module loads once a link can
// run), its output in the console, and each start-up entry marked as observed beside predicted.

function runnable() {
  const r = state.result;
  return !!(r?.ok && r.elf && r.report && !r.report.partial);
}

function updateRunButton() {
  const b = $('run');
  b.hidden = !!state.running;
  $('stop').hidden = !state.running;
  b.disabled = state.busy || state.running || !runnable();
  $('step').disabled = b.disabled;
  b.title = runnable() && state.result.report.output.kind === 'shared'
    ? 'A shared object has no entry point: Run explains'
    : 'Run the linked program in an x86-64 emulator (WebAssembly, loaded once a link can run) and check its start-up against the report';
}

/** What the Run with… panel says: argv (argv[0] is the output's name), environment, standard
 *  input, the instruction budget. */
function runOptions() {
  const out = (readOptions().output || 'a.out').split('/').pop();
  const max = Number($('run-max').value);
  return {
    args: [out, ...splitArgs($('run-args').value)],
    env: splitArgs($('run-env').value),
    stdin: $('run-stdin').value,
    ...(max > 0 ? { maxInstructions: Math.floor(max) } : {}),
  };
}

// The run's details (stepper.js: the system call list, the step mode's panel), loaded with the
// emulator once a link can run (prepareRun), or on the first Run or Step, rather than with the page.
let detailsLoading = null;
function runDetails() {
  if (!detailsLoading) {
    detailsLoading = import('./stepper.js');
    detailsLoading.catch(() => { detailsLoading = null; });
  }
  return detailsLoading;
}

async function runProgram() {
  if (!runnable() || state.running) return;
  state.running = true;
  updateRunButton();
  const linked = state.result;
  const con = $('console');
  con.hidden = false;
  con.replaceChildren(h('p', { class: 'muted' }, 'Running…'));
  const t0 = performance.now();
  const more = runDetails(); // the system call list's code, loaded while the program runs
  closeStepping();
  let result;
  try {
    const msg = await callRun({ run: { elf: linked.elf.slice(), reportJson: linked.reportJson, ...runOptions() } }, (stage, detail) => { con.firstChild.textContent = detail; });
    const why = msg.type === 'stopped' ? `stopped by the Stop button after ${Math.round(performance.now() - t0)} ms` : `the worker stopped: ${msg.message}`;
    result = msg.type === 'ran' ? msg.result
      : { ok: false, exitCode: null, stdout: '', stderr: '', trace: [], syscalls: [], instructions: null, diagnostics: [{ severity: 'error', message: why, text: `run: ${why}` }] };
    result.ms = msg.ms ?? performance.now() - t0;
  } finally {
    state.running = false;
    updateRunButton();
  }
  if (state.result !== linked) return; // linked again meanwhile: this run is stale
  state.ran = result;
  const marks = markStartup(linked.report, result);
  showConsole(result, marks, await more.catch(() => null));
  document.body.dataset.runMs = String(Math.round(performance.now() - t0));
  document.body.dataset.ran = String((Number(document.body.dataset.ran) || 0) + 1);
}

/** The calls a dynamic program's loader made into its libraries' initializers (before the
 *  program's entry) or finalizers (at exit), as phases of the Start-up view. */
function libraryPhases(view, trace) {
  const calls = libraryStartup(trace);
  if (!calls.length) return;
  const entry = trace.findIndex((t) => t.kind === 'entry' && !t.library);
  const before = calls.filter((t) => entry < 0 || trace.indexOf(t) < entry);
  const after = calls.filter((t) => !before.includes(t));
  const list = (ts) => h('ol', { class: 'lib-calls' }, ts.map((t) => h('li', { 'data-testid': 'library-call' },
    mono(t.library), ' ', mono(t.symbol), h('span', { class: 'muted' }, ` (${t.kind}) at ${hex(t.address)}`))));
  const timeline = view.querySelector('.timeline');
  if (!timeline) return;
  if (before.length) {
    const li = h('li', { class: 'phase loader observed', 'data-testid': 'library-init' },
      h('div', { class: 'ph' }, h('strong', {}, 'Dynamic loader'), h('span', { class: 'badge observed same' }, '✓ observed by the emulator')),
      h('p', {}, 'Before it jumps to the entry point, the loader maps the libraries the program needs, relocates them, and calls their initializers, dependencies first:'),
      list(before));
    timeline.firstElementChild ? timeline.firstElementChild.after(li) : timeline.prepend(li);
  }
  if (after.length) {
    timeline.append(h('li', { class: 'phase loader observed', 'data-testid': 'library-fini' },
      h('div', { class: 'ph' }, h('strong', {}, 'Dynamic loader at exit'), h('span', { class: 'badge observed same' }, '✓ observed by the emulator')),
      h('p', {}, ['After the program\'s finalizers, ', mono('_dl_fini'), ' calls the libraries\' finalizers:']),
      list(after)));
  }
}

const mono = (text) => h('code', {}, text);

/** Mark each entry of the Start-up view with when the emulator called it; returns {total, same}. */
function markStartup(report, result) {
  const predicted = predictedStartup(report);
  const observed = observedStartup(result.trace);
  const bias = loadBias(report, result.trace); // a PIE's trace has run-time addresses
  const used = new Set();
  let same = 0;
  const view = $('view-startup');
  view.querySelectorAll('.observed').forEach((e) => e.remove());
  libraryPhases(view, result.trace);
  const ord = (n) => `${n}${['th', 'st', 'nd', 'rd'][(n % 100 >= 11 && n % 100 <= 13) || n % 10 > 3 ? 0 : n % 10]}`;
  predicted.forEach((p, i) => {
    const j = observed.findIndex((o, k) => !used.has(k) && o.address - bias === p.address && o.kind === p.kind);
    if (j >= 0) used.add(j);
    const ok = j === i;
    if (ok) same++;
    const el = view.querySelector(`[data-seq="${p.seq}"]`);
    if (!el) return;
    const title = el.querySelector('.title, .ph');
    const text = j < 0 ? (result.ok ? '✗ not observed' : '? not reached')
      : ok ? `✓ observed ${ord(j + 1)}, as predicted`
      : `≠ observed ${ord(j + 1)}, predicted ${ord(i + 1)}`;
    const caller = j >= 0 && observed[j].caller != null ? ` · called from ${hex(observed[j].caller)}` : '';
    (title ?? el).append(h('span', { class: `badge observed ${ok ? 'same' : 'differs'}`, 'data-testid': 'observed', title: `Seen by the emulator${caller}` }, text));
    el.classList.toggle('run-differs', !ok);
  });
  const extra = observed.filter((_, k) => !used.has(k));
  return { total: predicted.length, same, extra };
}

/** The console: the run's status, output, diagnostics and (with `more`, stepper.js) its system
 *  calls. */
function showConsole(r, marks, more) {
  const con = $('console');
  const status = r.exitCode != null ? `exit status ${r.exitCode}` : r.signal != null ? `killed by signal ${r.signal}` : 'did not exit';
  const startup = marks.total === 0 ? null
    : marks.same === marks.total && marks.extra.length === 0
      ? h('span', { class: 'ok', 'data-testid': 'run-startup' }, ` · start-up: all ${marks.total} entries observed in the predicted order`)
      : h('span', { class: 'bad', 'data-testid': 'run-startup' }, ` · start-up: ${marks.same} of ${marks.total} entries as predicted${marks.extra.length ? `, ${marks.extra.length} more calls` : ''} (see Start-up)`);
  con.replaceChildren(...[
    h('div', { class: 'console-head' },
      h('strong', {}, r.ok ? '▶ Ran' : '▶ Stopped'),
      h('span', { 'data-testid': 'run-status' }, ` · ${status}`),
      r.instructions == null ? null
        : h('span', { class: 'muted', 'data-testid': 'run-instructions' }, ` · ${count(r.instructions)} instructions · ${Math.round(r.ms)} ms in the emulator`),
      startup),
    h('pre', { class: 'stdout', 'data-testid': 'run-stdout', 'aria-label': 'Standard output' }, r.stdout || '(no output)'),
    r.stderr ? h('pre', { class: 'stderr', 'data-testid': 'run-stderr', 'aria-label': 'Standard error' }, r.stderr) : null,
    r.diagnostics.length ? h('ul', { class: 'diagnostics', 'data-testid': 'run-diagnostics' }, r.diagnostics.map((d) => h('li', { class: 'error' }, d.text))) : null,
    more && r.syscalls.length ? more.renderSyscalls(r.syscalls) : null,
  ].filter(Boolean));
}

// ---------------------------------------------------------------------------------------------
// Step mode: the program loaded in the run worker (run.js's stepThrough), walked from its entry
// an instruction at a time, to the next initializer, or to the end. The panel shows the next
// instruction, the registers, flags and the top of the stack; the Linker-made code view marks the
// line about to run when it is linker-made; the Start-up view marks the entries reached so far.

let stepping = null; // {linked, state, prev, busy} while the step mode is open

async function startStepping() {
  if (!runnable() || state.running) return;
  const linked = state.result;
  closeStepping();
  $('console').hidden = true;
  const panel = $('stepper');
  panel.hidden = false;
  panel.replaceChildren(h('p', { class: 'muted' }, 'Loading the program into the emulator…'));
  stepping = { linked, state: null, prev: null, busy: true };
  const more = runDetails();
  await stepCommand({ op: 'start', elf: linked.elf.slice(), reportJson: linked.reportJson, ...runOptions() }, await more.catch(() => null));
  // The entry point is usually linker-made code (the synthesized _start): show it there.
  if (stepping?.state && !stepping.state.done && currentStubRow()) selectTab($('tab-stubs'), false);
  showStepState();
}

/** Send one command to the step session and show the state it answers with. */
async function stepCommand(cmd, more) {
  const s = stepping;
  if (!s) return;
  s.busy = true;
  state.running = true;
  updateRunButton();
  if (s.state) showStepState();
  const t0 = performance.now();
  const msg = await callRun({ step: cmd }, (stage, detail) => { $('stepper').firstChild.textContent = detail; });
  state.running = false;
  updateRunButton();
  if (stepping !== s) return; // closed, or linked again, meanwhile
  s.busy = false;
  if (more) s.more = more;
  if (msg.type !== 'stepped' || !msg.state) {
    const why = msg.type === 'stopped' ? `stopped by the Stop button after ${Math.round(performance.now() - t0)} ms` : msg.type === 'crash' ? `the worker stopped: ${msg.message}` : 'the program is no longer loaded';
    const last = s.state ?? { instructions: 0, trace: [], syscalls: [], stdout: '', stack: [], flags: [] };
    s.prev = s.state;
    s.state = { ...last, done: true, stopped: 'end', exitCode: null, signal: null, instruction: null, diagnostics: [{ severity: 'error', message: why, text: `run: ${why}` }] };
  } else {
    s.prev = s.state;
    s.state = msg.state;
    s.ms = msg.ms;
  }
  showStepState();
  document.body.dataset.stepped = String((Number(document.body.dataset.stepped) || 0) + 1);
}

/** The Linker-made code view's row for the instruction about to run, if it is linker-made. */
function currentStubRow() {
  const s = stepping?.state;
  if (!s || s.done || s.rip == null) return null;
  const at = s.rip - loadBias(stepping.linked.report, s.trace);
  return $('view-stubs').querySelector(`tr[data-address="${at}"]`);
}

function showStepState() {
  const s = stepping;
  if (!s?.state || !s.more) return;
  const view = $('view-stubs');
  view.querySelectorAll('tr.current').forEach((e) => e.classList.remove('current'));
  const row = currentStubRow();
  if (row) {
    row.classList.add('current');
    if (!view.hidden) row.scrollIntoView({ block: 'nearest' });
  }
  s.more.renderStepper($('stepper'), s.state, s.prev, {
    linkerMade: !!row,
    busy: s.busy,
    onStep: () => stepCommand({ op: 'step', n: 1 }),
    onNextInit: () => stepCommand({ op: 'runTo', target: { trace: true, kinds: ['entry', 'preinit', 'init', 'dt_init', 'main', 'fini', 'dt_fini'] } }),
    onContinue: () => stepCommand({ op: 'finish' }),
    onClose: () => closeStepping(),
  });
  // The Start-up view: what has been called so far (the rest is not reached yet); at the end,
  // the console as after Run.
  const st = s.state;
  const result = st.result ?? (st.done ? { ok: st.ok && !st.diagnostics.length, exitCode: st.exitCode, signal: st.signal, stdout: st.stdout, stderr: st.stderr,
    trace: st.trace, syscalls: st.syscalls, instructions: st.instructions, diagnostics: st.diagnostics } : null);
  const marks = markStartup(s.linked.report, { trace: st.trace, ok: !!result?.ok });
  if (result) {
    state.ran = result;
    $('console').hidden = false;
    showConsole({ ...result, ms: s.ms ?? 0 }, marks, s.more);
  }
}

/** Leave the step mode (and free the program in the worker). */
function closeStepping() {
  if (!stepping) return;
  stepping = null;
  $('stepper').hidden = true;
  $('stepper').replaceChildren();
  $('view-stubs').querySelectorAll('tr.current').forEach((e) => e.classList.remove('current'));
  // Unanswered; queued behind a command still running.
  runner?.worker.postMessage({ id: nextId++, step: { op: 'close' } });
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
// Share: the whole state (example, sources if edited, options, view, open file) deflated into the
// URL fragment (`#s=...`, pkg/share.js: npm fflate). The address bar always holds it after a run.

let shareLoading = null;
const loadShare = () => (shareLoading ??= import('./pkg/share.js'));

function snapshot() {
  const p = state.project;
  const o = {};
  for (const el of $('options').elements) if (el.name) o[el.name] = el.type === 'checkbox' ? el.checked : el.value;
  const own = p && (p.edited || !state.example);
  return {
    v: 1,
    e: state.example?.name ?? null,
    ...(own ? { f: p.files.map((f) => [f.name, f.text]), l: p.link, a: p.archives, d: [...p.deleted] } : {}),
    ...(p?.flags.length ? { fl: p.flags } : {}),
    c: !!p?.compiled,
    all: !!p?.all,
    o,
    t: document.querySelector('#view-tabs [aria-selected=true]')?.id ?? 'tab-memory',
    s: p?.active ?? null,
  };
}

async function updateHash() {
  if (!state.restored) return;
  const snap = snapshot();
  const uploads = state.inputs.some((f) => f.from === 'upload');
  if (uploads && !state.project) return; // uploaded objects cannot go into a link
  const { encodeState } = await loadShare();
  history.replaceState(null, '', `#s=${encodeState(snap)}`);
  return location.href;
}

async function share() {
  const url = await updateHash();
  const bar = $('sharebar');
  bar.hidden = false;
  $('share-url').value = url ?? location.href;
  $('share-url').select();
  const uploads = state.inputs.some((f) => f.from === 'upload');
  let note = uploads ? 'Uploaded objects are not in the link: only sources are.' : '';
  try { await navigator.clipboard.writeText($('share-url').value); note = `Copied. ${note}`; } catch { /* not allowed: the field is selected */ }
  $('share-note').textContent = note;
}

async function restore(snap) {
  const ex = state.examples.find((e) => e.name === snap.e);
  if (ex) await pickExample(ex, { link: false });
  if (snap.f) {
    if (!ex) openProject(null, []);
    const p = state.project;
    p.files = snap.f.map(([name, text]) => ({ name, text }));
    p.link = snap.l ?? [];
    p.archives = snap.a ?? {};
    p.deleted = new Set(snap.d ?? []);
    p.edited = true;
    editor?.clear();
  }
  if (state.project) state.project.flags = Array.isArray(snap.fl) ? snap.fl.map(String) : [];
  if (state.project) { state.project.all = !!snap.all; $('tcc-all').checked = !!snap.all; }
  const f = $('options').elements;
  for (const [k, v] of Object.entries(snap.o ?? {})) {
    if (!f[k] || f[k].disabled) continue;
    if (f[k].type === 'checkbox') f[k].checked = !!v; else f[k].value = v;
  }
  showKindHelp();
  if (state.project && snap.s && state.project.files.some((x) => x.name === snap.s)) state.project.active = snap.s;
  if (state.project) renderFileTabs();
  const tab = snap.t && document.getElementById(snap.t);
  if (tab && tab.parentElement.id === 'view-tabs') selectTab(tab, false);
  state.restored = true;
  await runLink({ compile: !!snap.c || !!snap.f || !!snap.fl });
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
    // The run worker, without the emulator (a thread and run.js; the first load has run.js):
    // a worker is slow to start on a busy machine (docs/benchmarks.md), and the first link hides it.
    startRunner();
  });
  $('link').addEventListener('click', () => runLink());
  $('run').addEventListener('click', () => runProgram());
  $('step').addEventListener('click', () => startStepping());
  for (const b of [$('run'), $('step')]) {
    for (const ev of ['pointerenter', 'focus']) b.addEventListener(ev, () => { if (runnable()) { startRunner(true); runDetails(); } });
  }
  $('stop').addEventListener('click', () => stopRunner({ type: 'stopped' }));
  $('options').elements.kind.addEventListener('change', () => { state.glibcRemoved = false; showKindHelp(); syncKindInputs(); });
  showKindHelp();
  $('upload').addEventListener('change', async (e) => { await addFiles(e.target.files); e.target.value = ''; });
  // The editor loads on the first click or key in the source.
  const code = $('source-code');
  const wake = () => { if (!editor) ensureEditor().then((ed) => ed.focus()); };
  code.addEventListener('pointerdown', wake);
  code.addEventListener('keydown', (e) => { if (!(e.ctrlKey || e.metaKey)) wake(); });
  // Ctrl+Enter (Cmd+Enter) anywhere: compile the sources and link (the editor handles its own).
  document.addEventListener('keydown', (e) => {
    if ((e.ctrlKey || e.metaKey) && e.key === 'Enter' && !e.defaultPrevented) { e.preventDefault(); runLink({ compile: true }); }
  });
  $('add-file').addEventListener('click', () => askName(null));
  $('delete-file').addEventListener('click', () => deleteFile(state.project?.active));
  $('tcc-flags').addEventListener('change', (e) => {
    if (!state.project) return;
    state.project.flags = splitArgs(e.target.value);
    state.project.edited = true;
    renderFileTabs();
    updateHash();
  });
  $('tcc-all').addEventListener('change', (e) => { if (state.project) { state.project.all = e.target.checked; renderFileTabs(); } });
  $('name-form').addEventListener('submit', nameSubmitted);
  $('name-cancel').addEventListener('click', () => { $('name-form').hidden = true; });
  $('share').addEventListener('click', share);
  $('share-close').addEventListener('click', () => { $('sharebar').hidden = true; });
  $('source-toggle').addEventListener('click', (e) => {
    const closed = document.body.classList.toggle('source-closed');
    e.currentTarget.setAttribute('aria-expanded', String(!closed));
    e.currentTarget.textContent = closed ? 'Show source' : 'Hide';
    e.currentTarget.title = closed ? 'Show the source' : 'Hide the source';
  });
  $('clear').addEventListener('click', () => { leaveExample(); renderInputList(); });
  $('options').addEventListener('submit', (e) => { e.preventDefault(); runLink(); });
  $('options').addEventListener('change', () => updateHash());
  const drop = $('drop');
  const over = (on) => (e) => { e.preventDefault(); drop.classList.toggle('over', on); };
  for (const t of [drop, document.body]) {
    t.addEventListener('dragover', over(true));
    t.addEventListener('dragleave', over(false));
    t.addEventListener('drop', async (e) => { over(false)(e); await addFiles(e.dataTransfer.files); });
  }
  const tabs = $('view-tabs');
  tabs.addEventListener('click', (e) => { const t = e.target.closest('[role=tab]'); if (t) { selectTab(t); updateHash(); } });
  tabKeys(tabs, (t) => { selectTab(t); updateHash(); });
  tabKeys($('source-tabs'), (b) => b.click());
  renderInputList();
  loadExamples().then(async () => {
    performance.mark('examples-listed');
    const params = new URLSearchParams(location.hash.slice(1));
    if (params.get('s')) {
      try {
        await restore((await loadShare()).decodeState(params.get('s')));
        return;
      } catch (e) {
        console.warn('share link', e);
      }
    }
    const wanted = params.get('example');
    const ex = state.examples.find((e) => e.name === wanted) ?? state.examples[0];
    state.restored = true;
    if (ex && !state.inputs.length) pickExample(ex);
  });
  // A share link pasted into this tab's address bar changes only the fragment: restore it too.
  window.addEventListener('hashchange', async () => {
    const s = new URLSearchParams(location.hash.slice(1)).get('s');
    if (!s) return;
    try { await restore((await loadShare()).decodeState(s)); } catch (e) { console.warn('share link', e); }
  });
  // Offline support, registered once the first link is drawn so it does not compete with it.
  if ('serviceWorker' in navigator && location.protocol.startsWith('http')) {
    const register = () => navigator.serviceWorker.register('sw.js').catch(() => {});
    const wait = setInterval(() => { if (document.body.dataset.linked || !state.examples.length) { clearInterval(wait); register(); } }, 200);
  }
}

init();
