import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NODE24, ROOT, startApp } from '../helpers/app.js';
import { startOtlpReceiver } from '../helpers/otlp-receiver.js';
import { stopAll, waitFor } from '../helpers/process.js';
import { packedTarball } from '../helpers/packed-tarball.js';
// Shared with the bench, so this test and docs/BENCHMARKS.md measure alike.
import { installIntoEmptyApp, lsVersions, measureTree, TARGET, type InstallTree } from '../../bench/install-size.js';

// What every user installs: the packed tarball, `npm install --omit=dev` into an empty app.
// Targets from issue #10; docs/BENCHMARKS.md has the measured figures next to upstream's.
const MAX_BYTES = TARGET.bytes;
const MAX_FILES = TARGET.files;

let appDir: string;
const measure = (): InstallTree => measureTree(join(appDir, 'node_modules'));

beforeAll(() => {
  appDir = installIntoEmptyApp([packedTarball()]);
}, 600_000);
afterAll(async () => {
  await stopAll();
  if (appDir) rmSync(appDir, { recursive: true, force: true });
});

describe('npm install --omit=dev of the packed tarball', () => {
  it('installs one copy and one version of each @opentelemetry package', () => {
    const tree = measure();
    const otel = [...tree.packages].filter(([name]) => name.startsWith('@opentelemetry/'));
    expect(otel.length).toBeGreaterThan(30);
    expect(otel.filter(([, dirs]) => dirs.length > 1)).toEqual([]);
    const versions = [...lsVersions(appDir)].filter(([name]) => name.startsWith('@opentelemetry/'));
    expect(versions.length).toBe(otel.length);
    expect(versions.filter(([, v]) => v.size > 1).map(([name, v]) => `${name}@${[...v].join(',')}`)).toEqual([]);
  });

  it('brings no gRPC, no NodeSDK, and none of the optional peers', () => {
    const names = [...measure().packages.keys()];
    expect(names.filter((n) => n.startsWith('@grpc/') || /otlp-grpc|grpc-exporter/.test(n))).toEqual([]);
    for (const absent of ['@opentelemetry/sdk-node', '@sentry/node', '@fastify/otel', '@opentelemetry/resource-detector-gcp']) {
      expect(names).not.toContain(absent);
    }
    expect(names).toContain('@org/otel-monitor');
  });

  it(`stays within ${MAX_BYTES / 1e6} MB and ${MAX_FILES} files`, () => {
    const { files, bytes, diskBytes } = measure();
    console.log(`install size: ${(bytes / 1e6).toFixed(1)} MB of files, ${(diskBytes / 1e6).toFixed(1)} MB on disk, ${files} files`);
    expect(files).toBeLessThanOrEqual(MAX_FILES);
    expect(bytes).toBeLessThanOrEqual(MAX_BYTES);
    expect(diskBytes).toBeLessThanOrEqual(MAX_BYTES);
  });

  it('starts an app with SENTRY_DSN set while @sentry/node is not installed, and the app runs', () => {
    writeFileSync(join(appDir, 'job.mjs'), "console.log('job done');\n");
    const run = spawnSync(NODE24, ['--import', '@org/otel-monitor', 'job.mjs'], {
      cwd: appDir,
      env: { PATH: process.env.PATH, SENTRY_DSN: 'https://publickey123@127.0.0.1:9/42', OTEL_TRACES_EXPORTER: 'none', OTEL_METRICS_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'none' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('job done');
    // The DSN's key is never printed, whatever the distribution says about Sentry being off.
    expect(run.stderr).not.toContain('publickey123');
  });

  // Last: it adds Fastify to the app. Without @fastify/otel, Fastify's own channel gives http.route.
  it('traces a Fastify app with http.route while the optional @fastify/otel is not installed', async () => {
    execFileSync('npm', ['install', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', 'fastify@5.12.8'], { cwd: appDir, stdio: 'pipe' });
    expect(measure().packages.has('@fastify/otel')).toBe(false);
    copyFileSync(join(ROOT, 'test/fixtures/fastify-app.mjs'), join(appDir, 'fastify-app.mjs'));
    const r = await startOtlpReceiver();
    try {
      const app = await startApp({ cwd: appDir, script: 'fastify-app.mjs', env: { OTEL_EXPORTER_OTLP_ENDPOINT: r.url } });
      expect((await app.get('/items/7')).status).toBe(200);
      const span = await waitFor(() => r.spans().find((s) => s.kind === 2 && s.attributes['url.path'] === '/items/7'));
      expect(span.attributes['http.route']).toBe('/items/:id');
      expect(span.name).toBe('GET /items/:id');
    } finally {
      await r.close();
    }
  });
});
