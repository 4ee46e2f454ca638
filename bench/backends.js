// The realistic app's backends, next to the load generator on CPU 1: a real PostgreSQL from
// Debian's packages (as test/helpers/databases.ts starts it for the tests) and a small JSON
// upstream for the app's outgoing fetch. Both are stopped by pid.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const PG_ROOT = '/usr/lib/postgresql';

function postgresBin() {
  if (!existsSync(PG_ROOT) && existsSync('/usr/bin/apt-get')) {
    // As bench/load.js does for wrk, and test/helpers/databases.ts for the tests; bounded.
    console.error('PostgreSQL not found; trying apt-get install -y postgresql');
    spawnSync('apt-get', ['install', '-y', '-o', 'DPkg::Lock::Timeout=120', 'postgresql'], { stdio: 'inherit', timeout: 300_000 });
  }
  const versions = existsSync(PG_ROOT) ? readdirSync(PG_ROOT).filter((v) => existsSync(join(PG_ROOT, v, 'bin', 'postgres'))) : [];
  versions.sort((a, b) => Number(b) - Number(a));
  if (!versions.length) throw new Error('PostgreSQL not installed (apt-get install postgresql)');
  return join(PG_ROOT, versions[0], 'bin');
}

/** PostgreSQL refuses to run as root; as root it runs as the `postgres` user Debian creates. */
function pgUser() {
  if (process.getuid?.() !== 0) return {};
  const id = (flag) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

/** A port free on 127.0.0.1 now (the kernel's pick); another process may still take it before use. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer().on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Runs `postgres` on `port` until it is ready; resolves to the process, or to undefined if the port was taken. */
async function runPostgres(bin, data, dir, user, port) {
  const args = ['-c', '1', join(bin, 'postgres'), '-D', data, '-p', String(port), '-h', '127.0.0.1', '-k', dir, '-c', 'fsync=off', '-c', 'logging_collector=off', '-c', 'max_connections=200'];
  const proc = spawn('taskset', args, { ...user, cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  proc.stdout.on('data', (d) => (output += d));
  proc.stderr.on('data', (d) => (output += d));
  const exited = new Promise((resolve) => proc.on('exit', resolve));
  const deadline = Date.now() + 60_000;
  while (!output.includes('ready to accept connections')) {
    if (proc.exitCode !== null && output.includes('Address already in use')) return undefined;
    if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`PostgreSQL did not start: ${output.slice(-500)}`);
    await sleep(50);
  }
  return { proc, exited };
}

/**
 * Starts PostgreSQL on `port`, pinned to CPU 1. Resolves to { url, stop }. A port taken between
 * its choice and postgres binding it (tests run beside each other, and initdb takes seconds) is
 * replaced by another free one, up to three times.
 */
export async function startPostgres(port) {
  const bin = postgresBin();
  const user = pgUser();
  const password = 'bench-pw';
  const dir = mkdtempSync(join(tmpdir(), 'otel-monitor-bench-pg-'));
  const data = join(dir, 'data');
  writeFileSync(join(dir, 'pw'), `${password}\n`);
  chmodSync(dir, 0o700);
  if (user.uid !== undefined) {
    chownSync(dir, user.uid, user.gid);
    chownSync(join(dir, 'pw'), user.uid, user.gid);
  }
  execFileSync(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--pwfile', join(dir, 'pw'), '--auth-host=scram-sha-256', '--auth-local=trust', '--no-sync', '-E', 'UTF8'], { ...user, stdio: 'pipe', cwd: dir });
  let running = await runPostgres(bin, data, dir, user, port);
  for (let attempt = 0; !running && attempt < 3; attempt++) running = await runPostgres(bin, data, dir, user, (port = await freePort()));
  if (!running) throw new Error(`PostgreSQL did not start: port after port was taken (last ${port})`);
  const { proc, exited } = running;
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    async stop() {
      if (proc.exitCode === null) process.kill(proc.pid, 'SIGINT'); // fast shutdown
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A JSON upstream in this process (CPU 1): GET /prices/:id answers a small object. */
export async function startUpstream() {
  const server = http.createServer((req, res) => {
    const id = Number(req.url.split('/').pop()) || 0;
    const body = JSON.stringify({ id, plan: id % 3 ? 'pro' : 'free', amount: (id % 50) + 0.99 });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  server.keepAliveTimeout = 30_000;
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((resolve) => {
      server.close(resolve);
      server.closeAllConnections();
    }),
  };
}

/** PostgreSQL (on `pgPort`) and the upstream for the realistic app: the env that points it at them, and stop(). */
export async function startRealisticBackends(pgPort) {
  const pgServer = await startPostgres(pgPort);
  const upstream = await startUpstream();
  return {
    env: { DATABASE_URL: pgServer.url, UPSTREAM_URL: upstream.url },
    stop: async () => {
      await upstream.close();
      await pgServer.stop();
    },
  };
}
