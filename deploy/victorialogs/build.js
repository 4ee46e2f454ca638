#!/usr/bin/env node
// Builds VictoriaLogs (an Apache-2.0 log database that takes OTLP logs and answers LogsQL) from its
// Go module, for the pipeline tests and the soak: `npm run victorialogs:build`. As collector/build.js:
//   - `go install` of the pinned module version into .cache/victorialogs/ (git-ignored; no source
//     is kept in the repository, the Go module cache holds it);
//   - skips everything when the stamp says this version is already built;
//   - prints progress while the build (about a minute, more on a loaded machine) runs, under nice.
// Exit code 0 and the last stdout line `victorialogs: <absolute binary path>` on success.
// Environment: GO (the go binary to use), OTEL_MONITOR_VICTORIALOGS_FORCE_BUILD=1 (ignore the stamp).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { acquireBuildLock } from '../../collector/build-lock.js';

export const VERSION = 'v1.52.2';
const MODULE = 'github.com/VictoriaMetrics/VictoriaLogs';
const ROOT = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
const OUT_DIR = join(ROOT, '.cache', 'victorialogs');
const BIN = join(OUT_DIR, 'victoria-logs');
const STAMP = join(OUT_DIR, '.version');
const LOCK = join(ROOT, '.cache', 'victorialogs.lock');

const log = (msg) => process.stderr.write(`[victorialogs:build] ${msg}\n`);
const fail = (msg) => {
  log(`ERROR: ${msg}`);
  process.exit(1);
};
const upToDate = () => existsSync(BIN) && existsSync(STAMP) && readFileSync(STAMP, 'utf8').trim() === VERSION;
const force = process.env.OTEL_MONITOR_VICTORIALOGS_FORCE_BUILD === '1';
const done = (how) => {
  log(how);
  console.log(`victorialogs: ${BIN}`);
  process.exit(0);
};

if (upToDate() && !force) done(`up to date (${VERSION}), skipping build`);

const go = process.env.GO ?? 'go';
const v = spawnSync(go, ['version'], { encoding: 'utf8' });
if (v.status !== 0) fail(`Go is not installed (no \`${go}\`); VictoriaLogs is built from source and needs Go (https://go.dev/dl/).`);

await acquireBuildLock(LOCK, log);
if (upToDate() && !force) done('built by the other build meanwhile');

mkdirSync(OUT_DIR, { recursive: true });
const env = { ...process.env, GOBIN: OUT_DIR, GOFLAGS: '-buildvcs=false', CGO_ENABLED: '0' };
const started = Date.now();
log(`Building VictoriaLogs ${VERSION} (${MODULE}/app/victoria-logs, about a minute)...`);
const code = await new Promise((resolve) => {
  // nice: the build shares the machine with tests and other builds.
  const child = spawn('nice', ['-n', '10', go, 'install', '-ldflags=-s -w', `${MODULE}/app/victoria-logs@${VERSION}`], { cwd: OUT_DIR, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let tail = '';
  const onData = (d) => {
    tail = (tail + d.toString()).slice(-8000);
    for (const line of d.toString().split('\n')) if (line.trim()) log(`  ${line.trim().slice(0, 200)}`);
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const timer = setInterval(() => log(`  ...still building (${Math.round((Date.now() - started) / 1000)} s)`), 20_000);
  child.on('error', (err) => (clearInterval(timer), log(err.message), resolve(1)));
  child.on('exit', (c) => {
    clearInterval(timer);
    if (c !== 0) log(`go install failed (exit ${c}):\n${tail}`);
    resolve(c);
  });
});
if (code !== 0) fail('the build failed; see the output above');
if (!existsSync(BIN)) fail(`go install finished but ${BIN} is missing`);
writeFileSync(STAMP, `${VERSION}\n`);
done(`built ${BIN} in ${Math.round((Date.now() - started) / 1000)} s`);
