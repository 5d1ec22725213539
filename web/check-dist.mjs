// Fails when web/dist is not exactly what the sources build to: rebuilds into a temporary
// directory and compares every file byte for byte (and the file lists).
//
//   npm run check-dist       (after `npm ci`)

import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from './build.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist');

async function files(root) {
  const out = [];
  async function walk(dir) {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      if (error.code === 'ENOENT') return;
      throw error;
    }
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else out.push(relative(root, path));
    }
  }
  await walk(root);
  return out.sort();
}

const temp = await mkdtemp(join(tmpdir(), 'rill-dist-'));
try {
  await build(temp);
  const [want, have] = await Promise.all([files(temp), files(dist)]);
  const problems = [];
  for (const name of want) {
    if (!have.includes(name)) {
      problems.push(`missing from web/dist: ${name}`);
      continue;
    }
    const [a, b] = await Promise.all([readFile(join(temp, name)), readFile(join(dist, name))]);
    if (!a.equals(b)) problems.push(`differs from a fresh build: web/dist/${name}`);
  }
  for (const name of have) {
    if (!want.includes(name)) problems.push(`not produced by the build: web/dist/${name}`);
  }
  if (problems.length > 0) {
    console.error(problems.join('\n'));
    console.error('web/dist is stale: run `npm run build` in web/ and commit web/dist.');
    process.exitCode = 1;
  } else {
    console.log(`web/dist matches a fresh build (${want.length} files)`);
  }
} finally {
  await rm(temp, { recursive: true, force: true });
}
