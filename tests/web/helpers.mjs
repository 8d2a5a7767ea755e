// Shared by the Node and browser tests: paths, gcc, the native CLI, the page's server, chromium.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const ARTIFACTS = join(ROOT, 'target', 'web-artifacts');
mkdirSync(ARTIFACTS, { recursive: true });

/** The native CLI (built by `cargo build --release`, or INITLINK_BIN). */
export function initlinkBin() {
  const bin = process.env.INITLINK_BIN ?? join(ROOT, 'target', 'release', 'initlink');
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run cargo build --release -p initlink (./dev test does)`);
  return bin;
}

export function tempDir(prefix) {
  const d = mkdtempSync(join(tmpdir(), `initlink-${prefix}-`));
  return { dir: d, cleanup: () => rmSync(d, { recursive: true, force: true }) };
}

export const FREESTANDING = ['-O1', '-ffreestanding', '-fno-pie', '-fno-stack-protector', '-fno-asynchronous-unwind-tables'];

/** gcc -c each source into dir; returns the object paths in order. */
export function compile(dir, sources, flags = FREESTANDING, include = []) {
  return sources.map((src) => {
    const obj = join(dir, src.split('/').pop().replace(/\.[csS]+$/, '.o'));
    execFileSync('gcc', ['-c', ...flags, ...include.flatMap((i) => ['-I', i]), src, '-o', obj], { stdio: 'pipe' });
    return obj;
  });
}

export const read = (p) => new Uint8Array(readFileSync(p));

/** Start web/serve.py on a free port. */
export async function serve() {
  const proc = spawn('python3', [join(ROOT, 'web', 'serve.py'), '--port', '0', '--quiet'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise((res, rej) => {
    let out = '';
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /http:\/\/127\.0\.0\.1:(\d+)\//.exec(out);
      if (m) res(m[0]);
    });
    proc.on('exit', (code) => rej(new Error(`serve.py exited with ${code}`)));
    setTimeout(() => rej(new Error('serve.py did not start')), 10000);
  });
  return { url, close: () => proc.kill() };
}

/** Debian's chromium, headless, with a fresh profile. Never downloads a browser. */
export async function browser() {
  const { chromium } = await import('playwright-core');
  const profile = tempDir('chromium');
  const context = await chromium.launchPersistentContext(profile.dir, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    acceptDownloads: true,
    viewport: { width: 1440, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  return { context, close: async () => { await context.close(); profile.cleanup(); } };
}
