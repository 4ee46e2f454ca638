#!/usr/bin/env node
// Builds VictoriaLogs (an Apache-2.0 log database that takes OTLP logs and answers LogsQL) from its
// Go module, for the pipeline tests and the soak: `npm run victorialogs:build`. As the other Go
// builds (collector/go-build.js):
//   - `go install` of the pinned module version into .cache/victorialogs/ (git-ignored; no source
//     is kept in the repository, the Go module cache holds it);
//   - skips everything when the stamp says this version is already built;
//   - prints progress while the build (about a minute, more on a loaded machine) runs, under nice.
// Exit code 0 and the last stdout line `victorialogs: <absolute binary path>` on success.
// Environment: GO (the go binary to use).
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { goRunner, startStampedBuild } from '../../collector/go-build.js';

export const VERSION = 'v1.52.2';
const MODULE = 'github.com/VictoriaMetrics/VictoriaLogs';
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const OUT_DIR = join(ROOT, '.cache', 'victorialogs');
const BIN = join(OUT_DIR, 'victoria-logs');
const { go, log, fail, done, markBuilt } = await startStampedBuild({
  name: 'victorialogs',
  version: VERSION,
  outputs: [BIN],
  stamp: join(OUT_DIR, '.version'),
  lock: join(ROOT, '.cache', 'victorialogs.lock'),
  result: BIN,
  noGo: (where) => `Go is not installed (no \`go\` ${where}); VictoriaLogs ${VERSION} is built from source and needs Go (https://go.dev/dl/).`,
});

mkdirSync(OUT_DIR, { recursive: true });
const env = { ...process.env, GOBIN: OUT_DIR, GOFLAGS: '-buildvcs=false', CGO_ENABLED: '0' };
// nice: the build shares the machine with tests and other builds.
const run = goRunner({ go, env, log, nice: true });
try {
  await run(['install', '-ldflags=-s -w', `${MODULE}/app/victoria-logs@${VERSION}`], OUT_DIR, `Building VictoriaLogs ${VERSION} (about a minute)`);
  if (!existsSync(BIN)) throw new Error(`go install finished but ${BIN} is missing`);
  markBuilt();
} catch (err) {
  fail(err.message);
}
done();
