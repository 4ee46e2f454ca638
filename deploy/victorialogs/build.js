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
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { installGoBinary } from '../../collector/go-build.js';

export const VERSION = 'v1.52.2';
const MODULE = 'github.com/VictoriaMetrics/VictoriaLogs';
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
await installGoBinary({
  name: 'victorialogs',
  version: VERSION,
  target: `${MODULE}/app/victoria-logs`,
  binary: join(ROOT, '.cache', 'victorialogs', 'victoria-logs'),
  root: ROOT,
  label: `Building VictoriaLogs ${VERSION} (about a minute)`,
  noGo: (where) => `Go is not installed (no \`go\` ${where}); VictoriaLogs ${VERSION} is built from source and needs Go (https://go.dev/dl/).`,
});
