// Our own version, read once from our package.json: telemetry.distro.version on the resource, the
// API logger's, and `otel-monitor --version`. Walks up from this module (src/ under the tests,
// dist/ when installed, or a test build elsewhere) to the package.json that names us.
import { readFileSync } from 'node:fs';

export function ownVersion(): string | undefined {
  for (let dir = new URL('.', import.meta.url); ; dir = new URL('..', dir)) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('package.json', dir), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === '@org/otel-monitor' && pkg.version) return pkg.version;
    } catch {
      /* not here; keep walking */
    }
    if (dir.pathname === '/') return undefined;
  }
}
