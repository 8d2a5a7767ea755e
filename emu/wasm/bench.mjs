// Times the emulator's benchmark loop in wasm under Node, and runs one ELF file if given:
//   node emu/wasm/bench.mjs PKG_DIR [ELF]
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";

const require = createRequire(import.meta.url);
const pkg = require(resolve(process.argv[2], "initlink_emu_wasm.js"));
pkg.bench(5); // warm up
const t = performance.now();
const n = pkg.bench(100);
const s = (performance.now() - t) / 1000;
console.log(`${n} instructions in ${s.toFixed(3)} s: ${(n / s / 1e6).toFixed(1)} M instructions/s (wasm, Node ${process.version})`);
if (process.argv[3]) {
  const elf = readFileSync(process.argv[3]);
  const t2 = performance.now();
  const r = JSON.parse(pkg.run(elf, JSON.stringify({ args: ["prog"] }), new Uint8Array(0)));
  const ms = performance.now() - t2;
  process.stdout.write(r.stdout);
  console.log(`exit ${r.exitCode}, ${r.instructions} instructions in ${ms.toFixed(1)} ms`, r.diagnostics);
}
