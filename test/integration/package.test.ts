import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOtlpReceiver } from '../helpers/otlp-receiver.js';
import { startApp, NODE24 } from '../helpers/app.js';
import { stopAll, waitFor } from '../helpers/process.js';
import { packedTarball } from '../helpers/packed-tarball.js';

// The packed tarball, installed into an unrelated app the way a user would, must work on its own.
let appDir: string;

beforeAll(() => {
  appDir = mkdtempSync(join(tmpdir(), 'otel-monitor-consumer-'));
  const tgz = packedTarball();
  writeFileSync(join(appDir, 'package.json'), JSON.stringify({ name: 'consumer-app', version: '3.2.1', private: true }));
  writeFileSync(
    join(appDir, 'server.cjs'),
    `const http = require('node:http');
     const { monitorTask } = require('@org/otel-monitor/api');
     const s = http.createServer(async (_q, r) => { await monitorTask('inline_job', async () => 1); r.end('ok'); });
     s.listen(0, '127.0.0.1', () => process.send && process.send({ port: s.address().port }));`,
  );
  execFileSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', tgz], {
    cwd: appDir,
    stdio: 'pipe',
  });
}, 600_000);
afterAll(async () => {
  await stopAll();
  rmSync(appDir, { recursive: true, force: true });
});

describe('npm pack', () => {
  it('ships compiled JS, type declarations and the bin, with the right engines', () => {
    const pkg = JSON.parse(readFileSync(join(appDir, 'node_modules/@org/otel-monitor/package.json'), 'utf8'));
    expect(pkg.engines.node).toBe('>=22.15');
    expect(Object.keys(pkg.exports)).toEqual(expect.arrayContaining(['.', './register', './api']));
    for (const f of ['dist/index.js', 'dist/index.d.ts', 'dist/register.cjs', 'dist/api/index.js', 'dist/api/index.d.ts', 'dist/cli/main.js']) {
      expect(() => readFileSync(join(appDir, 'node_modules/@org/otel-monitor', f)), f).not.toThrow();
    }
    const help = execFileSync(NODE24, [join(appDir, 'node_modules/.bin/otel-monitor'), '--help']).toString();
    expect(help).toMatch(/monitor latest-run/);
  });

  it.each([
    ['--import', '@org/otel-monitor'],
    ['--require', '@org/otel-monitor/register'],
  ])('instruments an installed app with %s %s', async (flag, entry) => {
    const r = await startOtlpReceiver();
    try {
      const app = await startApp({ cwd: appDir, script: 'server.cjs', preload: [flag, entry], env: { OTEL_EXPORTER_OTLP_ENDPOINT: r.url } });
      await app.get('/');
      const span = await waitFor(() => r.spans().find((s) => s.kind === 2));
      // service.name and service.version fall back to the consuming app's package.json.
      expect(span.resource).toMatchObject({ 'service.name': 'consumer-app', 'service.version': '3.2.1' });
      await waitFor(() => r.spans().some((s) => s.name.includes('inline_job') && s.traceId === span.traceId));
    } finally {
      await r.close();
    }
  });
});
