#!/usr/bin/env node
// Builds vegeta (github.com/tsenart/vegeta, MIT), the open-loop load generator of the bench's
// latency at a fixed rate: it sends one request every 1/rate seconds, evenly, whatever the
// server's answers do. autocannon's `-R` does not: each connection sends its per-second quota back
// to back when its one-second timer fires, so "200 req/s" arrives as a burst at the top of every
// second and p99 measures how fast the server drains that burst (docs/BENCHMARKS.md, Method).
// As VictoriaLogs (collector/go-build.js installGoBinary): `go install` of the pinned version
// into .cache/vegeta/, skipped when the stamp says it is built. `npm run vegeta:build`; bench/run.js
// runs it when it needs it. Last stdout line: `vegeta: <absolute binary path>`.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { installGoBinary } from '../collector/go-build.js';

export const VERSION = 'v12.13.0';
const ROOT = fileURLToPath(new URL('..', import.meta.url));
await installGoBinary({
  name: 'vegeta',
  version: VERSION,
  target: 'github.com/tsenart/vegeta/v12',
  binary: join(ROOT, '.cache', 'vegeta', 'vegeta'),
  root: ROOT,
  label: `Building vegeta ${VERSION} (under a minute)`,
  noGo: (where) => `Go is not installed (no \`go\` ${where}); vegeta ${VERSION} is built from source and needs Go (https://go.dev/dl/).`,
});
