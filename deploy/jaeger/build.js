#!/usr/bin/env node
// Builds Jaeger v2 (github.com/jaegertracing/jaeger, cmd/jaeger: itself an OpenTelemetry
// Collector distribution with OTLP receivers, trace storage, a query API and the UI) from the Go
// module proxy, for the trace-store tests and the demo. `npm run jaeger:build`.
//
//   - builds in a throwaway Go module under .cache/jaeger/mod (`go mod init`, then
//     `go get -tool` of the pinned version), so no Jaeger source is ever part of this repository
//   - the binary is .cache/jaeger/jaeger (git-ignored)
//   - skips everything when the stamp names the pinned version below
//   - a cold build is about 4 minutes of CPU (longer on a loaded machine); Go's build cache
//     makes later builds on the same machine a link step
//   - fails with a clear message when Go is missing; finds and runs Go with collector/go-build.js
//
// Exit code 0 and the last stdout line `jaeger: <absolute binary path>` on success.
// Environment: GO (the go binary to use).
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { goRunner, startStampedBuild } from '../../collector/go-build.js';

const VERSION = 'v1.75.0';
const PKG = 'github.com/jaegertracing/jaeger/cmd/jaeger';
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const OUT_DIR = join(ROOT, '.cache', 'jaeger');
const MOD_DIR = join(OUT_DIR, 'mod');
const BIN = join(OUT_DIR, 'jaeger');

const { go, log, fail, done, markBuilt } = await startStampedBuild({
  name: 'jaeger',
  version: VERSION,
  outputs: [BIN],
  stamp: join(OUT_DIR, '.version'),
  lock: join(ROOT, '.cache', 'jaeger.lock'),
  result: BIN,
  noGo: (where) =>
    `Go is not installed (no \`go\` ${where}). Jaeger ${VERSION} is built from source and needs Go: ` +
    'install it from https://go.dev/dl/, or run the stack with Docker instead: `docker compose up`.',
});

const env = { ...process.env, GOTOOLCHAIN: 'local', GOFLAGS: '-buildvcs=false', CGO_ENABLED: '0' };
// The Go build runs niced: tests and other builds share the machine's cores.
const run = goRunner({ go, env, log, nice: true });

try {
  // A fresh module each time: its go.mod/go.sum record nothing but the pinned tool.
  rmSync(MOD_DIR, { recursive: true, force: true });
  mkdirSync(MOD_DIR, { recursive: true });
  await run(['mod', 'init', 'otel-monitor.local/jaeger-build'], MOD_DIR, 'Creating the build module');
  await run(['get', '-tool', `${PKG}@${VERSION}`], MOD_DIR, `Resolving ${PKG}@${VERSION}`);
  await run(['build', '-trimpath', '-ldflags', '-s -w', '-o', BIN, PKG], MOD_DIR, `Building Jaeger ${VERSION} (a cold build takes several minutes)`);
  rmSync(MOD_DIR, { recursive: true, force: true });
  markBuilt();
} catch (err) {
  fail(err.message);
}
done();
