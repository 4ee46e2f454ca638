// One `npm pack` per change of the package, shared by the package tests (package.test.ts installs
// it into a consumer app, package-install.test.ts measures what `npm install --omit=dev` brings).
// Packing runs prepack (a full tsc build) and npm's tarball writer: done once instead of twice.
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
 * packed files' contents (not their times: prepack's build rewrites dist/ with the same bytes), so a
 * changed package packs again and an unchanged one reuses the tarball across test files, each of
 * which runs in its own process.
 */
export function packedTarball(): string {
  const dir = join(ROOT, '.cache', 'pack', stamp());
  const found = existsSync(dir) ? readdirSync(dir).find((f) => f.endsWith('.tgz')) : undefined;
  if (found) return join(dir, found);
  rmSync(join(ROOT, '.cache', 'pack'), { recursive: true, force: true });
  const tmp = `${dir}.tmp`;
  mkdirSync(tmp, { recursive: true });
  const tgz = packInto(tmp);
  renameSync(tmp, dir);
  return join(dir, tgz.slice(tmp.length + 1));
}
