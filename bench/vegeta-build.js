#!/usr/bin/env node
// Builds vegeta (github.com/tsenart/vegeta, MIT), the open-loop load generator of the bench's
// latency at a fixed rate: it sends one request every 1/rate seconds, evenly, whatever the
// server's answers do. autocannon's `-R` does not: each connection sends its per-second quota back
// to back when its one-second timer fires, so "200 req/s" arrives as a burst at the top of every
// second and p99 measures how fast the server drains that burst (docs/BENCHMARKS.md, Method).
// As the other Go builds (collector/go-build.js): `go install` of the pinned version into
// .cache/vegeta/, skipped when the stamp says it is built. `npm run vegeta:build`; bench/run.js
// and bench/ab-env.js run it when they need it. Last stdout line: `vegeta: <absolute binary path>`.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { goRunner, startStampedBuild } from '../collector/go-build.js';

export const VERSION = 'v12.13.0';
const MODULE = 'github.com/tsenart/vegeta/v12';
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT_DIR = join(ROOT, '.cache', 'vegeta');
const BIN = join(OUT_DIR, 'vegeta');
const { go, log, fail, done, markBuilt } = await startStampedBuild({
  name: 'vegeta',
  version: VERSION,
  outputs: [BIN],
  stamp: join(OUT_DIR, '.version'),
  lock: join(ROOT, '.cache', 'vegeta.lock'),
  result: BIN,
  noGo: (where) => `Go is not installed (no \`go\` ${where}); vegeta ${VERSION} is built from source and needs Go (https://go.dev/dl/).`,
});

mkdirSync(OUT_DIR, { recursive: true });
const env = { ...process.env, GOBIN: OUT_DIR, GOFLAGS: '-buildvcs=false', CGO_ENABLED: '0' };
const run = goRunner({ go, env, log, nice: true });
try {
  await run(['install', '-ldflags=-s -w', `${MODULE}@${VERSION}`], OUT_DIR, `Building vegeta ${VERSION} (under a minute)`);
  if (!existsSync(BIN)) throw new Error(`go install finished but ${BIN} is missing`);
  markBuilt();
} catch (err) {
  fail(err.message);
}
done();
