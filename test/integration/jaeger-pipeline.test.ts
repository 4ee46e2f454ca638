// Jaeger as the trace store, end to end: two releases of the example app (and the leaky app) under
// our distribution → our Collector build → the real Jaeger v2 (npm run jaeger:build) beside the
// Sentry leg (a local OTLP receiver) and the real Prometheus; everything is read back from Jaeger's
// query API, the one Grafana's Jaeger data source uses. Then every trace link the Grafana
// provisioning holds is resolved against what Jaeger stored, and Jaeger is SIGKILLed for
// OTEL_MONITOR_TEST_JAEGER_OUTAGE_S seconds (default 30, the issue's) while Sentry's leg goes on.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type RunningApp } from '../helpers/app.js';
import { jaegerSearchParams, loadDashboards, substitute, traceLinks } from '../helpers/dashboards.js';
import { JAEGER_BIN, JAEGER_CONFIG, startJaeger, tagOf, type JaegerTrace, type RunningJaeger } from '../helpers/jaeger.js';
import { startOtlpReceiver, type OtlpReceiver } from '../helpers/otlp-receiver.js';
import { stopAll, waitFor } from '../helpers/process.js';
import { abs, ensureAptPackages, startCollector, startInstrumentedApp, startPrometheus, type RunningCollector, type RunningPrometheus } from '../helpers/stack.js';

const SERVICE = 'jaeger-app';
const LEAKY = 'jaeger-leaky';
const RELEASES = ['1.0.0', '2.0.0'];
const OUTAGE_MS = Number(process.env.OTEL_MONITOR_TEST_JAEGER_OUTAGE_S ?? 30) * 1000;
const SENTRY_KEY = 'f00dfeedcafe4242';
const SERVER = 2;

let sentry: OtlpReceiver;
let loki: OtlpReceiver;
let jaeger: RunningJaeger;
let collector: RunningCollector;
let prom: RunningPrometheus;
const apps: RunningApp[] = [];
let leaky: RunningApp;
/** While true the Sentry stand-in answers 503, like a Sentry that is down. */
let sentryDown = false;

/** The trace ids the app wrote in its own stdout log lines (pino, with the distribution's trace_id). */
function loggedTraceIds(app: RunningApp, match: (line: Record<string, unknown>) => boolean = () => true): string[] {
  const ids = app
    .output()
    .split('\n')
    .flatMap((l) => {
      try {
        const j = JSON.parse(l) as Record<string, unknown>;
        return typeof j.trace_id === 'string' && match(j) ? [j.trace_id] : [];
      } catch {
        return [];
      }
    });
  return [...new Set(ids)];
}

/**
 * The trace ids logged for users `prefix*`, once `n` are there: a request's log line can reach the
 * app's stdout pipe after its response (seen with other files running beside this one).
 */
async function loggedOnce(app: RunningApp, prefix: string, n: number): Promise<string[]> {
  const ids = () => loggedTraceIds(app, (l) => String(l.userId).startsWith(prefix));
  await waitFor(() => ids().length >= n, { timeoutMs: 5000, intervalMs: 50, what: `${n} logged trace ids of ${prefix}*` });
  return ids();
}
const get = async (app: RunningApp, path: string, headers?: Record<string, string>) => {
  const res = await app.get(path, headers);
  await res.arrayBuffer();
  return res.status;
};
const spanKind = (s: JaegerTrace['spans'][number]) => tagOf(s.tags, 'span.kind');
const atSentry = (traceId: string) => sentry.spans().some((s) => s.traceId === traceId && s.kind === SERVER);

beforeAll(async () => {
  ensureAptPackages();
  [sentry, loki, jaeger] = await Promise.all([
    startOtlpReceiver({ respond: () => (sentryDown ? 503 : undefined) }),
    startOtlpReceiver(),
    startJaeger(),
  ]);
  collector = await startCollector({
    lokiEndpoint: loki.url,
    sentryDsn: `http://${SENTRY_KEY}@127.0.0.1:${sentry.port}/4242`,
    // The default trace exporters: Sentry and Jaeger.
    env: { JAEGER_ENDPOINT: jaeger.otlpHttp, OTELCOL_SPAN_METRICS_FLUSH_INTERVAL: '2s' },
  });
  prom = await startPrometheus({ collector });
  for (const release of RELEASES) apps.push(await startInstrumentedApp({ collector, service: SERVICE, release }));
  leaky = await startApp({
    script: 'test/fixtures/leaky-app.mjs',
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.otlpHttp,
      OTEL_SERVICE_NAME: LEAKY,
      OTEL_RESOURCE_ATTRIBUTES: 'service.version=3.0.0',
      OTEL_EXPORTER_OTLP_HEADERS: 'x-tenant-auth=hdr-S3CRET-0',
    },
  });
  for (let i = 0; i < 8; i++) {
    for (const app of apps) {
      await get(app, `/users/u${i}`);
      await get(app, '/upstream');
      if (i % 2 === 0) await get(app, '/fail');
    }
  }
}, 240_000);

afterAll(async () => {
  await stopAll();
  await sentry?.close();
  await loki?.close();
});

describe('the build', () => {
  it('deploy/jaeger/build.js skips a built binary, fails saying so without Go, and the shipped config validates', () => {
    const script = abs('deploy/jaeger/build.js');
    let r = spawnSync(process.execPath, [script], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/up to date \(v1\.75\.0\)/);
    expect(r.stdout.trim()).toBe(`jaeger: ${JAEGER_BIN}`);
    // The same script in a checkout without a build, on a machine without Go.
    const fresh = mkdtempSync(join(tmpdir(), 'jaeger-build-'));
    for (const f of ['deploy/jaeger/build.js', 'collector/build-lock.js', 'collector/go-build.js']) cpSync(abs(f), join(fresh, f));
    r = spawnSync(process.execPath, [join(fresh, 'deploy/jaeger/build.js')], { encoding: 'utf8', env: { ...process.env, GO: '/nonexistent/go' } });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/ERROR: Go is not installed \(no `go` at GO=\/nonexistent\/go\)\. Jaeger v1\.75\.0 is built from source and needs Go/);
    rmSync(fresh, { recursive: true, force: true });
    r = spawnSync(JAEGER_BIN, ['validate', '--config', abs(JAEGER_CONFIG)], { encoding: 'utf8' });
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
  });
});

describe('traces in Jaeger', () => {
  it('every trace id the app logged is in Jaeger, with its server span, child spans and release tags', async () => {
    for (const [i, app] of apps.entries()) {
      const ids = loggedTraceIds(app, (l) => l.msg === 'user looked up' || l.msg === 'upstream answered');
      expect(ids.length, `trace ids logged by ${RELEASES[i]}`).toBeGreaterThanOrEqual(16);
      const traces = await waitFor(
        async () => {
          const all = await Promise.all(ids.map((id) => jaeger.trace(id)));
          return all.every(Boolean) ? (all as JaegerTrace[]) : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 1000, what: `all ${ids.length} logged traces of ${RELEASES[i]} in Jaeger` },
      );
      for (const t of traces) {
        const server = t.spans.find((s) => spanKind(s) === 'server' && s.references.length === 0);
        expect(server, `root server span of ${t.traceID}`).toBeDefined();
        const children = t.spans.filter((s) => s.references.some((r) => r.refType === 'CHILD_OF' && r.spanID === server!.spanID));
        expect(children.length, `child spans of ${t.traceID}`).toBeGreaterThan(0);
        for (const s of t.spans) {
          const p = t.processes[s.processID]!;
          expect(p.serviceName).toBe(SERVICE);
          expect(tagOf(p.tags, 'service.version')).toBe(RELEASES[i]);
          expect(tagOf(p.tags, 'deployment.environment.name')).toBe('test');
        }
      }
      // /upstream: the server span, its handler, the outgoing fetch and the nested request.
      const upstream = traces.find((t) => t.spans.some((s) => tagOf(s.tags, 'http.route') === '/upstream'))!;
      expect(upstream.spans.map(spanKind)).toEqual(expect.arrayContaining(['server', 'client']));
    }
  });

  it('nothing secret reaches Jaeger', async () => {
    expect(await get(leaky, '/login?user=ann&token=qry-S3CRET-1&api_key=qry-S3CRET-2&page=2', { authorization: 'Bearer hdr-S3CRET-4', cookie: 'session=hdr-S3CRET-5' })).toBe(200);
    expect(await get(leaky, '/users/ann.lee@example.com/profile')).toBe(200);
    expect(await get(leaky, '/checkout?email=bob%40example.com&card=4242424242424242&page=4')).toBe(200);
    const traces = await waitFor(
      async () => {
        const t = await jaeger.search({ service: LEAKY, limit: '50' });
        const routes = t.flatMap((x) => x.spans.map((s) => tagOf(s.tags, 'url.path')));
        return ['/login', '/checkout', '/users/[REDACTED]/profile'].every((r) => routes.includes(r)) && t.some((x) => x.spans.length >= 3) ? t : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 1000, what: "the leaky app's traces in Jaeger" },
    );
    const stored = JSON.stringify(traces);
    for (const secret of ['S3CRET', 'example.com', '4242424242424242', '4111 1111 1111 1111']) expect(stored, secret).not.toContain(secret);
    // Redacted, not dropped: the non-secret parts are there.
    expect(stored).toContain('[REDACTED]');
    expect(stored).toContain('page=2');
  });
});

describe('the Grafana provisioning links resolve to traces stored in Jaeger', () => {
  const dashboards = loadDashboards();
  const links = traceLinks(dashboards);
  const values = { service: SERVICE, baseline: RELEASES[0]!, candidate: RELEASES[1]! };

  it('Loki derived field and the Logs dashboard: a log line\'s trace id opens its trace', async () => {
    const logged = await waitFor(() => loki.logRecords().filter((l) => l.body === 'user looked up' && l.resource['service.name'] === SERVICE), { what: 'app logs at Loki' });
    const fromLogs = links.filter((l) => /derived field|logs\.json/.test(l.where));
    expect(fromLogs.length).toBeGreaterThanOrEqual(2);
    for (const link of fromLogs) {
      for (const log of logged.slice(0, 5)) {
        const trace = await jaeger.trace(substitute(link.query!, { __value: log.traceId }));
        expect(trace?.traceID, `${link.where} with ${log.traceId}`).toBe(log.traceId);
      }
    }
  });

  it('Prometheus stores the span_metrics exemplars, and their trace_id opens the trace', async () => {
    const link = links.find((l) => l.label)!;
    // span_metrics attaches the exemplars of one flush interval only (it clears them at each
    // flush), so a scrape sees them while requests keep coming, as in production.
    const traffic = setInterval(() => void get(apps[0]!, '/users/exemplar').catch(() => undefined), 250);
    const exemplars = await waitFor(
      async () => {
        const now = Date.now() / 1000;
        const q = new URLSearchParams({ query: `traces_span_metrics_duration_seconds_bucket{job="${SERVICE}", span_kind="SPAN_KIND_SERVER"}`, start: String(now - 600), end: String(now + 60) });
        const body = (await (await fetch(`${prom.url}/api/v1/query_exemplars?${q}`)).json()) as any;
        const all = (body.data ?? []).flatMap((s: any) => s.exemplars as Array<{ labels: Record<string, string> }>);
        return all.length >= 3 ? all : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 2000, what: 'exemplars in Prometheus' },
    ).finally(() => clearInterval(traffic));
    for (const e of exemplars.slice(0, 5)) {
      const id = e.labels[link.label!]!;
      expect(id).toMatch(/^[0-9a-f]{32}$/);
      const trace = await waitFor(() => jaeger.trace(substitute(link.query!, { __value: id })), { what: `exemplar trace ${id} in Jaeger` });
      expect(trace.traceID).toBe(id);
    }
  });

  it('Release health: the slowest and failing requests of each release are its traces, each opening by id', async () => {
    const panels = links.filter((l) => l.target);
    expect(panels).toHaveLength(4);
    for (const p of panels) {
      const rel = p.where.includes('baseline') ? values.baseline : values.candidate;
      const found = await jaeger.search(jaegerSearchParams(p.target, values));
      expect(found.length, p.where).toBeGreaterThan(0);
      for (const t of found) {
        expect(Object.values(t.processes).map((x) => tagOf(x.tags, 'service.version')), p.where).toContain(rel);
        if (p.where.includes('Failing')) expect(t.spans.some((s) => tagOf(s.tags, 'error') === true), `${p.where}: ${t.traceID}`).toBe(true);
      }
      // The table's trace id opens the trace in the same data source.
      expect((await jaeger.trace(found[0]!.traceID))?.traceID).toBe(found[0]!.traceID);
    }
  });
});

describe('each leg has its own queue', () => {
  it(`Jaeger SIGKILLed for ${OUTAGE_MS / 1000} s: Sentry receives everything meanwhile, Jaeger every queued span after`, async () => {
    const app = apps[1]!;
    expect(await jaeger.stop('SIGKILL')).toBe('SIGKILL');
    const down = Date.now();
    for (let i = 0; i < 10; i++) {
      await get(app, `/users/outage-${i}`);
      await sleep(OUTAGE_MS / 20);
    }
    const wanted = await loggedOnce(app, 'outage-', 10);
    expect(wanted).toHaveLength(10);
    await waitFor(() => wanted.every(atSentry), { timeoutMs: Math.max(1000, OUTAGE_MS - (Date.now() - down) - 1000), what: 'every outage trace at Sentry while Jaeger is down' });
    expect(Date.now() - down).toBeLessThan(OUTAGE_MS);
    const jaegerQueue = [...(await collector.selfMetrics())].find(([k]) => k.startsWith('otelcol_exporter_queue_size{') && k.includes('"otlp_http/jaeger"'))?.[1];
    expect(jaegerQueue).toBeGreaterThan(0);
    await sleep(Math.max(0, OUTAGE_MS - (Date.now() - down)));
    await jaeger.restart();
    await waitFor(async () => (await Promise.all(wanted.map((id) => jaeger.trace(id)))).every(Boolean), {
      timeoutMs: 90_000,
      intervalMs: 1000,
      what: 'every outage trace in Jaeger after it returned',
    });
  }, OUTAGE_MS + 150_000);

  it('Sentry answering 503 for 10 s: Jaeger receives everything meanwhile, Sentry after', async () => {
    const app = apps[0]!;
    sentryDown = true;
    try {
      for (let i = 0; i < 5; i++) await get(app, `/users/sentry-down-${i}`);
      const wanted = await loggedOnce(app, 'sentry-down-', 5);
      expect(wanted).toHaveLength(5);
      await waitFor(async () => (await Promise.all(wanted.map((id) => jaeger.trace(id)))).every(Boolean), { timeoutMs: 9_000, what: 'every trace in Jaeger while Sentry refuses' });
      expect(wanted.some(atSentry)).toBe(false);
      await sleep(2000);
      sentryDown = false;
      await waitFor(() => wanted.every(atSentry), { timeoutMs: 60_000, what: 'every trace at Sentry after it recovered' });
    } finally {
      sentryDown = false;
    }
  }, 120_000);
});
