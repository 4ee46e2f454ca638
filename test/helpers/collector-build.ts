import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, NODE24 } from './app.js';

/** Where `npm run collector:build` puts our Collector. */
export const COLLECTOR_BIN = join(ROOT, '.cache', 'otelcol', 'otelcol-monitor');

/**
 * Runs one of the repo's cached build scripts (a no-op when its stamp matches) and throws with a
 * pointer to its output unless every one of `bins` exists afterwards: the tests need the real
 * binaries and never skip without them.
 */
export function runBuildScript(script: string, bins: readonly string[], what: string): void {
  const r = spawnSync(NODE24, [join(ROOT, script)], {
    cwd: ROOT,
    encoding: 'utf8',
    // Progress goes to the test's stderr so a cold build (minutes) is visibly alive.
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 40 * 60_000,
  });
  if (r.status !== 0 || !bins.every((b) => existsSync(b))) {
    throw new Error(`could not build ${what} (node ${script} exited ${r.status ?? r.signal}); see the output above`);
  }
}

/** Builds the Collector with collector/build.js and returns the binary's path. */
export function ensureCollector(): string {
  runBuildScript('collector/build.js', [COLLECTOR_BIN], 'the Collector');
  return COLLECTOR_BIN;
}
