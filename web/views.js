// The playground's views, each drawn from the link report (docs/report.md) and nothing else:
// memory map, start-up sequence, linker-made code, symbols, inputs, diagnostics.

/** Create an element: h('div', {class: 'x', onclick}, child, 'text', ...). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'style' && typeof v === 'object') Object.assign(el.style, v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

export const hex = (n) => (n < 0 ? '-0x' + (-n).toString(16) : '0x' + Number(n).toString(16));
/** A count with thousands separators (7,657): not toLocaleString, whose first call in a page
 *  loads the locale data, on the first Run's path (docs/benchmarks.md). */
export const count = (n) => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
export function size(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(n < 10240 ? 1 : 0)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}
const code = (t, cls) => h('code', cls ? { class: cls } : {}, t);
const perm = (flags) => (flags.includes('X') ? 'rx' : flags.includes('W') ? 'rw' : 'r');

// ---------------------------------------------------------------------------------------------
// Diagnostics: worded exactly as the CLI prints them.

export function renderDiagnostics(list, diags) {
  list.replaceChildren();
  for (const d of diags) {
    list.append(h('li', { class: `diag ${d.severity}`, 'data-testid': 'diagnostic' },
      h('span', { class: 'sev' }, d.severity),
      h('pre', {}, d.text, ...d.notes.map((n) => `\n>>> ${n}`))));
  }
  list.hidden = diags.length === 0;
}

// ---------------------------------------------------------------------------------------------
// Memory map: each LOAD segment as a band, the file's bytes on the left and the memory they are
// mapped to on the right, sections inside at their offsets and addresses.

const SEG_MIN = 64;
const SEG_MAX = 260;
const BLOCK_MIN = 20;

/** Heights for items [{size, min}] that add up to `total`, proportional except for the minimums. */
function fit(items, total) {
  let fixed = new Set();
  for (let round = 0; round < 8; round++) {
    const freeBytes = items.reduce((n, it, i) => n + (fixed.has(i) ? 0 : it.size), 0);
    const freePx = total - items.reduce((n, it, i) => n + (fixed.has(i) ? it.min : 0), 0);
    const k = freeBytes > 0 ? Math.max(freePx, 0) / freeBytes : 0;
    let changed = false;
    items.forEach((it, i) => {
      if (!fixed.has(i) && it.size * k < it.min) { fixed.add(i); changed = true; }
    });
    if (!changed) return items.map((it, i) => (fixed.has(i) ? it.min : it.size * k));
  }
  return items.map((it) => it.min);
}

function segmentLayout(seg, sections) {
  // The pieces of the segment in address order: headers, sections, alignment padding.
  const inSeg = sections
    .filter((s) => seg.sections.includes(s.name) && !(s.type === 'NOBITS' && s.flags.includes('T')))
    .sort((a, b) => a.address - b.address);
  const items = [];
  let at = seg.vaddr;
  const first = inSeg[0];
  if (seg.offset === 0 && (!first || first.address > seg.vaddr)) {
    const end = first ? first.address : seg.vaddr + seg.filesz;
    items.push({ kind: 'headers', name: 'ELF header + program headers', address: seg.vaddr, offset: 0, size: end - seg.vaddr, nobits: false });
    at = end;
  }
  for (const s of inSeg) {
    if (s.address > at) items.push({ kind: 'pad', size: s.address - at, address: at, offset: seg.offset + (at - seg.vaddr) });
    items.push({ kind: 'section', section: s, name: s.name, address: s.address, offset: s.offset, size: s.size, nobits: s.type === 'NOBITS' });
    at = Math.max(at, s.address + s.size);
  }
  const end = seg.vaddr + seg.memsz;
  if (end > at) items.push({ kind: 'pad', size: end - at, address: at, offset: seg.offset + (at - seg.vaddr) });
  return items;
}

export function renderMemory(view, report, { onSelect, selected } = {}) {
  view.replaceChildren();
  const loads = report.segments.filter((s) => s.type === 'LOAD').sort((a, b) => a.vaddr - b.vaddr);
  const biggest = Math.max(1, ...loads.map((s) => s.memsz));
  const detail = h('div', { class: 'mm-detail', id: 'section-detail', 'aria-live': 'polite' });
  const select = (s) => {
    view.querySelectorAll('[data-section]').forEach((el) => el.classList.toggle('selected', el.dataset.section === s.name));
    renderSectionDetail(detail, s, report);
    onSelect?.(s.name);
  };

  view.append(
    h('p', { class: 'lede' },
      'The loader maps each ', code('LOAD'), ' segment: a range of the file (left) appears at a virtual address (right). ',
      'A file offset and its address agree modulo the page size (0x1000), which is why segments start on fresh pages. ',
      code('.bss'), ' takes memory but no file bytes: the kernel zero-fills it. Click a section to see the input pieces it was built from.'),
    h('div', { class: 'mm-legend' },
      h('span', { class: 'sw rx' }), 'code (R-X) ',
      h('span', { class: 'sw r' }), 'read-only (R--) ',
      h('span', { class: 'sw rw' }), 'data (RW-) ',
      h('span', { class: 'sw nobits' }), 'zero-filled, not in the file ',
      h('span', { class: 'scale' }, 'Heights to scale within each segment (small sections enlarged to stay readable); unmapped gaps shortened.')));

  const diagram = h('div', { class: 'mm', role: 'group', 'aria-label': 'Segments and sections' },
    h('div', { class: 'mm-head' },
      h('span', {}, 'file offset'), h('span', {}, `file (${size(report.output.size)})`), h('span'),
      h('span', {}, 'memory'), h('span', {}, 'virtual address')));
  let prevEnd = null;
  for (const seg of loads) {
    if (prevEnd !== null && seg.vaddr > prevEnd) {
      diagram.append(h('div', { class: 'mm-gap' }, `${hex(seg.vaddr - prevEnd)} bytes of address space left unmapped (page alignment)`));
    }
    prevEnd = seg.vaddr + seg.memsz;
    const items = segmentLayout(seg, report.sections);
    const total = Math.max(SEG_MIN, Math.min(SEG_MAX, (seg.memsz / biggest) * SEG_MAX));
    const hs = fit(items.map((it) => ({ size: Math.max(it.size, it.kind === 'pad' ? 0 : 1), min: it.kind === 'pad' ? 0 : BLOCK_MIN })), total);
    const row = h('div', { class: `mm-seg ${perm(seg.flags)}` });
    const offs = h('div', { class: 'mm-offs' });
    const file = h('div', { class: 'mm-file' });
    const mem = h('div', { class: 'mm-mem' });
    const addrs = h('div', { class: 'mm-addrs' });
    let y = 0;
    let fileEnd = 0;
    let lastLabel = -100;
    items.forEach((it, i) => {
      const ht = hs[i];
      if (it.kind !== 'pad') {
        const label = it.kind === 'headers' ? it.name : it.name;
        const title = `${label}: ${size(it.size)} at ${hex(it.address)}, file offset ${it.nobits ? '(none)' : hex(it.offset)}`;
        const mk = (nobits) => {
          const attrs = { class: `blk ${it.kind} ${nobits ? 'nobits' : ''}`, style: { top: `${y}px`, height: `${Math.max(ht - 1, 2)}px` }, title };
          if (it.kind === 'section') {
            return h('button', { ...attrs, type: 'button', dataset: { section: it.name }, onclick: () => select(it.section) },
              h('span', { class: 'nm' }, it.name), ht >= 30 ? h('span', { class: 'sz' }, size(it.size)) : null);
          }
          return h('div', attrs, h('span', { class: 'nm' }, label), ht >= 30 ? h('span', { class: 'sz' }, size(it.size)) : null);
        };
        mem.append(mk(it.nobits));
        if (!it.nobits) {
          const b = mk(false);
          b.tabIndex = -1; // one keyboard stop per section: the memory side
          b.setAttribute('aria-hidden', 'true');
          file.append(b);
          fileEnd = y + ht;
        }
        if (y - lastLabel >= 14) {
          addrs.append(h('span', { style: { top: `${y}px` } }, hex(it.address)));
          if (!it.nobits) offs.append(h('span', { style: { top: `${y}px` } }, hex(it.offset)));
          lastLabel = y;
        }
      }
      y += ht;
    });
    addrs.append(h('span', { class: 'end', style: { top: `${y}px` } }, hex(seg.vaddr + seg.memsz)));
    if (fileEnd > 0) offs.append(h('span', { class: 'end', style: { top: `${fileEnd}px` } }, hex(seg.offset + seg.filesz)));
    const link = h('div', { class: 'mm-link' });
    link.style.setProperty('--file-h', `${fileEnd}px`);
    link.append(h('span', {}, 'mapped'));
    for (const c of [offs, file, link, mem, addrs]) c.style.height = `${y}px`;
    row.append(
      h('div', { class: 'mm-seghead' },
        h('span', { class: 'badge seg' }, `LOAD ${seg.flags}`),
        ` file ${hex(seg.offset)}–${hex(seg.offset + seg.filesz)} → memory ${hex(seg.vaddr)}–${hex(seg.vaddr + seg.memsz)}`,
        seg.memsz > seg.filesz ? h('span', { class: 'muted' }, ` (${size(seg.memsz - seg.filesz)} zero-filled)`) : null,
        h('span', { class: 'muted' }, ` · align ${hex(seg.align)}`)),
      h('div', { class: 'mm-body' }, offs, file, link, mem, addrs));
    diagram.append(row);
  }
  const unloaded = report.sections.filter((s) => !loads.some((l) => l.sections.includes(s.name)));
  if (unloaded.length) {
    diagram.append(h('div', { class: 'mm-unloaded' },
      h('span', { class: 'muted' }, 'In the file but never loaded: '),
      unloaded.map((s) => h('button', { type: 'button', class: 'chip', dataset: { section: s.name }, onclick: () => select(s) }, s.name, ' ', h('span', { class: 'muted' }, size(s.size)))),
      h('span', { class: 'muted' }, ' (plus the section and symbol tables the ELF writer adds at the end)')));
  }
  view.append(diagram);

  // Other program headers, each with what it is for.
  const others = report.segments.filter((s) => s.type !== 'LOAD');
  if (others.length) {
    const why = {
      NOTE: 'notes for tools and the loader (the build ID lives here)',
      TLS: 'the template each thread\'s thread-local storage is copied from',
      GNU_STACK: 'only its flags matter: RW- means the stack is not executable',
      GNU_EH_FRAME: 'where the unwinder finds .eh_frame_hdr, the sorted index of unwind info',
    };
    view.append(h('h3', {}, 'Other program headers'),
      h('table', { class: 'grid' },
        h('thead', {}, h('tr', {}, ['type', 'flags', 'offset', 'address', 'size', 'sections', 'what for'].map((t) => h('th', {}, t)))),
        h('tbody', {}, others.map((s) => h('tr', {},
          h('td', {}, code(s.type)), h('td', {}, code(s.flags)), h('td', {}, hex(s.offset)), h('td', {}, hex(s.vaddr)),
          h('td', {}, size(s.memsz)), h('td', {}, s.sections.join(' ')), h('td', { class: 'muted' }, why[s.type] ?? ''))))));
  }

  // Every section, in a keyboard-friendly table.
  const segOf = (name) => {
    const s = loads.find((l) => l.sections.includes(name));
    return s ? `LOAD ${s.flags}` : 'not loaded';
  };
  view.append(h('h3', {}, 'Sections'),
    h('table', { class: 'grid sections' },
      h('thead', {}, h('tr', {}, ['section', 'type', 'flags', 'address', 'file offset', 'size', 'segment', 'pieces'].map((t) => h('th', {}, t)))),
      h('tbody', {}, report.sections.map((s) => {
        const tr = h('tr', {
          'data-testid': 'section-row', dataset: { section: s.name }, tabindex: '0', class: 'clickable',
          onclick: () => select(s), onkeydown: (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); select(s); } },
        },
        h('td', {}, code(s.name)), h('td', {}, s.type), h('td', {}, code(s.flags || '—')), h('td', {}, s.address ? hex(s.address) : '—'),
        h('td', {}, hex(s.offset)), h('td', {}, size(s.size)), h('td', {}, segOf(s.name)), h('td', {}, s.pieces.length));
        return tr;
      }))),
    detail);
  const initial = report.sections.find((s) => s.name === selected) ?? report.sections.find((s) => s.name === '.init_array') ?? report.sections[0];
  if (initial) select(initial);
}

function renderSectionDetail(box, s, report) {
  const isArray = /INIT_ARRAY|FINI_ARRAY|PREINIT_ARRAY/.test(s.type);
  box.replaceChildren(
    h('h3', {}, 'Section ', code(s.name), h('span', { class: 'muted' }, ` ${s.type} · ${s.flags || 'no flags'} · ${size(s.size)} · align ${s.align}`)),
    h('p', { class: 'muted' }, s.address ? `At ${hex(s.address)} in memory, ${hex(s.offset)} in the file.` : `At file offset ${hex(s.offset)}; not loaded into memory.`,
      ' Built from these input pieces, in output order:'),
    s.pieces.length === 0 ? h('p', { class: 'muted' }, 'No pieces (empty, or written by the linker).') :
      h('table', { class: 'grid pieces' },
        h('thead', {}, h('tr', {}, ['address', 'file offset', 'size', 'from', 'input section', isArray ? 'priority' : null].filter(Boolean).map((t) => h('th', {}, t)))),
        h('tbody', {}, s.pieces.map((p) => h('tr', {},
          h('td', {}, p.address ? hex(p.address) : '—'), h('td', {}, hex(p.offset)), h('td', {}, size(p.size)),
          h('td', {}, p.input ? code(p.input) : h('span', { class: 'badge linker' }, p.kind === 'linker' ? 'linker-made' : p.kind)),
          h('td', {}, p.section ? code(p.section) : '—'),
          isArray ? h('td', {}, priorityText(p.priority, p.from_ctors)) : null)))));
}

function priorityText(prio, fromCtors) {
  const base = prio === undefined || prio === null ? '' : prio === 65535 ? 'none (65535: last)' : String(prio);
  return fromCtors ? `${base} · from .ctors, reversed` : base;
}

// ---------------------------------------------------------------------------------------------
// Start-up: what runs, in order, who calls it and where each entry came from.

function spelling(section) {
  const m = /^\.(?:init|fini|preinit)_array\.(\d+)$/.exec(section || '');
  if (!m) return null;
  return m[1].length === 5 && m[1].startsWith('0') ? 'gcc spelling (5 digits)' : 'clang spelling';
}

function entryCard(e, kind, n, shared) {
  const args = kind === '.fini_array' ? '()' : '(argc, argv, envp)';
  const sp = spelling(e.section);
  return h('li', { class: `entry ${kind.slice(1)}`, 'data-testid': 'init-entry', tabindex: '0' },
    h('span', { class: 'n', 'aria-hidden': 'true' }, n),
    h('div', { class: 'body' },
      h('div', { class: 'title' },
        code(e.symbol ?? hex(e.target_address), 'sym'), h('span', { class: 'muted' }, args),
        h('span', { class: `badge prio ${e.priority === 65535 ? 'none' : ''}` }, e.priority === 65535 ? 'no priority' : `priority ${e.priority}`),
        e.from_ctors ? h('span', { class: 'badge ctors', title: '.ctors words run backwards; the linker reversed them into .init_array/.fini_array. .ctors.N is priority 65535 − N.' }, 'from .ctors (reversed)') : null,
        sp ? h('span', { class: 'badge' }, sp) : null,
        e.linker_made ? h('span', { class: 'badge linker' }, 'linker-made') : null),
      h('div', { class: 'meta' },
        code(e.input ?? '(linker)'), ' · section ', code(e.section ?? '?'),
        ` · slot ${e.slot} at ${hex(e.slot_address)} holds ${hex(e.target_address)}`),
      shared ? null : h('div', { class: 'meta muted' }, `called by ${e.called_by} · slot filled: ${e.filled_by}`)));
}

const PHASES = {
  '.preinit_array': ['Pre-initializers', '.preinit_array: only executables have one. Runs first of all, in array order, with (argc, argv, envp).'],
  '.init_array': ['Initializers', '.init_array: in array order. The linker sorted the input sections by priority (lower first; no suffix means 65535, last); equal priorities keep link order.'],
  'main': ['main', ''],
  '.fini_array': ['Finalizers', '.fini_array: after main returns (or exit is called), from the last slot back to the first, with no arguments.'],
};

export function renderStartup(view, report) {
  view.replaceChildren();
  const ia = report.init_arrays;
  const queues = {
    '.preinit_array': [...ia.preinit],
    '.init_array': [...ia.init],
    '.fini_array': [...ia.fini].sort((a, b) => a.run_order - b.run_order),
  };
  const synthesized = report.output.entry_symbol.includes('linker-made');
  // A shared object has no entry point and no main: the loader maps it and runs its arrays.
  const shared = report.output.kind === 'shared';
  // The linker-made _start of a dynamic link is glibc's Scrt1.o one: it hands main to libc.
  const viaLibc = synthesized && report.stubs.some((s) => s.name === '__libc_start_main@plt');
  const tl = h('ol', { class: 'timeline', 'aria-label': 'Start-up sequence' });
  tl.append(shared
    ? h('li', { class: 'phase kernel' },
      h('div', { class: 'ph' }, h('strong', {}, 'Dynamic loader'), h('span', { class: 'muted' }, ' DT_NEEDED or dlopen')),
      h('p', {}, 'A shared object has no entry point. When a program needs it (', code('DT_NEEDED'), ') or calls ', code('dlopen'),
        ', the loader maps its LOAD segments at some base address, applies its dynamic relocations, and then calls its initializers.'))
    : report.dynamic?.interp
    ? h('li', { class: 'phase kernel' },
      h('div', { class: 'ph' }, h('strong', {}, 'Kernel and dynamic loader'), h('span', { class: 'muted' }, ' execve, then PT_INTERP')),
      h('p', {}, 'The kernel maps the LOAD segments and the program\'s interpreter, ', code(report.dynamic.interp),
        ', puts argc, argv[], envp[] and the auxiliary vector on the stack, and jumps to the loader. The loader maps the libraries the program needs (',
        ...(report.dynamic.needed ?? []).flatMap((n, i) => [i ? ', ' : '', code(n)]), '), applies the dynamic relocations, runs the libraries\' initializers, and jumps to the entry point ',
        code(hex(report.output.entry)), ` (${report.output.entry_symbol}).`))
    : h('li', { class: 'phase kernel' },
      h('div', { class: 'ph' }, h('strong', {}, 'Kernel'), h('span', { class: 'muted' }, ' execve')),
      h('p', {}, 'Maps the LOAD segments, puts argc, argv[], envp[] and the auxiliary vector on the stack, and jumps to the entry point ',
        code(hex(report.output.entry)), ` (${report.output.entry_symbol}).`)));
  if (!shared) tl.append(h('li', { class: 'phase' },
    h('div', { class: 'ph' }, code('_start', 'sym'), synthesized ? h('span', { class: 'badge linker' }, 'linker-made') : null),
    h('p', {}, viaLibc
      ? ['The link had no ', code('_start'), ' and no crt files: initlink wrote glibc\'s (Scrt1.o\'s, see ', h('em', {}, 'Linker-made code'), '). It passes main, argc and argv to ', code('__libc_start_main'), ' in libc.so.6, called through ', code('__libc_start_main@plt'), ', which runs the arrays below and calls main.']
      : synthesized
      ? ['The link had no ', code('_start'), ': initlink wrote one (see ', h('em', {}, 'Linker-made code'), '). It reads argc/argv/envp from the stack, aligns the stack to 16 bytes and walks the arrays between the linker-defined ', code('__preinit_array_start'), '/', code('_end'), ' symbols.']
      : ['glibc\'s ', code('_start'), ' (crt1.o) calls ', code('__libc_start_main'), ', which (static, glibc ≥ 2.34) runs the arrays itself.'])));
  let n = 0;
  let open = null;
  const seq = ia.sequence;
  for (let i = 0; i < seq.length; i++) {
    const st = seq[i];
    const q = queues[st.step];
    if (q) {
      if (!open || open.kind !== st.step) {
        const [title, text] = PHASES[st.step];
        const list = h('ol', { class: 'entries' });
        const all = queues[st.step];
        const same = all.length > 0 && all.every((e) => e.called_by === all[0].called_by && e.filled_by === all[0].filled_by);
        tl.append(h('li', { class: `phase ${st.step.slice(1)}` },
          h('div', { class: 'ph' }, h('strong', {}, title), ' ', code(st.step)),
          h('p', { class: 'muted' }, text),
          same ? h('p', { class: 'muted small' }, `Called by ${all[0].called_by}. Slots filled: ${all[0].filled_by}.`) : null, list));
        open = { kind: st.step, list, shared: same };
      }
      const e = q.shift();
      if (e) {
        const card = entryCard(e, st.step, ++n, open.shared);
        card.dataset.seq = String(i); // its index in the sequence: a run marks it observed
        open.list.append(card);
      }
      continue;
    }
    open = null;
    const isMain = st.step === 'main';
    if (isMain && shared) continue;
    tl.append(h('li', { class: `phase ${isMain ? 'main' : 'legacy'}`, 'data-seq': String(i), 'data-testid': 'startup-step' },
      h('div', { class: 'ph' }, h('strong', {}, isMain ? 'main' : st.step), st.address ? h('span', { class: 'muted' }, ` at ${hex(st.address)}`) : null),
      h('p', { class: 'muted' }, isMain ? `called by ${st.called_by} with (argc, argv, envp); its return value becomes the exit status.` : `called by ${st.called_by}`)));
  }
  tl.append(h('li', { class: 'phase kernel' },
    h('div', { class: 'ph' }, h('strong', {}, shared ? 'dlclose or exit' : 'exit')),
    h('p', {}, shared ? ['At ', code('dlclose'), ', or when the program exits, the loader runs the finalizers.']
      : synthesized && !viaLibc ? ['The linker-made ', code('_start'), ' calls ', code('exit_group'), ' with main\'s return value.'] : ['glibc\'s ', code('exit'), ' runs atexit handlers and the finalizers, then ', code('_exit'), '.'])));
  const counts = `${ia.preinit.length} pre-initializer${ia.preinit.length === 1 ? '' : 's'}, ${ia.init.length} initializer${ia.init.length === 1 ? '' : 's'}, ${ia.fini.length} finalizer${ia.fini.length === 1 ? '' : 's'}`;
  view.append(h('p', { class: 'lede' }, `What runs, in order, ${shared ? 'from the loader\'s mapping of this object until it is unloaded' : 'from the kernel\'s jump to the entry point until exit'}: ${counts}. Each entry shows the function, the input file and section it came from, and its priority.`), tl);
}

// ---------------------------------------------------------------------------------------------
// Linker-made code: every stub, byte by byte, with the relocation the linker applied.

function leBytes(value, width) {
  let v = BigInt.asUintN(width * 8, BigInt(value));
  const out = [];
  for (let i = 0; i < width; i++) { out.push(Number(v & 0xffn).toString(16).padStart(2, '0')); v >>= 8n; }
  return out.join(' ');
}

function relocCell(r) {
  const a = r.A < 0 ? `− ${-r.A}` : `+ ${r.A}`;
  const sym = `${r.symbol}${r.addend < 0 ? ` − ${-r.addend}` : r.addend > 0 ? ` + ${r.addend}` : ''}`;
  const terms = r.formula.replace(/\bS\b/, hex(r.S)).replace(/\s*\+\s*A\b/, ` ${a}`).replace(/\bP\b/, hex(r.P));
  return h('div', { class: 'reloc' },
    h('span', { class: 'arrow', 'aria-hidden': 'true' }, '↳ '),
    code(r.type, 'rtype'), ' against ', code(sym), ': ',
    h('span', { class: 'formula' }, `${r.formula} = ${terms} = ${hex(r.value)}`),
    h('div', { class: 'muted' }, `S = ${hex(r.S)}, the address of ${r.symbol}; A = ${r.A}, the addend; P = ${hex(r.P)}, the address of the field itself. `,
      `The ${r.field_size}-byte field at +${r.field_offset} in this instruction gets ${leBytes(r.value, r.field_size)} (little-endian).`));
}

export function renderStubs(view, report) {
  view.replaceChildren();
  if (!report.stubs.length) {
    view.append(h('p', { class: 'lede' }, 'This link needed no linker-made code: the program brought its own ', code('_start'), ', and nothing called an IFUNC.'));
    return;
  }
  view.append(h('p', { class: 'lede' },
    'Code the linker wrote itself, not taken from any input. Each line shows the bytes, the instruction they encode, and, where the linker patched an address in, the relocation: highlighted bytes are the field it wrote, computed from S (the symbol\'s address), A (the addend) and P (the field\'s own address).'));
  // A call or jump to another stub names it, as objdump does: `call 0x1010 <__libc_start_main@plt>`.
  const stubAt = new Map(report.stubs.map((s) => [s.address, s.name]));
  const target = (asm) => {
    const m = /^(?:call|jmp) 0x([0-9a-f]+)$/.exec(asm);
    const name = m && stubAt.get(parseInt(m[1], 16));
    return name ? `${asm} <${name}>` : asm;
  };
  for (const st of report.stubs) {
    const rows = st.lines.flatMap((l) => {
      const r = l.reloc;
      const cells = l.bytes.split(' ').flatMap((b, i) => {
        const inField = r && i >= r.field_offset && i < r.field_offset + r.field_size;
        return [i ? ' ' : null, h('span', { class: inField ? 'rel' : null }, b)];
      });
      const line = h('tr', { 'data-testid': 'stub-line', 'data-address': String(l.address), class: r ? 'has-reloc' : null },
        h('td', { class: 'off' }, `+${l.offset.toString(16).padStart(3, '0')}`),
        h('td', { class: 'addr' }, hex(l.address)),
        h('td', { class: 'bytes' }, cells),
        h('td', { class: 'asm' }, code(target(l.asm))));
      return r ? [line, h('tr', { class: 'reloc-row' }, h('td'), h('td', { colspan: '3' }, relocCell(r)))] : [line];
    });
    view.append(h('section', { class: 'stub' },
      h('h3', {}, code(st.name), h('span', { class: 'muted' }, ` ${size(st.size)} at ${hex(st.address)} in ${st.section}`)),
      h('p', {}, st.why.charAt(0).toUpperCase() + st.why.slice(1) + '.'),
      h('div', { class: 'scroll' }, h('table', { class: 'grid stubtable' },
        h('thead', {}, h('tr', {}, ['offset', 'address', 'bytes', 'instruction'].map((t) => h('th', {}, t)))),
        h('tbody', {}, rows)))));
  }
}

// ---------------------------------------------------------------------------------------------
// Symbols, searchable.

export function renderSymbols(view, report) {
  view.replaceChildren();
  const LIMIT = 500;
  const search = h('input', { type: 'search', placeholder: 'Filter by name, section or file…', 'aria-label': 'Filter symbols', spellcheck: 'false' });
  const status = h('p', { class: 'muted', 'aria-live': 'polite' });
  const body = h('tbody');
  const syms = [...report.symbols].sort((a, b) => a.value - b.value || a.name.localeCompare(b.name));
  const draw = () => {
    const q = search.value.trim().toLowerCase();
    const hits = q ? syms.filter((s) => s.name.toLowerCase().includes(q) || s.section.toLowerCase().includes(q) || (s.defined_in ?? '').toLowerCase().includes(q)) : syms;
    body.replaceChildren(...hits.slice(0, LIMIT).map((s) => h('tr', {},
      h('td', {}, code(s.name)), h('td', {}, hex(s.value)), h('td', {}, s.size),
      h('td', {}, s.type), h('td', {}, s.binding), h('td', {}, code(s.section)),
      h('td', {}, s.defined_in === 'linker' ? h('span', { class: 'badge linker' }, 'linker') : (s.defined_in ?? '')))));
    status.textContent = `${hits.length} of ${syms.length} symbols${hits.length > LIMIT ? `, first ${LIMIT} shown` : ''}.`;
  };
  search.addEventListener('input', draw);
  view.append(h('p', { class: 'lede' }, 'The output\'s symbol table: global symbols, and local ones the report can trace to an input. ', h('span', { class: 'badge linker' }, 'linker'), ' marks names the linker defines, like ', code('__init_array_start'), ' in a glibc link.'),
    h('div', { class: 'searchrow' }, search), status,
    h('div', { class: 'scroll' }, h('table', { class: 'grid symbols' },
      h('thead', {}, h('tr', {}, ['name', 'value', 'size', 'type', 'binding', 'section', 'defined in'].map((t) => h('th', {}, t)))), body)));
  draw();
}

// ---------------------------------------------------------------------------------------------
// Inputs: what was loaded, and why.

/** `madeBy`: input file name → what made it (the compiler and flags, `uploaded`), from the page. */
export function renderInputs(view, report, madeBy = {}) {
  view.replaceChildren();
  const made = (i) => madeBy[i.archive ?? i.name] ?? madeBy[(i.archive ?? i.name).split('/').pop()] ?? '';
  view.append(h('p', { class: 'lede' }, 'Objects named on the command line are always linked. An archive member joins only when it defines a symbol that is still undefined; the first reference to it is shown.'),
    h('div', { class: 'scroll' }, h('table', { class: 'grid inputs-table' },
      h('thead', {}, h('tr', {}, ['#', 'input', 'why it is in the link', 'made by'].map((t) => h('th', {}, t)))),
      h('tbody', {}, report.inputs.map((i) => h('tr', { 'data-testid': 'input-row' },
        h('td', {}, i.index),
        h('td', {}, i.archive ? [code(i.archive), '(', code(i.member), ')'] : code(i.name)),
        h('td', {}, i.why),
        h('td', { class: 'made small', 'data-testid': 'made-by' }, made(i))))))));
  if (report.archives.length) {
    view.append(h('h3', {}, 'Archives'), h('table', { class: 'grid' },
      h('thead', {}, h('tr', {}, ['archive', 'symbols in its index', 'members loaded'].map((t) => h('th', {}, t)))),
      h('tbody', {}, report.archives.map((a) => h('tr', {}, h('td', {}, code(a.name)), h('td', {}, a.index_symbols), h('td', {}, a.members_loaded))))));
  }
  if (report.notes.length) {
    view.append(h('h3', {}, 'Notes'), h('ul', {}, report.notes.map((n) => h('li', {}, n))));
  }
}

// ---------------------------------------------------------------------------------------------
// Relocations: each patched site of an input section, before (the .o) and after (the output).

const signed = (n) => (n < 0 ? `− ${hex(-n)}` : `+ ${hex(n)}`);

/** The formula with the linker's numbers in it, or null when it does not describe the bytes. */
export function filledFormula(r) {
  if (!r.formula || r.relaxation || r.value === undefined || r.value === null) return null;
  let f = r.formula;
  if (r.got_entry !== undefined) f = f.replace('G + GOT', hex(r.got_entry));
  const vals = { S: hex(r.S), L: hex(r.S), P: hex(r.P), GOT: r.got !== undefined ? hex(r.got) : 'GOT', TP: r.tp !== undefined ? hex(r.tp) : 'TP', TLS: r.tls !== undefined ? hex(r.tls) : 'TLS' };
  let out = f.replace(/\b(GOT|TLS|TP|S|L|P)\b/g, (m) => vals[m]);
  out = out.replace(/\s*\+\s*A\b/, ` ${signed(r.A)}`).replace(/^A\b/, hex(r.A));
  return `${r.formula} = ${out} = ${hex(r.value)}`;
}

function byteCells(bytes, other, field, size, cls) {
  const a = bytes.split(' ');
  const b = other.split(' ');
  return a.flatMap((x, i) => {
    const inField = size > 0 && i >= field && i < field + size;
    const changed = x !== b[i];
    const c = [inField ? 'fld' : null, changed ? cls : null].filter(Boolean).join(' ');
    return [i ? ' ' : null, h('span', { class: c || null }, x)];
  });
}

export function renderRelocs(view, report, state = {}) {
  view.replaceChildren();
  const info = report.relocations;
  const secs = info?.sections ?? [];
  view.append(h('p', { class: 'lede' },
    'The assembler cannot know where anything will end up, so it leaves zeros and a relocation: "put the address of ', code('S'), ' here". ',
    'That is why every ', code('call'), ' in a ', code('.o'), ' reads ', code('e8 00 00 00 00'), '. Below, each relocation of an input section: the bytes in the object (before) and in the output file (after, read back from the ELF), ',
    h('span', { class: 'fld-key' }, 'the field'), ' the linker wrote, and ', h('span', { class: 'chg-key' }, 'bytes that changed'), '.'));
  if (!secs.length) {
    view.append(h('p', { class: 'muted' }, 'No relocations in the objects named on the link (archive members are not listed).'));
    return;
  }
  const inputs = [...new Set(secs.map((s) => s.input))];
  const pickInput = h('select', { 'aria-label': 'Input object', 'data-testid': 'reloc-input' }, inputs.map((i) => h('option', { value: i }, i.split('/').pop())));
  const pickSection = h('select', { 'aria-label': 'Input section', 'data-testid': 'reloc-section' });
  const body = h('div', { class: 'reloc-body' });
  const fillSections = () => {
    const mine = secs.filter((s) => s.input === pickInput.value);
    pickSection.replaceChildren(...mine.map((s) => h('option', { value: s.section }, `${s.section} (${s.relocs.length})`)));
    const keep = mine.find((s) => s.section === state.section) ?? mine.find((s) => s.section === '.text') ?? mine[0];
    if (keep) pickSection.value = keep.section;
  };
  const draw = () => {
    state.input = pickInput.value;
    state.section = pickSection.value;
    const s = secs.find((x) => x.input === pickInput.value && x.section === pickSection.value);
    body.replaceChildren();
    if (!s) return;
    body.append(h('p', { class: 'muted' }, code(s.section), ` of `, code(s.input), ` (${size(s.size)}) went to `, code(s.output_section),
      ` at ${hex(s.address)}, file offset ${hex(s.offset)}. ${s.relocs.length} relocation${s.relocs.length === 1 ? '' : 's'}.`));
    const rows = s.relocs.map((r) => {
      const sym = r.target && r.target !== r.symbol ? [code(r.symbol), ' → ', code(r.target)] : [code(r.symbol)];
      const filled = filledFormula(r);
      const notes = [];
      if (r.relaxation) notes.push(h('div', { class: 'note relax' }, h('span', { class: 'badge relax' }, 'relaxed'), ' ', r.relaxation));
      if (r.dynamic) notes.push(h('div', { class: 'note dyn' }, h('span', { class: 'badge dyn' }, r.dynamic.type), ' ', r.dynamic.note));
      return h('tr', { 'data-testid': 'reloc-row', dataset: { offset: String(r.offset) } },
        h('td', { class: 'off' }, `+${hex(r.offset)}`, h('div', { class: 'muted small' }, hex(r.P))),
        h('td', {}, code(r.type, 'rtype'), h('div', { class: 'small' }, ...sym, r.addend ? h('span', { class: 'muted' }, ` ${signed(r.addend)}`) : null)),
        h('td', { class: 'bytes before' }, byteCells(r.before, r.after, r.field_offset, r.field_size, 'same'), r.asm_before ? h('div', { class: 'asm muted' }, r.asm_before) : null),
        h('td', { class: 'bytes after' }, byteCells(r.after, r.before, r.field_offset, r.field_size, 'chg'), r.asm_after ? h('div', { class: 'asm' }, r.asm_after) : null),
        h('td', { class: 'how' },
          filled ? h('div', { class: 'formula' }, filled) : (r.formula ? h('div', { class: 'muted small' }, `psABI: ${r.formula}`) : null),
          filled ? h('div', { class: 'muted small' }, `S = ${hex(r.S)}${r.target ? ` (${r.target.split(' ')[0]})` : ''}, A = ${r.A}, P = ${hex(r.P)}`) : null,
          r.value !== undefined && !filled ? h('div', { class: 'small' }, `field holds ${hex(r.value)}`) : null,
          notes));
    });
    body.append(h('div', { class: 'scroll' }, h('table', { class: 'grid reloctable' },
      h('thead', {}, h('tr', {}, ['offset · P', 'type · symbol', 'before (.o)', 'after (output)', 'value'].map((t) => h('th', {}, t)))),
      h('tbody', {}, rows))));
  };
  pickInput.addEventListener('change', () => { fillSections(); draw(); });
  pickSection.addEventListener('change', draw);
  if (state.input && inputs.includes(state.input)) pickInput.value = state.input;
  fillSections();
  view.append(h('div', { class: 'searchrow' }, h('label', {}, 'Object ', pickInput), h('label', {}, ' Section ', pickSection),
    info.truncated ? h('span', { class: 'muted' }, ` (first ${info.limit} relocations only)`) : null), body);
  draw();
}

// ---------------------------------------------------------------------------------------------
// Dynamic linking: what the loader is asked to do.

export function renderDynamic(view, report) {
  view.replaceChildren();
  const d = report.dynamic;
  const plt = report.stubs.filter((s) => s.section === '.plt');
  if (!d && !plt.length) {
    view.append(h('p', { class: 'lede' }, 'A static link: no dynamic loader, no ', code('.dynamic'), ', no imports. Choose PIE or shared output and link against a shared object to see them.'));
    return;
  }
  if (d) {
    view.append(h('p', { class: 'lede' },
      'This output is loaded by the dynamic loader', d.interp ? [' ', code(d.interp), ' (', code('PT_INTERP'), ')'] : '',
      '. Before any code runs it maps the ', code('DT_NEEDED'), ' libraries, binds the imports below and applies the dynamic relocations.'));
    view.append(h('h3', {}, 'Needed libraries'), d.needed.length
      ? h('ul', {}, d.needed.map((n) => h('li', {}, code(n))))
      : h('p', { class: 'muted' }, 'None.'), d.soname ? h('p', {}, 'SONAME ', code(d.soname)) : '');
    const via = { plt: 'PLT entry (lazy binding through .got.plt)', 'canonical-plt': 'canonical PLT entry (its address is the function\'s address)', got: 'GOT entry (R_X86_64_GLOB_DAT)', copy: 'copy relocation into .bss', data: 'R_X86_64_64 in data' };
    view.append(h('h3', {}, `Imports (${d.imports.length})`), d.imports.length ? h('table', { class: 'grid', 'data-testid': 'imports' },
      h('thead', {}, h('tr', {}, ['symbol', 'version', 'library', 'reached via'].map((t) => h('th', {}, t)))),
      h('tbody', {}, d.imports.map((i) => h('tr', {}, h('td', {}, code(i.symbol)), h('td', {}, i.version ?? '—'), h('td', {}, i.library ? code(i.library) : h('span', { class: 'muted' }, 'unresolved (weak)')),
        h('td', {}, i.via.map((v) => h('span', { class: 'badge', title: via[v] ?? v }, v))))))) : h('p', { class: 'muted' }, 'None.'));
    if (d.exports.length) view.append(h('p', { class: 'muted' }, `Exports ${d.exports.length} symbol${d.exports.length === 1 ? '' : 's'} in .dynsym: `, d.exports.slice(0, 30).map((e, i) => [i ? ', ' : '', code(e)]), d.exports.length > 30 ? ', …' : ''));
    view.append(h('h3', {}, 'Dynamic relocations'), h('p', {}, d.relocation_counts.length ? d.relocation_counts.map(([t, n], i) => [i ? ' · ' : '', code(t), ` × ${n}`]) : h('span', { class: 'muted' }, 'None.')));
    view.append(h('h3', {}, h('code', {}, '.dynamic'), ' entries'), h('table', { class: 'grid', 'data-testid': 'dynamic-entries' },
      h('thead', {}, h('tr', {}, ['tag', 'value'].map((t) => h('th', {}, t)))),
      h('tbody', {}, d.entries.map((e) => h('tr', {}, h('td', {}, code(e.tag)), h('td', {}, hex(e.value)))))));
  }
  if (plt.length) {
    view.append(h('h3', {}, 'PLT stubs'), h('p', { class: 'muted' }, 'Each call to an imported function goes to its PLT entry, which jumps through a .got.plt slot the loader fills (the bytes are under Linker-made code).'),
      h('table', { class: 'grid' }, h('thead', {}, h('tr', {}, ['stub', 'address', 'size', 'first instruction'].map((t) => h('th', {}, t)))),
        h('tbody', {}, plt.map((s) => h('tr', {}, h('td', {}, code(s.name)), h('td', {}, hex(s.address)), h('td', {}, s.size), h('td', {}, code(s.lines[0]?.asm ?? '')))))));
  }
}
