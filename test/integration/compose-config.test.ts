import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NODE24, ROOT } from '../helpers/app.js';

// docker-compose.yml through Compose's own loader (interpolation, schema, normalisation), with
// the Compose CLI built from source by deploy/compose-cli/build.js: no Docker needed for `config`.
const COMPOSE = join(ROOT, '.cache', 'compose', 'docker-compose');
let home: string;

function compose(args: string[], env: Record<string, string> = {}, cwd = ROOT) {
  // A clean environment: no variable of the developer's shell may satisfy the file by accident.
  return spawnSync(COMPOSE, args, { cwd, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: home, ...env }, timeout: 60_000 });
}

beforeAll(() => {
  const r = spawnSync(NODE24, [join(ROOT, 'deploy', 'compose-cli', 'build.js')], {
    cwd: ROOT,
    encoding: 'utf8',
    // Progress goes to the test's stderr so a cold build (minutes) is visibly alive.
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 40 * 60_000,
  });
  if (r.status !== 0 || !existsSync(COMPOSE)) throw new Error(`could not build the Compose CLI (exit ${r.status ?? r.signal}); see the output above`);
  home = mkdtempSync(join(tmpdir(), 'compose-home-'));
}, 40 * 60_000);
afterAll(() => {
  if (home) rmSync(home, { recursive: true, force: true });
});

describe('docker compose config', () => {
  it('accepts docker-compose.yml with no warning when GF_ADMIN_PASSWORD is set', () => {
    const r = compose(['-f', 'docker-compose.yml', 'config', '--quiet'], { GF_ADMIN_PASSWORD: 'a-test-password' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('refuses to load without GF_ADMIN_PASSWORD, and says which variable is missing', () => {
    const r = compose(['-f', 'docker-compose.yml', 'config', '--quiet']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/required variable GF_ADMIN_PASSWORD is missing/);
  });

  it('rejects a file that breaks the compose schema (the loader really validates)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'compose-broken-'));
    try {
      const broken = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8').replace(/^(\s+)ports:/m, '$1prots:');
      writeFileSync(join(dir, 'docker-compose.yml'), broken);
      const r = compose(['-f', 'docker-compose.yml', 'config', '--quiet'], { GF_ADMIN_PASSWORD: 'x' }, dir);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/prots/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('publishes every port on loopback only, as Compose normalises them', () => {
    const r = compose(['-f', 'docker-compose.yml', 'config', '--format', 'json'], { GF_ADMIN_PASSWORD: 'x' });
    expect(r.status).toBe(0);
    const model = JSON.parse(r.stdout) as { services: Record<string, { ports?: { host_ip?: string; published?: string }[] }> };
    const published = Object.entries(model.services).flatMap(([name, s]) => (s.ports ?? []).map((p) => ({ name, ...p })));
    expect(published.length).toBeGreaterThan(3);
    for (const p of published) expect(p.host_ip, `${p.name}:${p.published}`).toBe('127.0.0.1');
  });

  it('VictoriaLogs is an optional profile: absent by default (Loki stays), present with --profile victorialogs', () => {
    const services = (args: string[], env: Record<string, string> = {}) => {
      const r = compose(['-f', 'docker-compose.yml', ...args, 'config', '--format', 'json'], { GF_ADMIN_PASSWORD: 'x', ...env });
      expect(r.status, r.stderr).toBe(0);
      return (JSON.parse(r.stdout) as { services: Record<string, { ports?: { host_ip?: string }[]; environment?: Record<string, string | null> }> }).services;
    };
    const plain = services([]);
    expect(Object.keys(plain)).toContain('loki');
    expect(Object.keys(plain)).not.toContain('victorialogs');
    const withVl = services(['--profile', 'victorialogs'], { OTELCOL_LOGS_EXPORTERS: '[otlp_http/victorialogs]' });
    expect(withVl.victorialogs?.ports?.[0]?.host_ip).toBe('127.0.0.1');
    expect(withVl['otel-collector']?.environment).toMatchObject({ OTELCOL_LOGS_EXPORTERS: '[otlp_http/victorialogs]', VICTORIALOGS_ENDPOINT: 'http://victorialogs:9428' });
  });
});
