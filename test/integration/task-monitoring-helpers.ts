// Shared by the task-monitoring integration tests: the compiled `otel-monitor` bin, real
// Prometheus and Alertmanager processes on free loopback ports, and small in-test HTTP servers
// (a metrics exposition to scrape and a webhook for Alertmanager to call).
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { run } from '../../src/cli/run.js';
import { freePort, spawnTracked, waitForHttp, type Tracked } from '../helpers/process.js';

const exec = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
export const NODE = join(ROOT, 'node_modules/.bin/node');
const PROMETHEUS = process.env.PROMETHEUS_BIN ?? '/usr/bin/prometheus';
const ALERTMANAGER = process.env.ALERTMANAGER_BIN ?? '/usr/bin/prometheus-alertmanager';

/** A hash of every file under src/: the compiled CLI is reused until one of them changes. */
function srcStamp(): string {
  const hash = createHash('sha256');
  for (const f of (readdirSync(join(ROOT, 'src'), { recursive: true }) as string[]).sort()) {
    const path = join(ROOT, 'src', f);
    if (f.endsWith('.ts')) hash.update(f).update(readFileSync(path));
  }
  return hash.digest('hex').slice(0, 16);
}

/**
 * Compiles only the CLI (src/cli/main.ts and what it imports) with tsc into .cache/, so the test
 * runs the real bin without a full build that could trip over files other people are editing.
 * Inside the repo so `@sentry/node` resolves from node_modules. Compiled once per content of src/
 * (tsc takes 10-20 s): the files that use it, in parallel or one after another, share the output;
 * each compiles into its own temp dir and the first rename wins.
 */
export async function compileCli(): Promise<string> {
  const stamp = srcStamp();
  const out = join(ROOT, '.cache', `cli-test-${stamp}`);
  const main = join(out, 'cli', 'main.js');
  if (existsSync(main)) return main;
  // Older compiles (an hour old: not one a file running beside this one still uses) go.
  mkdirSync(join(ROOT, '.cache'), { recursive: true });
  for (const old of readdirSync(join(ROOT, '.cache')).filter((d) => d.startsWith('cli-test-'))) {
    if (statSync(join(ROOT, '.cache', old)).mtimeMs < Date.now() - 3_600_000) rmSync(join(ROOT, '.cache', old), { recursive: true, force: true });
  }
  const tmp = `${out}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  await exec(
    join(ROOT, 'node_modules/.bin/tsc'),
    ['src/cli/main.ts', '--outDir', tmp, '--rootDir', 'src', '--module', 'nodenext', '--moduleResolution', 'nodenext',
      '--target', 'es2023', '--strict', '--skipLibCheck', '--types', 'node'],
    { cwd: ROOT },
  );
  try {
    renameSync(tmp, out);
  } catch {
    rmSync(tmp, { recursive: true, force: true }); // another file renamed the same compile first
  }
  return main;
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export async function runCli(bin: string, args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  // A clean environment: no SENTRY_DSN or OTEL_MONITOR_* leaking in from the developer's shell.
  const baseEnv = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' };
  try {
    const { stdout, stderr } = await exec(NODE, [bin, ...args], { env: { ...baseEnv, ...env }, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : null, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/**
 * The CLI's `run()` in this process, for tests that read what it wrote or set its clock (`now`,
 * in milliseconds) to a fixed instant. Only `env` is its environment, as for runCli.
 */
export async function runInProcess(args: string[], env: Record<string, string>, now: () => number = Date.now): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await run(args, { out: (t) => (stdout += t), err: (t) => (stderr += t), env, now });
  return { code, stdout, stderr };
}

export interface HttpStub {
  url: string;
  port: number;
  close: () => Promise<void>;
}

function listen(server: Server): Promise<number> {
  return new Promise((res) =>
    server.listen(0, '127.0.0.1', () => {
      const a = server.address();
      res(typeof a === 'object' && a ? a.port : 0);
    }),
  );
}

const closer = (server: Server) => () =>
  new Promise<void>((res) => {
    server.closeAllConnections();
    server.close(() => res());
  });

/** Serves Prometheus text exposition; `body()` is called on every scrape. */
export async function startExposition(body: () => string): Promise<HttpStub> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(body());
  });
  const port = await listen(server);
  return { url: `http://127.0.0.1:${port}/metrics`, port, close: closer(server) };
}

export interface Webhook extends HttpStub {
  /** Every notification body Alertmanager posted (webhook payload version 4). */
  notifications: any[];
  /** All alerts from all notifications. */
  alerts: () => any[];
}

export async function startWebhook(): Promise<Webhook> {
  const notifications: any[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      try {
        notifications.push(JSON.parse(body));
      } catch {
        notifications.push({ unparsable: body });
      }
      res.writeHead(200);
      res.end('ok');
    });
  });
  const port = await listen(server);
  return {
    url: `http://127.0.0.1:${port}/hook`,
    port,
    notifications,
    alerts: () => notifications.flatMap((n) => (n.alerts as any[]) ?? []),
    close: closer(server),
  };
}

export interface RunningServer {
  url: string;
  process: Tracked;
  dir: string;
}

/** A real Alertmanager that sends every alert straight to `webhookUrl`. */
export async function startAlertmanager(webhookUrl: string): Promise<RunningServer> {
  const dir = mkdtempSync(join(tmpdir(), 'otel-monitor-am-'));
  const port = await freePort();
  writeFileSync(
    join(dir, 'alertmanager.yml'),
    `route:
  receiver: webhook
  group_by: [alertname, otel_monitor_task_name, enduser_id]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: webhook
    webhook_configs:
      - url: ${JSON.stringify(webhookUrl)}
        send_resolved: false
`,
  );
  const proc = spawnTracked(ALERTMANAGER, [
    `--config.file=${join(dir, 'alertmanager.yml')}`,
    `--storage.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    // No gossip: it would bind 0.0.0.0:9094 and clash with other Alertmanagers on the machine.
    '--cluster.listen-address=',
  ]);
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/-/ready`, 30_000).catch((err: Error) => {
    throw new Error(`${err.message}\n${proc.output()}`);
  });
  return { url, process: proc, dir };
}

export interface PrometheusOptions {
  /** host:port targets scraped every second at /metrics. */
  targets: string[];
  ruleFiles?: Record<string, string>;
  alertmanager?: string;
  externalLabels?: Record<string, string>;
}

export async function startPrometheus(opts: PrometheusOptions): Promise<RunningServer> {
  const dir = mkdtempSync(join(tmpdir(), 'otel-monitor-prom-'));
  mkdirSync(join(dir, 'rules'));
  for (const [name, text] of Object.entries(opts.ruleFiles ?? {})) writeFileSync(join(dir, 'rules', name), text);
  const port = await freePort();
  const alerting = opts.alertmanager
    ? `alerting:
  alertmanagers:
    - static_configs:
        - targets: [${JSON.stringify(new URL(opts.alertmanager).host)}]
`
    : '';
  writeFileSync(
    join(dir, 'prometheus.yml'),
    `global:
  scrape_interval: 1s
  evaluation_interval: 1s
  external_labels: ${JSON.stringify(opts.externalLabels ?? {})}
rule_files: [${JSON.stringify(join(dir, 'rules', '*.yml'))}]
${alerting}scrape_configs:
  - job_name: test
    static_configs:
      - targets: ${JSON.stringify(opts.targets)}
`,
  );
  const proc = spawnTracked(PROMETHEUS, [
    `--config.file=${join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
  ]);
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/-/ready`, 60_000).catch((err: Error) => {
    throw new Error(`${err.message}\n${proc.output()}`);
  });
  return { url, process: proc, dir };
}

/** Instant query helper for waiting on data in tests. */
export async function promQuery(url: string, query: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
  const res = await fetch(`${url}/api/v1/query?${new URLSearchParams({ query })}`);
  const body = (await res.json()) as { data?: { result?: any[] } };
  return body.data?.result ?? [];
}

export function removeDirs(...dirs: Array<string | undefined>): void {
  for (const d of dirs) if (d) rmSync(d, { recursive: true, force: true });
}
