// One `npm pack` per change of the package, shared by the package tests (package.test.ts installs
// it into a consumer app, package-install.test.ts measures what `npm install --omit=dev` brings).
// It packs dist/ as built (`npm test` builds first) without prepack's rebuild: that rebuild deletes
// dist/, which the integration files running in parallel beside it load the preload from.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { packInto } from '../../bench/install-size.js';
import { ROOT } from './app.js';

/** What `files` in package.json ships, plus package.json itself: what the tarball is made of. */
const PACKED = ['dist', 'docs', 'collector', 'README.md', 'package.json'];

function stamp(): string {
  const hash = createHash('sha256');
  const walk = (path: string): void => {
    if (!existsSync(path)) return;
    if (statSync(path).isDirectory()) for (const name of readdirSync(path).sort()) walk(join(path, name));
    else hash.update(path).update(readFileSync(path));
  };
  for (const p of PACKED) walk(join(ROOT, p));
  return hash.digest('hex').slice(0, 16);
}

/**
 * The path of this repository's packed tarball under .cache/pack/<stamp>/. The stamp hashes the
 * packed files' contents (not their times: a build rewrites dist/ with the same bytes), so a
 * changed package packs again and an unchanged one reuses the tarball across test files, each of
 * which runs in its own process, possibly at the same time: each packs into its own temp dir and
 * the first rename wins.
 */
export function packedTarball(): string {
  if (!existsSync(join(ROOT, 'dist', 'index.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
  const root = join(ROOT, '.cache', 'pack');
  const current = stamp();
  const dir = join(root, current);
  const found = () => (existsSync(dir) ? readdirSync(dir).find((f) => f.endsWith('.tgz')) : undefined);
  if (found()) return join(dir, found()!);
  // Older stamps only: a file packing the same stamp beside this one keeps its temp dir.
  for (const old of existsSync(root) ? readdirSync(root) : []) if (!old.startsWith(current)) rmSync(join(root, old), { recursive: true, force: true });
  const tmp = `${dir}.tmp-${process.pid}`;
  mkdirSync(tmp, { recursive: true });
  const tgz = packInto(tmp, { build: false });
  try {
    renameSync(tmp, dir);
  } catch {
    rmSync(tmp, { recursive: true, force: true }); // another file renamed its identical pack first
  }
  return join(dir, tgz.slice(tmp.length + 1));
}
