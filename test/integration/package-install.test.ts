import { execFileSync, spawnSync } from 'node:child_process';
import { lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NODE24, ROOT } from '../helpers/app.js';

// What every user installs: the packed tarball, `npm install --omit=dev` into an empty app.
// Targets from issue #10 (docs/BENCHMARKS.md has the measured figures next to upstream's).
const MAX_BYTES = 100 * 1000 * 1000;
const MAX_FILES = 12_000;

let appDir: string;

interface Tree {
  files: number;
  /** Sum of file sizes (what `du -sb` reports). */
  bytes: number;
  /** Allocated blocks (what `du -s` reports; small files cost a whole block). */
  diskBytes: number;
  /** package name -> the directories it is installed in. */
  packages: Map<string, string[]>;
}

function walk(dir: string, tree: Tree): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const st = lstatSync(path);
    if (entry.isDirectory()) {
      walk(path, tree);
    } else {
      tree.files++;
      tree.bytes += st.size;
      tree.diskBytes += st.blocks * 512;
      if (entry.name === 'package.json' && /node_modules\/(@[^/]+\/)?[^/@]+$/.test(dir)) {
        const name = (JSON.parse(readFileSync(path, 'utf8')) as { name?: string }).name;
        if (name) tree.packages.set(name, [...(tree.packages.get(name) ?? []), dir.slice(appDir.length + 1)]);
      }
    }
  }
}

function measure(): Tree {
  const tree: Tree = { files: 0, bytes: 0, diskBytes: 0, packages: new Map() };
  walk(join(appDir, 'node_modules'), tree);
  return tree;
}

/** Every name@version `npm ls --all` prints, deduped entries included. */
function lsVersions(): Map<string, Set<string>> {
  const out = execFileSync('npm', ['ls', '--all', '--json'], { cwd: appDir, maxBuffer: 64 << 20 }).toString();
  const versions = new Map<string, Set<string>>();
  const visit = (deps: Record<string, { version?: string; dependencies?: object }> | undefined) => {
    for (const [name, node] of Object.entries(deps ?? {})) {
      if (node.version) versions.set(name, (versions.get(name) ?? new Set()).add(node.version));
      visit(node.dependencies as typeof deps);
    }
  };
  visit((JSON.parse(out) as { dependencies?: Record<string, { version?: string }> }).dependencies);
  return versions;
}

beforeAll(() => {
  appDir = mkdtempSync(join(tmpdir(), 'otel-monitor-install-'));
  const tgz = execFileSync('npm', ['pack', '--silent', '--pack-destination', appDir], { cwd: ROOT }).toString().trim().split('\n').pop()!;
  writeFileSync(join(appDir, 'package.json'), JSON.stringify({ name: 'empty-app', version: '1.0.0', private: true }));
  execFileSync('npm', ['install', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', join(appDir, tgz)], {
    cwd: appDir,
    stdio: 'pipe',
  });
  rmSync(join(appDir, tgz));
}, 600_000);
afterAll(() => {
  rmSync(appDir, { recursive: true, force: true });
});

describe('npm install --omit=dev of the packed tarball', () => {
  it('installs one copy and one version of each @opentelemetry package', () => {
    const tree = measure();
    const otel = [...tree.packages].filter(([name]) => name.startsWith('@opentelemetry/'));
    expect(otel.length).toBeGreaterThan(30);
    expect(otel.filter(([, dirs]) => dirs.length > 1)).toEqual([]);
    const versions = [...lsVersions()].filter(([name]) => name.startsWith('@opentelemetry/'));
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
});
