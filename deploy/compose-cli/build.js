#!/usr/bin/env node
// Builds the Docker Compose CLI (github.com/docker/compose/v2, a Go module) from the Go module
// proxy, so tests can validate docker-compose.yml with Compose's own loader
// (`docker-compose config --quiet`) on a machine without Docker. `npm run compose:build`.
//
//   - builds into .cache/compose/ (git-ignored); the binary is .cache/compose/docker-compose
//   - skips everything when the stamp names the pinned version below
//   - a cold build compiles ~600 packages (about 5 minutes of 2 busy cores, 15 on a loaded machine);
//     Go's build cache makes later builds on the same machine a link step
//
// Exit code 0 and the last stdout line `compose: <absolute binary path>` on success.
// Environment: GO (the go binary to use).
import { spawnSync } from 'node:child_process';
import { cpSync, chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { acquireBuildLock } from '../../collector/build-lock.js';
import { findGo, goRunner, goWhere } from '../../collector/go-build.js';

// Its go.mod asks for go >= 1.24.9; newer Compose releases need a newer Go than the one the
// Collector build pins.
const VERSION = 'v2.40.3';
const MODULE = 'github.com/docker/compose/v2';
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const OUT_DIR = join(ROOT, '.cache', 'compose');
const BIN = join(OUT_DIR, 'docker-compose');
const STAMP = join(OUT_DIR, '.version');
const LOCK = join(ROOT, '.cache', 'compose.lock');

const log = (msg) => process.stderr.write(`[compose:build] ${msg}\n`);
const fail = (msg) => {
  log(`ERROR: ${msg}`);
  process.exit(1);
};
const upToDate = () => existsSync(BIN) && existsSync(STAMP) && readFileSync(STAMP, 'utf8').trim() === VERSION;
const done = () => {
  console.log(`compose: ${BIN}`);
  process.exit(0);
};

if (upToDate()) {
  log(`up to date (${VERSION}), skipping build`);
  done();
}

const found = findGo();
if (!found) fail(`Go is not installed (no \`go\` ${goWhere()}); it builds the Compose CLI ${VERSION}.`);

await acquireBuildLock(LOCK, log);
if (upToDate()) done();

const env = { ...process.env, GOTOOLCHAIN: 'local', GOFLAGS: '-buildvcs=false', CGO_ENABLED: '0' };

const run = goRunner({ go: found, env, log });

try {
  // `go install pkg@version` refuses this module (its go.mod has exclude directives), so build it
  // as the main module: download its source, copy it somewhere writable, build ./cmd there.
  const info = JSON.parse(await run(['mod', 'download', '-json', `${MODULE}@${VERSION}`], ROOT, `Downloading ${MODULE}@${VERSION}`));
  const src = join(OUT_DIR, 'src');
  mkdirSync(OUT_DIR, { recursive: true });
  rmSync(src, { recursive: true, force: true });
  cpSync(info.Dir, src, { recursive: true });
  chmodSync(src, 0o755);
  spawnSync('chmod', ['-R', 'u+w', src]);
  await run(['build', '-trimpath', '-ldflags', '-s -w', '-o', BIN, './cmd'], src, `Building the Compose CLI ${VERSION}`);
  rmSync(src, { recursive: true, force: true });
  writeFileSync(STAMP, `${VERSION}\n`);
} catch (err) {
  fail(err.message);
}
done();
