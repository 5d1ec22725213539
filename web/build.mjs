// Builds web/src into web/dist (or into the directory given as the first argument).
//
//   node build.mjs            -> web/dist, the files rill embeds
//   node build.mjs /tmp/out   -> the same files elsewhere (check-dist.mjs uses this)
//
// The output depends only on the sources and the pinned esbuild version, so a rebuild
// is byte-for-byte the same as the committed web/dist.

import { copyFile, mkdir, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));

export async function build(outdir) {
  const out = resolve(outdir);
  await rm(out, { recursive: true, force: true });
  await mkdir(join(out, 'assets'), { recursive: true });
  const common = {
    absWorkingDir: here,
    bundle: true,
    write: true,
    logLevel: 'warning',
    target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
    charset: 'utf8',
    legalComments: 'eof',
  };
  // The embeddable client: one readable ES module, no dependencies.
  await esbuild.build({
    ...common,
    entryPoints: ['src/client/index.js'],
    outfile: join(out, 'rill-client.js'),
    format: 'esm',
    platform: 'neutral',
    minify: false,
    banner: {
      js: '// rill-client.js: streams chat completions from rill or any OpenAI-compatible server.\n// Built from web/src/client by web/build.mjs; edit the sources, not this file.',
    },
  });
  // The chat page.
  await esbuild.build({
    ...common,
    entryPoints: [
      { in: 'src/app/main.js', out: 'assets/app' },
      { in: 'src/app/styles/app.css', out: 'assets/app' },
    ],
    outdir: out,
    format: 'esm',
    platform: 'browser',
    minify: true,
  });
  await copyFile(join(here, 'src/index.html'), join(out, 'index.html'));
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outdir = process.argv[2] ?? join(here, 'dist');
  await build(outdir);
  console.log(`built ${outdir}`);
}
