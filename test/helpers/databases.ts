// A real PostgreSQL and a real Redis for the health-check tests, from Debian's packages, run
// natively on free 127.0.0.1 ports in temp dirs and stopped by pid, like the Collector.
// Fresh machines get `postgresql` / `redis-server` by apt. PostgreSQL refuses to run as root, so
// as root its processes run as the `postgres` user the Debian package creates.
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, spawnTracked, waitFor, type Tracked } from './process.js';
import { aptInstall } from './stack.js';

const PG_ROOT = '/usr/lib/postgresql';
const REDIS_SERVER = '/usr/bin/redis-server';

function postgresBin(): string | undefined {
  if (!existsSync(PG_ROOT)) return undefined;
  const versions = readdirSync(PG_ROOT)
    .filter((v) => existsSync(join(PG_ROOT, v, 'bin', 'postgres')))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length ? join(PG_ROOT, versions[0]!, 'bin') : undefined;
}

export function ensureDatabasePackages(): void {
  const missing: string[] = [];
  if (!postgresBin()) missing.push('postgresql');
  if (!existsSync(REDIS_SERVER)) missing.push('redis-server');
  aptInstall(missing);
}

/** uid/gid to run PostgreSQL as: ourselves, or `postgres` when we are root. */
function pgUser(): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {};
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

export interface RunningPostgres {
  proc: Tracked;
  /** postgres://postgres:PASSWORD@127.0.0.1:PORT/postgres */
  url: string;
  password: string;
  stop(): Promise<number | string>;
}

export async function startPostgres(password = 'pg-S3cret-pw'): Promise<RunningPostgres> {
  ensureDatabasePackages();
  const bin = postgresBin()!;
  const user = pgUser();
  const dir = mkdtempSync(join(tmpdir(), 'otel-monitor-pg-'));
  const data = join(dir, 'data');
  const pwfile = join(dir, 'pw');
  writeFileSync(pwfile, `${password}\n`);
  chmodSync(dir, 0o700);
  if (user.uid !== undefined) {
    chownSync(dir, user.uid, user.gid!);
    chownSync(pwfile, user.uid, user.gid!);
  }
  execFileSync(
    join(bin, 'initdb'),
    ['-D', data, '-U', 'postgres', '--pwfile', pwfile, '--auth-host=scram-sha-256', '--auth-local=trust', '--no-sync', '-E', 'UTF8'],
    { ...user, stdio: 'pipe', cwd: dir },
  );
  const port = await freePort();
  const proc = spawnTracked(
    join(bin, 'postgres'),
    ['-D', data, '-p', String(port), '-h', '127.0.0.1', '-k', dir, '-c', 'fsync=off', '-c', 'logging_collector=off'],
    { ...user, cwd: dir },
  );
  await Promise.race([
    waitFor(() => proc.output().includes('ready to accept connections'), { timeoutMs: 60_000, what: 'PostgreSQL start' }),
    proc.exited.then((code) => {
      throw new Error(`PostgreSQL exited (${code}) during start:\n${proc.output()}`);
    }),
  ]);
  return { proc, url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`, password, stop: () => proc.stop('SIGINT') };
}

export interface RunningRedis {
  proc: Tracked;
  /** redis://:PASSWORD@127.0.0.1:PORT */
  url: string;
  password: string;
  port: number;
  stop(): Promise<number | string>;
  /** Starts it again on the same port. */
  start(): Promise<void>;
}

export async function startRedis(password = 'redis-S3cret-pw'): Promise<RunningRedis> {
  ensureDatabasePackages();
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'otel-monitor-redis-'));
  const launch = async () => {
    const proc = spawnTracked(
      REDIS_SERVER,
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--requirepass', password, '--dir', dir],
      { cwd: dir },
    );
    await Promise.race([
      waitFor(() => proc.output().includes('Ready to accept connections'), { timeoutMs: 30_000, what: 'Redis start' }),
      proc.exited.then((code) => {
        throw new Error(`redis-server exited (${code}) during start:\n${proc.output()}`);
      }),
    ]);
    return proc;
  };
  const running: RunningRedis = {
    proc: await launch(),
    url: `redis://:${password}@127.0.0.1:${port}`,
    password,
    port,
    stop: () => running.proc.stop(),
    async start() {
      running.proc = await launch();
    },
  };
  return running;
}
