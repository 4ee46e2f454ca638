// Bugsink (https://bugsink.com), a Sentry-compatible server from PyPI, run natively on loopback:
// its own virtualenv under .cache/, SQLite in a temp dir, gunicorn stopped by pid. A fresh machine
// installs it here on first use (pip, pinned); if that is impossible the test fails with pip's
// output, it never skips.
//
//   const bugsink = await startBugsink();
//   spawn app with SENTRY_DSN=bugsink.dsn ...
//   const events = await bugsink.events();   // full event JSON as Bugsink stored it
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './app.js';
import { freePort, spawnTracked, waitFor, type Tracked } from './process.js';

export const BUGSINK_VERSION = '2.6.2';
const VENV = join(ROOT, '.cache', `bugsink-${BUGSINK_VERSION}`);
const bin = (name: string) => join(VENV, 'bin', name);

export interface Bugsink {
  dsn: string;
  url: string;
  proc: Tracked;
  /** GET on Bugsink's canonical API (/api/canonical/0/...), authenticated with a fresh token. */
  api(path: string): Promise<any>;
  /** Every stored event of the project, with its `data` (the event as sent). */
  events(): Promise<any[]>;
  stop(): Promise<number | string>;
}

/** Creates the virtualenv and installs bugsink into it when it is not there yet. */
export function ensureBugsink(): void {
  if (existsSync(bin('bugsink-manage'))) return;
  const run = (cmd: string, args: string[]) => {
    process.stderr.write(`[bugsink] ${cmd} ${args.join(' ')}\n`);
    execFileSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], timeout: 10 * 60_000 });
  };
  run('python3', ['-m', 'venv', VENV]);
  run(bin('pip'), ['install', '--quiet', `bugsink==${BUGSINK_VERSION}`]);
}

export async function startBugsink(): Promise<Bugsink> {
  ensureBugsink();
  const dir = mkdtempSync(join(tmpdir(), 'otel-monitor-bugsink-'));
  const port = await freePort();
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', DJANGO_SETTINGS_MODULE: 'bugsink_conf', PYTHONPATH: dir };
  const manage = (...args: string[]) => execFileSync(bin('bugsink-manage'), args, { cwd: dir, env, encoding: 'utf8', timeout: 120_000 }).trim();
  execFileSync(bin('bugsink-create-conf'), ['--template=local', `--port=${port}`, '--host=127.0.0.1'], { cwd: dir, env, stdio: 'ignore' });
  manage('migrate', '--no-input');
  const dsn = manage('shell', '-c', "from projects.models import Project; print(Project.objects.create(name='otel-monitor-test').dsn)").split('\n').pop()!;
  const token = manage('create_auth_token').split('\n').pop()!;
  const proc = spawnTracked(bin('gunicorn'), [`--bind=127.0.0.1:${port}`, '--workers=1', '--threads=4', 'bugsink.wsgi'], { cwd: dir, env });
  const url = `http://127.0.0.1:${port}`;
  await Promise.race([
    waitFor(async () => (await fetch(`${url}/health/ready`)).ok, { timeoutMs: 60_000, what: 'Bugsink /health/ready' }),
    proc.exited.then((code) => {
      throw new Error(`Bugsink exited (${code}):\n${proc.output()}`);
    }),
  ]);
  const api = async (path: string) => {
    const res = await fetch(`${url}/api/canonical/0/${path}`, { headers: { authorization: `Bearer ${token}` } });
    if (!res.ok) throw new Error(`Bugsink API ${path}: HTTP ${res.status} ${await res.text()}`);
    return res.json();
  };
  return {
    dsn,
    url,
    proc,
    api,
    async events() {
      const issues = (await api(`issues/?project=${dsn.split('/').pop()}`)).results as Array<{ id: string }>;
      const lists = await Promise.all(issues.map(async (i) => (await api(`events/?issue=${i.id}`)).results as Array<{ id: string }>));
      return Promise.all(lists.flat().map(async (e) => (await api(`events/${e.id}/`)).data));
    },
    stop: () => proc.stop(),
  };
}
