// Offline support: every response the page fetches from its own origin is kept in a cache, and the
// network is always tried first, so a reload shows the latest build and, offline, the last one.
const CACHE = 'initlink-playground-v5';
const CORE = [
  './', 'index.html', 'style.css', 'app.js', 'views.js', 'worker.js', 'run_worker.js', 'initlink.js', 'wasm_loader.js', 'compile.js', 'run.js',
  'pkg/initlink.js', 'pkg/initlink_bg.wasm', 'examples/index.json',
  // The share link's codec (fflate) and the editor (CodeMirror), bundled by ./dev build-web; the
  // editor is fetched on the first edit, cached here so editing works offline.
  'pkg/share.js', 'pkg/editor.js',
  // glibc for PIE and non-PIE links: a description of libc.so.6 (./dev build-web writes it).
  'examples/libc.so.6.dso',
];
// The C compiler (web/tcc/build.sh): not part of the page's first load (compile() fetches it on
// first use), but kept once the page is installed, so compiling works offline too.
const SHIM = ['index.js', 'wasi.js', 'wasi_defs.js', 'fd.js', 'fs_mem.js', 'fs_opfs.js', 'debug.js', 'strace.js'];
// The emulator (emu/wasm) and the page's run details (stepper.js: the system call list, the step
// mode), likewise fetched on the first run and kept for offline use. The
// loader and libraries for dynamic programs (pkg/emu/lib/*.gz, 2 MB) are not fetched here: the
// fetch handler below keeps each once a run has needed it.
const EMULATOR = ['pkg/emu/initlink_emu_wasm.js', 'pkg/emu/initlink_emu_wasm_bg.wasm', 'pkg/emu/lib/index.json', 'stepper.js'];
// The demangler, fetched by the first link that meets a mangled name (C++, Rust).
const DEMANGLER = ['pkg/demangle/initlink_demangle.js', 'pkg/demangle/initlink_demangle_bg.wasm'];
const COMPILER = ['pkg/tcc/tcc.wasm', 'pkg/tcc/include.json', 'pkg/tcc/libc-include.json', 'pkg/tcc/libtcc1.a', ...SHIM.map((f) => `pkg/tcc/browser_wasi_shim/${f}`)];

self.addEventListener('install', (ev) => {
  ev.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    await cache.addAll(CORE).catch(() => {});
    // The examples' sources and objects (and their -fPIE builds), so the gallery works offline too.
    try {
      const index = await (await fetch('examples/index.json')).json();
      const urls = index.examples.flatMap((e) => [...e.sources.map((s) => s.url), ...e.inputs.flatMap((i) => (i.pieUrl ? [i.url, i.pieUrl] : [i.url]))]);
      await cache.addAll([...new Set(urls)]);
    } catch { /* the page still works online */ }
    await cache.addAll(COMPILER).catch(() => {});
    await cache.addAll(EMULATOR).catch(() => {});
    await cache.addAll(DEMANGLER).catch(() => {});
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (ev) => ev.waitUntil(self.clients.claim()));

self.addEventListener('fetch', (ev) => {
  const req = ev.request;
  if (req.method !== 'GET' || new URL(req.url).origin !== self.location.origin) return;
  ev.respondWith((async () => {
    const cache = await caches.open(CACHE);
    try {
      const resp = await fetch(req);
      if (resp.ok) cache.put(req, resp.clone()).catch(() => {});
      return resp;
    } catch (e) {
      // `pkg/initlink.js?instance=N`: a fresh module instance of the same file.
      const hit = await cache.match(req, { ignoreSearch: true });
      if (hit) return hit;
      throw e;
    }
  })());
});
