#!/usr/bin/env node
// Builds our OpenTelemetry Collector from collector/builder-config.yaml with the
// OpenTelemetry Collector Builder (ocb). Run from anywhere: `npm run collector:build`.
//
//   - installs the builder pinned to the manifest's version (dist.version) into .cache/
//   - builds into .cache/otelcol/ (git-ignored); the binary is .cache/otelcol/otelcol-monitor
//   - skips everything when a SHA-256 of the manifest matches the stamp file
//   - prints progress while the cold build (several minutes) runs
//   - fails with a clear message when Go is missing or too old
//
// Exit code 0 and the last stdout line `collector: <absolute binary path>` on success.
// Environment: GO (the go binary to use), OTEL_MONITOR_COLLECTOR_FORCE_BUILD=1 (ignore the stamp).
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { acquireBuildLock } from './build-lock.js';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const MANIFEST = join(ROOT, 'collector', 'builder-config.yaml');
const OUT_DIR = join(ROOT, '.cache', 'otelcol');
const BIN = join(OUT_DIR, 'otelcol-monitor');
const STAMP = join(OUT_DIR, '.manifest.sha256');
const LOCK = join(ROOT, '.cache', 'otelcol.lock');
// The Collector's go.mod files declare `go 1.26.0`; with GOTOOLCHAIN=local an older Go fails
// deep inside `go mod tidy`, so say it up front.
const MIN_GO = [1, 26];

const log = (msg) => process.stderr.write(`[collector:build] ${msg}\n`);
const fail = (msg) => {
  log(`ERROR: ${msg}`);
  process.exit(1);
};

function findGo() {
  // $GO, when set, is the only candidate (so a wrong $GO fails loudly instead of being ignored).
  const candidates = process.env.GO ? [process.env.GO] : ['go', '/usr/local/go/bin/go'];
  for (const c of candidates) {
    const r = spawnSync(c, ['version'], { encoding: 'utf8' });
    if (r.status === 0) return { go: c, version: r.stdout.trim() };
  }
  return undefined;
}

const manifest = readFileSync(MANIFEST, 'utf8');
const version = /^\s+version:\s*([0-9.]+)\s*$/m.exec(manifest)?.[1];
if (!version) fail(`${MANIFEST} has no dist.version`);

const hash = createHash('sha256').update(manifest).digest('hex');
const force = process.env.OTEL_MONITOR_COLLECTOR_FORCE_BUILD === '1';
const upToDate = () => existsSync(BIN) && existsSync(STAMP) && readFileSync(STAMP, 'utf8').trim() === hash;

if (upToDate() && !force) {
  log('up to date (manifest unchanged), skipping build');
  console.log(`collector: ${BIN}`);
  process.exit(0);
}

const found = findGo();
if (!found) {
  fail(
    `Go is not installed (no \`go\` ${process.env.GO ? `at GO=${process.env.GO}` : 'on PATH or in /usr/local/go/bin'}). ` +
      `The Collector is built from source and needs Go >= ${MIN_GO.join('.')}: install it from https://go.dev/dl/ ` +
      "(Debian's golang-go is too old), or run the stack with Docker instead: `docker compose up`.",
  );
}
const m = /go(\d+)\.(\d+)/.exec(found.version);
if (!m || Number(m[1]) < MIN_GO[0] || (Number(m[1]) === MIN_GO[0] && Number(m[2]) < MIN_GO[1])) {
  fail(`${found.version} is too old; the Collector v${version} needs Go >= ${MIN_GO.join('.')} (https://go.dev/dl/).`);
}

await acquireBuildLock(LOCK, log);

if (upToDate() && !force) {
  log('built by the other build meanwhile');
  console.log(`collector: ${BIN}`);
  process.exit(0);
}

const env = { ...process.env, GOTOOLCHAIN: 'local', GOFLAGS: '-buildvcs=false', CGO_ENABLED: '0' };
const goDir = dirname(found.go);
if (found.go.includes('/')) env.PATH = `${goDir}:${env.PATH}`; // the builder itself runs `go`

function run(cmd, args, what) {
  const started = Date.now();
  log(`${what}...`);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let tail = '';
    const onData = (d) => {
      const s = d.toString();
      tail = (tail + s).slice(-8000);
      // The builder logs a line per step (go mod tidy, compiling); echo them as progress.
      for (const line of s.split('\n')) if (line.trim()) log(`  ${line.trim().slice(0, 200)}`);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const timer = setInterval(() => log(`  ...still ${what.toLowerCase()} (${Math.round((Date.now() - started) / 1000)} s)`), 20_000);
    child.on('error', (err) => (clearInterval(timer), reject(err)));
    child.on('exit', (code) => {
      clearInterval(timer);
      if (code === 0) {
        log(`${what}: done in ${Math.round((Date.now() - started) / 1000)} s`);
        resolve();
      } else reject(new Error(`${what} failed (exit ${code}):\n${tail}`));
    });
  });
}

const builderDir = join(ROOT, '.cache', 'otelcol-builder', `v${version}`);
const builder = join(builderDir, 'builder');
try {
  if (!existsSync(builder)) {
    // `go install` writes into GOBIN; ours, so a user's ~/go/bin is left alone.
    env.GOBIN = builderDir;
    await run(found.go, ['install', `go.opentelemetry.io/collector/cmd/builder@v${version}`], `Installing the Collector Builder v${version}`);
  }
  await run(
    builder,
    ['--config', MANIFEST, '--skip-strict-versioning=false'],
    `Building the Collector v${version} (a cold build takes several minutes)`,
  );
} catch (err) {
  fail(err.message);
}
if (!existsSync(BIN)) fail(`the builder finished but ${BIN} is missing`);
writeFileSync(STAMP, `${hash}\n`);
log(`built ${BIN}`);
console.log(`collector: ${BIN}`);
