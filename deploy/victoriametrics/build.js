#!/usr/bin/env node
// Builds VictoriaMetrics (single-node store) and vmauth (its authenticating proxy) from the Go
// module github.com/VictoriaMetrics/VictoriaMetrics, so tests can run the CLI against a
// Prometheus-compatible store behind authentication. `npm run victoriametrics:build`.
//
//   - builds into .cache/victoriametrics/ (git-ignored): victoria-metrics and vmauth
//   - skips everything when the stamp names the pinned version below
//   - builds inside a throwaway module (`go mod init` + `go get` of the two packages), so nothing
//     of VictoriaMetrics' source is vendored or committed
//   - a cold build compiles ~400 packages (a few minutes of 2 busy cores); Go's build cache
//     makes later builds on the same machine a link step
//
// Exit code 0 and the last stdout line `victoriametrics: <absolute directory>` on success.
// Environment: GO (the go binary to use).
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { acquireBuildLock } from '../../collector/build-lock.js';
import { findGo, goRunner, goWhere } from '../../collector/go-build.js';

// Its go.mod asks for go 1.26; newer releases need a newer Go than this machine's.
const VERSION = 'v1.151.0';
const MODULE = 'github.com/VictoriaMetrics/VictoriaMetrics';
const APPS = ['victoria-metrics', 'vmauth'];
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const OUT_DIR = join(ROOT, '.cache', 'victoriametrics');
const STAMP = join(OUT_DIR, '.version');
const LOCK = join(ROOT, '.cache', 'victoriametrics.lock');

const log = (msg) => process.stderr.write(`[victoriametrics:build] ${msg}\n`);
const fail = (msg) => {
  log(`ERROR: ${msg}`);
  process.exit(1);
};
const upToDate = () =>
  APPS.every((app) => existsSync(join(OUT_DIR, app))) && existsSync(STAMP) && readFileSync(STAMP, 'utf8').trim() === VERSION;
const done = () => {
  console.log(`victoriametrics: ${OUT_DIR}`);
  process.exit(0);
};

if (upToDate()) {
  log(`up to date (${VERSION}), skipping build`);
  done();
}

const found = findGo();
if (!found) {
  fail(`Go is not installed (no \`go\` ${goWhere()}); VictoriaMetrics ${VERSION} and vmauth are built from source and need Go >= 1.26 (https://go.dev/dl/).`);
}

await acquireBuildLock(LOCK, log);
if (upToDate()) done();

const env = { ...process.env, GOTOOLCHAIN: 'local', GOFLAGS: '-buildvcs=false -mod=mod', CGO_ENABLED: '0' };

// The Go build runs niced: tests and other builds share the machine's cores.
const run = goRunner({ go: found, env, log, nice: true });

try {
  const mod = join(OUT_DIR, 'mod');
  rmSync(mod, { recursive: true, force: true });
  mkdirSync(mod, { recursive: true });
  await run(['mod', 'init', 'otel-monitor.local/victoriametrics-build'], mod, 'Creating the build module');
  const pkgs = APPS.map((app) => `${MODULE}/app/${app}`);
  await run(['get', ...pkgs.map((p) => `${p}@${VERSION}`)], mod, `Downloading ${MODULE}@${VERSION}`);
  const ldflags = `-s -w -X ${MODULE}/lib/buildinfo.Version=${APPS[0]}-${VERSION}`;
  log('a cold build takes a few minutes; a warm Go build cache makes it seconds');
  for (const [i, app] of APPS.entries()) {
    await run(['build', '-trimpath', '-ldflags', ldflags, '-o', join(OUT_DIR, app), pkgs[i]], mod, `Building ${app} ${VERSION}`);
  }
  rmSync(mod, { recursive: true, force: true });
  writeFileSync(STAMP, `${VERSION}\n`);
} catch (err) {
  fail(err.message);
}
done();
