import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, NODE24 } from './app.js';

/** Where `npm run collector:build` puts our Collector. */
export const COLLECTOR_BIN = join(ROOT, '.cache', 'otelcol', 'otelcol-monitor');

/**
 * Builds the Collector with collector/build.js (a no-op when the manifest is unchanged) and
 * returns the binary's path. Throws with the build's own output when it fails: the tests need
 * the real Collector and never skip without it.
 */
export function ensureCollector(): string {
  const r = spawnSync(NODE24, [join(ROOT, 'collector', 'build.js')], {
    cwd: ROOT,
    encoding: 'utf8',
    // Progress goes to the test's stderr so a cold build (minutes) is visibly alive.
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 40 * 60_000,
  });
  if (r.status !== 0 || !existsSync(COLLECTOR_BIN)) {
    throw new Error(`could not build the Collector (node collector/build.js exited ${r.status ?? r.signal}); see the output above`);
  }
  return COLLECTOR_BIN;
}
