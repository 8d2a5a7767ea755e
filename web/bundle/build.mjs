// Bundle the page's npm dependencies into pkg/ (run by `./dev build-web`): pkg/editor.js
// (CodeMirror 6, from web/bundle/editor.js) and pkg/share.js (fflate, from web/bundle/share.js).
// esbuild and the packages are tests/web's devDependencies, pinned exactly there.
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const modules = join(root, 'tests', 'web', 'node_modules');
const esbuild = createRequire(join(modules, 'x.js'))('esbuild');

for (const name of ['editor', 'share']) {
  await esbuild.build({
    entryPoints: [join(here, `${name}.js`)],
    outfile: join(root, 'pkg', `${name}.js`),
    bundle: true,
    format: 'esm',
    minify: true,
    target: 'es2020',
    nodePaths: [modules],
    legalComments: 'eof',
    logLevel: 'warning',
  });
}
