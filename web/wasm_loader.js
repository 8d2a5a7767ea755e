// Loading a wasm-bindgen module (`--target web`) for the browser and Node: compiled once,
// instantiated again after a trap. A new URL is a new ES module instance, so each instance gets
// its own wasm instance and memory. Shared by the linker (initlink.js) and the emulator (run.js).

const isNode = typeof process !== 'undefined' && !!(process.versions && process.versions.node);

/**
 * A loader for `pkg`'s `jsFile` bindings over `wasmFile`. `bindings()` resolves to the bindings
 * module, instantiated (`onInit(b, exports)` sees each new one); `reset()` makes the next call
 * instantiate afresh (after a trap); `useModule(m)` gives an already compiled module, `module()`
 * resolves to the compiled one.
 */
export function wasmLoader(pkg, wasmFile, jsFile, onInit = () => {}) {
  let compiled = null; // Promise<WebAssembly.Module>
  let instance = null; // Promise<bindings module>
  let generation = 0;
  function wasmModule() {
    if (!compiled) {
      compiled = (async () => {
        const url = new URL(wasmFile, pkg);
        if (isNode) {
          const { readFile } = await import('node:fs/promises');
          return WebAssembly.compile(await readFile(url));
        }
        const resp = await fetch(url);
        if (!resp.ok) throw new Error(`cannot load ${url}: HTTP ${resp.status}`);
        return WebAssembly.compileStreaming
          ? WebAssembly.compileStreaming(resp).catch(async () => WebAssembly.compile(await (await fetch(url)).arrayBuffer()))
          : WebAssembly.compile(await resp.arrayBuffer());
      })();
      compiled.catch(() => { compiled = null; });
    }
    return compiled;
  }
  return {
    bindings() {
      if (!instance) {
        instance = (async () => {
          const module = await wasmModule();
          const b = await import(new URL(`${jsFile}?instance=${generation++}`, pkg).href);
          onInit(b, b.initSync({ module }));
          return b;
        })();
        instance.catch(() => { instance = null; });
      }
      return instance;
    },
    /** The compiled module (a Promise). */
    module: wasmModule,
    reset() { instance = null; },
    useModule(module) {
      if (module instanceof WebAssembly.Module && !compiled) compiled = Promise.resolve(module);
    },
  };
}
