// VictoriaMetrics (a store with Prometheus' query API, filled by remote write) and vmauth (its
// authenticating proxy), built from source by deploy/victoriametrics/build.js and run on free
// 127.0.0.1 ports, each stopped by pid.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { connect } from 'node:net';
import { join } from 'node:path';
import { ROOT } from './app.js';
import { runBuildScript } from './collector-build.js';
import { freePort, spawnTracked, waitFor, type Tracked } from './process.js';

const OUT = join(ROOT, '.cache', 'victoriametrics');
export const VM_BIN = { victoriaMetrics: join(OUT, 'victoria-metrics'), vmauth: join(OUT, 'vmauth') };

/** Builds both binaries (a no-op when cached); throws when that fails. */
export function ensureVictoriaMetrics(): void {
  runBuildScript('deploy/victoriametrics/build.js', Object.values(VM_BIN), 'VictoriaMetrics and vmauth');
}

export interface RunningServer {
  proc: Tracked;
  url: string;
}

/** Whether 127.0.0.1:port accepts a TCP connection. */
const accepts = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect(port, '127.0.0.1', () => (s.destroy(), resolve(true)));
    s.on('error', () => resolve(false));
  });

async function ready(proc: Tracked, check: () => Promise<boolean>, what: string): Promise<void> {
  await Promise.race([
    waitFor(check, { timeoutMs: 60_000, what }),
    proc.exited.then((c) => {
      throw new Error(`${what} exited (${c}):\n${proc.output()}`);
    }),
  ]);
}

/**
 * A single-node VictoriaMetrics. It answers queries up to now (`-search.latencyOffset=0s`; its
 * default hides the last 30 s) without its rollup cache, so the same query gives what was written.
 */
export async function startVictoriaMetrics(): Promise<RunningServer & { writeUrl: string }> {
  ensureVictoriaMetrics();
  const dir = mkdtempSync(join(tmpdir(), 'otel-monitor-vm-'));
  const port = await freePort();
  const proc = spawnTracked(VM_BIN.victoriaMetrics, [
    `-storageDataPath=${join(dir, 'data')}`,
    `-httpListenAddr=127.0.0.1:${port}`,
    '-search.latencyOffset=0s',
    '-search.disableCache',
    '-loggerLevel=WARN',
  ]);
  const url = `http://127.0.0.1:${port}`;
  await ready(proc, async () => (await fetch(`${url}/health`)).ok, 'VictoriaMetrics');
  return { proc, url, writeUrl: `${url}/api/v1/write` };
}

/** A vmauth user: bearer_token, or username + password; url_prefix or url_map (vmauth's own config keys). */
export type VmauthUser = Record<string, unknown>;

/** vmauth letting in only `users` (each to its url_prefix, else to `target`); with `tls`, it serves https. */
export async function startVmauth(opts: { target: string; users: VmauthUser[]; tls?: { certFile: string; keyFile: string } }): Promise<RunningServer> {
  ensureVictoriaMetrics();
  const dir = mkdtempSync(join(tmpdir(), 'otel-monitor-vmauth-'));
  const config = join(dir, 'auth.yml');
  // JSON is YAML: one user entry per credential, all proxied to the same store.
  writeFileSync(config, JSON.stringify({ users: opts.users.map((u) => (u.url_map ? u : { url_prefix: opts.target, ...u })) }));
  const port = await freePort();
  const tlsArgs = opts.tls ? ['-tls', `-tlsCertFile=${opts.tls.certFile}`, `-tlsKeyFile=${opts.tls.keyFile}`] : [];
  const proc = spawnTracked(VM_BIN.vmauth, [`-auth.config=${config}`, `-httpListenAddr=127.0.0.1:${port}`, '-loggerLevel=WARN', ...tlsArgs]);
  const url = `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  await ready(proc, () => accepts(port), 'vmauth');
  return { proc, url };
}
