// The CLI against a store beyond one Prometheus: VictoriaMetrics, filled by Prometheus' remote
// write from the very samples Prometheus holds, and vmauth in front of it for the connection
// options (bearer token, Basic auth, a tenant header, a private CA).
//
// Prometheus scrapes a seeded exposition every second (the series our Collector exports: request
// histograms of three releases of `shop`, target_info, CPU and memory, a worker's task runs and
// health checks; latencies drawn as in test/helpers/release-backfill.ts) and forwards every sample
// by remote_write to VictoriaMetrics. Each command runs against both at the same instant; the
// documents, verdicts included, must be the same. No Collector or app: the store is under test,
// not the pipeline (releases-compare.test.ts covers that), and the machine stays unloaded.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/app.js';
import { freePort, spawnTracked, stopAll, waitFor, waitForHttp } from '../helpers/process.js';
import { BUCKETS, bucketCounts, binomial, prng } from '../helpers/release-backfill.js';
import { BIN as STACK_BIN, ensureAptPackages } from '../helpers/stack.js';
import { startVictoriaMetrics, startVmauth, type RunningServer } from '../helpers/victoriametrics.js';
import { runCli, runInProcess, startExposition, type HttpStub } from './task-monitoring-helpers.js';

const BIN = join(ROOT, 'dist', 'cli', 'main.js');
// Secrets the auth cases use: none may appear in anything the CLI prints.
const TOKEN = 'tok-3f9a7c1e5b';
const PASSWORD = 'pw-8d2e6b4a91';
const ROUTES = ['/', '/users/:id', '/upstream'];

/** Requests per release, their error ratio on /users/:id and latency factor: a regression, its baseline, a trickle. */
const RELEASES: Array<[release: string, requests: number, usersErrorRatio: number, latencyFactor: number]> = [
  ['shop@1.0.0', 3000, 0, 1],
  ['shop@1.1.0', 3000, 0.1, 1.5],
  ['shop@0.9.0', 12, 0, 1],
];

/**
 * The exposition: cumulative counts drawn once (seeded), so every scrape shows the same totals,
 * and a CPU counter that grows with the wall clock, so CPU utilization is a real rate().
 */
function exposition(seed: number): () => string {
  const rand = prng(seed);
  const started = Date.now() / 1000;
  const lines: string[] = [];
  const processLabels: string[] = [];
  for (const [release, requests, usersErrorRatio, factor] of RELEASES) {
    const base = `job="shop",instance="${release}-0",service_version="${release}",deployment_environment_name="test"`;
    processLabels.push(base);
    ROUTES.forEach((route, i) => {
      const n = Math.round(requests / ROUTES.length);
      const errors = route === '/users/:id' ? binomial(rand, n, usersErrorRatio) : 0;
      for (const [status, k] of [['200', n - errors], ['500', errors]] as const) {
        const labels = `${base},http_request_method="GET",http_route="${route}",http_response_status_code="${status}"`;
        let cumulative = 0;
        bucketCounts(rand, k, 0.01 * (i + 1) * factor, 0.6).forEach((c, b) => {
          cumulative += c;
          lines.push(`http_server_request_duration_seconds_bucket{${labels},le="${b < BUCKETS.length ? BUCKETS[b] : '+Inf'}"} ${cumulative}`);
        });
        lines.push(`http_server_request_duration_seconds_count{${labels}} ${k}`, `http_server_request_duration_seconds_sum{${labels}} ${(k * 0.012 * (i + 1) * factor).toFixed(3)}`);
      }
    });
  }
  const worker = 'job="worker",instance="worker-0",service_version="2.1.0",deployment_environment_name="test"';
  processLabels.push(worker);
  lines.push(
    `otel_monitor_task_runs_total{${worker},otel_monitor_task_name="import_prices",otel_monitor_task_status="ok"} 3`,
    `otel_monitor_task_runs_total{${worker},otel_monitor_task_name="import_prices",otel_monitor_task_status="error"} 1`,
    `otel_monitor_health_status{${worker},otel_monitor_health_check="postgres",otel_monitor_health_critical="true"} 0.5`,
    `otel_monitor_health_status{${worker},otel_monitor_health_check="cache",otel_monitor_health_critical="false"} 1`,
  );
  return () => {
    const cpu = 0.05 * (Date.now() / 1000 - started);
    const perProcess = processLabels.flatMap((l) => [`target_info{${l}} 1`, `process_cpu_time_seconds_total{${l}} ${cpu.toFixed(3)}`, `process_memory_usage{${l}} 150000000`]);
    return `${[...lines, ...perProcess].join('\n')}\n`;
  };
}

let promUrl: string;
let vm: RunningServer;
let metrics: HttpStub;
/** The instant every comparison runs at, in ms: both stores hold all samples up to it. */
let at: number;
const dirs: string[] = [];

async function instant(url: string, promql: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
  const body = (await (await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`)).json()) as any;
  if (body.status !== 'success') throw new Error(`${promql}: ${body.error}`);
  return body.data.result;
}

/** The same query's answer from both stores, as sorted `labels value` lines. */
async function sameInBoth(promql: string): Promise<boolean> {
  const lines = (rows: Array<{ metric: Record<string, string>; value: [number, string] }>) =>
    rows.map((r) => `${JSON.stringify(Object.entries(r.metric).sort())} ${r.value[1]}`).sort().join('\n');
  const [a, b] = await Promise.all([instant(promUrl, promql), instant(vm.url, promql)]);
  return a.length > 0 && lines(a) === lines(b);
}

beforeAll(async () => {
  ensureAptPackages();
  [vm, metrics] = await Promise.all([startVictoriaMetrics(), startExposition(exposition(20261206))]);
  const dir = mkdtempSync(join(tmpdir(), 'otel-monitor-prom-rw-'));
  dirs.push(dir);
  const config = {
    global: { scrape_interval: '1s' },
    // honor_labels: the exposition sets job and instance per series, as our Collector's exporter does.
    scrape_configs: [{ job_name: 'otel-collector', honor_labels: true, static_configs: [{ targets: [new URL(metrics.url).host] }] }],
    remote_write: [{ url: vm.writeUrl, queue_config: { batch_send_deadline: '1s' } }],
  };
  writeFileSync(join(dir, 'prometheus.yml'), JSON.stringify(config));
  const port = await freePort();
  promUrl = `http://127.0.0.1:${port}`;
  const proc = spawnTracked(STACK_BIN.prometheus, [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`]);
  await waitForHttp(`${promUrl}/-/ready`, 120_000).catch((err: Error) => {
    throw new Error(`${err.message}\n${proc.output()}`);
  });
  // A few scrapes, so rate() has samples; then remote write forwards within a second or two and
  // VictoriaMetrics makes them searchable a second or two later. Once both agree on the counts,
  // `at` (5 s ago) is an instant both hold every sample up to after another 10 s.
  await waitFor(async () => (await instant(promUrl, 'count(process_cpu_time_seconds_total)'))[0]?.value[1] === '4', { timeoutMs: 60_000, what: 'the first scrape' });
  await sleep(10_000);
  for (const q of ['sum by (service_version) (http_server_request_duration_seconds_count)', 'sum by (otel_monitor_task_status) (otel_monitor_task_runs_total)', 'otel_monitor_health_status']) {
    await waitFor(() => sameInBoth(q), { timeoutMs: 60_000, what: `VictoriaMetrics to agree with Prometheus on ${q}` });
  }
  at = Date.now() - 5000;
  await sleep(10_000);
}, 600_000);

afterAll(async () => {
  await stopAll();
  await metrics?.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** One command at `at` against Prometheus and against VictoriaMetrics. */
async function both(args: string[]) {
  const on = (url: string) => runInProcess(args, { OTEL_MONITOR_PROMETHEUS_URL: url }, () => at);
  const [p, v] = await Promise.all([on(promUrl), on(vm.url)]);
  expect(p.stderr).toBe('');
  expect(v.stderr).toBe('');
  return { p, v };
}

describe('VictoriaMetrics filled by remote write gives the same verdicts as Prometheus', () => {
  it('releases compare: the regression, exit 1, with the same verdict per metric and route', async () => {
    const { p, v } = await both(['releases', 'compare', 'shop@1.0.0', 'shop@1.1.0', '--window', '15m', '--json']);
    expect([p.code, v.code]).toEqual([1, 1]);
    const verdicts = (doc: any) =>
      doc.services.flatMap((s: any) => s.report.metrics.map((m: any) => `${[s.service, m.scope, m.route, m.metric].filter(Boolean).join(' ')}: ${m.verdict}`)).sort();
    const [pd, vd] = [JSON.parse(p.stdout), JSON.parse(v.stdout)];
    expect(verdicts(vd)).toEqual(verdicts(pd));
    expect(verdicts(pd)).toEqual(expect.arrayContaining(['shop service error_ratio: regressed', 'shop route GET /users/:id error_ratio: regressed']));
    expect(verdicts(pd).some((l: string) => / latency_p95: regressed$/.test(l))).toBe(true);
    expect(vd).toEqual(pd);
  });

  it('releases compare over a minute the processes started in: CPU judged, the same document (no rate() extrapolation)', async () => {
    const { p, v } = await both(['releases', 'compare', 'shop@1.0.0', 'shop@1.1.0', '--window', '1m', '--json']);
    expect([p.code, v.code]).toEqual([1, 1]);
    const [pd, vd] = [JSON.parse(p.stdout), JSON.parse(v.stdout)];
    const cpu = pd.services[0].report.metrics.find((m: any) => m.metric === 'cpu');
    // 0.05 CPU seconds per second since the exposition started, counted from its first sample on.
    expect(cpu.baseline).toBeGreaterThan(0);
    expect(vd).toEqual(pd);
  });

  it('releases compare: too few requests is inconclusive, exit 3, in both', async () => {
    const { p, v } = await both(['releases', 'compare', 'shop@1.0.0', 'shop@0.9.0', '--window', '15m', '--json']);
    expect([p.code, v.code]).toEqual([3, 3]);
    expect(JSON.parse(v.stdout)).toEqual(JSON.parse(p.stdout));
  });

  it('releases list: the same releases, requests, error ratios, instances and times', async () => {
    const { p, v } = await both(['releases', 'list', '--json']);
    expect([p.code, v.code]).toEqual([0, 0]);
    const rows = JSON.parse(p.stdout);
    expect(rows.filter((r: any) => r.service === 'shop').map((r: any) => r.release).sort()).toEqual(['shop@0.9.0', 'shop@1.0.0', 'shop@1.1.0']);
    expect(JSON.parse(v.stdout)).toEqual(rows);
  });

  it('summary and health: the same document', async () => {
    const s = await both(['summary', '--json']);
    expect([s.p.code, s.v.code]).toEqual([0, 0]);
    const doc = (text: string) => ({ ...JSON.parse(text), prometheus: undefined });
    expect(doc(s.v.stdout)).toEqual(doc(s.p.stdout));
    expect(doc(s.p.stdout).services.find((r: any) => r.service === 'worker').tasks).toEqual({ ok: 3, error: 1, total: 4 });
    const h = await both(['health', '--json']);
    expect([h.p.code, h.v.code]).toEqual([0, 0]);
    expect(JSON.parse(h.v.stdout)).toEqual(JSON.parse(h.p.stdout));
  });
});

/** A private CA and a certificate for 127.0.0.1 signed by it, made with openssl. */
function privateCa(): { dir: string; ca: string; cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), 'otel-monitor-ca-'));
  dirs.push(dir);
  const f = (name: string) => join(dir, name);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  ssl('req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '2', '-subj', '/CN=otel-monitor test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign');
  ssl('req', ...ec, '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=127.0.0.1');
  execFileSync('sh', ['-c', 'printf "subjectAltName=IP:127.0.0.1\\n" > san.ext'], { cwd: dir });
  ssl('x509', '-req', '-in', f('server.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('server.pem'), '-days', '2', '-extfile', f('san.ext'));
  return { dir, ca: f('ca.pem'), cert: f('server.pem'), key: f('server.key') };
}

describe('connection options against an authenticating proxy (vmauth in front of VictoriaMetrics)', () => {
  let proxy: RunningServer;
  let tls: RunningServer;
  let ca: string;

  beforeAll(async () => {
    const users = [
      // The tenant's route: the token alone is not enough, the X-Scope-OrgID header picks the route.
      { bearer_token: TOKEN, url_map: [{ src_paths: ['/api/v1/.*'], src_headers: ['X-Scope-OrgID: team-a'], url_prefix: vm.url }] },
      { username: 'reader', password: PASSWORD },
    ];
    const pki = privateCa();
    ca = pki.ca;
    [proxy, tls] = await Promise.all([
      startVmauth({ target: vm.url, users }),
      startVmauth({ target: vm.url, users, tls: { certFile: pki.cert, keyFile: pki.key } }),
    ]);
  }, 120_000);

  const withBasic = (url: string, password: string) => url.replace('://', `://reader:${password}@`);
  /** The built CLI, as a user runs it; nothing it prints may hold a secret. */
  async function cli(args: string[], env: Record<string, string>) {
    const r = await runCli(BIN, args, env);
    for (const secret of [TOKEN, PASSWORD, 'wrong-tok-77', 'wrong-pw-77']) expect(r.stdout + r.stderr).not.toContain(secret);
    return r;
  }
  const oneLine = (r: { stderr: string }) => expect(r.stderr.trim().split('\n')).toHaveLength(1);

  it('a bearer token from OTEL_MONITOR_PROMETHEUS_TOKEN and a tenant --header: the same releases as the store itself', async () => {
    const env = { OTEL_MONITOR_PROMETHEUS_URL: proxy.url, OTEL_MONITOR_PROMETHEUS_TOKEN: TOKEN };
    const r = await cli(['releases', 'list', '--json', '--header', 'X-Scope-OrgID=team-a'], env);
    expect(r.code, r.stderr).toBe(0);
    const direct = await runCli(BIN, ['releases', 'list', '--json'], { OTEL_MONITOR_PROMETHEUS_URL: vm.url });
    const releases = (text: string) => JSON.parse(text).map((x: any) => x.release).sort();
    expect(releases(r.stdout)).toEqual(releases(direct.stdout));
    expect(releases(r.stdout)).toContain('shop@1.1.0');
    const h = await cli(['health', '--json', '--header', 'X-Scope-OrgID=team-a'], env);
    expect(h.code, h.stderr).toBe(0);
    // Without the tenant header the proxy has no route for the token: exit 2, the proxy's reason.
    const noTenant = await cli(['health'], env);
    expect(noTenant.code).toBe(2);
    oneLine(noTenant);
    expect(noTenant.stderr).toMatch(/^otel-monitor: Prometheus at http:\/\/127\.0\.0\.1:\d+ answered HTTP 4\d\d without JSON/);
  });

  it('a wrong token exits 2 with one line and prints no credentials', async () => {
    const r = await cli(['releases', 'compare', 'shop@1.0.0', 'shop@1.1.0', '--header', 'X-Scope-OrgID=team-a'], {
      OTEL_MONITOR_PROMETHEUS_URL: proxy.url,
      OTEL_MONITOR_PROMETHEUS_TOKEN: 'wrong-tok-77',
    });
    expect(r.code).toBe(2);
    oneLine(r);
    expect(r.stderr).toMatch(/^otel-monitor: Prometheus at http:\/\/127\.0\.0\.1:\d+ refused the request \(HTTP 401\)/);
    expect(r.stdout).toBe('');
  });

  it('Basic auth from the URL: right password works, a wrong one exits 2; the URL is never printed with them', async () => {
    const ok = await cli(['releases', 'compare', 'shop@1.0.0', 'shop@1.1.0', '--window', '15m'], { OTEL_MONITOR_PROMETHEUS_URL: withBasic(proxy.url, PASSWORD) });
    expect(ok.code, ok.stdout + ok.stderr).toBe(1);
    expect(ok.stdout).toMatch(/Verdict: REGRESSED/);
    const summary = await cli(['summary', '--prometheus-url', withBasic(proxy.url, PASSWORD)], {});
    expect(summary.code, summary.stderr).toBe(0);
    expect(summary.stdout).toContain(`(${proxy.url})`);
    const wrong = await cli(['summary', '--prometheus-url', withBasic(proxy.url, 'wrong-pw-77')], {});
    expect(wrong.code).toBe(2);
    oneLine(wrong);
    expect(wrong.stderr).toContain('refused the request (HTTP 401)');
  });

  it('--ca-file trusts a private CA for https; without it, exit 2 naming the option', async () => {
    const url = withBasic(tls.url, PASSWORD);
    const ok = await cli(['health', '--json', '--ca-file', ca, '--prometheus-url', url], {});
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout).checks.map((c: any) => c.check).sort()).toEqual(['cache', 'postgres']);
    const untrusted = await cli(['health', '--prometheus-url', url], {});
    expect(untrusted.code).toBe(2);
    oneLine(untrusted);
    expect(untrusted.stderr).toMatch(/cannot reach Prometheus at https:\/\/127\.0\.0\.1:\d+: \w+ \(a private CA\? pass its certificate with --ca-file\)/);
  });
});
